"""Natural-gradient dynamics of deep linear nets in continuous time (003_34787a2226c5cf0a.txt §4, eqs 16-19).

``natural_gradient_flow`` integrates the parameter ODE ``d theta/dt = v(theta)`` with ``solve_ivp`` for the
exact natural gradient or for Eq. 10, and returns the total map ``W(t)``.  The exact flow's parameters move with
``-G grad`` for the generalized inverse ``G = D^-1 (D^-1 F D^-1)^+ D^-1`` (``D^2 = diag F``) rather than ``F^+``: the
total map moves identically for every generalized inverse (§3, claim (a)), and this one follows a change of units of
the parameters exactly, so the path does not depend on units.  The closed forms it is compared with (derived here,
the supplement not being included):

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

from theorytools.deeplinear.network import DeepLinearNet
from theorytools.errors import NonFiniteError
from theorytools.linalg import (as_array, as_bool, as_choice, as_float, as_instance, as_int, check_allocation,
                                same_length)

METHODS = ("exact", "eq10")


class SingularCrossingError(NonFiniteError):
    """The flow reached the set where the total map loses rank (a saddle, or a layer that must become singular
    on the way to W*): the parameter velocity diverges there, so the integration stops and says where."""

    def __init__(self, message: str, t: float, layer: int | None):
        super().__init__(message)
        self.t, self.layer = t, layer


def velocity(net, method: str) -> np.ndarray:
    """The ``(P,)`` parameter velocity at unit rate: the exact natural gradient (``"exact"``: ``-G grad`` with the
    equilibrated generalized inverse ``G``, whose total-map velocity is that of ``-F^+ grad``, see
    ``DeepLinearNet._equilibrated_natural_gradient``) or Eq. 10 (``"eq10"``)."""
    if method == "exact":
        return net._equilibrated_natural_gradient()
    if method == "eq10":
        return net.flatten(net.eq10_update())
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def rank_margin(W, r: int) -> float:
    """``s_r(W) / s_1(W)``: 0 on the set where the matrix ``W`` has rank < ``r``.  For a square ``W`` with ``r = n`` it
    carries the sign of ``det W``, so that a path through the singular set (codimension 1 there) changes its sign
    instead of touching zero between two solver steps.  :func:`natural_gradient_flow` applies it to the whitened total
    map ``St^-1/2 W Sigma^1/2`` (:meth:`DeepLinearNet.whiten`), whose margin does not depend on the units of x and y."""
    W = as_array("W", W, ndim=2)
    r = as_int("r", r, low=1, high=min(W.shape))
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


def _parameter_scales(net) -> np.ndarray:
    """A scale for each parameter, for solve_ivp's absolute tolerance: ``|row a of W_i| |column b of W_i| / |W_i|_F`` for
    entry ``(a, b)`` of layer ``i`` at the start.  It follows any rescaling of rows and columns of a layer (a change of
    units of x or y, a rescaled hidden unit, ``W_i -> c W_i``), so the tolerance means the same in every unit system;
    a zero row or column takes the largest scale of its layer."""
    out = []
    for W in net.weights:
        f = np.linalg.norm(W)
        s = np.outer(np.linalg.norm(W, axis=1), np.linalg.norm(W, axis=0)) / (f if f > 0 else 1.0)
        top = float(s.max())
        out.append(np.where(s > 0, s, top if top > 0 else 1.0).reshape(-1, order="F"))
    return np.concatenate(out)


def natural_gradient_flow(net, t, method: str = "exact", rtol: float = 1e-10, atol: float = 1e-12,
                          singular_margin: float = 1e-6, return_nets: bool = False):
    """Integrate ``d theta/dt`` = the natural gradient (``method="exact"``) or Eq. 10 (``"eq10"``) from ``net``'s
    weights; return the total maps ``W(t)`` as an array ``(len(t), n_L, n_0)`` (and the nets at ``t`` when
    ``return_nets``).

    ``rtol`` is solve_ivp's relative tolerance; ``atol`` its absolute tolerance in units of each parameter's own scale
    (:func:`_parameter_scales`), so that rescaling features, targets or layers gives the same total-map path.  Once
    the whitened total map moves slower than ``rtol`` times its size per unit time, the path has converged to the
    solver's resolution: the integration stops and later times get the point reached (long horizons cost no more).
    Repeated times are allowed.

    Raises :class:`SingularCrossingError` when the start, or a point of the path, has ``s_r/s_1`` of the whitened
    total map (:meth:`DeepLinearNet.whiten`) below ``singular_margin`` (``r = min_i n_i``; for square total maps, or crosses
    it with a change of sign of det W): there the Fisher loses rank, the velocity of the layers diverges,
    and integrating on would be silently wrong.  The error names the time and the most singular layer.
    """
    net = as_instance("net", net, DeepLinearNet)
    method = as_choice("method", method, METHODS)
    t = as_array("t", t, ndim=1)
    if t[0] < 0 or np.any(np.diff(t) < 0):
        raise ValueError(f"t must be a non-decreasing 1-D array of times >= 0, got {t!r}")
    rtol = as_float("rtol", rtol, low=0.0, high=1.0, low_open=True, high_open=True)
    atol = as_float("atol", atol, low=0.0, low_open=True)
    singular_margin = as_float("singular_margin", singular_margin, low=0.0, high=1.0, low_open=True, high_open=True)
    return_nets = as_bool("return_nets", return_nets)
    # solve_ivp keeps the P x len(t) path; the total maps (and the nets) add len(t) x n_L n_0 each
    check_allocation("the kept path of natural_gradient_flow", (t.size, net.P + net.W.size), copies=2 + return_nets,
                     cheaper="fewer times in t")
    r = net.rank_bound
    margin0 = rank_margin(net.whiten(), r)
    sign = 1.0 if margin0 >= 0 else -1.0
    if sign * margin0 <= singular_margin:
        raise SingularCrossingError(
            f"the start is on the singular set: s_r/s_1 of the whitened total map = {abs(margin0):.2e} <= "
            f"{singular_margin:g} (r = {r}; a saddle such as zero layers); most singular layer: "
            f"{_most_singular_layer(net)}", 0.0, _most_singular_layer(net))

    def rhs(_, theta):
        return velocity(net.with_weights(net.unflatten(theta)), method)

    def crossing(_, theta):
        return sign * rank_margin(net.with_weights(net.unflatten(theta)).whiten(), r) - singular_margin

    Z_star = np.max(np.abs(net.whiten(net.W_star)))

    def converged(_, theta):
        """> 0 while the whitened total map moves faster than rtol times its size per unit time.  Below that the solver
        cannot resolve the motion (measured: the path then jitters at 1e-9 of its size for rtol = 1e-10), and an
        explicit method, held to steps of ~6 by its stability region, would spend t/6 steps on it (t = 1e5 took 200000
        velocity evaluations, ~100 s).  A flow converging at rate rho is then within rtol / rho of its limit."""
        n = net.with_weights(net.unflatten(theta))
        speed = np.max(np.abs(n.whiten(n.total_map_velocity(velocity(n, method)))))
        return speed - rtol * max(np.max(np.abs(n.whiten())), Z_star)

    crossing.terminal = converged.terminal = True
    converged.direction = -1
    theta0 = net.flatten(net.weights)
    times, where = np.unique(t, return_inverse=True)  # solve_ivp wants strictly increasing times
    thetas = np.repeat(theta0[None], times.size, axis=0)
    if times[-1] > 0:
        sol = solve_ivp(rhs, (0.0, float(times[-1])), theta0, method="DOP853", t_eval=times, rtol=rtol,
                        atol=atol * _parameter_scales(net), events=(crossing, converged))
        if sol.t_events[0].size:
            tc = float(sol.t_events[0][0])
            at = net.with_weights(net.unflatten(sol.y_events[0][0]))
            raise SingularCrossingError(
                f"{method} flow reached the singular set at t = {tc:.6g}: s_r/s_1 of the whitened total map fell to "
                f"{singular_margin:g} (r = {r}); most singular layer: {_most_singular_layer(at)}", tc,
                _most_singular_layer(at))
        if sol.status < 0:
            raise NonFiniteError(f"{method} flow: solve_ivp failed ({sol.message})")
        thetas[:sol.y.shape[1]] = sol.y.T
        if sol.t_events[1].size:  # converged: the total map stays where it is for the remaining times
            thetas[sol.y.shape[1]:] = sol.y_events[1][0]
    nets = [net.with_weights(net.unflatten(th)) for th in thetas[where]]
    Ws = np.array([n.W for n in nets])
    return (Ws, nets) if return_nets else Ws


def eq18_path(net, t) -> np.ndarray:
    """Eq. 18 solved: ``W(t) = W* + (W_0 - W*) e^-t``."""
    net = as_instance("net", net, DeepLinearNet)
    t = as_array("t", t, ndim=1)
    check_allocation("the Eq. 18 path", (t.size,) + net.W.shape, cheaper="fewer times in t")
    return net.W_star + (net.W - net.W_star)[None] * np.exp(-t)[:, None, None]


def eq18_crossing_time(net) -> float | None:
    """The first ``t`` at which Eq. 18's straight path ``W* + (W_0 - W*) s`` (``s = e^-t``) is singular, for square
    total maps: ``s`` is a real generalized eigenvalue in (0, 1) of ``W* v = s (W* - W_0) v`` (a singular ``W_0 - W*``
    gives infinite eigenvalues, which are dropped).  ``None`` if the path stays regular; that can fail even when
    ``det W_0`` and ``det W*`` have the same sign (two crossings).  The pencil is taken in whitened coordinates
    (:meth:`DeepLinearNet.whiten`), which have the same eigenvalues and no units."""
    net = as_instance("net", net, DeepLinearNet)
    if net.W.shape[0] != net.W.shape[1]:
        raise ValueError(f"eq18_crossing_time needs net to have a square total map, got {net.W.shape}")
    if net.rank_bound < net.W.shape[0]:  # det W = 0 all along: the eigenvalue s = 1 would be rounded to either side
        raise ValueError(f"eq18_crossing_time needs net's total map to be able to have full rank, but a hidden width "
                         f"r = {net.rank_bound} < n = {net.W.shape[0]} keeps it singular everywhere (widths {net.widths})")
    from scipy.linalg import eigvals

    Zs, Z0 = net.whiten(net.W_star), net.whiten()
    mu = eigvals(Zs, Zs - Z0)
    ok = np.isfinite(mu) & (np.abs(mu.imag) <= 1e-12 * np.abs(mu)) & (mu.real > 0) & (mu.real < 1)
    s = mu[ok].real
    return float(-np.log(s.max())) if s.size else None


def predicted_decay(net) -> tuple:
    """``(rate, limit)`` of the excess loss ``E(t) = L(W(t)) - L(W*)`` under the exact natural gradient:
    ``(2, 0)`` when ``r = min(n_0, n_L)`` (exact for all t: ``E(0) e^-2t``); in a bottleneck, the asymptotic rate
    ``2 (1 - s_{r+1}/s_r)`` towards ``E_r = 1/2 sum_{k>r} s_k^2`` (see the module docstring; ``s_{r+1}/s_r = 0`` when
    ``s_r = 0``: then ``W*`` has rank < r and is reachable)."""
    net = as_instance("net", net, DeepLinearNet)
    r = net.rank_bound
    if r == min(net.widths[0], net.widths[-1]):
        return 2.0, 0.0
    s = net.whitened_singular_values()
    return 2.0 * (1.0 - (s[r] / s[r - 1] if s[r - 1] > 0 else 0.0)), net.min_reachable_excess_loss()


def fitted_rate(t, excess, limit: float = 0.0) -> tuple:
    """Least-squares slope of ``-log(E(t) - limit)`` against ``t``: ``(rate, stderr)``."""
    from scipy import stats

    t = as_array("t", t, ndim=1)
    excess = as_array("excess", excess, ndim=1)
    same_length(("t", "excess"), t, excess)
    limit = as_float("limit", limit)
    if t.size < 2 or np.ptp(t) == 0:
        raise ValueError(f"t must hold at least two distinct times to fit a rate, got {t!r}")
    above = excess - limit
    if np.any(above <= 0):
        i = int(np.argmax(above <= 0))
        raise ValueError(f"excess must stay above its limit {limit:g} to fit a rate: entry {i} is {excess[i]:g}")
    fit = stats.linregress(t, np.log(above))
    return -float(fit.slope), float(fit.stderr)
