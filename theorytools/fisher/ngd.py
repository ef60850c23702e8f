"""Natural-gradient training of an :class:`~theorytools.fisher.mlp.MLP` (002_add1c097d251ec63.txt Algorithm 1 and
A.5.1): exact damped NGD (eq. 36) over all parameters, block-diagonal NGD (eqs 38-39) in its explicit, Woodbury (eq. 40)
and TENGraD (eqs 41-43) forms, and SGD as the baseline; each with the exact Fisher (eq. 7) or the empirical Fisher
(eq. 37) -- see :meth:`MLP.curvature_factors`.

The update is ``W_l <- W_l - alpha_k D_l`` with ``alpha_k = alpha / (1 + decay k)`` (the decaying learning rate of
§4.3) and ``D`` the method's direction.  All block methods compute the same D (to rounding); ``"exact"`` and
``"exact_woodbury"`` the same full-Fisher D.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from theorytools.errors import NonFiniteError
from theorytools.fisher.mlp import MLP, check_finite
from theorytools.fisher.tengrad import damped_block_direction, damped_jacobian_solve, per_example_jacobian

METHODS = ("sgd", "exact", "exact_woodbury", "block_explicit", "block_woodbury", "tengrad")


def stacked_jacobian(factors) -> np.ndarray:
    """``J = [J_1, ..., J_L]`` (eq. 35, c x P) from the layers' ``(I_l, G_l)`` of :meth:`MLP.curvature_factors`."""
    return np.hstack([per_example_jacobian(I, G) for I, G in factors])


def fisher_matrix(net: MLP, Ws, X, Y, fisher: str = "empirical") -> np.ndarray:
    """The P x P Fisher ``J^T J / c`` over all parameters (eq. 37 empirical, eq. 7 exact) -- for checks and small nets."""
    J = stacked_jacobian(net.curvature_factors(Ws, X, Y, fisher)[1])
    return J.T @ J / J.shape[0]


def direction(net: MLP, Ws, X, Y, method: str, beta: float = 1e-3, fisher: str = "empirical") -> list:
    """The update direction ``D_l`` (``W_l``'s shape) of ``method`` at ``Ws`` on the batch (X, Y).

    ``"sgd"``: the gradient; ``"exact"``/``"exact_woodbury"``: ``(F + beta I)^-1 g`` over all P parameters (eq. 36),
    F = J^T J / c with J the c x P concatenation of the layers' Jacobians (eq. 35), solved as a P x P system or by
    Woodbury in c x c; ``"block_*"``/``"tengrad"``: ``(F_l + beta I)^-1 g_l`` per layer (eq. 39) via
    :func:`damped_block_direction`.  ``beta = 0`` on a singular F raises :class:`HypothesisError`.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "sgd":
        return net.gradient(Ws, X, Y)
    grads, factors = net.curvature_factors(Ws, X, Y, fisher)
    if method.startswith("exact"):
        J = stacked_jacobian(factors)
        d = damped_jacobian_solve(J, net.flatten(grads), float(beta), "explicit" if method == "exact" else "woodbury")
        return net.unflatten(d)
    form = {"block_explicit": "explicit", "block_woodbury": "woodbury", "tengrad": "tengrad"}[method]
    return [damped_block_direction(I, G, g, beta, form) for (I, G), g in zip(factors, grads)]


@dataclass
class History:
    """Full-data training loss after each recorded step, with the cumulative optimizer wall-clock time."""

    steps: list = field(default_factory=list)
    loss: list = field(default_factory=list)
    seconds: list = field(default_factory=list)

    def as_arrays(self) -> dict:
        return {k: np.asarray(v) for k, v in vars(self).items()}


def train(net: MLP, Ws, X, Y, method: str, alpha: float, *, beta: float = 1e-3, fisher: str = "empirical",
          batch_size: int = 128, steps: int = 200, decay: float = 0.0, record_every: int = 1, seed: int = 0,
          progress: bool = False) -> tuple:
    """Train from ``Ws`` (not modified) for ``steps`` mini-batch steps (batches drawn without replacement within each
    pass over the data).  Returns ``(Ws, History)``; the history's loss is on all of (X, Y).

    A non-finite direction, weight or loss raises :class:`NonFiniteError` naming the step and the layer.
    """
    if not (np.isfinite(alpha) and alpha > 0):
        raise ValueError(f"alpha must be finite and > 0, got {alpha}")
    if not (np.isfinite(decay) and decay >= 0):
        raise ValueError(f"decay must be finite and >= 0, got {decay}")
    n = len(X)
    if not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be in 1..{n} (the number of examples), got {batch_size}")
    if steps < 0 or record_every < 1:
        raise ValueError(f"steps must be >= 0 and record_every >= 1, got {steps} and {record_every}")
    rng = np.random.default_rng(seed)
    Ws = [np.array(W, dtype=float) for W in Ws]
    hist, clock = History(), 0.0

    def record(k):
        loss = net.loss_value(Ws, X, Y)
        if not np.isfinite(loss):
            with np.errstate(all="ignore"):
                z = float(np.max(np.abs(net.forward(Ws, X)[1])))
            raise NonFiniteError(f"step {k}: the training loss is {loss}; the weights are finite and the outputs of layer "
                                 f"{len(Ws)} reach |z| = {z:.3g}: lower the learning rate or raise the damping beta")
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
            D = direction(net, Ws, X[idx], Y[idx], method, beta, fisher)
            check_finite(k, D, f"the {method} direction")
            a = alpha / (1.0 + decay * (k - 1))
            for W, d in zip(Ws, D):
                W -= a * d
            check_finite(k, Ws, "the weights")
            clock += time.perf_counter() - t0
            if k % record_every == 0 or k == steps:
                record(k)
            if bar is not None:
                bar.update()
    if bar is not None:
        bar.close()
    return Ws, hist


def grid_search(net: MLP, Ws, X, Y, method: str, alphas, **kwargs) -> tuple:
    """Train with every ``alpha`` in ``alphas``; returns ``(best_alpha, best (Ws, History), {alpha: final loss})`` with
    ``inf`` for runs that diverged (:class:`NonFiniteError`).  Raises if all diverged."""
    alphas = tuple(alphas)
    if not alphas:
        raise ValueError("alphas must name at least one learning rate")
    finals, best = {}, None
    for a in alphas:
        try:
            out = train(net, Ws, X, Y, method, a, **kwargs)
        except NonFiniteError:
            finals[a] = np.inf
            continue
        finals[a] = out[1].loss[-1]
        if best is None or finals[a] < best[1][1].loss[-1]:
            best = (a, out)
    if best is None:
        raise NonFiniteError(f"{method} diverged for every alpha of the grid {tuple(alphas)}: add smaller ones")
    return best[0], best[1], finals
