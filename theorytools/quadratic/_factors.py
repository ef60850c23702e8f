"""Scalar factors of the exact solution in eigen-coordinates (001_7d31b3ff3a2f0401.txt Appendix B).

Along eigen-coordinates i, j of ``B^{-1}H`` the iteration (eqn. 22) decouples:

* mean (eqn. 23):        ``P_k(lam) = prod_{j<k} (1 - alpha_j lam)``;
* variance (recursion V_{k+1} = Lambda_k(V_k) + alpha_k^2 U):
  ``T_k(lam_i, lam_j) = sum_{t<k} alpha_t^2 prod_{t<j<k} (1 - alpha_j lam_i)(1 - alpha_j lam_j)``,
  so that ``V^{-1} V_k V^{-T} = T_k o (V^T Sigma_g V)``.

Constant steps use ``exp(k log|1 - alpha lam|)`` with ``log1p``/``expm1``; harmonic steps
``alpha_j = 1/(j + A)``, ``A = a + 1``, use Gamma-function ratios
``prod_{j<k} (1 - lam/(j+A)) = Gamma(k+A-lam) Gamma(A) / (Gamma(A-lam) Gamma(k+A))`` evaluated by
:func:`theorytools.linalg.log_gamma_ratio`, and a log-space cumulative sum for ``T``.
"""

from __future__ import annotations

import numpy as np

from theorytools.linalg import log_abs_one_minus, log_gamma_ratio
from theorytools.quadratic.schedules import Constant, Harmonic

#: Largest k for which the harmonic variance (a sum over t < k) is formed; beyond it the cost
#: (k * n log-additions) is no longer interactive.  The mean factor has no such limit.
HARMONIC_VARIANCE_KMAX = 10**7
_CHUNK_ELEMS = 4_000_000


def mean_factor(schedule, lam, k) -> np.ndarray:
    """``P_k(lam)`` for each k (rows) and each lam (columns)."""
    lam = np.asarray(lam, dtype=float)
    kf = np.asarray(k, dtype=float)[:, None]
    if isinstance(schedule, Constant):
        x = schedule.alpha * lam
        logr = log_abs_one_minus(x)
        with np.errstate(invalid="ignore"):
            mag = np.exp(kf * logr)
        mag = np.where(kf == 0, 1.0, mag)  # 0 * log(0) for alpha lam = 1
        sign = np.where((x > 1) & (np.asarray(k)[:, None] % 2 == 1), -1.0, 1.0)
        return sign * mag
    if isinstance(schedule, Harmonic) and np.all(lam <= _harmonic_limit(schedule)):
        A = schedule.a + 1.0
        below = lam < A
        z = np.where(below, A - lam, 1.0)
        kmax = int(kf.max()) if kf.size else 0
        if 0 < kmax <= min(HARMONIC_VARIANCE_KMAX, 16 * kf.size):
            # Dense k (a whole curve): P_k = (1 - lam/A) G(k) from the cumulative grid, one log1p per entry.
            grid = _log_G_grid(kmax, A, np.where(below, lam, 0.0))
            logp = np.log(z / A) + grid[np.maximum(kf[:, 0].astype(np.int64), 1) - 1]
            logp = np.where(kf == 0, 0.0, logp)
        else:
            logp = _log_prod(z, A, np.where(below, lam, 0.0), kf)
        # lam == A: the first factor (1 - lam/A) vanishes, so P_k = 0 for k >= 1.
        return np.where(below, np.exp(logp), np.where(kf == 0, 1.0, 0.0))
    return _sequence_factors(schedule, lam, lam, k)[0]


def noise_factor(schedule, lam_i, lam_j, k) -> np.ndarray:
    """``T_k(lam_i, lam_j)`` for each k (rows) and each pair (lam_i[c], lam_j[c]) (columns)."""
    lam_i = np.asarray(lam_i, dtype=float)
    lam_j = np.asarray(lam_j, dtype=float)
    k = np.asarray(k)
    if isinstance(schedule, Constant):
        al = schedule.alpha
        xi, xj = al * lam_i, al * lam_j
        # r = (1 - xi)(1 - xj); 1 - r = xi + xj - xi xj has no cancellation for x <= 1.
        one_minus_r = xi + xj - xi * xj
        logr = log_abs_one_minus(xi) + log_abs_one_minus(xj)
        neg = ((xi > 1) != (xj > 1)) & (k[:, None] % 2 == 1)
        with np.errstate(invalid="ignore", over="ignore"):
            rk = np.where(neg, -1.0, 1.0) * np.exp(k[:, None] * logr)
            one_minus_rk = np.where(neg, 1.0 - rk, -np.expm1(k[:, None] * logr))
            one_minus_rk = np.where(k[:, None] == 0, 0.0, one_minus_rk)
            out = al * al * one_minus_rk / one_minus_r
        return np.where(one_minus_r == 0, al * al * k[:, None], out)
    if isinstance(schedule, Harmonic) and np.all(np.maximum(lam_i, lam_j) <= _harmonic_limit(schedule)):
        return _harmonic_noise(schedule.a + 1.0, lam_i, lam_j, k)
    return _sequence_factors(schedule, lam_i, lam_j, k)[1]


def _harmonic_limit(schedule) -> float:
    """Largest lam for the Gamma-ratio route: ``a + 1`` up to the rounding of an eigensolve (a ``lam``
    meant to equal ``a + 1``, e.g. B = H with a = 0, comes back a few ulps off; cf. ``LIMIT_RTOL``)."""
    return (schedule.a + 1.0) * (1.0 + 1e-12)


def _log_prod(z, A, lam, x):
    """``ln prod_{j<x} (j + z)/(j + A)`` for ``z > 0``, ``A = z + lam``, integer-valued ``x >= 0``.

    It equals ``[lnGamma(x+z) - lnGamma(z)] - [lnGamma(x+A) - lnGamma(A)]`` (form "by x", rounding
    error ~ eps x ln(x+A): the two brackets cancel when lam << x) and also
    ``[lnGamma(A) - lnGamma(z)] - [lnGamma(x+A) - lnGamma(x+z)]`` (form "by lam", rounding error
    ~ eps lam ln(x+A): the brackets cancel when lam >> x, e.g. lam ~ a ~ 1e8 in §14.2.1's
    ``B = lambda_n(H) I, a = kappa`` setting).  Each element uses the form with the smaller error.
    """
    z, A, lam, x = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (z, A, lam, x)))
    out = np.empty(z.shape)
    u = lam <= x
    if u.any():
        out[u] = log_gamma_ratio(z[u], lam[u]) - log_gamma_ratio(x[u] + z[u], lam[u])
    v = ~u
    if v.any():
        out[v] = log_gamma_ratio(z[v], x[v]) - log_gamma_ratio(A[v], x[v])
    return out


def _log_G(x, A, lam):
    """``ln[Gamma(x + A - lam) / Gamma(x + A)]`` for x >= 1, up to an additive constant per ``lam``.

    Returned as ``ln prod_{1<=j<x} (j + A - lam)/(j + A)`` (:func:`_log_prod` from the origin x = 1),
    which is 0 at x = 1 and stays small; the constant ``ln G(1)`` cancels in ``T_k``, which only
    uses differences ``ln G(k) - ln G(t+1)``.  (Working with ``ln G`` itself, of size ~lam ln A,
    loses ~eps lam ln A absolutely, 2e-7 for lam ~ 1e8.)
    """
    return _log_prod(1.0 + (A - lam), 1.0 + A, lam, x - 1.0)


_ANCHOR = 1024  # exact ln G every _ANCHOR rows; a cumulative sum of log1p factors in between


def _log_G_grid(kmax: int, A: float, lam: np.ndarray) -> np.ndarray:
    """``ln G(x)`` of :func:`_log_G` for x = 1..kmax (rows) and each lam (columns).

    Consecutive values differ by one factor, ``ln G(x+1) - ln G(x) = log1p(-lam/(x+A))``, so the
    grid is a cumulative sum (one log1p per entry instead of four Gamma-ratio series), re-anchored
    on the exact :func:`_log_G` every ``_ANCHOR`` rows so that rounding cannot drift over long
    horizons (at most ``_ANCHOR`` additions, ~1e-13 relative, separate any entry from an anchor).
    """
    nb = -(-kmax // _ANCHOR)
    x0 = 1.0 + _ANCHOR * np.arange(nb, dtype=float)
    anchors = _log_G(x0[:, None], A, lam[None, :])  # (nb, n)
    x = 1.0 + np.arange(nb * _ANCHOR, dtype=float)
    steps = np.log1p(-lam[None, :] / (x[:, None] + A)).reshape(nb, _ANCHOR, lam.size)
    steps = np.roll(steps, 1, axis=1)  # row r of a block adds the factors of x0 .. x0 + r - 1
    steps[:, 0, :] = 0.0
    grid = anchors[:, None, :] + np.cumsum(steps, axis=1)
    return grid.reshape(nb * _ANCHOR, lam.size)[:kmax]


def _harmonic_noise(A, lam_i, lam_j, k):
    """Harmonic ``T_k = G_i(k) G_j(k) sum_{t<k} alpha_t^2 / (G_i(t+1) G_j(t+1))``, for all k at once.

    In log space: ``ln T_k = ln G_i(k) + ln G_j(k) + logsumexp_{t<k}(-2 ln(t+A) - ln G_i(t+1) - ln G_j(t+1))``,
    the running log-sum-exp by ``np.logaddexp.accumulate`` (no overflow for any lam <= A).
    """
    kmax = int(np.max(k)) if k.size else 0
    if kmax > HARMONIC_VARIANCE_KMAX:
        raise ValueError(
            f"k must be <= {HARMONIC_VARIANCE_KMAX:.0e} for the exact harmonic variance "
            f"(a sum over t < k), got {kmax}"
        )
    out = np.zeros((k.size, lam_i.size))
    if kmax == 0:
        return out
    log_alpha2 = -2.0 * np.log(np.arange(kmax, dtype=float) + A)[:, None]
    rows = np.maximum(k, 1) - 1  # ln G(k) is row k - 1; ln G(t + 1) is row t
    same = lam_i is lam_j or np.array_equal(lam_i, lam_j)
    step = max(1, _CHUNK_ELEMS // kmax)
    for c0 in range(0, lam_i.size, step):
        Gi = _log_G_grid(kmax, A, lam_i[c0 : c0 + step])
        Gj = Gi if same else _log_G_grid(kmax, A, lam_j[c0 : c0 + step])
        L = np.logaddexp.accumulate(log_alpha2 - Gi - Gj, axis=0)
        logT = Gi[rows] + Gj[rows] + L[rows]
        out[:, c0 : c0 + step] = np.where(k[:, None] == 0, 0.0, np.exp(logT))
    return out


def _sequence_factors(schedule, lam_i, lam_j, k):
    """Direct recursion ``P <- (1 - alpha_j lam) P``, ``T <- r_j T + alpha_j^2`` up to max(k).

    The general route for user step sequences (and for harmonic steps outside ``lam <= a+1``):
    O(max(k) * n) with the loop over j and numpy over the coordinates.
    """
    kmax = int(np.max(k)) if k.size else 0
    horizon = getattr(schedule, "horizon", None)
    if horizon is not None and kmax > horizon:
        # theta_k needs alpha_0..alpha_{k-1}: report the iterate index the caller asked for
        raise ValueError(f"k must be <= {horizon} (the number of step sizes given), got {kmax}")
    if kmax > HARMONIC_VARIANCE_KMAX:  # a Python loop over steps: bound its cost
        raise ValueError(f"k must be <= {HARMONIC_VARIANCE_KMAX:.0e} for the step-by-step route "
                         f"(used for {schedule!r} on this spectrum), got {kmax}")
    alphas = schedule.alphas(np.arange(kmax))
    order = np.argsort(k, kind="stable")
    P = np.ones(lam_i.size)
    T = np.zeros(lam_i.size)
    Pout = np.empty((k.size, lam_i.size))
    Tout = np.empty((k.size, lam_i.size))
    pos = 0
    for j in range(kmax + 1):
        while pos < k.size and k[order[pos]] == j:
            Pout[order[pos]] = P
            Tout[order[pos]] = T
            pos += 1
        if j == kmax:
            break
        a = alphas[j]
        ri, rj = 1.0 - a * lam_i, 1.0 - a * lam_j
        P = P * ri
        T = T * ri * rj + a * a
    return Pout, Tout
