"""Numerically stable building blocks for products and sums of geometric factors.

The exact risk curves of 001_7d31b3ff3a2f0401.txt §14 are sums of geometric sequences
``rho^j`` (constant step) and products ``prod_j (1 - x/(j+A))`` (harmonic step).  Written
naively they underflow, overflow or cancel for long horizons (k up to 1e12) and for
``rho`` within 1e-8 of 1 (condition numbers up to 1e8).  Each helper here is tested
against mpmath at 50 digits.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from theorytools.linalg.validation import as_array

_STIRLING = (1.0 / 12.0, -1.0 / 360.0, 1.0 / 1260.0, -1.0 / 1680.0, 1.0 / 1188.0, -691.0 / 360360.0, 1.0 / 156.0)


def _stirling_tail(z):
    """``lnGamma(z) - [(z - 1/2) ln z - z + ln(2 pi)/2]`` for z >= 10 (error < 1e-17)."""
    zi = 1.0 / z
    zi2 = zi * zi
    acc = np.zeros_like(zi)
    for c in reversed(_STIRLING):
        acc = acc * zi2 + c
    return acc * zi


def _log_w_over_z(m, z, w):
    """``ln(w/z)`` with ``w = z + m``: ``log1p(m/z)`` unless ``m/z < -1/2``, where the rounding of ``m/z``
    is amplified by ``z/w`` in log1p and ``log(w/z)`` is the accurate form."""
    t = m / z
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(t < -0.5, np.log(w / z), np.log1p(t))


def _stirling_difference(z, m, w):
    """``ln Gamma(w) - ln Gamma(z)`` for ``w = z + m`` with z, w >= 10, from the Stirling series."""
    return (z - 0.5) * _log_w_over_z(m, z, w) + m * np.log(w) - m + _stirling_tail(w) - _stirling_tail(z)


def _real(name: str, x, *, low: float | None = None, low_open: bool = False, inf: bool = False,
          integer: bool = False) -> np.ndarray:
    """An elementwise argument of these helpers: a real array (empty allowed, as for a ufunc), never NaN, finite
    unless ``inf`` (``+inf`` stands for a zero ratio ``rho``), ``> low`` / ``>= low``, integer-valued if asked."""
    a = as_array(name, x, finite=False, nonempty=False)
    bad = np.isnan(a) | (a == -np.inf) | (np.isinf(a) & (not inf))
    if low is not None:
        bad |= (a <= low) if low_open else (a < low)
    if integer:
        bad |= np.isfinite(a) & (a != np.round(a))
    if bad.any():
        v = float(a.reshape(-1)[int(np.argmax(bad.reshape(-1)))])
        rule = ["+inf or finite" if inf else "finite"]
        if low is not None:
            rule.append(f"{'>' if low_open else '>='} {low:g}")
        if integer:
            rule.append("integer-valued")
        raise ValueError(f"{name} must be {', '.join(rule)}, got {v:g}")
    return a


def log_gamma_ratio(z, m):
    """``ln Gamma(z + m) - ln Gamma(z)`` for ``z > 0`` and ``z + m > 0``.

    Accurate to ~1e-15 relative to ``max(1, |result|)``.
    ``gammaln(z + m) - gammaln(z)`` loses ``|ln Gamma(z)| * 1e-16`` to cancellation, which
    is 3e-3 at z = 1e12.  For z, z+m >= 10 the difference of Stirling series is formed
    analytically: ``(z - 1/2) log1p(m/z) + m ln(z + m) - m + tail(z+m) - tail(z)``.

    Parameters
    ----------
    z : float or array_like
        Positive argument(s).
    m : float or array_like
        Shift(s), with ``z + m > 0``; broadcast against ``z``.

    Returns
    -------
    numpy.ndarray
        ``ln Gamma(z + m) - ln Gamma(z)``, of the broadcast shape (0-d for scalars).

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.linalg import log_gamma_ratio
    >>> bool(np.isclose(log_gamma_ratio(3.0, 2.0), np.log(12.0)))       # Gamma(5) / Gamma(3) = 24 / 2
    True
    >>> print(f"{float(log_gamma_ratio(1e12, 1.0)):.6f}")               # ln(Gamma(z + 1) / Gamma(z)) = ln 1e12
    27.631021
    """
    z, m = np.broadcast_arrays(_real("z", z, low=0.0, low_open=True), _real("m", m))
    w = z + m
    if np.any(w <= 0):
        raise ValueError(f"z + m must be > 0, got {float(np.min(w)):g}")
    big = (z >= 10.0) & (w >= 10.0)
    if big.all():  # the common case on long horizons: no masked copies
        return _stirling_difference(z, m, w)
    out = np.empty(z.shape)
    out[big] = _stirling_difference(z[big], m[big], w[big])
    small = ~big
    out[small] = gammaln(w[small]) - gammaln(z[small])
    return out


def log_abs_one_minus(eps):
    """``ln|1 - eps|`` without cancellation for eps near 0 or near 2.

    Parameters
    ----------
    eps : float or array_like
        Finite real number(s).

    Returns
    -------
    numpy.ndarray
        ``ln|1 - eps|`` elementwise (``-inf`` at ``eps = 1``).

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.linalg import log_abs_one_minus
    >>> print(f"{float(log_abs_one_minus(1e-20)):.3e}")          # ln(1 - eps) ~ -eps, lost by np.log(1 - eps)
    -1.000e-20
    >>> bool(np.isclose(log_abs_one_minus(3.0), np.log(2.0)))
    True
    """
    eps = _real("eps", eps)
    with np.errstate(divide="ignore"):
        return np.where(eps <= 1.0, np.log1p(-np.minimum(eps, 1.0)), np.log1p(np.maximum(eps, 1.0) - 2.0))


def geometric_sum(n, ell):
    """``sum_{j=0}^{n-1} exp(-ell j) = (1 - e^{-n ell}) / (1 - e^{-ell})`` for ``ell >= 0``.

    ``ell = inf`` (a zero ratio) gives 1 for n >= 1; ``ell = 0`` gives n; n = 0 gives 0.

    Parameters
    ----------
    n : int or array_like
        Number(s) of terms, non-negative integers.
    ell : float or array_like
        Decay rate(s) ``-ln(rho) >= 0`` (``inf`` allowed); broadcast against ``n``.

    Returns
    -------
    numpy.ndarray
        The sums, of the broadcast shape (0-d for scalars).

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.linalg import geometric_sum
    >>> round(float(geometric_sum(3, np.log(2.0))), 6)          # 1 + 1/2 + 1/4
    1.75
    >>> geometric_sum([0, 5, 5], [1.0, 0.0, np.inf]).tolist()
    [0.0, 5.0, 1.0]
    """
    n, ell = np.broadcast_arrays(_real("n", n, low=0.0, integer=True), _real("ell", ell, low=0.0, inf=True))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.expm1(-n * ell) / np.expm1(-ell)
    out = np.where(ell == 0.0, n, out)
    out = np.where(np.isinf(ell), np.minimum(n, 1.0), out)
    return np.where(n == 0, 0.0, out)


# Coefficients c_r of (1 - e^{-y})^2 = sum_{r>=2} c_r y^r, c_r = (-1)^r (2^r - 2) / r!.
_R = 24
_SQ_COEF = np.array([0.0] + [(-1.0) ** r * (2.0**r - 2.0) / np.prod(np.arange(1.0, r + 1)) for r in range(1, _R + 1)])
_DIRECT_MAX = 2048  # below this many terms the sum is formed term by term
_SERIES_MAX_KX = 0.5  # below this k*ell the closed form cancels; the power series converges fast


def _power_sums(k, rmax):
    """``P_r(k) = sum_{n=1}^k n^r`` for r = 0..rmax by Faulhaber's formula (k > _DIRECT_MAX)."""
    from scipy.special import bernoulli, comb

    bern = bernoulli(rmax + 1)
    bern[1] = 0.5  # B_1^+ convention for sums starting at n = 1
    out = np.empty((rmax + 1,) + np.shape(k))
    for r in range(rmax + 1):
        j = np.arange(r + 1)
        coef = comb(r + 1, j) * bern[: r + 1] / (r + 1)
        out[r] = sum(coef[jj] * np.power(k, r + 1 - jj) for jj in j)
    return out


def sum_sq_geometric(k, ell):
    """``F(k, ell) = sum_{n=1}^{k} (1 - e^{-n ell})^2`` for ``ell >= 0`` (``inf`` allowed), k >= 0.

    This is ``(1 - rho)^2 sum_{n=1}^k phi_n^2`` with ``phi_n = sum_{j<n} rho^j``, the
    quantity behind the variance of the Polyak average.  Three regimes, chosen so that
    no branch cancels: term-by-term for k <= 2048; the closed form
    ``k - 2 e^{-l}(1-e^{-kl})/(1-e^{-l}) + e^{-2l}(1-e^{-2kl})/(1-e^{-2l})`` when
    ``k ell >= 0.5``; otherwise the power series ``sum_r c_r ell^r P_r(k)``.

    Parameters
    ----------
    k : int or array_like
        Number(s) of terms, non-negative integers.
    ell : float or array_like
        Decay rate(s) ``-ln(rho) >= 0`` (``inf`` allowed); broadcast against ``k``.

    Returns
    -------
    numpy.ndarray
        ``F(k, ell)``, of the broadcast shape (0-d for scalars).

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.linalg import sum_sq_geometric
    >>> round(float(sum_sq_geometric(2, np.log(2.0))), 6)       # (1 - 1/2)^2 + (1 - 1/4)^2
    0.8125
    >>> k, ell = 10**4, 1e-3                                      # the closed form, against the sum term by term
    >>> bool(np.isclose(sum_sq_geometric(k, ell), np.sum(np.expm1(-ell * np.arange(1, k + 1)) ** 2)))
    True
    """
    k, ell = np.broadcast_arrays(_real("k", k, low=0.0, integer=True), _real("ell", ell, low=0.0, inf=True))
    out = np.empty(k.shape)
    direct = k <= _DIRECT_MAX
    if direct.any():
        # One cumulative table per distinct ell (callers pass a k-by-coordinate grid with few ells).
        kd = k[direct].astype(np.int64)
        lu, li = np.unique(ell[direct], return_inverse=True)
        n = np.arange(1, int(kd.max()) + 1)
        with np.errstate(invalid="ignore"):
            terms = np.where(np.isinf(lu), 1.0, (-np.expm1(-np.multiply.outer(n, lu))) ** 2)
        table = np.concatenate([np.zeros((1, lu.size)), np.cumsum(terms, axis=0)], axis=0)
        out[direct] = table[kd, li.reshape(-1)]
    with np.errstate(invalid="ignore"):  # 0 * inf: only where k = 0, which is direct anyway
        closed = ~direct & (k * ell >= _SERIES_MAX_KX)
    if closed.any():
        kc, lc = k[closed], ell[closed]
        e1 = np.exp(-lc)
        with np.errstate(invalid="ignore"):
            t1 = np.where(np.isinf(lc), 0.0, e1 * np.expm1(-kc * lc) / np.expm1(-lc))
            t2 = np.where(np.isinf(lc), 0.0, e1 * e1 * np.expm1(-2 * kc * lc) / np.expm1(-2 * lc))
        out[closed] = kc - 2.0 * t1 + t2
    series = ~direct & ~closed
    if series.any():
        ks, ls = k[series], ell[series]
        P = _power_sums(ks, _R)
        r = np.arange(_R + 1)[:, None]
        out[series] = np.sum(_SQ_COEF[:, None] * ls[None, :] ** r * P, axis=0)
    return out
