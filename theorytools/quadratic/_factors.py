"""Scalar factors of the exact solution in eigen-coordinates (001_7d31b3ff3a2f0401.txt Appendix B).

Along eigen-coordinates i, j of ``B^{-1}H`` the iteration (eqn. 22) decouples:

* mean (eqn. 23):        ``P_k(lam) = prod_{j<k} (1 - alpha_j lam)``;
* variance (recursion V_{k+1} = Lambda_k(V_k) + alpha_k^2 U):
  ``T_k(lam_i, lam_j) = sum_{t<k} alpha_t^2 prod_{t<j<k} (1 - alpha_j lam_i)(1 - alpha_j lam_j)``,
  so that ``V^{-1} V_k V^{-T} = T_k o (V^T Sigma_g V)``.

Constant steps use ``exp(k log|1 - alpha lam|)`` with ``log1p``/``expm1``; harmonic steps
``alpha_j = 1/(j + A)``, ``A = a + 1``, use Gamma-function ratios
``prod_{j<k} (1 - lam/(j+A)) = Gamma(k+A-lam) Gamma(A) / (Gamma(A-lam) Gamma(k+A))`` evaluated by
:func:`theorytools.linalg.log_gamma_ratio`, and for ``T`` a log-space cumulative sum over the first
``_HEAD`` steps followed, for larger k, by an asymptotic tail (:func:`_harmonic_noise`), so that the
exact harmonic variance and ``E[h(theta_k)]`` (eqn. 20) are available for every k up to
``HARMONIC_VARIANCE_KMAX = 1e12`` at O(n) cost per k.
"""

from __future__ import annotations

import numpy as np
from scipy.special import bernoulli

from theorytools.linalg import check_allocation, log_abs_one_minus, log_gamma_ratio
from theorytools.quadratic.schedules import Constant, Harmonic

#: Largest k for which the exact harmonic variance (a sum over t < k) is formed.  The cost does not
#: grow with k (an exact head of ``_HEAD`` steps plus an asymptotic tail); the limit is the range over
#: which the tail is verified against mpmath (tests/test_harmonic_large_k.py).  The mean factor has
#: no limit.
HARMONIC_VARIANCE_KMAX = 10**12
#: Largest k for the step-by-step route (a Python loop over steps, for user step sequences and for
#: harmonic steps with ``lambda_1 > a + 1``), and for the dense mean-factor grid.
STEP_BY_STEP_KMAX = 10**7
_CHUNK_ELEMS = 4_000_000
def check_table(nk: int, ncols: int, copies: float, what: str = "the k x coordinate table of the exact moments") -> None:
    """Refuse (:class:`~theorytools.errors.SizeError`) a table of ``nk`` iteration counts by ``ncols`` coordinates
    (pairs of coordinates for a variance), with ``copies`` temporaries of its size, that cannot fit -- before
    building it."""
    check_allocation(what, (nk, ncols), copies=copies,
                     cheaper="fewer k per call (the results for different k are independent)")


def mean_factor(schedule, lam, k) -> np.ndarray:
    """``P_k(lam)`` for each k (rows) and each lam (columns)."""
    lam = np.asarray(lam, dtype=float)
    # the harmonic route's dense grid holds up to 16 rows per requested k, three times over
    check_table(np.size(k), lam.size, 48 if isinstance(schedule, Harmonic) else 8)
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
        if 0 < kmax <= min(STEP_BY_STEP_KMAX, 16 * kf.size):
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
    # beyond _HEAD steps the harmonic tail's power expansion keeps ~8 arrays of _POWER_TERMS + 1 = 13 columns
    long_tail = isinstance(schedule, Harmonic) and k.size and int(np.max(k)) > _HEAD
    check_table(k.size, lam_i.size, 128 if long_tail else 8)
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


# -- the harmonic variance at any k ---------------------------------------------------------------
#
# Notation (001_7d31b3ff3a2f0401.txt Appendix B.2, the alpha_k = 1/(k + a + 1) case of Theorem 3):
# A = a + 1, w = k + A, alpha_k = 1/w, r_k = (1 - lam_i/w)(1 - lam_j/w), mu = lam_i + lam_j,
# p = lam_i lam_j.  T_k is the (i, j) entry of V_k = Lambda_{k-1}(V_{k-1}) + alpha_{k-1}^2 U in the
# eigenbasis (Appendix B, the recursion after eqn. 23), i.e. T_{k+1} = r_k T_k + alpha_k^2, T_0 = 0.

_HEAD = 4096  # steps t < _HEAD summed exactly (log space); the tail t >= _HEAD by the expansions below
_SERIES_MU = 11.5  # mu at or above which the tail uses the particular solution (no resonance mu = n <= 10)
_SERIES_TERMS = 10  # terms of the particular solution (their size falls like ~n!/(2 omega)^n)
_POWER_TERMS = 12  # terms of the summand's power expansion (their size falls like (lam^2/_HEAD)^m/m!)
_EM_TERMS = 4  # Euler-Maclaurin corrections per power
_TAIL_RTOL = 1e-13  # a-posteriori bound on the truncation of either expansion; beyond it: ValueError


def _harmonic_noise(A, lam_i, lam_j, k):
    """Harmonic ``T_k(lam_i, lam_j) = sum_{t<k} alpha_t^2 prod_{t<s<k} r_s``, for all k at once.

    001_7d31b3ff3a2f0401.txt Theorem 3 / Appendix B.2 (``V_{k+1} = Lambda_k(V_k) + alpha_k^2 U`` with
    ``alpha_k = 1/(k+a+1)``), along eigen-coordinates.  Split at ``K0 = _HEAD``:

        T_k = R(K0, k) T_{K0} + sum_{K0<=t<k} alpha_t^2 R(t+1, k),   R(t, k) = prod_{t<=s<k} r_s,

    with ``T_{K0}`` (and every ``T_k``, ``k <= K0``) from the exact log-space sum of
    :func:`_harmonic_noise_head`, ``R`` a ratio of Gamma functions (:func:`_log_prod`), and the tail by
    an asymptotic expansion with an a-posteriori truncation bound (:func:`_tail_series` for
    ``mu >= _SERIES_MU``, :func:`_tail_powers` below).  Cost O(_HEAD n + len(k) n), any k <= 1e12;
    accuracy ~1e-13 relative (tests/test_harmonic_large_k.py, against verification/reference/harmonic.py).
    """
    kmax = int(np.max(k)) if k.size else 0
    if kmax > HARMONIC_VARIANCE_KMAX:
        raise ValueError(
            f"k must be <= {HARMONIC_VARIANCE_KMAX:.0e} for the exact harmonic variance "
            f"(a sum over t < k: exact head, asymptotic tail verified up to there), got {kmax}"
        )
    if kmax <= _HEAD:
        return _harmonic_noise_head(A, lam_i, lam_j, k)
    small = k <= _HEAD
    head = _harmonic_noise_head(A, lam_i, lam_j, np.append(k[small], _HEAD))
    out = np.empty((k.size, lam_i.size))
    out[small] = head[:-1]
    T0 = head[-1]
    kb = k[~small]
    # R(K0, k) = prod_{K0<=s<k} (s + A - lam_i)(s + A - lam_j)/(s + A)^2, by Gamma ratios
    x = (kb - _HEAD).astype(float)[:, None]
    logR = sum(_log_prod(_HEAD + (A - lam), _HEAD + A, lam, x) for lam in (lam_i, lam_j))
    R = np.exp(logR)
    mu = lam_i + lam_j
    ser = mu >= _SERIES_MU
    tail = np.empty((kb.size, lam_i.size))
    if ser.any():
        tail[:, ser] = _tail_series(A, lam_i[ser], lam_j[ser], kb, T0[ser], R[:, ser])
    if not ser.all():
        ps = ~ser
        tail[:, ps] = R[:, ps] * T0[ps] + _tail_powers(A, lam_i[ps], lam_j[ps], kb)
    out[~small] = tail
    return out


def _truncation_check(name, est, mu):
    """Raise rather than return a tail whose truncation estimate exceeds ``_TAIL_RTOL``."""
    bad = ~(est <= _TAIL_RTOL)
    if np.any(bad):
        c = int(np.argmax(bad.reshape(-1)) % mu.size)
        raise ValueError(
            f"the exact harmonic variance cannot be formed to 1e-9 here: the {name} tail's truncation "
            f"estimate is {float(np.max(np.where(bad, est, 0.0))):.1e} relative (lam_i + lam_j = {mu[c]:.6g})"
        )


def _series_coefficients(lam_i, lam_j, M):
    """``d_1..d_M`` (rows) of the formal particular solution ``T(w) = sum_n d_n (w - sigma)^-n``.

    ``T_{k+1} = r_k T_k + alpha_k^2`` reads ``T(w+1) w^2 - (w - lam_i)(w - lam_j) T(w) = 1``.  With
    ``omega = w - sigma``, ``sigma = p/mu``, ``T(omega + 1) = sum_n e_n omega^-n``,
    ``e_n = sum_{m<=n} (-1)^(n-m) C(n-1, m-1) d_m``, the coefficient of ``omega^(1-n)`` gives

        (mu - n) d_n = [n = 1] - sum_{m<n} (-1)^(n+1-m) C(n, m-1) d_m - 2 sigma D_n - sigma^2 D_{n-1},

    ``D_n = e_n - d_n`` (only d_m, m < n).  The shift ``sigma`` removes the ``(sigma^2 - (sigma - lam_i)
    (sigma - lam_j)) = mu sigma - p`` term that would otherwise make ``d_n`` grow like ``(p/mu)^n``
    (so the series converges fast for every ``omega >= _HEAD``, however large lam is).  ``d_1 =
    1/(mu - 1)`` is Lemma 13's leading coefficient (``V_k ~ (Xi - I)^-1(U)/(k + a)``).
    """
    from math import comb

    mu = lam_i + lam_j
    sig = lam_i * lam_j / mu
    d = np.zeros((M + 1, mu.size))

    def D(n):  # e_n - d_n
        return sum(((-1) ** (n - m)) * comb(n - 1, m - 1) * d[m] for m in range(1, n)) if n > 1 else 0.0

    for n in range(1, M + 1):
        rest = sum(((-1) ** (n + 1 - m)) * comb(n, m - 1) * d[m] for m in range(1, n))
        rest = rest + 2.0 * sig * D(n) + sig * sig * D(n - 1)
        d[n] = ((1.0 if n == 1 else 0.0) - rest) / (mu - n)
    return d[1:], sig


def _tail_series(A, lam_i, lam_j, kb, T0, R):
    """``T_k`` for ``mu >= _SERIES_MU`` from a particular solution of the recursion.

    Any particular solution ``Tp`` of ``T_{k+1} = r_k T_k + alpha_k^2`` gives the exact
    ``T_k = Tp(k) + (T_{K0} - Tp(K0)) R(K0, k)`` (``R(K0, k)`` solves the homogeneous recursion);
    :func:`_series_coefficients` supplies ``Tp`` as a series in ``1/(k + A - sigma)``.  Truncating it
    leaves a residual in each step of the size of its first omitted term relative to ``alpha_k^2``;
    since ``0 <= r_s <= 1`` that is also the relative error of ``T_k`` -- bounded a posteriori by the
    last two terms kept at ``k = K0`` (where they are largest).  ``mu > _SERIES_TERMS + 1`` keeps the
    denominators ``mu - n`` away from the resonances ``mu = n`` (where logarithms would appear).
    """
    M = _SERIES_TERMS
    d, sig = _series_coefficients(lam_i, lam_j, M)

    def series(omega):
        u = 1.0 / omega
        acc = np.zeros(np.broadcast(u, d[0]).shape)
        for n in range(M - 1, -1, -1):
            acc = (acc + d[n]) * u
        return acc

    om0 = _HEAD + A - sig
    Tp0 = series(om0)
    est = (np.abs(d[M - 1]) * om0 ** (-M) + np.abs(d[M - 2]) * om0 ** (1 - M)) / np.abs(Tp0)
    _truncation_check("series", est, lam_i + lam_j)
    omega = (kb.astype(float) + A)[:, None] - sig
    return series(omega) + (T0 - Tp0) * R


def _log_gamma_shift_coefficients(lam, M):
    """``beta_1..beta_M`` (rows) with ``ln Gamma(y) - ln Gamma(y - lam) - lam ln y ~ sum_m beta_m y^-m``.

    Difference of the Stirling series ``ln Gamma(y + h) ~ (y + h - 1/2) ln y - y + ln(2 pi)/2 +
    sum_m (-1)^(m+1) B_{m+1}(h) / (m (m+1) y^m)`` (DLMF 5.11.8) at ``h = 0`` and ``h = -lam``;
    ``B_{m+1}(0) - B_{m+1}(-lam) = -sum_{j<=m} C(m+1, j) B_j (-lam)^(m+1-j)``.
    """
    from math import comb

    Bn = bernoulli(M)  # B_0..B_M with B_1 = -1/2
    out = np.zeros((M, lam.size))
    for m in range(1, M + 1):
        diff = -sum(comb(m + 1, j) * float(Bn[j]) * (-lam) ** (m + 1 - j) for j in range(m + 1))
        out[m - 1] = ((-1) ** (m + 1)) * diff / (m * (m + 1))
    return out


def _tail_powers(A, lam_i, lam_j, kb):
    """``sum_{K0<=t<k} alpha_t^2 R(t+1, k)`` for ``mu < _SERIES_MU`` (so ``lam_i, lam_j < 11.5``).

    With ``y = t + A + 1``, ``X = k + A`` and ``ell(y) = sum_{lam in (lam_i, lam_j)} [ln Gamma(y) -
    ln Gamma(y - lam) - lam ln y]`` (:func:`_log_gamma_shift_coefficients`), the Gamma-ratio form of
    the products gives exactly

        alpha_t^2 R(t+1, k) = X^-mu e^{-ell(X)} y^mu (y - 1)^-2 e^{ell(y)} = X^-mu e^{-ell(X)} sum_m g_m y^(mu-2-m),

    ``e^{ell(y)} (1 - 1/y)^-2 = sum_m g_m y^-m`` (exponential of a power series, times ``sum (m+1) y^-m``).
    Each power is summed over ``y = Y0 .. X`` (``Y0 = K0 + A + 1``) by the midpoint Euler-Maclaurin
    formula on ``[Y0 - 1/2, X + 1/2]``, exact up to its remainder: the integral
    ``(b^c - a^c)/c``, ``c = mu - 1 - m``, is formed as ``b^c (-expm1(-c ln(b/a)))/c`` (or the mirror
    form for ``c < 0``), which tends to ``ln(b/a)`` as ``c -> 0``, so the resonances ``mu = 1 + m``
    (log terms, e.g. ``lam = 1/2``, Theorem 5's boundary ``b = 1/2``) need no special case; all powers
    of ``X`` are combined in log space, so nothing overflows for any k.  Truncation of both
    expansions is checked a posteriori (last terms kept, relative to the sum).
    """
    from math import factorial

    Mg, Q = _POWER_TERMS, _EM_TERMS
    mu = lam_i + lam_j
    beta = _log_gamma_shift_coefficients(lam_i, Mg) + _log_gamma_shift_coefficients(lam_j, Mg)
    # e^{ell} = sum_m e_m y^-m: e_0 = 1, m e_m = sum_{j=1}^m j beta_j e_{m-j}
    e = np.zeros((Mg + 1, mu.size))
    e[0] = 1.0
    for m in range(1, Mg + 1):
        e[m] = sum(j * beta[j - 1] * e[m - j] for j in range(1, m + 1)) / m
    g = np.stack([sum((m - j + 1) * e[j] for j in range(m + 1)) for m in range(Mg + 1)])  # (Mg+1, n)

    N = (kb - _HEAD).astype(float)[:, None, None]  # number of terms, t = K0 .. k-1
    X = (kb.astype(float) + A)[:, None, None]
    a = _HEAD + A + 0.5  # Y0 - 1/2
    b = X + 0.5
    lnb, lna = np.log(b), np.log(a)
    ln_bX = np.log1p(0.5 / X)  # ln(b/X)
    ln_aX = -np.log1p((N - 0.5) / a)  # ln(a/X), X - a = N - 1/2
    D = np.log1p(N / a)  # ln(b/a), b - a = N
    m = np.arange(Mg + 1, dtype=float)[None, None, :]
    MU = mu[None, :, None]
    c = MU - 1.0 - m
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        # X^-mu (b^c - a^c)/c, always >= 0
        up = np.exp(MU * ln_bX - (1.0 + m) * lnb) * (-np.expm1(-c * D)) / c
        dn = np.exp(MU * ln_aX - (1.0 + m) * lna) * (-np.expm1(c * D)) / (-c)
        integral = np.where(c > 0, up, np.where(c < 0, dn, np.exp(MU * ln_bX - (1.0 + m) * lnb) * D))
        # + sum_q B_2q(1/2)/(2q)! [F^(2q-1)]_a^b, F = y^s, F^(2q-1) = s (s-1) ... (s-2q+2) y^(c-2q)
        s_pow = c - 1.0  # the power s = mu - 2 - m
        corr = np.zeros_like(integral)
        falling = s_pow  # s (s-1) ... (s-2q+2)
        Bn = bernoulli(2 * Q)
        for q in range(1, Q + 1):
            if q > 1:
                falling = falling * (s_pow - (2 * q - 3)) * (s_pow - (2 * q - 2))
            kappa = (2.0 ** (1 - 2 * q) - 1.0) * float(Bn[2 * q]) / factorial(2 * q)  # B_2q(1/2)/(2q)!
            ends = np.exp(MU * ln_bX - (1.0 + m + 2 * q) * lnb) - np.exp(MU * ln_aX - (1.0 + m + 2 * q) * lna)
            last = kappa * falling * ends
            corr = corr + last
    terms = g.T[None, :, :] * (integral + corr)  # (len(k), n, Mg+1)
    total = terms.sum(axis=2)
    ell_X = np.zeros_like(X[:, :, 0] * mu)
    for j in range(Mg, 0, -1):  # Horner: ell(X) = sum_j beta_j X^-j
        ell_X = (ell_X + beta[j - 1]) / X[:, :, 0]
    est = (np.abs(terms[:, :, -1]) + np.abs(terms[:, :, -2]) + np.abs((g.T[None] * last).sum(axis=2))) / total
    _truncation_check("power", est, mu)
    return np.exp(-ell_X) * total


def _harmonic_noise_head(A, lam_i, lam_j, k):
    """Harmonic ``T_k = G_i(k) G_j(k) sum_{t<k} alpha_t^2 / (G_i(t+1) G_j(t+1))``, for all k at once.

    In log space: ``ln T_k = ln G_i(k) + ln G_j(k) + logsumexp_{t<k}(-2 ln(t+A) - ln G_i(t+1) - ln G_j(t+1))``,
    the running log-sum-exp by ``np.logaddexp.accumulate`` (no overflow for any lam <= A).
    O(max(k) n): used for k <= ``_HEAD`` only (:func:`_harmonic_noise` adds the tail beyond).
    """
    kmax = int(np.max(k)) if k.size else 0
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
    if kmax > STEP_BY_STEP_KMAX:  # a Python loop over steps: bound its cost
        raise ValueError(f"k must be <= {STEP_BY_STEP_KMAX:.0e} for the step-by-step route "
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
