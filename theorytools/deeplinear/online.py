"""Online natural gradient (003_34787a2226c5cf0a.txt §5, eqs 20-21 and footnote 1) and SGD, for deep linear
and tanh networks, and the experiments of Figure 1.

Samples are rows: a minibatch ``X`` is ``(M, n_0)``, layer activations ``h_i`` are ``(M, n_i)``.  The output model
is ``y ~ N(x_L, s2 I)`` (isotropic, as in Figure 1: ``Sigma-tilde = 1e-6 I``), so the back-propagated error at the
output is ``(y - x_L) / s2`` (eq. 8).  One online NGD step (Eq. 20)::

    Lambda_i  = <h_{i-1} h_{i-1}^T>            over the M inputs (forward pass)
    Lambda~_i = <e~_i e~_i^T>                  over K model samples y~ ~ N(x_L, s2 I) per input (K backward passes)
    dW_i = (alpha / L) (Lambda~_i + sqrt(lam) I)^-1 <e_i h_{i-1}^T> (Lambda_i + sqrt(lam) I)^-1     (true targets y)

and ``lam`` is adapted by eq. 21 from ``rho`` = (actual change of the minibatch loss) / (the change predicted
by the quadratic model of footnote 1, ``(-alpha + alpha^2/2) sum_i tr(D_i^T <e_i h_{i-1}^T>)`` with
``dW_i = alpha D_i``).  ``inverse="sherman_morrison"`` replaces the damped inverses by running estimates of the
inverse covariances updated with the Sherman-Morrison formula (M rank-one updates per step, applied at once in
their Woodbury form), with the fixed damping of their start (§7: "more work is needed to incorporate adaptive
damping into SM estimation").

Examples
--------
>>> from theorytools.deeplinear import online
>>> online.mse(online.MLP([[[1.0, 2.0]], [[3.0]]]), [[1.0, 1.0]], [[7.0]])       # (7 - 3 (1 + 2))^2
4.0
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy.linalg import get_lapack_funcs
from threadpoolctl import threadpool_limits

from theorytools.deeplinear.network import as_layers
from theorytools.errors import DivergenceWarning, NonFiniteError
from theorytools.linalg import (as_array, as_bool, as_callable, as_choice, as_float, as_instance, as_int, as_seed,
                                check_allocation, nonnegative, positive, psd_pinv, same_length)

ACTIVATIONS = ("linear", "tanh")
#: A test error this many times its best value so far is reported with a DivergenceWarning (once per run).
DIVERGENCE_FACTOR = 1e3
#: grid_search_sgd halves below the grid's smallest learning rate at most this many times when every rate diverged.
MAX_HALVINGS = 10


@dataclass
class MLP:
    """``x_i = phi(W_i x_{i-1})`` for hidden layers, ``x_L = W_L x_{L-1}``: eq. 1 without biases.

    003_34787a2226c5cf0a.txt eq. 1 (biases would be an extra column, as the paper says); eq. 8 for :meth:`backward`.

    Parameters
    ----------
    weights : list of array_like
        ``[W_1, ..., W_L]``, ``W_i`` of shape ``(n_i, n_{i-1})``.
    activation : {"linear", "tanh"}
        ``phi`` of the hidden layers (the output layer is linear).

    Examples
    --------
    >>> from theorytools.deeplinear import online
    >>> net = online.MLP([[[1.0, 2.0]], [[3.0]]])                # widths 2, 1, 1
    >>> net.widths, net.predict([[1.0, 1.0]]).tolist()          # 3 x (1 + 2)
    ((2, 1, 1), [[9.0]])
    """

    weights: list
    activation: str = "linear"

    def __post_init__(self):
        self.activation = as_choice("activation", self.activation, ACTIVATIONS)
        self.weights = as_layers("weights", self.weights)

    @property
    def L(self) -> int:
        return len(self.weights)

    @property
    def widths(self) -> tuple:
        """``(n_0, ..., n_L)``."""
        return (self.weights[0].shape[1],) + tuple(W.shape[0] for W in self.weights)

    def forward(self, X) -> tuple:
        """``(inputs, derivs)`` for the ``(M, n_0)`` minibatch ``X``: ``inputs[i]`` = the input ``h_{i}`` of layer ``i + 1``
        (``inputs[L]`` = output) and ``derivs[i]`` = ``phi'`` at layer ``i + 1``'s pre-activation (None for linear layers)."""
        return self._forward(_rows("X", X, self.widths[0], "net takes n_0 inputs"))

    def _forward(self, X) -> tuple:
        hs, ds = [X], []
        for i, W in enumerate(self.weights):
            a = hs[-1] @ W.T
            if self.activation == "tanh" and i < self.L - 1:
                h = np.tanh(a)
                ds.append(1.0 - h * h)
            else:
                h = a
                ds.append(None)
            hs.append(h)
        return hs, ds

    def backward(self, derivs, e_out) -> list:
        """Errors ``e_i`` for ``i = 1..L`` (eq. 8): ``e_L = e_out``, ``e_i = phi_i' o (e_{i+1} W_{i+1})``; ``derivs`` as
        returned by :meth:`forward`, ``e_out`` the ``(M, n_L)`` output errors."""
        e_out = _rows("e_out", e_out, self.widths[-1], "net has n_L outputs")
        if not isinstance(derivs, (list, tuple)):
            raise TypeError(f"derivs must be the list of {self.L} derivatives returned by forward(), got {type(derivs).__name__}")
        if len(derivs) != self.L:
            raise ValueError(f"derivs must hold L = {self.L} derivatives (as returned by forward()), got {len(derivs)}")
        derivs = [None if d is None else as_array(f"derivs: layer {i}", d, shape=(e_out.shape[0], n))
                  for i, (d, n) in enumerate(zip(derivs, self.widths[1:]), 1)]
        return self._backward(derivs, e_out)

    def _backward(self, derivs, e_out) -> list:
        es = [e_out]
        for i in range(self.L - 1, 0, -1):
            e = es[0] @ self.weights[i]
            if derivs[i - 1] is not None:
                e = e * derivs[i - 1]
            es.insert(0, e)
        return es

    def predict(self, X) -> np.ndarray:
        """The outputs ``x_L`` for the ``(M, n_0)`` inputs ``X``."""
        return self.forward(X)[0][-1]


def _rows(name: str, X, n: int, what: str) -> np.ndarray:
    """A non-empty ``(rows, n)`` array whose width ``n`` is fixed by the net (``what`` says how)."""
    X = as_array(name, X, ndim=2)
    if X.shape[1] != n:
        raise ValueError(f"{name} must have {n} columns ({what}), got shape {X.shape}")
    return X


def _dataset(net: MLP, data) -> tuple:
    """``data = (X, Y, X_test, Y_test)`` checked against the net: inputs of width ``n_0``, targets of width ``n_L``
    (targets of another width would broadcast against the outputs, or hide a missing layer), matching rows."""
    if not isinstance(data, (tuple, list)):
        raise TypeError(f"data must be a tuple (X, Y, X_test, Y_test) of arrays, got {type(data).__name__}")
    if len(data) != 4:
        raise ValueError(f"data must be a tuple (X, Y, X_test, Y_test) of 4 arrays, got {len(data)}")
    n0, nL = net.widths[0], net.widths[-1]
    X, Y, Xt, Yt = (_rows(f"data: {k}", a, n, f"net has {w}") for k, a, n, w in
                    zip(("X", "Y", "X_test", "Y_test"), data, (n0, nL, n0, nL),
                        (f"n_0 = {n0} inputs", f"n_L = {nL} outputs", f"n_0 = {n0} inputs", f"n_L = {nL} outputs")))
    same_length(("data: X", "data: Y"), X, Y)
    same_length(("data: X_test", "data: Y_test"), Xt, Yt)
    return X, Y, Xt, Yt


def _seed(seed, *key):
    """A generator for ``[seed, *key]`` (``seed`` an integer >= 0 or a list of them)."""
    seed = as_seed("seed", seed)
    if not isinstance(seed, (int, list)):
        raise TypeError(f"seed must be an integer >= 0 or a list of them, got {type(seed).__name__}")
    return np.random.default_rng((seed if isinstance(seed, list) else [seed]) + list(key) if key else seed)


def mse(net: MLP, X, Y) -> float:
    """Mean squared error per output component, ``<|y - x_L|^2> / n_L`` (Figure 1's test error).

    003_34787a2226c5cf0a.txt §5, Figure 1.

    Parameters
    ----------
    net : MLP
        The net.
    X : array_like, shape (N, n_0)
        Inputs (rows).
    Y : array_like, shape (N, n_L)
        Targets (rows).

    Returns
    -------
    float
        The error.

    Examples
    --------
    >>> from theorytools.deeplinear import online
    >>> online.mse(online.MLP([[[1.0, 2.0]], [[3.0]]]), [[1.0, 1.0]], [[7.0]])       # (7 - 9)^2
    4.0
    """
    net = as_instance("net", net, MLP)
    X = _rows("X", X, net.widths[0], f"net takes n_0 = {net.widths[0]} inputs")
    Y = _rows("Y", Y, net.widths[-1], f"net has n_L = {net.widths[-1]} outputs")
    same_length(("X", "Y"), X, Y)
    return _mse(net, X, Y)


def _mse(net: MLP, X, Y) -> float:
    R = Y - net._forward(X)[0][-1]
    return float(np.mean(R * R))


class ShermanMorrisonInverse:
    """Running estimate of ``C^-1`` for ``C_k = (1 - eta) C_{k-1} + (eta / M) H^T H``, started at ``C_0 = c0 I``.

    The alternative to direct inversion in Eq. 20 (003_34787a2226c5cf0a.txt §3, text after Eq. 10, and §7);
    ``H`` is an ``M x n`` minibatch.  The M rank-one Sherman-Morrison updates of one step are applied at once in their
    Woodbury form: ``(a C + U U^T)^-1 = (C^-1 - C^-1 U (a I + U^T C^-1 U)^-1 U^T C^-1) / a``.

    Parameters
    ----------
    n : int
        The size of C.
    c0 : float
        The start ``C_0 = c0 I``, ``c0 > 0``.
    eta : float
        The forgetting rate, in (0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.deeplinear import online
    >>> est, H = online.ShermanMorrisonInverse(2, 1.0, 0.5), np.array([[1.0, 2.0], [0.0, 1.0]])
    >>> CinvHt = est.update(H)                       # C_1 = 0.5 I + (0.5 / 2) H^T H
    >>> bool(np.allclose(est.inv, np.linalg.inv(0.5 * np.eye(2) + 0.25 * H.T @ H)))
    True
    """

    def __init__(self, n: int, c0: float, eta: float):
        n = as_int("n", n, low=1)
        c0 = positive("c0", c0)
        self.eta = as_float("eta", eta, low=0.0, high=1.0, low_open=True, high_open=True)
        check_allocation("the n x n running inverse", (n, n), copies=3, cheaper="a smaller n")
        self.inv = np.eye(n) / c0

    def update(self, H) -> np.ndarray:
        """Fold in the ``(M, n)`` minibatch ``H``; return ``C_k^-1 H^T`` (see :func:`sherman_morrison_updates`)."""
        return _sherman_morrison([self], [_rows("H", H, self.inv.shape[0], "the estimate is n x n")])[0]


def sherman_morrison_updates(estimates, Hs) -> list:
    """Update each :class:`ShermanMorrisonInverse` with its minibatch and return the ``C_k^-1 H^T``, at O(n^2 M) each.

    003_34787a2226c5cf0a.txt §3, text after Eq. 10, and §7: Sherman-Morrison estimates of the inverse
    covariances.  With
    ``U = sqrt(eta / M) H^T`` and ``S = a I + U^T C^-1 U``, ``C_k^-1 = (C^-1 - C^-1 U S^-1 U^T C^-1) / a`` and
    ``C_k^-1 U = C^-1 U S^-1``.  The M x M systems of all estimates are factored in one stacked call (one LAPACK
    dispatch instead of 2L: at width 100 and M = 20 the dispatch overhead was comparable to the arithmetic).

    Parameters
    ----------
    estimates : list of ShermanMorrisonInverse
        The running estimates (updated in place).
    Hs : list of array_like
        One ``(M, n)`` minibatch per estimate.

    Returns
    -------
    list of ndarray
        ``C_k^-1 H^T`` for each estimate.

    Examples
    --------
    >>> from theorytools.deeplinear import online
    >>> est = online.ShermanMorrisonInverse(1, 1.0, 0.5)
    >>> out = online.sherman_morrison_updates([est], [[[2.0]]])          # C_1 = 0.5 + 0.5 x 4 = 2.5
    >>> round(float(est.inv[0, 0]), 6), round(float(out[0][0, 0]), 6)
    (0.4, 0.8)
    """
    estimates, Hs = _paired("estimates", estimates, "Hs", Hs)
    estimates = [as_instance(f"estimates[{i}]", e, ShermanMorrisonInverse) for i, e in enumerate(estimates)]
    Hs = [_rows(f"Hs[{i}]", H, e.inv.shape[0], f"estimates[{i}] is {e.inv.shape[0]} x {e.inv.shape[0]}")
          for i, (e, H) in enumerate(zip(estimates, Hs))]
    return _sherman_morrison(estimates, Hs)


def _paired(name_a: str, a, name_b: str, b) -> tuple:
    """Two non-empty lists of the same length (one entry per layer or per estimate)."""
    for name, x in ((name_a, a), (name_b, b)):
        if not isinstance(x, (list, tuple)):
            raise TypeError(f"{name} must be a non-empty list, got {type(x).__name__}")
        if not x:
            raise ValueError(f"{name} must be a non-empty list, got an empty one")
    if len(a) != len(b):
        raise ValueError(f"{name_a} and {name_b} must have the same length, got {len(a)} and {len(b)}")
    return a, b


def _sherman_morrison(estimates, Hs) -> list:
    c2s = [e.eta / H.shape[0] for e, H in zip(estimates, Hs)]  # U = sqrt(c2) H^T
    CHs = [e.inv @ H.T for e, H in zip(estimates, Hs)]
    Ss = [(1.0 - e.eta) * np.eye(H.shape[0]) + c2 * (H @ CH) for e, H, c2, CH in zip(estimates, Hs, c2s, CHs)]
    # S = G G^T: the downdate T T^T with T = C^-1 U G^-T is computed as A @ A.T, which numpy evaluates with a
    # symmetric rank-k update (exactly symmetric, half the flops), so C^-1 stays symmetric without re-symmetrizing
    try:
        if len({S.shape for S in Ss}) == 1:
            Ginvs = np.linalg.inv(np.linalg.cholesky(np.stack(Ss)))
        else:
            Ginvs = [np.linalg.inv(np.linalg.cholesky(S)) for S in Ss]
    except np.linalg.LinAlgError:
        bad = [i for i, S in enumerate(Ss) if np.linalg.eigvalsh(S)[0] <= 0]
        raise NonFiniteError(f"Sherman-Morrison: the running inverse estimate(s) {bad} (of {len(Ss)}: inputs of layers 1..L, "
                             "then errors) lost positive definiteness to rounding in the downdates; use a larger eta or "
                             "a smaller alpha, or inverse='pinv'") from None
    out = []
    for e, CH, Ginv, c2 in zip(estimates, CHs, Ginvs, c2s):
        T = np.sqrt(c2) * (CH @ Ginv.T)
        e.inv -= T @ T.T
        e.inv /= 1.0 - e.eta
        out.append(CH @ (Ginv.T @ Ginv))  # C_k^-1 H^T = C^-1 H^T S^-1
    return out


@dataclass
class History:
    """Test error against examples seen and wall-clock seconds, and the damping.

    The curves of 003_34787a2226c5cf0a.txt Figure 1.  Seconds count training only (evaluation excluded); the damping is
    NaN where there is none.  Start empty and add rows with :meth:`record`.

    Parameters
    ----------
    examples : list of int, optional
        Examples seen at each row.
    seconds : list of float, optional
        Training seconds at each row.
    test_error : list of float, optional
        Test error at each row.
    damping : list of float, optional
        Damping lambda at each row (NaN: none).

    Examples
    --------
    >>> from theorytools.deeplinear import online
    >>> h = online.History()
    >>> h.record(0, 0.0, 4.0)
    >>> h.record(10, 0.5, 1.0, lam=0.1)
    >>> h.as_arrays()["test_error"].tolist(), h.damping
    ([4.0, 1.0], [nan, 0.1])
    """

    examples: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    test_error: list = field(default_factory=list)
    damping: list = field(default_factory=list)

    def record(self, examples, seconds, err, lam=None):
        """Add a row: ``examples`` seen so far, training ``seconds``, test error ``err`` and damping ``lam`` (None: none)."""
        self.examples.append(as_int("examples", examples))
        self.seconds.append(nonnegative("seconds", seconds))
        self.test_error.append(nonnegative("err", err))
        self.damping.append(np.nan if lam is None else nonnegative("lam", lam))

    def as_arrays(self) -> dict:
        return {k: np.asarray(v) for k, v in self.__dict__.items()}


def predicted_change(alpha: float, dirs, grads) -> float:
    """Footnote 1: the change of the loss predicted by the quadratic model whose Newton step is ``D``.

    003_34787a2226c5cf0a.txt §5, footnote 1 (the ``rho`` of eq. 21).  With ``dW_i = alpha D_i``:
    ``(-alpha + alpha^2 / 2) sum_i tr(D_i^T <e_i h_{i-1}^T>)`` (``grads`` are ``<e_i h_{i-1}^T> = -dL/dW_i``).  When
    ``D`` solves ``F D = -grad`` this is ``alpha g^T D + alpha^2/2 D^T F D`` exactly; for Eq. 10 that needs claim (b).

    Parameters
    ----------
    alpha : float
        The step, > 0.
    dirs : list of array_like
        The directions ``D_i``, one per layer.
    grads : list of array_like
        ``<e_i h_{i-1}^T>``, one per layer, shaped like ``dirs``.

    Returns
    -------
    float
        The predicted change of the loss.

    Examples
    --------
    >>> from theorytools.deeplinear import online
    >>> online.predicted_change(1.0, [[[1.0, 2.0]]], [[[1.0, 1.0]]])        # (-1 + 1/2) x (1 + 2)
    -1.5
    """
    alpha = positive("alpha", alpha)
    dirs, grads = _paired("dirs", dirs, "grads", grads)
    dirs = [as_array(f"dirs: layer {i}", D) for i, D in enumerate(dirs, 1)]
    grads = [as_array(f"grads: layer {i}", G) for i, G in enumerate(grads, 1)]
    for i, (D, G) in enumerate(zip(dirs, grads), 1):
        if D.shape != G.shape:
            raise ValueError(f"dirs and grads must have the same shapes layer by layer: layer {i} has {D.shape} and {G.shape}")
    return (-alpha + 0.5 * alpha**2) * sum(float(np.sum(D * G)) for D, G in zip(dirs, grads))


def eq21_damping(lam: float, rho: float, lam_min: float = 0.0) -> float:
    """Eq. 21: ``3/2 lam`` if ``rho < 1/4``, ``2/3 lam`` if ``rho > 3/4`` (never below ``lam_min``), else ``lam``.

    003_34787a2226c5cf0a.txt §5, eq. 21.  ``rho`` may be infinite: a predicted change of ~0 against a finite actual
    one.

    Parameters
    ----------
    lam : float
        The damping, >= 0.
    rho : float
        Actual over predicted change of the loss.
    lam_min : float, default 0.0
        The floor of a decrease.

    Returns
    -------
    float
        The next damping.

    Examples
    --------
    >>> from theorytools.deeplinear import online
    >>> damp = online.eq21_damping
    >>> damp(1.0, 0.1), round(damp(1.0, 0.9), 6), damp(1.0, 0.5), damp(1.0, 0.9, lam_min=0.8)
    (1.5, 0.666667, 1.0, 0.8)
    """
    lam = nonnegative("lam", lam)
    rho = as_float("rho", rho, finite=False)
    lam_min = nonnegative("lam_min", lam_min)
    if rho < 0.25:
        return 1.5 * lam
    if rho > 0.75:
        return max(lam / 1.5, lam_min)
    return lam


_POTRF, _POTRI = get_lapack_funcs(("potrf", "potri"), (np.zeros((1, 1)),))


@lru_cache(maxsize=64)
def _strict_upper(n: int) -> np.ndarray:
    """The read-only mask of the strict upper triangle of an ``n x n`` matrix."""
    mask = np.triu(np.ones((n, n), dtype=bool), 1)
    mask.setflags(write=False)
    return mask


def _damped_inverse(C, sqrt_lam):
    """``(C + sqrt(lam) I)^-1`` of the covariance ``C`` (PSD by construction) from the Cholesky factor of ``C + sqrt(lam)
    I`` (LAPACK potrf, potri: 4-5x faster than an eigendecomposition at widths 20-200, where it took half of an NGD
    step).  Where rounding has left ``C`` with negative eigenvalues below ``-sqrt(lam)``, so that there is no Cholesky
    factor, from the eigendecomposition of ``C`` with its eigenvalues clipped at 0 (a negative eigenvalue of a PSD
    matrix is rounding).  No tolerance, hence no unit, enters.  When ``lam = 0``, the Moore-Penrose inverse, its rank
    decided on the equilibrated ``C`` (:func:`theorytools.linalg.psd_pinv`), so that a covariance of rank < n (behind a
    bottleneck) is inverted on its range whatever the units of the activations."""
    if sqrt_lam == 0.0:
        return psd_pinv(C)
    shift = sqrt_lam
    A = np.array(C, dtype=float)  # C + shift I
    A.flat[::A.shape[0] + 1] += shift
    c, info = _POTRF(A, lower=1, overwrite_a=1, clean=0)
    if info == 0:
        inv, info = _POTRI(c, lower=1, overwrite_c=1)
    if info == 0:  # potri fills the lower triangle: mirror it
        np.copyto(inv, inv.T, where=_strict_upper(inv.shape[0]))
        return inv
    w, V = np.linalg.eigh(C)
    return (V * (1.0 / (np.maximum(w, 0.0) + shift))) @ V.T


def _batches(N: int, M: int, rng):
    """Endless minibatch indices: reshuffled passes over N examples, ``N // M`` minibatches of M per pass (the rest of a
    pass waits for the next shuffle).  ``1 <= M <= N`` is required: otherwise a pass holds no minibatch and the loop
    would spin forever without yielding."""
    if not 1 <= M <= N:
        raise ValueError(f"M must be between 1 and the number of training rows ({N}), got {M}")
    while True:
        perm = rng.permutation(N)
        for s in range(0, N - M + 1, M):
            yield perm[s:s + M]


def _run(step, net, data, M, examples, eval_every, rng, progress, desc, state=None):
    """The training loop shared by SGD and NGD: ``examples`` seen in minibatches of ``M`` (validated by the callers),
    the test error every ``eval_every`` examples, a NonFiniteError naming the step when the weights or the test error
    turn non-finite, and a DivergenceWarning (once) when the test error grows to DIVERGENCE_FACTOR x its best."""
    X, Y, Xt, Yt = data
    hist = History()
    err = _mse(net, Xt, Yt)
    hist.record(0, 0.0, err, getattr(state, "lam", None))
    best, warned = err, False
    seen, clock, next_eval, k = 0, 0.0, eval_every, 0
    batches = _batches(X.shape[0], M, rng)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=examples, desc=desc, unit="ex", leave=False)
    # BLAS on one thread: the products and factorizations of a step are small (widths <= 200, minibatches <= 1000),
    # where threads cost more than they save -- Figure 1B's quick NGD run took 22.6 s with OpenBLAS's default threads
    # on 2 cores and 2.7 s on one (benchmarks/bench_deeplinear.py); one thread also makes the runs bit-reproducible
    with np.errstate(over="ignore", invalid="ignore"), threadpool_limits(1):  # a diverging step is reported below
        while seen < examples:
            idx = next(batches)
            t0 = time.perf_counter()
            step(X[idx], Y[idx])
            clock += time.perf_counter() - t0
            seen += M
            k += 1
            if not all(math.isfinite(W.sum()) for W in net.weights):
                raise NonFiniteError(f"{desc}: the weights became non-finite at step {k} ({seen} examples)")
            if state is not None and not np.isfinite(state.lam):
                raise NonFiniteError(f"{desc}: the damping lambda overflowed at step {k} ({seen} examples)")
            if bar:
                bar.update(M)
            if seen >= next_eval or seen >= examples:
                err = _mse(net, Xt, Yt)
                if not np.isfinite(err):
                    raise NonFiniteError(f"{desc}: test error became {err} at step {k} ({seen} examples)")
                if best > 0 and err > DIVERGENCE_FACTOR * best and not warned:
                    warnings.warn(f"{desc}: the test error grew from {best:.3g} to {err:.3g} by step {k} ({seen} "
                                  "examples): the run is diverging (try a smaller step size)", DivergenceWarning,
                                  stacklevel=3)
                    warned = True
                best = min(best, err)
                hist.record(seen, clock, err, getattr(state, "lam", None))
                next_eval += eval_every
    if bar:
        bar.close()
    return hist


def _schedule(data, M, examples, eval_every) -> tuple:
    """``(M, examples, eval_every)`` validated against the training rows; the history's length checked."""
    N = data[0].shape[0]
    M = as_int("M", M, low=1)
    if M > N:
        raise ValueError(f"M must be at most the number of training rows in data ({N}), got {M}")
    examples = as_int("examples", examples, low=1)
    eval_every = as_int("eval_every", eval_every, low=1)
    # a row of History is 4 Python floats in lists (~32 bytes each with the list slot)
    check_allocation("the test-error history", (examples // eval_every + 2, 4), itemsize=32,
                     cheaper="a larger eval_every or fewer examples")
    return M, examples, eval_every


def train_sgd(net: MLP, data, lr: float, M: int = 20, examples: int = 10_000, eval_every: int = 1000,
              seed: int = 0, progress: bool = False) -> History:
    """SGD on ``1/2 |y - x_L|^2``: ``W_i += lr <e_i h_{i-1}^T>`` with ``e_L = y - x_L``.

    Figure 1's SGD baseline (003_34787a2226c5cf0a.txt §5; eqs 7-8 for the gradient).  The loss is eq. 6 times s2:
    the usual squared error, so ``lr`` has its usual scale.  ``data = (X, Y, X_test, Y_test)`` (rows are samples),
    minibatches of ``M <= len(X)``.  Modifies ``net`` in place.

    Parameters
    ----------
    net : MLP
        The net, trained in place.
    data : tuple of array_like
        ``(X, Y, X_test, Y_test)``, rows are samples.
    lr : float
        The learning rate, > 0.
    M : int, default 20
        Minibatch size.
    examples : int, default 10000
        Training examples to see.
    eval_every : int, default 1000
        Examples between two test errors.
    seed : int, default 0
        Seed of the minibatch order.
    progress : bool, default False
        Show a progress bar.

    Returns
    -------
    History
        The test error along the run.

    Examples
    --------
    One weight, ``y = 2 x`` with ``x = 1``: each step halves ``2 - w`` (lr = 0.5):

    >>> import numpy as np
    >>> from theorytools.deeplinear import online
    >>> X = np.ones((4, 1)); net = online.MLP([[[0.0]]])
    >>> online.train_sgd(net, (X, 2 * X, X, 2 * X), 0.5, M=1, examples=2, eval_every=1).test_error
    [4.0, 1.0, 0.25]
    """
    net = as_instance("net", net, MLP)
    data = _dataset(net, data)
    lr = positive("lr", lr)
    M, examples, eval_every = _schedule(data, M, examples, eval_every)
    rng = _seed(seed)
    progress = as_bool("progress", progress)

    def step(Xb, Yb):
        hs, ds = net._forward(Xb)
        es = net._backward(ds, Yb - hs[-1])
        for i, W in enumerate(net.weights):
            G = es[i].T @ hs[i]  # lr <e_i h_{i-1}^T> in place: (lr G) / M, as lr * G / M, without its temporaries
            G *= lr
            G /= Xb.shape[0]
            W += G

    return _run(step, net, data, M, examples, eval_every, rng, progress, f"SGD lr={lr:g}")


@dataclass
class _Damping:
    lam: float


def train_ngd(net: MLP, data, s2: float, alpha: float = 1.0, M: int = 1000, K: int = 1, lam0: float = 1.0,
              adaptive: bool = True, lam_min: float = 1e-10, inverse: str = "pinv", eta: float = 0.05, examples: int = 10_000,
              eval_every: int = 1000, seed: int = 0, progress: bool = False) -> History:
    """Online NGD (Eq. 20) with the adaptive damping of eq. 21.

    003_34787a2226c5cf0a.txt §5, eqs 20-21 and footnote 1.  The damping is adaptive (``adaptive``, from ``lam0``,
    never below ``lam_min``:
    once the loss reaches its noise floor rho is noise, and eq. 21 alone would shrink lam without limit until the
    damped inverses amplify rounding and the run diverges), K model samples per input, and ``inverse`` = ``"pinv"``
    (damped inverses of the minibatch covariances; the Moore-Penrose inverse if
    ``lam0 = 0`` and not adaptive) or ``"sherman_morrison"`` (running inverse estimates, fixed damping: the start
    ``C_0`` is the first minibatch's mean eigenvalue times I, forgotten at rate ``eta``).  The running estimates lag
    the weights: with them, alpha = 1 diverged on a 4-6-6-4 net (M = 50, eta = 0.1 or 0.3) where alpha = 0.5 reached
    the noise floor (tests/test_deeplinear.py).  ``data = (X, Y, X_test, Y_test)``, minibatches of ``M <= len(X)``.
    Modifies ``net`` in place.

    Parameters
    ----------
    net : MLP
        The net, trained in place.
    data : tuple of array_like
        ``(X, Y, X_test, Y_test)``, rows are samples.
    s2 : float
        The output variance of the model ``N(x_L, s2 I)``, > 0.
    alpha : float, default 1.0
        The step of Eq. 20.
    M : int, default 1000
        Minibatch size.
    K : int, default 1
        Model samples per input.
    lam0 : float, default 1.0
        The starting damping.
    adaptive : bool, default True
        Adapt the damping by eq. 21.
    lam_min : float, default 1e-10
        The floor of the damping.
    inverse : {"pinv", "sherman_morrison"}
        Damped inverses of the minibatch covariances, or running Sherman-Morrison estimates.
    eta : float, default 0.05
        The forgetting rate of the Sherman-Morrison estimates.
    examples : int, default 10000
        Training examples to see.
    eval_every : int, default 1000
        Examples between two test errors.
    seed : int, default 0
        Seed of the minibatch order and the model samples.
    progress : bool, default False
        Show a progress bar.

    Returns
    -------
    History
        The test error and the damping along the run.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.deeplinear import online
    >>> X = np.random.default_rng(0).standard_normal((8, 1)); net = online.MLP([[[0.0]]])
    >>> h = online.train_ngd(net, (X, 2 * X, X, 2 * X), 1.0, M=4, examples=8, eval_every=4)
    >>> np.round(h.damping, 6).tolist(), bool(h.test_error[-1] < h.test_error[0])     # rho > 3/4: lam x 2/3
    ([1.0, 0.666667, 0.444444], True)
    """
    net = as_instance("net", net, MLP)
    data = _dataset(net, data)
    s2 = positive("s2", s2)
    alpha = positive("alpha", alpha)
    K = as_int("K", K, low=1)
    lam0 = nonnegative("lam0", lam0)
    adaptive = as_bool("adaptive", adaptive)
    lam_min = nonnegative("lam_min", lam_min)
    inverse = as_choice("inverse", inverse, ("pinv", "sherman_morrison"))
    eta = as_float("eta", eta, low=0.0, high=1.0, low_open=True, high_open=True)
    M, examples, eval_every = _schedule(data, M, examples, eval_every)
    check_allocation("the K x M model-sample errors", (K + 1, M, max(net.widths)), copies=2, cheaper="a smaller K or M")
    rng = _seed(seed, 1)
    batch_rng = _seed(seed)
    progress = as_bool("progress", progress)
    state = _Damping(lam0)
    sm: list = []
    L = net.L

    def loss(Xb, Yb):
        R = Yb - net._forward(Xb)[0][-1]
        return 0.5 * float(np.sum(R * R)) / (s2 * Xb.shape[0])

    def step(Xb, Yb):
        Mb = Xb.shape[0]
        hs, ds = net._forward(Xb)
        # K model samples y~ = x_L + sqrt(s2) xi: output errors xi / sqrt(s2), back-propagated with the true errors
        # (y - x_L) / s2 in one pass (same forward pass, one product per layer)
        xi = rng.standard_normal((K,) + hs[-1].shape) / np.sqrt(s2)
        both = net._backward([None if d is None else np.tile(d, (K + 1, 1)) for d in ds],
                             np.vstack([(Yb - hs[-1]) / s2, xi.reshape(K * Mb, -1)]))
        es, es_model = [e[:Mb] for e in both], [e[Mb:] for e in both]
        if inverse == "sherman_morrison":
            # <e_i h^T> has rank <= M: apply the inverses to the factors, (Lt^-1 E^T)(La^-1 H^T)^T / M, O(n^2 M)
            if not sm:
                # C_0 = the first minibatch's mean eigenvalue (1 where that batch is all zero: any positive start works)
                sm.extend(ShermanMorrisonInverse(H.shape[1], float(np.mean(H * H)) or 1.0, eta) for H in hs[:-1] + es_model)
            inv_h = _sherman_morrison(sm, hs[:-1] + es_model)[:L]  # Lambda_i^-1 H^T
            for i, W in enumerate(net.weights):
                W += (alpha / (L * Mb)) * (sm[L + i].inv @ es[i].T) @ inv_h[i].T
            return
        grads = [e.T @ h / Mb for e, h in zip(es, hs[:-1])]  # <e_i h_{i-1}^T> = -dL/dW_i
        sq = np.sqrt(state.lam)
        inv_in = [_damped_inverse(h.T @ h / Mb, sq) for h in hs[:-1]]
        inv_err = [_damped_inverse(e.T @ e / (K * Mb), sq) for e in es_model]
        dirs = [Ie @ G @ Ii / L for Ie, G, Ii in zip(inv_err, grads, inv_in)]
        R = Yb - hs[-1]
        before = 0.5 * float(np.sum(R * R)) / (s2 * Mb)
        for W, Dd in zip(net.weights, dirs):
            W += alpha * Dd
        if adaptive:
            predicted = predicted_change(alpha, dirs, grads)
            rho = (loss(Xb, Yb) - before) / predicted if predicted != 0 else 1.0
            if not np.isnan(rho):  # NaN: the step diverged, which _run reports
                state.lam = eq21_damping(state.lam, rho, lam_min)

    return _run(step, net, data, M, examples, eval_every, batch_rng, progress, f"NGD ({inverse})", state)


def grid_search_sgd(make_net, data, lrs, M: int = 20, examples: int = 10_000, seed: int = 0, progress: bool = False):
    """SGD for each learning rate in ``lrs`` from the same start; returns ``(best_lr, histories)``.

    Figure 1's SGD baseline "with learning rate optimized via grid search" (003_34787a2226c5cf0a.txt §5).  The start
    is ``make_net()``, a fresh MLP each call; ``histories`` = {lr: History, or None where the run diverged}.

    The choice is deterministic: every run sees the same minibatches (``seed``), the best is the lowest final test
    error (a diverged run counts as infinite), and ties go to the rate tried first.  Rates are tried in the order of
    ``lrs``; if every one diverges, the search extends itself below the grid, halving the smallest rate (at most
    MAX_HALVINGS times) until a run stays finite -- whether a rate at the edge of stability diverges can depend on the
    machine's rounding, and an extended grid keeps the baseline from flipping with it.  If every rate down to
    ``min(lrs) / 2**MAX_HALVINGS`` diverges, ``best_lr`` is None: the baseline diverged (a result, not an error).

    Parameters
    ----------
    make_net : callable
        ``make_net() -> MLP``, the same start at each call.
    data : tuple of array_like
        ``(X, Y, X_test, Y_test)``.
    lrs : array_like
        Positive learning rates.
    M : int, default 20
        Minibatch size.
    examples : int, default 10000
        Training examples per run.
    seed : int, default 0
        Seed of the minibatch order.
    progress : bool, default False
        Show progress bars.

    Returns
    -------
    best_lr : float or None
        The best rate (None: every rate diverged).
    histories : dict
        Rate -> History (None where the run diverged).

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.deeplinear import online
    >>> X, make = np.ones((4, 1)), lambda: online.MLP([[[0.0]]])
    >>> lr, hists = online.grid_search_sgd(make, (X, 2 * X, X, 2 * X), [0.1, 0.5], M=1, examples=4)
    >>> lr, hists[0.5].test_error[-1]                     # (2 (1 - 0.5)^4)^2
    (0.5, 0.015625)
    """
    make_net = as_callable("make_net", make_net)
    first = make_net()
    if not isinstance(first, MLP):
        raise TypeError(f"make_net must return an MLP, got {type(first).__name__}")
    data = _dataset(first, data)
    lrs = as_array("lrs", lrs, ndim=1)
    if np.any(lrs <= 0):
        i = int(np.argmax(lrs <= 0))
        raise ValueError(f"lrs must hold positive learning rates, entry {i} is {lrs[i]:g}")
    M, examples = as_int("M", M, low=1), as_int("examples", examples, low=1)
    M, examples, eval_every = _schedule(data, M, examples, max(examples // 20, M))
    seed = as_seed("seed", seed)
    progress = as_bool("progress", progress)
    hists: dict = {}

    def trial(lr, net):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DivergenceWarning)  # a diverging rate is an expected outcome of a search
            try:
                hists[lr] = train_sgd(net, data, lr, M, examples, eval_every, seed, progress)
            except NonFiniteError:
                hists[lr] = None

    for i, lr in enumerate(lrs):
        trial(float(lr), first if i == 0 else make_net())
    lr = float(np.min(lrs))
    for _ in range(MAX_HALVINGS):
        if any(h is not None for h in hists.values()):
            break
        lr /= 2
        trial(lr, make_net())
    finals = {lr: (h.test_error[-1] if h is not None else np.inf) for lr, h in hists.items()}
    if all(h is None for h in hists.values()):
        return None, hists
    return min(finals, key=finals.get), hists
