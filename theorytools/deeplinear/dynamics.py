"""Natural-gradient dynamics of deep linear nets in continuous time (003_34787a2226c5cf0a.txt §4, eqs 16-19).

``natural_gradient_flow`` integrates the parameter ODE ``d theta/dt = v(theta)`` with ``solve_ivp`` for the
exact natural gradient (``-F^+ grad``) or for Eq. 10, and returns the total map ``W(t)``.  The closed forms it
is compared with (derived here, the supplement not being included):

* wherever ``W`` has the largest rank ``r = min(n_0, n_L)`` allowed by its shape and the Fisher has rank
  ``n_L n_0``, the exact natural gradient follows Eq. 18 exactly: ``W(t) = W* + (W_0 - W*) e^-t`` and the excess
  loss is ``E(t) = E(0) e^-2t``;
* Eq. 10 follows Eq. 19, which is Eq. 18 only when every hidden width is at least ``max(n_0, n_L)``;
* in a bottleneck net (``r = min_i n_i < min(n_0, n_L)``) the exact flow is the Riemannian gradient flow of
  the excess loss on the rank-``r`` matrices, ``dW = -Pi_T (W - W*)``: it tends to the best reachable map
  and, asymptotically, ``E(t) - E_r ~ e^{-2 (1 - s_{r+1}/s_r) t}`` (``s`` the singular values of
  ``St^-1/2 W* Sigma^1/2``), which is ``e^-2t`` only when ``W*`` itself has rank ``<= r``.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from theorytools.errors import NonFiniteError

METHODS = ("exact", "eq10")


class SingularCrossingError(NonFiniteError):
    """The flow reached the set where the total map loses rank (a saddle, or a layer that must become singular
    on the way to W*): the parameter velocity diverges there, so the integration stops and says where."""

    def __init__(self, message: str, t: float, layer: int | None):
        super().__init__(message)
        self.t, self.layer = t, layer


def velocity(net, method: str) -> np.ndarray:
    """The ``(P,)`` parameter velocity at unit rate: ``-F^+ grad`` (``"exact"``) or Eq. 10 (``"eq10"``)."""
    if method == "exact":
        return net.natural_gradient()
    if method == "eq10":
        return net.flatten(net.eq10_update())
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def rank_margin(W, r: int) -> float:
    """``s_r(W) / s_1(W)``: 0 on the set where the total map ``W`` has rank < ``r`` (``r = min_i n_i``).  For a
    square ``W`` with ``r = n`` it carries the sign of ``det W``, so that a path through the singular set
    (codimension 1 there) changes its sign instead of touching zero between two solver steps."""
    s = np.linalg.svd(W, compute_uv=False)
    margin = float(s[r - 1] / s[0]) if s[0] > 0 else 0.0
    if W.shape[0] == W.shape[1] == r:
        margin *= float(np.sign(np.linalg.det(W)))
    return margin


def _most_singular_layer(net) -> int:
    ratios = []
    for W in net.weights:
        s = np.linalg.svd(W, compute_uv=False)
        ratios.append(s[-1] / s[0] if s[0] > 0 else 0.0)
    return int(np.argmin(ratios)) + 1


def natural_gradient_flow(net, t, method: str = "exact", rtol: float = 1e-10, atol: float = 1e-12,
                          singular_margin: float = 1e-6, return_nets: bool = False):
    """Integrate ``d theta/dt`` = the natural gradient (``method="exact"``) or Eq. 10 (``"eq10"``) from ``net``'s
    weights; return the total maps ``W(t)`` as an array ``(len(t), n_L, n_0)`` (and the nets at ``t`` when
    ``return_nets``).

    Raises :class:`SingularCrossingError` when the start, or a point of the path, has ``s_r(W)/s_1(W)`` below
    ``singular_margin`` (``r = min_i n_i``; for square total maps, or crosses it with a change of sign of det W): there the Fisher loses rank, the velocity of the layers diverges,
    and integrating on would be silently wrong.  The error names the time and the most singular layer.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    t = np.asarray(t, dtype=float)
    if t.ndim != 1 or t.size == 0 or not np.all(np.isfinite(t)) or t[0] < 0 or np.any(np.diff(t) < 0):
        raise ValueError(f"t must be a non-empty, finite, non-decreasing 1-D array of times >= 0, got {t!r}")
    sign = 1.0 if rank_margin(net.W, net.rank_bound) >= 0 else -1.0
    if sign * rank_margin(net.W, net.rank_bound) <= singular_margin:
        raise SingularCrossingError(
            f"the start is on the singular set: s_r(W)/s_1(W) = {abs(rank_margin(net.W, net.rank_bound)):.2e} <= {singular_margin:g} "
            f"(r = {net.rank_bound}; a saddle such as zero layers); most singular layer: {_most_singular_layer(net)}",
            0.0, _most_singular_layer(net))

    def rhs(_, theta):
        return velocity(net.with_weights(net.unflatten(theta)), method)

    def crossing(_, theta):
        return sign * rank_margin(net.with_weights(net.unflatten(theta)).W, net.rank_bound) - singular_margin

    crossing.terminal = True
    theta0 = net.flatten(net.weights)
    sol = solve_ivp(rhs, (0.0, float(t[-1])), theta0, method="DOP853", t_eval=t, rtol=rtol, atol=atol,
                    events=crossing)
    if sol.status == 1:
        tc = float(sol.t_events[0][0])
        at = net.with_weights(net.unflatten(sol.y_events[0][0]))
        raise SingularCrossingError(
            f"{method} flow reached the singular set at t = {tc:.6g}: s_r(W)/s_1(W) fell to {singular_margin:g} "
            f"(r = {net.rank_bound}); most singular layer: {_most_singular_layer(at)}", tc, _most_singular_layer(at))
    if sol.status != 0:
        raise NonFiniteError(f"{method} flow: solve_ivp failed ({sol.message})")
    nets = [net.with_weights(net.unflatten(th)) for th in sol.y.T]
    Ws = np.array([n.W for n in nets])
    return (Ws, nets) if return_nets else Ws


def eq18_path(net, t) -> np.ndarray:
    """Eq. 18 solved: ``W(t) = W* + (W_0 - W*) e^-t``."""
    t = np.asarray(t, dtype=float)
    return net.W_star + (net.W - net.W_star)[None] * np.exp(-t)[:, None, None]


def eq18_crossing_time(net) -> float | None:
    """The first ``t`` at which Eq. 18's straight path ``W* + (W_0 - W*) s`` (``s = e^-t``) is singular, for square
    total maps: ``s`` is a real generalized eigenvalue in (0, 1) of ``W* v = s (W* - W_0) v`` (a singular ``W_0 - W*``
    gives infinite eigenvalues, which are dropped).  ``None`` if the path stays regular; that can fail even when
    ``det W_0`` and ``det W*`` have the same sign (two crossings)."""
    if net.W.shape[0] != net.W.shape[1]:
        raise ValueError(f"eq18_crossing_time needs a square total map, got {net.W.shape}")
    from scipy.linalg import eigvals

    mu = eigvals(net.W_star, net.W_star - net.W)
    ok = np.isfinite(mu) & (np.abs(mu.imag) <= 1e-12 * np.abs(mu)) & (mu.real > 0) & (mu.real < 1)
    s = mu[ok].real
    return float(-np.log(s.max())) if s.size else None


def predicted_decay(net) -> tuple:
    """``(rate, limit)`` of the excess loss ``E(t) = L(W(t)) - L(W*)`` under the exact natural gradient:
    ``(2, 0)`` when ``r = min(n_0, n_L)`` (exact for all t: ``E(0) e^-2t``); in a bottleneck, the asymptotic rate
    ``2 (1 - s_{r+1}/s_r)`` towards ``E_r = 1/2 sum_{k>r} s_k^2`` (see the module docstring)."""
    r = net.rank_bound
    if r == min(net.widths[0], net.widths[-1]):
        return 2.0, 0.0
    s = net.whitened_singular_values()
    return 2.0 * (1.0 - s[r] / s[r - 1]), net.min_reachable_excess_loss()


def fitted_rate(t, excess, limit: float = 0.0) -> tuple:
    """Least-squares slope of ``-log(E(t) - limit)`` against ``t``: ``(rate, stderr)``."""
    from scipy import stats

    y = np.log(np.asarray(excess, dtype=float) - limit)
    if not np.all(np.isfinite(y)):
        raise ValueError("the excess loss must stay above its limit to fit a rate")
    fit = stats.linregress(np.asarray(t, dtype=float), y)
    return -float(fit.slope), float(fit.stderr)
