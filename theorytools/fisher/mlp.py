"""A fully connected tanh network in the notation of 002_add1c097d251ec63.txt A.5 (eqs 29-35).

The network comes with the per-layer factors from which every Fisher of §3 and A.5 is built without forming it.

Layer l computes ``O_l = W_l^T I_l`` (eq. 29) with ``W_l`` of shape ``(d_in + 1) x d_out``: the layer input ``I_l``
carries a last row of ones, so the last row of ``W_l`` is the bias.  Hidden layers apply tanh, the output layer
nothing.  Examples are the columns of ``I_l`` and ``G_l``; data matrices ``X`` (``m x d_0``) and ``Y`` are rows of
examples, as in scikit-learn.  vec is row-major (``W_l.reshape(-1)``), as in :mod:`theorytools.fisher.tengrad`.

Losses: ``"squared"`` -- l = ||z - y||^2 / 2, i.e. -log N(y; z, I) up to a constant, whose output Fisher is F_R = I;
``"cross_entropy"`` -- l = -log softmax(z)_y, with F_R = diag(p) - p p^T (001_7d31b3ff3a2f0401.txt §9.2).  Both are
exponential families in their natural parameters z, so the exact Fisher equals the GGN (§9.2, eq. 8).

A Fisher on m examples is ``J^T J / m`` for a Jacobian J whose rows are per-example gradients; per layer that row is
``kron(I_l[:, i], G_l[:, i])`` (eq. 34).  :meth:`MLP.curvature_factors` returns the columns (I_l, G_l) for
``fisher="empirical"`` (eq. 37: G_l back-propagated from dl/dz at the data's labels) or ``fisher="exact"`` (eq. 7:
``E_x J_f^T F_R J_f``, written as ``sum_k s_k s_k^T`` over the columns s_k of a square root of F_R -- e_k for the
squared loss, ``sqrt(p_k)(e_k - p)`` for the softmax, i.e. the exact expectation of score score^T over y ~ R).

The public methods validate their arguments (:mod:`theorytools.linalg.validation`: the weights must have this net's
shapes, X its input width, Y its output width or its class labels, with as many rows as X) and raise
:class:`~theorytools.errors.NonFiniteError` naming the layer when a result overflows; the training loop of
:mod:`theorytools.fisher.ngd` validates once and calls the unchecked ``_forward``, ``_curvature_factors``, ...

Examples
--------
The softmax output Fisher from its square root: ``F_R = sum_k S[:, k] S[:, k]^T = diag(p) - p p^T``:

>>> import numpy as np
>>> from theorytools.fisher import categorical_fisher, mlp
>>> S = mlp.MLP((1, 2), "cross_entropy").fisher_factor(np.array([[0.0], [1.0]]))  # one example, z = (0, 1)
>>> bool(np.allclose(S[:, :, 0] @ S[:, :, 0].T, categorical_fisher([0.0, 1.0])))
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theorytools.errors import NonFiniteError
from theorytools.fisher.distributions import _complement, _softmax
from theorytools.linalg import as_array, as_choice, as_int, as_labels, as_seed, as_vector, check_allocation, same_length

LOSSES = ("squared", "cross_entropy")
FISHERS = ("exact", "empirical")


def _layers_finite(where: str, arrays, what: str):
    """Raise :class:`NonFiniteError` naming ``where`` (a step) and the first layer whose ``what`` has NaN/inf entries."""
    for l, A in enumerate(arrays, start=1):
        if not np.all(np.isfinite(A)):
            raise NonFiniteError(f"{where}: {what} of layer {l} has {int(np.size(A) - np.isfinite(A).sum())} "
                                 f"non-finite entries (of {np.size(A)}); lower the learning rate or raise the damping beta")
    return arrays


@dataclass(frozen=True)
class MLP:
    """A fully connected tanh network ``d_0 -> ... -> d_L`` (002_add1c097d251ec63.txt A.5, eqs 29-35).

    ``widths = (d_0, ..., d_L)``; ``loss`` in :data:`LOSSES` (cross-entropy: ``d_L`` classes, labels 0..d_L-1).

    Parameters
    ----------
    widths : tuple of int
        The layer widths ``(d_0, ..., d_L)``, at least two.
    loss : str, default "squared"
        ``"squared"`` or ``"cross_entropy"``.

    Examples
    --------
    A linear net ``z = 2 x + 1`` (``W_1 = [[2], [1]]``: the bias is the last row), at x = 1 with target 0:

    >>> import numpy as np
    >>> from theorytools.fisher import MLP
    >>> net, Ws = MLP((1, 1)), [np.array([[2.0], [1.0]])]
    >>> net.P, net.forward(Ws, [[1.0]])[1].tolist(), net.loss_value(Ws, [[1.0]], [[0.0]])  # loss 3^2 / 2
    (2, [[3.0]], 4.5)
    """

    widths: tuple
    loss: str = "squared"

    def __post_init__(self):
        if not isinstance(self.widths, (tuple, list, np.ndarray)):
            raise TypeError(f"widths must be a tuple of layer widths (d_0, ..., d_L), got {self.widths!r}")
        w = tuple(as_int(f"widths[{i}]", d, low=1) for i, d in enumerate(self.widths))
        if len(w) < 2:
            raise ValueError(f"widths must have at least 2 entries (d_0, ..., d_L), got {w}")
        loss = as_choice("loss", self.loss, LOSSES)
        if loss == "cross_entropy" and w[-1] < 2:
            raise ValueError(f"widths must end with d_L >= 2 classes for cross_entropy, got widths {w}")
        check_allocation(f"the weights of an MLP with widths {w}", (sum((a + 1) * b for a, b in zip(w[:-1], w[1:])),),
                         cheaper="use smaller widths")
        object.__setattr__(self, "widths", w)
        object.__setattr__(self, "loss", loss)

    @property
    def shapes(self) -> list:
        """The weight shapes ``(d_{l-1} + 1, d_l)`` (002_add1c097d251ec63.txt eq. 29, the bias as the last row).

        Returns
        -------
        list of tuple
            One shape per layer.

        Examples
        --------
        >>> from theorytools.fisher import MLP
        >>> MLP((2, 3, 1)).shapes
        [(3, 3), (4, 1)]
        """
        return [(a + 1, b) for a, b in zip(self.widths[:-1], self.widths[1:])]

    @property
    def P(self) -> int:
        """The number of parameters, biases included.

        Returns
        -------
        int
            ``sum_l (d_{l-1} + 1) d_l``.

        Examples
        --------
        >>> from theorytools.fisher import MLP
        >>> MLP((2, 3, 1)).P  # 3 x 3 + 4 x 1
        13
        """
        return sum(a * b for a, b in self.shapes)

    # -- validation ------------------------------------------------------------------------------------------------
    def _weights(self, Ws, name: str = "Ws") -> list:
        """``Ws`` as a list of float64 layers with this net's shapes (another net's weights, or a missing layer that
        numpy would broadcast, are refused)."""
        if isinstance(Ws, np.ndarray) or not isinstance(Ws, (list, tuple)):
            raise TypeError(f"{name} must be a list of {len(self.shapes)} weight matrices of shapes {self.shapes}, "
                            f"got {type(Ws).__name__}")
        if len(Ws) != len(self.shapes):
            raise ValueError(f"{name} must have {len(self.shapes)} layers for widths {self.widths} "
                             f"(shapes {self.shapes}), got {len(Ws)}")
        return [as_array(f"{name}[{l}]", W, shape=s) for l, (W, s) in enumerate(zip(Ws, self.shapes))]

    def _inputs(self, X) -> np.ndarray:
        return as_array("X", X, shape=(None, self.widths[0]))

    def _data(self, X, Y) -> tuple:
        """``(X, Y)`` validated, in rows: X ``(m, d_0)``; Y ``(m, d_L)`` reals (squared loss; a vector when d_L = 1)
        or ``(m,)`` class labels (cross-entropy)."""
        X = self._inputs(X)
        if self.loss == "squared":
            Y = as_array("Y", Y)
            if Y.ndim == 1 and self.widths[-1] == 1:
                Y = Y[:, None]
            Y = as_array("Y", Y, shape=(None, self.widths[-1]))
        else:
            Y = as_labels("Y", Y, self.widths[-1])
        same_length(("X", "Y"), X, Y)
        return X, Y

    def _columns(self, Y) -> np.ndarray:
        """Targets as the columns of the outputs Z (``d_L x m``), or the labels as they are."""
        return Y.T if self.loss == "squared" else Y

    def _outputs(self, Z, name: str = "Z") -> np.ndarray:
        return as_array(name, Z, shape=(self.widths[-1], None))

    def _size_exact_factors(self, m: int) -> None:
        """Size the exact Fisher's factors: K = d_L columns per example in every layer."""
        K = self.widths[-1]
        check_allocation(f"the exact-Fisher factors (K m = {K} x {m} columns per layer)",
                         (sum(a + b for a, b in self.shapes), K * m), copies=2,
                         cheaper="fisher='empirical' (m columns), or fewer examples per batch")

    # -- parameters ------------------------------------------------------------------------------------------------
    def init(self, rng) -> list:
        """Weights ~ N(0, 1/d_in), biases 0; ``rng`` a ``numpy.random.Generator`` or a seed.

        Parameters
        ----------
        rng : numpy.random.Generator or int
            The random source, or a seed.

        Returns
        -------
        list of numpy.ndarray
            One weight matrix per layer, in :attr:`shapes`.

        Examples
        --------
        >>> from theorytools.fisher import MLP
        >>> Ws = MLP((2, 3, 1)).init(0)
        >>> [W.shape for W in Ws], [W[-1].tolist() for W in Ws]  # zero biases
        ([(3, 3), (4, 1)], [[0.0, 0.0, 0.0], [0.0]])
        """
        if not isinstance(rng, np.random.Generator):
            rng = np.random.default_rng(as_seed("rng", rng))
        return [np.vstack([rng.standard_normal((a - 1, b)) / np.sqrt(a - 1), np.zeros((1, b))]) for a, b in self.shapes]

    def flatten(self, Ws) -> np.ndarray:
        """The parameter vector theta: the layers' row-major vec, concatenated (eq. 35's order).

        Parameters
        ----------
        Ws : list of array_like
            The weights, one ``(d_{l-1} + 1) x d_l`` matrix per layer (bias last).

        Returns
        -------
        numpy.ndarray
            The P parameters.

        Examples
        --------
        >>> import numpy as np
        >>> from theorytools.fisher import MLP
        >>> net, Ws = MLP((1, 1)), [np.array([[2.0], [1.0]])]  # z = 2 x + 1 (the bias is the last row)
        >>> net.flatten(Ws).tolist()
        [2.0, 1.0]
        """
        return np.concatenate([W.reshape(-1) for W in self._weights(Ws)])

    def _unflatten(self, theta) -> list:
        cuts = np.cumsum([a * b for a, b in self.shapes])[:-1]
        return [t.reshape(s) for t, s in zip(np.split(theta, cuts), self.shapes)]

    def unflatten(self, theta) -> list:
        """The weights from the parameter vector theta (the inverse of :meth:`flatten`).

        Parameters
        ----------
        theta : array_like
            The P parameters.

        Returns
        -------
        list of numpy.ndarray
            One weight matrix per layer.

        Examples
        --------
        >>> import numpy as np
        >>> from theorytools.fisher import MLP
        >>> net = MLP((2, 3, 1))
        >>> Ws = net.init(0)
        >>> all(np.array_equal(a, b) for a, b in zip(net.unflatten(net.flatten(Ws)), Ws))
        True
        """
        return self._unflatten(as_vector("theta", theta, self.P))

    # -- unchecked computations (validated arguments) ----------------------------------------------------------------
    def _forward(self, Ws, X) -> tuple:
        a, Is = X.T, []
        for l, W in enumerate(Ws):
            Is.append(np.vstack([a, np.ones((1, a.shape[1]))]))
            O = W.T @ Is[-1]
            a = O if l == len(Ws) - 1 else np.tanh(O)
        return Is, a

    def _loss_value(self, Ws, X, Y) -> float:
        Z = self._forward(Ws, X)[1]
        if self.loss == "squared":
            return 0.5 * float(np.mean(np.sum((Z - Y.T) ** 2, axis=0)))
        zmax = Z.max(axis=0)
        with np.errstate(under="ignore"):
            lse = zmax + np.log(np.sum(np.exp(Z - zmax), axis=0))
        return float(np.mean(lse - Z[Y, np.arange(Z.shape[1])]))

    def _output_gradients(self, Z, Y) -> np.ndarray:
        if self.loss == "squared":
            return Z - Y
        E = _softmax(Z, axis=0)
        cols = np.arange(Z.shape[1])
        E[Y, cols] = -_complement(E, axis=0)[Y, cols]  # p_y - 1 as minus the others' sum (exact when p_y ~ 1)
        return E

    def _fisher_factor(self, Z) -> np.ndarray:
        d, m = Z.shape
        if self.loss == "squared":
            return np.broadcast_to(np.eye(d)[:, :, None], (d, d, m))
        p = _softmax(Z, axis=0)
        D = np.eye(d)[:, :, None] - p[:, None, :]  # column k: e_k - p
        D[np.arange(d), np.arange(d)] = _complement(p, axis=0)  # its entry 1 - p_k as the others' sum (p_k ~ 1)
        return np.sqrt(p)[None, :, :] * D

    def _backward(self, Ws, Is, E) -> list:
        reps = E.shape[1] // Is[0].shape[1]
        Gs = [E]
        for l in range(len(Ws) - 1, 0, -1):
            a = np.tile(Is[l][:-1], reps)  # tanh outputs of layer l - 1
            Gs.append((Ws[l][:-1] @ Gs[-1]) * (1.0 - a * a))
        return Gs[::-1]

    def _gradient(self, Ws, X, Y) -> list:
        Is, Z = self._forward(Ws, X)
        Gs = self._backward(Ws, Is, self._output_gradients(Z, self._columns(Y)))
        return [I @ G.T / X.shape[0] for I, G in zip(Is, Gs)]

    def _curvature_factors(self, Ws, X, Y, fisher: str) -> tuple:
        Is, Z = self._forward(Ws, X)
        E = self._output_gradients(Z, self._columns(Y))
        Gs = self._backward(Ws, Is, E)
        grads = [I @ G.T / X.shape[0] for I, G in zip(Is, Gs)]
        if fisher == "empirical":
            return grads, list(zip(Is, Gs))
        S = self._fisher_factor(Z)
        K = S.shape[1]
        Gf = self._backward(Ws, Is, np.sqrt(K) * S.reshape(S.shape[0], -1))
        return grads, [(np.tile(I, K), G) for I, G in zip(Is, Gf)]

    # -- public, validated -----------------------------------------------------------------------------------------
    def forward(self, Ws, X) -> tuple:
        """``(Is, Z)``: the layer inputs ``I_l`` (``(d_{l-1} + 1) x m``, ones last) and the outputs ``Z`` (``d_L x m``).

        The forward pass of 002_add1c097d251ec63.txt eq. 29, ``O_l = W_l^T I_l``.

        Parameters
        ----------
        Ws : list of array_like
            The weights, one ``(d_{l-1} + 1) x d_l`` matrix per layer (bias last).
        X : array_like
            The inputs, ``m x d_0``.

        Returns
        -------
        Is : list of numpy.ndarray
            The layer inputs, examples in columns, a last row of ones.
        Z : numpy.ndarray
            The outputs, ``d_L x m``.

        Examples
        --------
        >>> import numpy as np
        >>> from theorytools.fisher import MLP
        >>> net, Ws = MLP((1, 1)), [np.array([[2.0], [1.0]])]  # z = 2 x + 1 (the bias is the last row)
        >>> Is, Z = net.forward(Ws, [[1.0], [2.0]])
        >>> Is[0].tolist(), Z.tolist()
        ([[1.0, 2.0], [1.0, 1.0]], [[3.0, 5.0]])
        """
        Is, Z = self._forward(self._weights(Ws), self._inputs(X))
        _layers_finite("forward", Is[1:] + [Z], "the output")
        return Is, Z

    def loss_value(self, Ws, X, Y) -> float:
        """Mean loss over the examples (002_add1c097d251ec63.txt eq. 30).

        Parameters
        ----------
        Ws : list of array_like
            The weights, one ``(d_{l-1} + 1) x d_l`` matrix per layer (bias last).
        X : array_like
            The inputs, ``m x d_0`` (one row per example).
        Y : array_like
            The targets: ``m x d_L`` reals (squared loss) or m class labels (cross-entropy).

        Returns
        -------
        float
            The mean loss.

        Examples
        --------
        >>> import numpy as np
        >>> from theorytools.fisher import MLP
        >>> net, Ws = MLP((1, 1)), [np.array([[2.0], [1.0]])]  # z = 2 x + 1 (the bias is the last row)
        >>> X, Y = [[1.0], [2.0]], [[0.0], [1.0]]  # z = (3, 5), z - y = (3, 4)
        >>> net.loss_value(Ws, X, Y)  # (3^2 + 4^2) / 2 / 2
        6.25
        """
        X, Y = self._data(X, Y)
        with np.errstate(over="ignore", invalid="ignore"):  # reported below
            value = self._loss_value(self._weights(Ws), X, Y)
        if not np.isfinite(value):
            raise NonFiniteError(f"loss_value: the loss is {value}: the outputs or the targets are too large for float64")
        return value

    def output_gradients(self, Z, Y) -> np.ndarray:
        """``dl/dz`` per example (``d_L x m``): ``z - y``, or ``softmax(z) - e_y``.

        ``Z`` and (squared loss) ``Y`` are ``d_L x m`` (examples in columns), cross-entropy labels ``Y`` a vector of m
        labels.

        Parameters
        ----------
        Z : array_like
            The outputs, ``d_L x m``.
        Y : array_like
            The targets, ``d_L x m`` (squared loss), or m class labels (cross-entropy).

        Returns
        -------
        numpy.ndarray
            ``dl/dz``, ``d_L x m``.

        Examples
        --------
        >>> import numpy as np
        >>> from theorytools.fisher import MLP
        >>> MLP((1, 1)).output_gradients(np.array([[3.0, 5.0]]), np.array([[0.0, 1.0]])).tolist()  # z - y
        [[3.0, 4.0]]
        >>> MLP((1, 2), "cross_entropy").output_gradients(np.zeros((2, 1)), [1]).tolist()  # softmax(0) - e_1
        [[0.5], [-0.5]]
        """
        Z = self._outputs(Z)
        Y = (as_array("Y", Y, shape=(Z.shape[0], None)) if self.loss == "squared"
             else as_labels("Y", Y, self.widths[-1]))
        if Y.shape[-1] != Z.shape[1]:
            raise ValueError(f"Y must have one column (label) per column of Z ({Z.shape[1]} examples), got shape {Y.shape}")
        return self._output_gradients(Z, Y)

    def fisher_factor(self, Z) -> np.ndarray:
        """``S`` (``d_L x K x m``) with ``F_R(z_i) = sum_k S[:, k, i] S[:, k, i]^T``: a square root of F_R.

        S is the identity for the squared loss; ``S[:, k] = sqrt(p_k)(e_k - p)``, the score of class k weighted by
        sqrt(p_k), for the softmax.

        Parameters
        ----------
        Z : array_like
            The outputs, ``d_L x m``.

        Returns
        -------
        numpy.ndarray
            S, ``d_L x K x m``.

        Examples
        --------
        >>> import numpy as np
        >>> from theorytools.fisher import MLP, categorical_fisher
        >>> S = MLP((1, 2), "cross_entropy").fisher_factor(np.array([[0.0], [1.0]]))[:, :, 0]
        >>> bool(np.allclose(S @ S.T, categorical_fisher([0.0, 1.0])))  # F_R = diag(p) - p p^T
        True
        """
        return self._fisher_factor(self._outputs(Z))

    def backward(self, Ws, Is, E) -> list:
        """``G_l`` (``d_l x c``) for output-gradient columns ``E`` (``d_L x c``): back-propagation.

        ``c`` may be a multiple of m (the columns of E then cycle through the examples).  ``Is`` are the layer inputs
        of :meth:`forward`.

        Parameters
        ----------
        Ws : list of array_like
            The weights, one ``(d_{l-1} + 1) x d_l`` matrix per layer (bias last).
        Is : list of array_like
            The layer inputs from :meth:`forward`.
        E : array_like
            Output-gradient columns, ``d_L x c``.

        Returns
        -------
        list of numpy.ndarray
            ``G_l`` for every layer (the ``G_l`` of 002_add1c097d251ec63.txt eq. 33).

        Examples
        --------
        >>> import numpy as np
        >>> from theorytools.fisher import MLP
        >>> net, Ws = MLP((1, 1)), [np.array([[2.0], [1.0]])]  # z = 2 x + 1 (the bias is the last row)
        >>> Is, Z = net.forward(Ws, [[1.0], [2.0]])
        >>> net.backward(Ws, Is, np.array([[3.0, 4.0]]))[0].tolist()  # one layer: G_1 = E
        [[3.0, 4.0]]
        """
        Ws = self._weights(Ws)
        L = len(self.shapes)
        if not isinstance(Is, (list, tuple)):
            raise TypeError(f"Is must be the list of {L} layer inputs returned by forward, got {type(Is).__name__}")
        if len(Is) != L:
            raise ValueError(f"Is must have {L} layer inputs (one per layer), got {len(Is)}")
        m = as_array("Is[0]", Is[0], ndim=2).shape[1]
        Is = [as_array(f"Is[{l}]", I, shape=(s[0], m)) for l, (I, s) in enumerate(zip(Is, self.shapes))]
        E = self._outputs(E, "E")
        if E.shape[1] % Is[0].shape[1]:
            raise ValueError(f"E must have a multiple of m = {Is[0].shape[1]} columns (one per example, or K per "
                             f"example), got {E.shape[1]}")
        return self._backward(Ws, Is, E)

    def gradient(self, Ws, X, Y) -> list:
        """``g_l = I_l G_l^T / m`` (002_add1c097d251ec63.txt eq. 33) for every layer.

        Parameters
        ----------
        Ws : list of array_like
            The weights, one ``(d_{l-1} + 1) x d_l`` matrix per layer (bias last).
        X : array_like
            The inputs, ``m x d_0`` (one row per example).
        Y : array_like
            The targets: ``m x d_L`` reals (squared loss) or m class labels (cross-entropy).

        Returns
        -------
        list of numpy.ndarray
            The gradient of the mean loss, in the weights' shapes.

        Examples
        --------
        >>> import numpy as np
        >>> from theorytools.fisher import MLP
        >>> net, Ws = MLP((1, 1)), [np.array([[2.0], [1.0]])]  # z = 2 x + 1 (the bias is the last row)
        >>> X, Y = [[1.0], [2.0]], [[0.0], [1.0]]  # z = (3, 5), z - y = (3, 4)
        >>> [g.tolist() for g in net.gradient(Ws, X, Y)]  # ((3 * 1 + 4 * 2) / 2, (3 + 4) / 2)
        [[[5.5], [3.5]]]
        """
        X, Y = self._data(X, Y)
        return _layers_finite("gradient", self._gradient(self._weights(Ws), X, Y), "the gradient")

    def curvature_factors(self, Ws, X, Y, fisher: str = "empirical") -> tuple:
        """``(gradients, factors)``: the gradients and, per layer, the factors of the layer's Fisher block.

        ``g_l`` (eq. 33) and, per layer, ``(I_l, G_l)`` with c columns such that the layer's Fisher block is
        ``J_l^T J_l / c`` with ``J_l`` the rows ``kron(I_l[:, j], G_l[:, j])`` (eq. 34).

        ``fisher="empirical"``: c = m, G_l back-propagated from dl/dz at the labels Y (eq. 37).
        ``fisher="exact"``: c = K m with K = d_L, back-propagated from ``sqrt(K) S[:, k, i]`` (:meth:`fisher_factor`);
        the sqrt(K) makes ``J^T J / (K m) = (1/m) sum_i J_f,i^T F_R J_f,i`` (eq. 7).

        Parameters
        ----------
        Ws : list of array_like
            The weights, one ``(d_{l-1} + 1) x d_l`` matrix per layer (bias last).
        X : array_like
            The inputs, ``m x d_0`` (one row per example).
        Y : array_like
            The targets: ``m x d_L`` reals (squared loss) or m class labels (cross-entropy).
        fisher : str, default "empirical"
            ``"empirical"`` or ``"exact"``.

        Returns
        -------
        gradients : list of numpy.ndarray
            ``g_l`` per layer.
        factors : list of tuple
            ``(I_l, G_l)`` per layer, c columns each.

        Examples
        --------
        The exact Fisher of ``z = w x + b`` is ``mean [[x^2, x], [x, 1]]`` = [[2.5, 1.5], [1.5, 1]] at x = 1, 2:

        >>> import numpy as np
        >>> from theorytools.fisher import MLP
        >>> net, Ws = MLP((1, 1)), [np.array([[2.0], [1.0]])]  # z = 2 x + 1 (the bias is the last row)
        >>> X, Y = [[1.0], [2.0]], [[0.0], [1.0]]  # z = (3, 5), z - y = (3, 4)
        >>> from theorytools.fisher import per_example_jacobian
        >>> grads, [(I, G)] = net.curvature_factors(Ws, X, Y, fisher="exact")
        >>> J = per_example_jacobian(I, G)
        >>> (J.T @ J / J.shape[0]).tolist()
        [[2.5, 1.5], [1.5, 1.0]]
        """
        fisher = as_choice("fisher", fisher, FISHERS)
        X, Y = self._data(X, Y)
        if fisher == "exact":
            self._size_exact_factors(X.shape[0])
        grads, factors = self._curvature_factors(self._weights(Ws), X, Y, fisher)
        _layers_finite("curvature_factors", grads + [G for _, G in factors], "the gradient or its factor G")
        return grads, factors
