"""Bounds of Martens (001_7d31b3ff3a2f0401.txt) §12-13 for the hunt (:mod:`verification.hunt`).

* §12, the fact used after eq. 12 (line 607), ``|d^T H d| <= 1/2 ||H||_2 ||d||^2``: as printed (false: the erratum of
  ``fisher.reparameterization_invariance``, a spurious 1/2) and corrected, ``|d^T H d| <= ||H||_2 ||d||^2`` (holds, an
  equality at a top eigenvector), for a symmetric 2 x 2 ``H = Q diag(h1, h2) Q^T`` from its eigenvalues (either sign)
  and a rotation Q written by the tangent of its half angle t (``cos = (1 - t^2)/(1 + t^2)``, ``sin = 2t/(1 + t^2)``), so
  that rational parameters give a rational H: both certificates are exact rationals.  The hunt rediscovers the printed
  1/2 from the whole region and shrinks it to ``h1 = 1, h2 = 0, t = 0, d = e_1`` (or the like).
* §12, eq. 12 with the bound it states (line 607), ``||zeta(gamma + d) - zeta(gamma) - J_zeta d|| <= 1/2 C sqrt(n)
  ||d||^2``, ``C = sup_{i, gamma} ||H_[zeta]_i(gamma)||_2`` (holds: the erratum says the stated bound is right), for
  ``zeta_i(gamma) = c_i sin(u_i^T gamma + z_i)``, n = 2, |u_i| = 1 (``C = max c_i``); float remainder written without
  cancellation, certified at 50 digits.
* §13 (line 706), the lower bound ``M(delta) - h(theta) >= -(1/(2|S|)) sum grad_z log r^T F_R^-1 grad_z log r``, stated
  as the predicted improvement ``h(theta) - M(alpha delta*) <= (1/(2|S|)) sum (1 - p_y)/p_y`` along the minimum-norm
  natural gradient ``delta*`` (``M(alpha delta*)`` is M's smallest value on that ray, and ``alpha = 1`` its minimum over
  every delta), for softmax regression with K = 2 classes, |S| = 3 cases in R^2 (holds), from the library's
  ``quadratic_model``, ``min_norm_natural_gradient`` and ``improvement_bound``; certified at 50 digits in the reduced
  (logistic) coordinates, where ``grad h^T F^+ grad h = grad_u h^T F_u^-1 grad_u h``.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath as mp
import numpy as np

import theorytools.fisher as FI
from theorytools.errors import HypothesisError
from verification.checks import fisher as _fisher  # noqa: F401 - registers the erratum reused below
from verification.hunt import CERTIFY_DPS, Integer, LogReal, Real, bound, mpf_exact
from verification.registry import CHECKS

SRC = "001_7d31b3ff3a2f0401.txt"
FAMILY = "fisher"
ERRATUM_EQ12 = CHECKS["fisher.reparameterization_invariance"].erratum

# -- §12, the fact after eq. 12 ------------------------------------------------------------------------------------------
SPACE_FACT = {"h1": Real(-1.0, 1.0), "h2": Real(-1.0, 1.0), "t": Real(-1.0, 1.0), "d1": Real(-1.0, 1.0),
              "d2": Real(-1.0, 1.0)}
FACT_HYPOTHESES = "H symmetric (here 2 x 2, H != 0), d != 0"


def _fact_terms(h1, h2, t, d1, d2):
    """``(|d^T H d|, ||H||_2 |d|^2)`` for ``H = Q diag(h1, h2) Q^T``, Q the rotation of half-angle tangent t; works on
    floats and arrays (vectorized) and on Fractions (exact): ``d^T H d = h1 (q1^T d)^2 + h2 (q2^T d)^2`` with the
    columns ``q1 = (cs, sn)``, ``q2 = (-sn, cs)``."""
    den = 1 + t * t
    cs, sn = (1 - t * t) / den, 2 * t / den
    p1, p2 = cs * d1 + sn * d2, -sn * d1 + cs * d2
    quad = h1 * p1 * p1 + h2 * p2 * p2
    return abs(quad), _max(abs(h1), abs(h2)) * (d1 * d1 + d2 * d2)


def _max(a, b):
    return np.maximum(a, b) if isinstance(a, np.ndarray) else max(a, b)


def _fact_exact(half):
    def certify(h1, h2, t, d1, d2):
        h1, h2, t, d1, d2 = (Fraction(v) for v in (h1, h2, t, d1, d2))
        if h1 == h2 == 0 or d1 == d2 == 0:
            raise HypothesisError("H and d must not vanish")
        lhs, rhs = _fact_terms(h1, h2, t, d1, d2)
        return lhs, rhs / 2 if half else rhs

    certify.__doc__ = "Both sides in exact rationals (the rotation is rational in t)."
    return certify


def _fact_sides(half):
    def sides(h1, h2, t, d1, d2):
        lhs, rhs = _fact_terms(*(np.asarray(v, dtype=float) for v in (h1, h2, t, d1, d2)))
        ok = (rhs > 0)
        return np.where(ok, lhs, np.nan), np.where(ok, 0.5 * rhs if half else rhs, np.nan)

    return sides


eq12_fact_printed = bound(
    source=f"{SRC} §12 (line 607), the fact after eq. 12 as printed: '|d_gamma^T H_[zeta]_i d_gamma| <= 1/2 "
           "||H_[zeta]_i||_2 ||d_gamma||^2'; H symmetric 2 x 2", family=FAMILY, space=SPACE_FACT,
    hypotheses=FACT_HYPOTHESES, certify=_fact_exact(True), erratum=ERRATUM_EQ12, vectorized=True,
    name="eq12_fact_printed")(_fact_sides(True))
eq12_fact_printed.__doc__ = ("``(|d^T H d|, 1/2 ||H||_2 |d|^2)``: false as printed (the 1/2 is spurious), by a factor "
                             "up to 2 at a top eigenvector of H.")
eq12_fact_corrected = bound(
    source=f"{SRC} §12 (line 607), the fact after eq. 12 corrected: |d^T H d| <= ||H||_2 ||d||^2; H symmetric 2 x 2",
    family=FAMILY, space=SPACE_FACT, hypotheses=FACT_HYPOTHESES, certify=_fact_exact(False), vectorized=True,
    name="eq12_fact_corrected")(_fact_sides(False))
eq12_fact_corrected.__doc__ = ("``(|d^T H d|, ||H||_2 |d|^2)``: expected to hold (Rayleigh); an equality at a top "
                               "eigenvector.")


# -- §12, eq. 12's stated bound ------------------------------------------------------------------------------------------
SPACE_REMAINDER = {"c1": LogReal(1e-2, 1e2), "c2": LogReal(1e-2, 1e2), "b1": Real(0.0, float(np.pi)),
                   "b2": Real(0.0, float(np.pi)), "z1": Real(0.0, float(2 * np.pi)), "z2": Real(0.0, float(2 * np.pi)),
                   "psi": Real(0.0, float(2 * np.pi)), "r": LogReal(1e-4, 10.0)}


def _sin_minus_identity(x):
    """``sin x - x`` without cancellation: its Taylor series (to x^9) for |x| < 0.1, else directly."""
    x = np.asarray(x, dtype=float)
    x2 = x * x
    series = -x * x2 / 6.0 * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0 * (1.0 - x2 / 72.0)))
    return np.where(np.abs(x) < 0.1, series, np.sin(x) - x)


def _remainder(c, z, delta):
    """``c (sin(z + delta) - sin z - cos(z) delta) = c (-2 sin z sin^2(delta/2) + cos z (sin delta - delta))``."""
    return c * (-2.0 * np.sin(z) * np.sin(delta / 2.0) ** 2 + np.cos(z) * _sin_minus_identity(delta))


@bound(source=f"{SRC} §12, eq. 12 and the bound after it (line 607): '|zeta(gamma + d) - (zeta(gamma) + J_zeta d)| "
              "<= 1/2 C sqrt(n) ||d||^2' with ||H_[zeta]_i||_2 <= C; zeta_i = c_i sin(u_i^T gamma + z_i), n = 2",
       family=FAMILY, space=SPACE_REMAINDER,
       hypotheses="zeta twice differentiable with sup_{i, gamma} ||H_[zeta]_i(gamma)||_2 <= C (here C = max c_i)",
       certify=lambda **p: _remainder_mp(**p), vectorized=True)
def eq12_remainder(c1, c2, b1, b2, z1, z2, psi, r):
    """``(||zeta(d) - zeta(0) - J_zeta d||, 1/2 C sqrt(2) r^2)`` with ``d = r (cos psi, sin psi)``, ``u_i = (cos b_i,
    sin b_i)``, ``H_[zeta]_i(gamma) = -c_i sin(u_i^T gamma + z_i) u_i u_i^T`` (``C = max(c1, c2)``).  Expected to hold
    (Taylor with the corrected fact); tight as r -> 0 with |sin z_i| = 1, d along u_1 = +-u_2 and c1 = c2 (ratio -> 1)."""
    c1, c2, b1, b2, z1, z2, psi, r = (np.asarray(v, dtype=float) for v in (c1, c2, b1, b2, z1, z2, psi, r))
    e1, e2 = r * np.cos(psi), r * np.sin(psi)
    rem1 = _remainder(c1, z1, np.cos(b1) * e1 + np.sin(b1) * e2)
    rem2 = _remainder(c2, z2, np.cos(b2) * e1 + np.sin(b2) * e2)
    return np.hypot(rem1, rem2), 0.5 * np.maximum(c1, c2) * np.sqrt(2.0) * r * r



def _remainder_mp(c1, c2, b1, b2, z1, z2, psi, r):
    """Both sides at 50 digits, the remainder written directly (``zeta(d) - zeta(0) - J d``: the cancellation costs
    ``2 log10(1/r) <= 8`` of the 50 digits)."""
    with mp.workdps(CERTIFY_DPS):
        c1, c2, b1, b2, z1, z2, psi, r = (mpf_exact(v) for v in (c1, c2, b1, b2, z1, z2, psi, r))
        d = (r * mp.cos(psi), r * mp.sin(psi))
        rems = []
        for c, b, z in ((c1, b1, z1), (c2, b2, z2)):
            u = (mp.cos(b), mp.sin(b))
            ud = u[0] * d[0] + u[1] * d[1]
            rems.append(c * mp.sin(ud + z) - c * mp.sin(z) - c * mp.cos(z) * ud)
        return mp.sqrt(rems[0] ** 2 + rems[1] ** 2), max(c1, c2) * mp.sqrt(2) * r * r / 2


# -- §13's lower bound ---------------------------------------------------------------------------------------------------
# Softmax regression with K = 2 classes on |S| = 3 cases: x_1 = (1, 0), x_2 = (0, 1), x_3 = rho (cos a, sin a), labels
# (0, 1, y3), theta = (w1, w2; 0, 0) (the second row fixed: the model depends on the difference of the rows).
SPACE_SECTION13 = {"w1": Real(-4.0, 4.0), "w2": Real(-4.0, 4.0), "a": Real(0.0, float(np.pi)),
                   "rho": LogReal(0.1, 10.0), "y3": Integer(0, 1), "alpha": Real(0.0, 2.0)}


def _section13_problem(w1, w2, a, rho, y3):
    x = np.array([[1.0, 0.0], [0.0, 1.0], [rho * np.cos(a), rho * np.sin(a)]])
    return FI.quadratic_model.SoftmaxRegression(x, np.array([0, 1, int(y3)]), 2), np.array([w1, w2, 0.0, 0.0])


def _section13_mp(w1, w2, a, rho, y3, alpha):
    """Both sides at 50 digits in the reduced coordinates u = (first row - second row): ``q_i = P(y = 0 | x_i) =
    sigmoid(u^T x_i)``, ``grad_u h = mean (q_i - [y_i = 0]) x_i``, ``F_u = mean q_i (1 - q_i) x_i x_i^T``;
    ``h - M(alpha delta*) = (alpha - alpha^2/2) grad_u h^T F_u^-1 grad_u h`` and the bound ``mean (1 - p_y)/p_y / 2``."""
    if not Fraction(alpha) > 0:
        raise HypothesisError("alpha must be > 0")
    with mp.workdps(CERTIFY_DPS):
        w1, w2, a, rho, alpha = (mpf_exact(v) for v in (w1, w2, a, rho, alpha))
        xs = [mp.matrix([1, 0]), mp.matrix([0, 1]), rho * mp.matrix([mp.cos(a), mp.sin(a)])]
        ys = (0, 1, int(y3))
        u = mp.matrix([w1, w2])
        grad, F, bound_ = mp.zeros(2, 1), mp.zeros(2, 2), mp.mpf(0)
        for x, y in zip(xs, ys):
            q = 1 / (1 + mp.exp(-(u.T * x)[0]))
            grad += (q - (1 if y == 0 else 0)) * x / 3
            F += q * (1 - q) * x * x.T / 3
            py = q if y == 0 else 1 - q
            bound_ += (1 - py) / py / 6
        quad = (grad.T * mp.lu_solve(F, grad))[0]
        return (alpha - alpha**2 / 2) * quad, bound_


@bound(source=f"{SRC} §13 (line 706): 'M(delta) - h(theta) >= -1/(2|S|) sum grad_z log r^T F_R^-1 grad_z log r', as "
              "h(theta) - M(alpha delta*) <= 1/(2|S|) sum (1 - p_y)/p_y; softmax regression, K = 2, |S| = 3, p = 2",
       family=FAMILY, space=SPACE_SECTION13,
       hypotheses="F and grad h computed on the same data S, each F_R (pseudo-)inverted on its range; delta = alpha "
                  "delta*, delta* = -F^+ grad h, 0 < alpha <= 2", certify=_section13_mp)
def section13_improvement_bound(w1, w2, a, rho, y3, alpha):
    """``(h(theta) - M(alpha delta*), -improvement_bound)`` from the library (``quadratic_model``,
    ``min_norm_natural_gradient``, ``improvement_bound``).  Expected to hold (M is a sum of nonnegative squared
    distances plus the constant c); tight at alpha = 1 where the 3 cases' optimal output changes can nearly be
    realized by one delta (2 free parameters for 3 targets)."""
    if not alpha > 0:
        raise HypothesisError("alpha must be > 0")
    P, theta = _section13_problem(w1, w2, a, rho, y3)
    Q = FI.quadratic_model
    step = alpha * Q.min_norm_natural_gradient(P, theta)
    return P.h(theta) - Q.quadratic_model(P, theta, step), -Q.improvement_bound(P, theta)
