"""The library's closed forms against high-precision routes, hunted for their worst accuracy (issue 18, item 4).

Each bound is the claim ``relative error <= documented accuracy`` over the closed form's whole documented domain: a
certified violation is a reliability bug of the toolkit (a number that loses digits somewhere), not a finding about a
paper.  The left side needs the high-precision route at every point, so these bounds are evaluated at a lower
``rate`` than the papers.

* ``excess_risk_harmonic``: :func:`theorytools.quadratic.excess_risk` for ``alpha_j = 1/(j+a+1)`` (001_7d31b3ff3a2f0401.txt
  §14.2, eqn. 20 with Theorem 3's moments; the Gamma-ratio and Euler-Maclaurin route of
  ``theorytools.quadratic._factors``) against :mod:`verification.reference.harmonic` (mpmath), k to 1e12,
  ``lambda`` from 1e-6 (a + 1) to a + 1: relative error <= 1e-10 (tests/test_harmonic_large_k.py's tolerance).
* ``averaged_excess_risk``: :func:`theorytools.quadratic.averaged_excess_risk` (§14.3, eqns. 38-39) against the plain
  closed form at 80 digits, ``alpha lambda`` from 1e-12 to 1 (condition numbers to 1e12), k to 1e12: <= 1e-12.
* ``theorem5_constant_bounds``: :func:`theorytools.quadratic.theorem5_bounds` for a constant step (§14.2, Theorem 5)
  against the same formulas at 50 digits, ``alpha lambda_i`` from 1e-12 to 1, k to 1e12: <= 1e-12.
* ``proposition23_product``: :func:`theorytools.quadratic.lemmas.proposition23_product` (Appendix D, Proposition 23,
  part 1) against rising factorials at 30/50 digits, k to 1e12, b from 1e-12 (i + a + 1) to i + a + 1: <= 1e-10 (it
  lost 1e-5 at k = 1e9, b = 1e-3 before its log was formed by the smaller of two shifts).
* ``categorical_fisher_pinv``: :func:`theorytools.fisher.categorical_fisher_pinv` from logits (§9.2 and §13's
  ``F_R^+``) against the entrywise closed form at 50 digits from the exact softmax, probabilities down to ~1e-300:
  ``max_ij |error_ij| / (K eps sqrt(X_ii X_jj)) <= 8`` (the accuracy its docstring states).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

import theorytools.fisher as FI
import theorytools.quadratic as Q
from theorytools.errors import HypothesisError
from verification.hunt import CERTIFY_DPS
from verification.hunt import Integer, LogInteger, LogReal, Real, bound, mpf_exact

SRC = "001_7d31b3ff3a2f0401.txt"
KMAX = 10**12
EPS = float(np.finfo(float).eps)


TINY = float(np.finfo(float).tiny)


def _relative_error(value, reference, err=0):
    """``(|value - reference| - err) / max(|reference|, TINY)`` at the working precision: relative to the reference,
    and absolute below the smallest normal float (a value that underflows to 0 or to a subnormal has lost nothing a
    float could hold)."""
    reference = mp.mpf(reference)
    gap = max(abs(mpf_exact(value) - reference) - err, mp.mpf(0))
    return gap / max(abs(reference), mpf_exact(TINY))


# -- harmonic steps --------------------------------------------------------------------------------------------------
HARMONIC_RTOL = 1e-10
SPACE_HARMONIC = {"k": LogInteger(1, KMAX), "a": LogReal(1e-2, 1e3), "beta": LogReal(1e-6, 1.0), "h0": Real(0.0, 1.0)}


def _harmonic_pair(k, a, beta, h0, dps):
    """The library's float and the reference's ``(value, error estimate)`` of ``E[h(theta_k)] - h*`` for
    ``H = lam = beta (a + 1)``, ``B = Sigma_g = 1``, ``h(theta_0) = h0``."""
    from verification.reference import harmonic as RH

    lam = float(beta) * (float(a) + 1.0)
    p = Q.QuadraticProblem([[lam]], [[1.0]], [[1.0]], [0.0], [(2.0 * float(h0) / lam) ** 0.5])
    value = float(Q.excess_risk(p, Q.Harmonic(float(a)), int(k)))
    with mp.workdps(dps):
        try:
            T, err = RH.noise_factor(mpf_exact(a), mpf_exact(lam), mpf_exact(lam), int(k), dps=dps)
        except ValueError as exc:  # beyond the reference's reach (too many recursion steps)
            raise HypothesisError(f"the reference cannot evaluate this point: {exc}") from None
        P = RH.mean_factor(mpf_exact(a), mpf_exact(lam), int(k), dps=dps)
        lam_mp, z0 = mpf_exact(lam), mpf_exact(p.theta_star[0])  # theta0 = 0
        return value, lam_mp / 2 * (T + z0**2 * P**2), lam_mp / 2 * err


@bound(source=f"{SRC} §14.2, eqn. 20 (harmonic steps): theorytools.quadratic.excess_risk vs mpmath, relative error "
              f"<= {HARMONIC_RTOL:g}", family="accuracy", space=SPACE_HARMONIC, rate=5,
       hypotheses="integer k >= 1, a > 0, 0 < lambda = beta (a + 1) <= a + 1 (n = 1, B = Sigma_g = 1)",
       certify=lambda k, a, beta, h0: _harmonic_certify(k, a, beta, h0))
def excess_risk_harmonic(k, a, beta, h0):
    """``(relative error of excess_risk, 1e-10)`` against the reference at 30 digits."""
    value, ref, err = _harmonic_pair(k, a, beta, h0, 30)
    with mp.workdps(30):
        return float(_relative_error(value, ref, err)), HARMONIC_RTOL


def _harmonic_certify(k, a, beta, h0):
    with mp.workdps(CERTIFY_DPS):
        value, ref, err = _harmonic_pair(k, a, beta, h0, CERTIFY_DPS)
        return _relative_error(value, ref, err), mp.mpf(HARMONIC_RTOL)


# -- the Polyak average and Theorem 5's constant-step bounds -------------------------------------------------------
RTOL = 1e-12
SPACE_AVERAGED = {"k": LogInteger(1, KMAX), "x": LogReal(1e-12, 1.0), "s": Real(0.0, 1.0), "h": Real(0.0, 1.0)}


def _averaged_mp(k, x, s, h):
    """``s F_k(x)/(2x(k+1)^2) + h ((1 - (1-x)^{k+1})/x)^2/(k+1)^2`` by the plain closed forms at the working
    precision (``alpha = 1``, ``lambda = x``, ``h = lambda z0^2/2``; see bounds_martens_averaging)."""
    k, x, s, h = int(k), mpf_exact(x), mpf_exact(s), mpf_exact(h)
    q = 1 - x
    F = k - 2 * q * (1 - q**k) / x + (q * q * (1 - q ** (2 * k)) / (1 - q * q) if q != 0 else 0)
    return (s * F / (2 * x) + h * ((1 - q ** (k + 1)) / x) ** 2) / (k + 1) ** 2


def _averaged_value(k, x, s, h):
    p = Q.QuadraticProblem([[float(x)]], [[1.0]], [[float(s)]], [0.0], [(2.0 * float(h) / float(x)) ** 0.5])
    return float(np.ravel(Q.averaged_excess_risk(p, 1.0, int(k)))[0])


@bound(source=f"{SRC} §14.3, eqns. 38-39: theorytools.quadratic.averaged_excess_risk vs mpmath, relative error "
              f"<= {RTOL:g}", family="accuracy", space=SPACE_AVERAGED, rate=50,
       hypotheses="integer k >= 1, 0 < alpha lambda <= 1 (n = 1, alpha = 1), Sigma_g >= 0, h(theta_0) >= 0",
       certify=lambda k, x, s, h: _averaged_certify(k, x, s, h, CERTIFY_DPS + 40))
def averaged_excess_risk(k, x, s, h):
    """``(relative error of averaged_excess_risk, 1e-12)`` against the closed form at 80 digits (it cancels by up to
    ``2 log10(k)`` digits)."""
    return float(_averaged_certify(k, x, s, h, 80)[0]), RTOL


def _averaged_certify(k, x, s, h, dps):
    with mp.workdps(dps):
        return _relative_error(_averaged_value(k, x, s, h), _averaged_mp(k, x, s, h)), mp.mpf(RTOL)


SPACE_THEOREM5 = {"k": LogInteger(1, KMAX), "x1": LogReal(1e-12, 1.0), "x2": LogReal(1e-12, 1.0),
                  "s1": Real(0.0, 1.0), "s2": Real(0.0, 1.0), "h1": Real(0.0, 1.0), "h2": Real(0.0, 1.0)}


def _theorem5_mp(k, x, s, h):
    """``(l(k), u(k))`` of Theorem 5 (constant step, ``alpha = 1``, ``B = I``, ``H = diag(x)``) at the working
    precision: ``N = sum s_i/(2(2 - x_i))``, ``q = (1 - x)^2k`` at the largest and smallest x."""
    N, h0 = mp.fsum(si / (2 * (2 - xi)) for xi, si in zip(x, s)), mp.fsum(h)
    q1, qn = (1 - max(x)) ** (2 * k), (1 - min(x)) ** (2 * k)
    return (1 - qn) * N + q1 * h0, (1 - q1) * N + qn * h0


def _theorem5_errors(point, dps):
    k = int(point["k"])
    x, s, h = ([float(point[f"{v}{i}"]) for i in (1, 2)] for v in "xsh")
    p = Q.QuadraticProblem(np.diag(x), np.eye(2), np.diag(s), np.zeros(2), np.sqrt(2.0 * np.array(h) / x))
    values = Q.theorem5_bounds(p, Q.Constant(1.0), k)
    with mp.workdps(dps):
        refs = _theorem5_mp(k, [mpf_exact(v) for v in x], [mpf_exact(v) for v in s], [mpf_exact(v) for v in h])
        return max(_relative_error(float(v), r) for v, r in zip(values, refs))


@bound(source=f"{SRC} §14.2, Theorem 5 (constant alpha): theorytools.quadratic.theorem5_bounds vs mpmath, relative "
              f"error <= {RTOL:g}", family="accuracy", space=SPACE_THEOREM5, rate=50,
       hypotheses="integer k >= 1, 0 < alpha lambda_i <= 1 (n = 2, alpha = 1, B = I), Sigma_g >= 0, h(theta_0) >= 0",
       certify=lambda **p: (_theorem5_errors(p, CERTIFY_DPS), mp.mpf(RTOL)))
def theorem5_constant_bounds(**point):
    """``(the larger relative error of l(k) and u(k), 1e-12)`` against the formulas at 50 digits."""
    return float(_theorem5_errors(point, 30)), RTOL


# -- the softmax output Fisher's pseudo-inverse ----------------------------------------------------------------------
PINV_C = 8
SPACE_PINV = {"g2": Real(0.0, 700.0), "g3": Real(0.0, 700.0)}


def _pinv_error(g2, g3, dps):
    """``max_ij |error_ij| / (K eps sqrt(X_ii X_jj))`` of ``categorical_fisher_pinv(z)``, ``z = (0, -g2, -g3)``, against
    ``X_ij = delta_ij/p_i - u_i - u_j + sum(u)/K`` (``u = 1/(K p)``) from the exact softmax of the same float logits."""
    z = np.array([0.0, -float(g2), -float(g3)])
    X = FI.categorical_fisher_pinv(z)
    K = z.size
    with mp.workdps(dps):
        e = [mp.exp(mpf_exact(v)) for v in z]
        p = [v / mp.fsum(e) for v in e]
        u = [1 / (K * pi) for pi in p]
        su = mp.fsum(u)
        ref = [[(1 / p[i] if i == j else 0) - u[i] - u[j] + su / K for j in range(K)] for i in range(K)]
        return max(abs(mpf_exact(X[i, j]) - ref[i][j]) / (K * EPS * mp.sqrt(ref[i][i] * ref[j][j]))
                   for i in range(K) for j in range(K))


@bound(source=f"{SRC} §9.2 and §13: theorytools.fisher.categorical_fisher_pinv from logits vs mpmath, per-entry "
              f"error <= {PINV_C} K eps sqrt(X_ii X_jj)", family="accuracy", space=SPACE_PINV, rate=50,
       hypotheses="K = 3 classes, logits z = (0, -g2, -g3), 0 <= g <= 700 (probabilities down to ~1e-304)",
       certify=lambda g2, g3: (_pinv_error(g2, g3, CERTIFY_DPS), mp.mpf(PINV_C)))
def categorical_fisher_pinv(g2, g3):
    """``(the largest entry error in units of K eps sqrt(X_ii X_jj), 8)``."""
    return float(_pinv_error(g2, g3, 30)), float(PINV_C)


# -- Proposition 23's product ------------------------------------------------------------------------------------------
PRODUCT_RTOL = 1e-10
SPACE_PRODUCT = {"i": Integer(0, 1000), "m": LogInteger(1, KMAX), "a": LogReal(1e-3, 1e3), "beta": LogReal(1e-12, 1.0)}


def _product_error(i, m, a, beta, dps):
    """Relative error of ``proposition23_product(i, i + m, a, b)``, ``b = beta (i + a + 1)`` (both formed in floats, as
    the caller passes them), against the ratio of rising factorials ``(c - b)_m / (c)_m``, ``c = i + a + 1``."""
    a, b = float(a), float(beta) * (i + float(a) + 1.0)
    value = Q.lemmas.proposition23_product(i, i + m, a, b)
    with mp.workdps(dps):
        c = i + mpf_exact(a) + 1
        return _relative_error(value, mp.rf(c - mpf_exact(b), m) / mp.rf(c, m))


@bound(source=f"{SRC} Appendix D, Proposition 23 (part 1): theorytools.quadratic.lemmas.proposition23_product vs "
              f"mpmath, relative error <= {PRODUCT_RTOL:g}", family="accuracy", space=SPACE_PRODUCT, rate=50,
       hypotheses="integers 0 <= i < k = i + m <= 1e12 + 1000, a > 0, 0 < b = beta (i + a + 1) <= i + a + 1",
       certify=lambda i, m, a, beta: (_product_error(i, m, a, beta, CERTIFY_DPS), mp.mpf(PRODUCT_RTOL)))
def proposition23_product(i, m, a, beta):
    """``(relative error of the product, 1e-10)`` against rising factorials at 30 digits."""
    return float(_product_error(i, m, a, beta, 30)), PRODUCT_RTOL
