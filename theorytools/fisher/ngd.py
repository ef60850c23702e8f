"""Natural-gradient training of an :class:`~theorytools.fisher.mlp.MLP` (002_add1c097d251ec63.txt Algorithm 1, A.5.1).

Exact damped NGD (eq. 36) over all parameters, block-diagonal NGD (eqs 38-39) in its explicit, Woodbury (eq. 40)
and TENGraD (eqs 41-43) forms, and SGD as the baseline; each with the exact Fisher (eq. 7) or the empirical Fisher
(eq. 37) -- see :meth:`MLP.curvature_factors`.

The update is ``W_l <- W_l - alpha_k D_l`` with ``alpha_k = alpha / (1 + decay (k - 1))``, k = 1 the first step (the
decaying learning rate of §4.3, line 202, which the text describes in words only: a reading, listed in the report's
Readings) and ``D`` the method's direction.  All block methods compute the same D (to rounding); ``"exact"`` and
``"exact_woodbury"`` the same full-Fisher D.

Examples
--------
TENGraD and the explicit block inverse give the same direction, and so do the two full-Fisher forms:

>>> import numpy as np
>>> from theorytools.fisher import MLP, ngd
>>> net, X, Y = MLP((2, 3, 1)), np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([[1.0], [0.0], [0.5]])
>>> D = {m: ngd.direction(net, net.init(0), X, Y, m) for m in ("tengrad", "block_explicit", "exact", "exact_woodbury")}
>>> same = lambda a, b: all(np.allclose(u, v) for u, v in zip(D[a], D[b]))
>>> same("tengrad", "block_explicit"), same("exact", "exact_woodbury")
(True, True)
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from theorytools.errors import DivergenceWarning, NonFiniteError
from theorytools.fisher.mlp import FISHERS, MLP, _layers_finite
from theorytools.fisher.tengrad import _block_direction, _jacobian, _size_jacobian, _solve, _validate
from theorytools.linalg import (as_array, as_bool, as_choice, as_instance, as_int, as_seed, check_allocation,
                                nonnegative, positive)

METHODS = ("sgd", "exact", "exact_woodbury", "block_explicit", "block_woodbury", "tengrad")
#: A training loss this many times its best value so far is reported with a DivergenceWarning (once per run).
DIVERGENCE_FACTOR = 1e3


def _stacked(factors) -> np.ndarray:
    return np.hstack([_jacobian(I, G) for I, G in factors])


def stacked_jacobian(factors) -> np.ndarray:
    """``J = [J_1, ..., J_L]`` (002_add1c097d251ec63.txt eq. 35, c x P) from the layers' ``(I_l, G_l)``.

    The factors are those of :meth:`MLP.curvature_factors`.

    Parameters
    ----------
    factors : list of tuple
        ``(I_l, G_l)`` per layer, with the same number c of columns.

    Returns
    -------
    numpy.ndarray
        J, ``c x P``.

    Examples
    --------
    Row i of a one-layer J is ``kron(I[:, i], G[:, i]) = (x_i g_i, g_i)``:

    >>> import numpy as np
    >>> from theorytools.fisher import MLP, ngd
    >>> net, Ws = MLP((1, 1)), [np.array([[2.0], [1.0]])]  # z = 2 x + 1
    >>> X, Y = np.array([[1.0], [2.0]]), np.array([[0.0], [1.0]])  # z - y = (3, 4)
    >>> ngd.stacked_jacobian(net.curvature_factors(Ws, X, Y)[1]).tolist()
    [[3.0, 3.0], [8.0, 4.0]]
    """
    if not isinstance(factors, (list, tuple)) or not factors:
        raise TypeError(f"factors must be a non-empty list of (I_l, G_l) pairs from MLP.curvature_factors, got "
                        f"{factors!r:.60}")
    pairs = []
    for l, pair in enumerate(factors):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise TypeError(f"factors[{l}] must be a pair (I_l, G_l), got {pair!r:.60}")
        pairs.append(_validate(*pair, names=(f"factors[{l}][0] (I_{l + 1})", f"factors[{l}][1] (G_{l + 1})")))
    if len({I.shape[1] for I, _ in pairs}) != 1:
        raise ValueError(f"factors must have the same number of columns c in every layer, got "
                         f"{[I.shape[1] for I, _ in pairs]}")
    _size_jacobian(pairs[0][0].shape[1], sum(I.shape[0] * G.shape[0] for I, G in pairs),
                   cheaper="method='tengrad' or 'block_woodbury' work layer by layer (tengrad never forms J)")
    return _stacked(pairs)


def _args(net, Ws, X, Y, fisher):
    net = as_instance("net", net, MLP)
    fisher = as_choice("fisher", fisher, FISHERS)
    return (net, net._weights(Ws), *net._data(X, Y), fisher)


def fisher_matrix(net: MLP, Ws, X, Y, fisher: str = "empirical") -> np.ndarray:
    """The P x P Fisher ``J^T J / c`` over all parameters (eq. 37 empirical, eq. 7 exact) -- for checks and small nets.

    Equation numbers of 002_add1c097d251ec63.txt.

    Parameters
    ----------
    net : MLP
        The network.
    Ws : list of array_like
        Its weights, one matrix per layer.
    X : array_like
        The inputs, ``m x d_0``.
    Y : array_like
        The targets, ``m x d_L`` reals (squared loss) or m class labels (cross-entropy).
    fisher : str, default "empirical"
        ``"empirical"`` or ``"exact"``.

    Returns
    -------
    numpy.ndarray
        The P x P Fisher.

    Examples
    --------
    The exact Fisher of ``z = w x + b`` on x = 1, 2 is ``mean [[x^2, x], [x, 1]]``:

    >>> import numpy as np
    >>> from theorytools.fisher import MLP, ngd
    >>> net, Ws = MLP((1, 1)), [np.array([[2.0], [1.0]])]  # z = 2 x + 1
    >>> X, Y = np.array([[1.0], [2.0]]), np.array([[0.0], [1.0]])  # z - y = (3, 4)
    >>> ngd.fisher_matrix(net, Ws, X, Y, fisher="exact").tolist()
    [[2.5, 1.5], [1.5, 1.0]]
    """
    net, Ws, X, Y, fisher = _args(net, Ws, X, Y, fisher)
    check_allocation(f"the P x P Fisher (P = {net.P})", (net.P, net.P), copies=2,
                     cheaper="direction(..., method='exact_woodbury') applies its inverse through the c x c Gram J J^T")
    if fisher == "exact":
        net._size_exact_factors(X.shape[0])
    _size_jacobian(X.shape[0] * (net.widths[-1] if fisher == "exact" else 1), net.P,
                   cheaper="fewer examples" + (", or fisher='empirical' (c = m rows)" if fisher == "exact" else ""))
    J = _stacked(net._curvature_factors(Ws, X, Y, fisher)[1])
    return J.T @ J / J.shape[0]


def _guard(net: MLP, m: int, method: str, beta: float, fisher: str) -> None:
    """Refuse (SizeError) the largest array of ``method`` on batches of m examples before anything is computed."""
    if method == "sgd":
        return
    c = m * (net.widths[-1] if fisher == "exact" else 1)
    exact = method.startswith("exact")
    n = net.P if exact else max(a * b for a, b in net.shapes)
    if beta == 0 or method in ("exact", "block_explicit"):
        what = "the P x P Fisher" if exact else "the largest per-layer block"
        cheaper = ("pass beta > 0 with method='exact_woodbury' (a c x c system), 'block_woodbury' or 'tengrad'" if beta == 0
                   else "method='exact_woodbury' (the same direction from a c x c system), or 'block_woodbury' / 'tengrad'"
                   if exact else "method='block_woodbury' or 'tengrad' (the same direction from m x m systems)")
        check_allocation(f"{what} of method={method!r}{' (undamped)' if beta == 0 else ''}", (n, n), copies=3,
                         cheaper=cheaper)
    if fisher == "exact":
        net._size_exact_factors(m)
    if method != "tengrad" or beta == 0:
        check_allocation(f"the Jacobian J of method={method!r} (c = {c} rows)", (c, n),
                         cheaper="method='tengrad' with beta > 0 never forms J")
    if beta > 0 and method in ("exact_woodbury", "block_woodbury", "tengrad"):
        check_allocation(f"the c x c system of method={method!r}", (c, c), copies=3,
                         cheaper="fewer examples per batch" + (" or fisher='empirical' (c = m)" if fisher == "exact" else ""))


def _direction(net: MLP, Ws, X, Y, method: str, beta: float, fisher: str) -> list:
    """:func:`direction` on validated arguments."""
    if method == "sgd":
        return net._gradient(Ws, X, Y)
    grads, factors = net._curvature_factors(Ws, X, Y, fisher)
    if method.startswith("exact"):
        d = _solve(_stacked(factors), np.concatenate([g.reshape(-1) for g in grads]), beta,
                   "explicit" if method == "exact" else "woodbury")
        return net._unflatten(d)  # unchecked: a non-finite d is reported by the caller, naming the step
    form = {"block_explicit": "explicit", "block_woodbury": "woodbury", "tengrad": "tengrad"}[method]
    return [_block_direction(I, G, g, beta, form).reshape(g.shape) for (I, G), g in zip(factors, grads)]


def direction(net: MLP, Ws, X, Y, method: str, beta: float = 1e-3, fisher: str = "empirical") -> list:
    """The update direction ``D_l`` (``W_l``'s shape) of ``method`` at ``Ws`` on the batch (X, Y).

    ``"sgd"``: the gradient; ``"exact"``/``"exact_woodbury"``: ``(F + beta I)^-1 g`` over all P parameters (eq. 36),
    F = J^T J / c with J the c x P concatenation of the layers' Jacobians (eq. 35), solved as a P x P system or by
    Woodbury in c x c; ``"block_*"``/``"tengrad"``: ``(F_l + beta I)^-1 g_l`` per layer (eq. 39) via
    :func:`damped_block_direction`.  ``beta = 0`` on a singular F raises :class:`HypothesisError`; with a
    nonsingular F the undamped direction is the same, mapped back, in any rescaling of the input features (or, for
    the exact Fisher of the squared loss, of the targets with the output layer): the rank decision and the solve are
    made on the Jacobi-equilibrated F (:func:`theorytools.linalg.psd_solve`).  A method whose arrays would not fit in
    memory (the P x P Fisher of ``"exact"`` on a large net) raises :class:`~theorytools.errors.SizeError` naming a
    cheaper one.

    Equation numbers of 002_add1c097d251ec63.txt.

    Parameters
    ----------
    net : MLP
        The network.
    Ws : list of array_like
        Its weights, one matrix per layer.
    X : array_like
        The inputs, ``m x d_0``.
    Y : array_like
        The targets, ``m x d_L`` reals (squared loss) or m class labels (cross-entropy).
    method : str
        One of :data:`METHODS`: ``"sgd"``, ``"exact"``, ``"exact_woodbury"``, ``"block_explicit"``,
        ``"block_woodbury"``, ``"tengrad"``.
    beta : float, default 1e-3
        The damping, >= 0.
    fisher : str, default "empirical"
        ``"empirical"`` or ``"exact"``.

    Returns
    -------
    list of numpy.ndarray
        ``D_l`` per layer.

    Examples
    --------
    Undamped exact NGD on ``z = w x + b``: ``F^-1 g = [[4, -6], [-6, 10]] (5.5, 3.5) = (1, 2)``:

    >>> import numpy as np
    >>> from theorytools.fisher import MLP, ngd
    >>> net, Ws = MLP((1, 1)), [np.array([[2.0], [1.0]])]  # z = 2 x + 1
    >>> X, Y = np.array([[1.0], [2.0]]), np.array([[0.0], [1.0]])  # z - y = (3, 4)
    >>> [D.tolist() for D in ngd.direction(net, Ws, X, Y, "sgd")]  # the gradient
    [[[5.5], [3.5]]]
    >>> [np.round(D, 6).tolist() for D in ngd.direction(net, Ws, X, Y, "exact", beta=0.0, fisher="exact")]
    [[[1.0], [2.0]]]
    """
    net, Ws, X, Y, fisher = _args(net, Ws, X, Y, fisher)
    method = as_choice("method", method, METHODS)
    beta = nonnegative("beta", beta)
    _guard(net, X.shape[0], method, beta, fisher)
    return _layers_finite("direction", _direction(net, Ws, X, Y, method, beta, fisher), f"the {method} direction")


@dataclass
class History:
    """Full-data training loss after each recorded step, with the cumulative optimizer wall-clock time.

    Parameters
    ----------
    steps : list, optional
        The recorded steps (0: before the first).
    loss : list, optional
        The training loss on all the data at those steps.
    seconds : list, optional
        The optimizer's cumulative wall-clock time.

    Examples
    --------
    >>> from theorytools.fisher import ngd
    >>> h = ngd.History(steps=[0, 1], loss=[2.0, 0.5], seconds=[0.0, 0.01])
    >>> h.as_arrays()["loss"].tolist()
    [2.0, 0.5]
    """

    steps: list = field(default_factory=list)
    loss: list = field(default_factory=list)
    seconds: list = field(default_factory=list)

    def as_arrays(self) -> dict:
        """The history as numpy arrays.

        Returns
        -------
        dict
            ``{"steps": ..., "loss": ..., "seconds": ...}``.

        Examples
        --------
        >>> from theorytools.fisher import ngd
        >>> ngd.History(steps=[0, 5]).as_arrays()["steps"].tolist()
        [0, 5]
        """
        return {k: np.asarray(v) for k, v in vars(self).items()}


def train(net: MLP, Ws, X, Y, method: str, alpha: float, *, beta: float = 1e-3, fisher: str = "empirical",
          batch_size: int = 128, steps: int = 200, decay: float = 0.0, record_every: int = 1, seed: int = 0,
          progress: bool = False) -> tuple:
    """Train from ``Ws`` (not modified) for ``steps`` mini-batch steps (002_add1c097d251ec63.txt Algorithm 1).

    Batches are drawn without replacement within each pass over the data.  Returns ``(Ws, History)``; the history's
    loss is on all of (X, Y).

    A non-finite direction, weight or loss raises :class:`NonFiniteError` naming the step and the layer; a loss that
    grows to :data:`DIVERGENCE_FACTOR` times its best so far warns once with :class:`DivergenceWarning` naming the
    step.  Everything is validated up front (a ``batch_size`` above the number of rows of X is refused, and so is a
    method whose arrays would not fit in memory, before the first step).

    Parameters
    ----------
    net : MLP
        The network.
    Ws : list of array_like
        Its weights, one matrix per layer.
    X : array_like
        The inputs, ``m x d_0``.
    Y : array_like
        The targets, ``m x d_L`` reals (squared loss) or m class labels (cross-entropy).
    method : str
        One of :data:`METHODS`.
    alpha : float
        The learning rate, > 0.
    beta : float, default 1e-3
        Keyword-only: the damping, >= 0.
    fisher : str, default "empirical"
        Keyword-only: ``"empirical"`` or ``"exact"``.
    batch_size : int, default 128
        Keyword-only: examples per step (at most the number of rows of X).
    steps : int, default 200
        Keyword-only: the number of steps.
    decay : float, default 0.0
        Keyword-only: ``alpha_k = alpha / (1 + decay (k - 1))``.
    record_every : int, default 1
        Keyword-only: record the loss every this many steps (and at the last).
    seed : int, default 0
        Keyword-only: the seed of the batches.
    progress : bool, default False
        Keyword-only: show a progress bar.

    Returns
    -------
    Ws : list of numpy.ndarray
        The trained weights.
    history : History
        The recorded training loss.

    Examples
    --------
    Undamped exact NGD (Gauss-Newton) with alpha = 1 solves the linear least-squares fit in one step:

    >>> import numpy as np
    >>> from theorytools.fisher import MLP, ngd
    >>> net, Ws = MLP((1, 1)), [np.array([[2.0], [1.0]])]  # z = 2 x + 1
    >>> X, Y = np.array([[1.0], [2.0]]), np.array([[0.0], [1.0]])  # z - y = (3, 4)
    >>> Ws1, hist = ngd.train(net, Ws, X, Y, "exact", 1.0, beta=0.0, fisher="exact", batch_size=2, steps=1)
    >>> np.round(Ws1[0], 6).tolist(), hist.loss[0], round(hist.loss[-1], 12)  # z = x - 1 fits y
    ([[1.0], [-1.0]], 6.25, 0.0)
    """
    net, Ws, X, Y, fisher = _args(net, Ws, X, Y, fisher)
    Ws = [W.copy() for W in Ws]
    method = as_choice("method", method, METHODS)
    alpha, beta, decay = positive("alpha", alpha), nonnegative("beta", beta), nonnegative("decay", decay)
    n = X.shape[0]
    batch_size = as_int("batch_size", batch_size, low=1)
    if batch_size > n:
        raise ValueError(f"batch_size must be <= the number of examples (rows of X), {n}, got {batch_size}")
    steps, record_every = as_int("steps", steps), as_int("record_every", record_every, low=1)
    seed, progress = as_seed("seed", seed), as_bool("progress", progress)
    # the history keeps three Python floats per record (~32 bytes each with the list's pointer)
    check_allocation(f"the training history of steps = {steps} (every {record_every})", (steps // record_every + 2, 3),
                     itemsize=32,
                     cheaper="fewer steps or a larger record_every")
    _guard(net, batch_size, method, beta, fisher)
    rng = np.random.default_rng(seed)
    hist, clock = History(), 0.0
    best, warned = np.inf, False

    def record(k):
        nonlocal best, warned
        loss = net._loss_value(Ws, X, Y)
        if not np.isfinite(loss):
            z = float(np.max(np.abs(net._forward(Ws, X)[1])))
            raise NonFiniteError(f"step {k}: the training loss is {loss}; the weights are finite and the outputs of layer "
                                 f"{len(Ws)} reach |z| = {z:.3g}: lower the learning rate or raise the damping beta")
        if best > 0 and loss > DIVERGENCE_FACTOR * best and not warned:
            warnings.warn(f"{method}: the training loss grew from {best:.3g} to {loss:.3g} by step {k}: the run is "
                          "diverging (lower the learning rate alpha or raise the damping beta)", DivergenceWarning,
                          stacklevel=3)
            warned = True
        best = min(best, loss)
        hist.steps.append(k), hist.loss.append(loss), hist.seconds.append(clock)

    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=steps, desc=method, leave=False)
    # overflow is expected in a diverging run: it is detected below and raised, naming step and layer
    with np.errstate(over="ignore", invalid="ignore"):
        record(0)
        order = np.empty(0, dtype=int)
        for k in range(1, steps + 1):
            if order.size < batch_size:
                order = np.concatenate([order, rng.permutation(n)])
            idx, order = order[:batch_size], order[batch_size:]
            t0 = time.perf_counter()
            D = _direction(net, Ws, X[idx], Y[idx], method, beta, fisher)
            _layers_finite(f"step {k}", D, f"the {method} direction")
            a = alpha / (1.0 + decay * (k - 1))
            for W, d in zip(Ws, D):
                W -= a * d
            _layers_finite(f"step {k}", Ws, "the weights")
            clock += time.perf_counter() - t0
            if k % record_every == 0 or k == steps:
                record(k)
            if bar is not None:
                bar.update()
    if bar is not None:
        bar.close()
    return Ws, hist


def grid_search(net: MLP, Ws, X, Y, method: str, alphas, **kwargs) -> tuple:
    """Train with every ``alpha`` in ``alphas`` and keep the run with the lowest final training loss.

    Returns ``(best_alpha, best (Ws, History), {alpha: final loss})`` with ``inf`` for runs that diverged
    (:class:`NonFiniteError`; their DivergenceWarnings are silenced: a diverging rate is an expected outcome of a
    search).  Raises if all diverged.  The learning-rate search of 002_add1c097d251ec63.txt §4.1.

    Parameters
    ----------
    net : MLP
        The network.
    Ws : list of array_like
        Its weights, one matrix per layer.
    X : array_like
        The inputs, ``m x d_0``.
    Y : array_like
        The targets, ``m x d_L`` reals (squared loss) or m class labels (cross-entropy).
    method : str
        One of :data:`METHODS`.
    alphas : array_like
        The learning rates to try, > 0.
    **kwargs
        Passed to :func:`train`.

    Returns
    -------
    best_alpha : float
        The learning rate of the best run.
    best : tuple
        Its ``(Ws, History)``.
    finals : dict
        ``{alpha: final training loss}``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.fisher import MLP, ngd
    >>> net, Ws = MLP((1, 1)), [np.array([[2.0], [1.0]])]  # z = 2 x + 1
    >>> X, Y = np.array([[1.0], [2.0]]), np.array([[0.0], [1.0]])  # z - y = (3, 4)
    >>> best, _, finals = ngd.grid_search(net, Ws, X, Y, "sgd", [0.1, 1.0], batch_size=2, steps=3)
    >>> best, bool(finals[0.1] < finals[1.0])  # SGD at alpha = 1 overshoots
    (0.1, True)
    """
    alphas = as_array("alphas", alphas)
    if alphas.ndim != 1 or np.any(alphas <= 0):
        raise ValueError(f"alphas must be a non-empty vector of learning rates > 0, got {alphas}")
    finals, best = {}, None
    for a in (float(v) for v in alphas):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DivergenceWarning)
                out = train(net, Ws, X, Y, method, a, **kwargs)
        except NonFiniteError:
            finals[a] = np.inf
            continue
        finals[a] = out[1].loss[-1]
        if best is None or finals[a] < best[1][1].loss[-1]:
            best = (a, out)
    if best is None:
        raise NonFiniteError(f"{method} diverged for every alpha of the grid {tuple(finals)}: add smaller ones")
    return best[0], best[1], finals
