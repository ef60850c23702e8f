"""Martens' bounds on the Polyak average (001_7d31b3ff3a2f0401.txt §14.3) and their consequences, for the hunt.

* §14.3, Theorem 6: ``E[h(theta_bar_k)] - h* <= min(noise_avg, noise_floor) + min(start_quadratic, start_linear,
  h(theta_0))`` (the five terms of eqns. 44, 45 and 49; :func:`theorytools.quadratic.theorem6_terms`), constant
  ``alpha`` with ``alpha lambda_1(B^-1 H) < 1``.  Expected to hold.
* §14.3.1, its specializations: ``B = H`` (first display; ``alpha <= 1``) and ``B = I`` (eqn. 21).  Expected to hold.
* §14.3.2, Flammarion & Bach (2015), Theorem 3 as used there: ``4 alpha tr(Sigma_g) + |theta_0 - theta*|^2 /
  ((k+1) alpha)`` for ``B = I``, ``alpha lambda_1(H) <= 1``.  Expected to hold, loose by 8x or more in its noise term.
* §14.2.1, Theorem 5 with ``B = H`` and ``alpha_k = 1/(k+a+1)``: ``tr(H^-1 Sigma_g)/(2(k+a)) + h(theta_0)
  ((1+a)/(k+a))^2`` (:func:`theorytools.quadratic.consequences.harmonic_BH_bound`).  Expected to hold.

Polyak & Juditsky's ``tr(H^-1 Sigma_g)/(2(k+1))`` and Defossez & Bach's expression (§14.3.2) are asymptotic
equivalents, not inequalities, so they are not bounds to hunt (the checks compare them as limits).

Reduction (why three coordinates span Theorem 6): with ``phi = B^{1/2} theta`` the iteration is SGD on a quadratic
with Hessian ``B^{-1/2} H B^{-1/2}`` and gradient noise ``B^{-1/2} Sigma_g B^{-1/2}``, and every term of Theorem 6 is
invariant under that change; in the Hessian's eigenbasis only the diagonal ``s_i`` of the noise and the start
energies ``h_i = lambda_i z_i^2 / 2`` (``h(theta_0) = sum h_i``) enter both sides, and ``alpha`` multiplies every
noise term, so it is absorbed into ``s_i``: ``alpha = 1``, ``lambda_i = x_i = alpha lambda_i(B^-1 H)``.  Per
coordinate the exact risk is ``s_i F_k(x_i) / (2 x_i (k+1)^2) + h_i (1 - (1-x_i)^{k+1})^2 / (x_i^2 (k+1)^2)`` with
``F_k(x) = sum_{m=1}^k (1 - (1-x)^m)^2`` (§14.3, eqns. 38-39; the library's
:func:`theorytools.quadratic.averaged_excess_risk`, which the tests compare), evaluated here vectorized over
candidates with :func:`theorytools.linalg.sum_sq_geometric` and certified at 50 digits by the plain closed form.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

from theorytools.linalg import geometric_sum, sum_sq_geometric
from verification.checks.bounds_martens import HARMONIC_KMAX, _harmonic_region, _second_order_exact, _second_order_mp
from verification.hunt import CERTIFY_DPS, LogInteger, LogReal, Real, bound, mpf_exact

SRC = "001_7d31b3ff3a2f0401.txt"
KMAX = 10**12
N = 3
#: x_i = alpha lambda_i(B^-1 H) in (0, 1): Theorem 6 needs alpha lambda_1 < 1.
X_MAX = 1.0 - 1e-9
SPACE = {"k": LogInteger(1, KMAX), **{f"x{i}": LogReal(1e-8, X_MAX) for i in range(1, N + 1)},
         **{f"s{i}": Real(0.0, 1.0) for i in range(1, N + 1)}, **{f"h{i}": Real(0.0, 1.0) for i in range(1, N + 1)}}
HYPOTHESES = ("integer k >= 1, 0 < alpha lambda_i(B^-1 H) < 1 (n = 3; B = I and alpha = 1 after the reduction of the "
              "module docstring), Sigma_g >= 0, h(theta_0) >= 0")


def _stack(point):
    """``(k, x, s, h)`` of a (vectorized) point; x, s, h with one row per coordinate."""
    rows = (np.array([np.asarray(point[f"{v}{i}"], dtype=float) for i in range(1, N + 1)]) for v in "xsh")
    return (np.asarray(point["k"], dtype=float), *rows)


def _averaged_risk(k, x, s, h):
    """Exact ``E[h(theta_bar_k)] - h*`` (rows: coordinates; columns: candidates), ``alpha = 1``."""
    with np.errstate(divide="ignore"):  # x = 1 (alpha = 1 with B = H): ell = inf, which the helpers take
        ell = -np.log1p(-x)
    kk = np.broadcast_to(k, x.shape)
    F = sum_sq_geometric(kk, ell)
    phi = geometric_sum(kk + 1.0, ell)  # sum_{j<=k} (1-x)^j = (1 - (1-x)^{k+1})/x
    k1 = k + 1.0
    return np.sum(s * F / (2.0 * x) + h * phi**2, axis=0) / k1**2


def _theorem6_terms(k, x, s, h):
    """The five terms of Theorem 6 (eqns. 44, 45, 49) at ``alpha = 1``, ``B = I``, ``H = diag(x)``."""
    k1 = k + 1.0
    return {"noise_avg": np.sum(s / (2.0 * x), axis=0) / k1, "noise_floor": np.sum(s / (2.0 * (2.0 - x)), axis=0),
            "start_quadratic": np.sum(h / x**2, axis=0) / k1**2, "start_linear": np.sum(h / x, axis=0) / k1,
            "start_h0": np.sum(h, axis=0)}


def _averaged_risk_mp(k, x, s, h):
    """:func:`_averaged_risk` at 50 digits by the plain closed forms (``F_k`` summed geometrically: it cancels by up to
    ``2 log10(k x)`` digits, which the 50 digits absorb at k <= 1e12, x >= 1e-8)."""
    k1, out = k + 1, mp.mpf(0)
    for xi, si, hi in zip(x, s, h):
        q = 1 - xi
        F = k - 2 * q * (1 - q**k) / xi + q * q * (1 - q ** (2 * k)) / (1 - q * q)
        out += si * F / (2 * xi) + hi * ((1 - q ** (k + 1)) / xi) ** 2
    return out / k1**2


def _point_mp(point):
    k = int(point["k"])
    return (k, *([mpf_exact(point[f"{v}{i}"]) for i in range(1, N + 1)] for v in "xsh"))


def _theorem6_mp(point):
    k, x, s, h = _point_mp(point)
    k1 = k + 1
    terms = [mp.fsum(si / (2 * xi) for xi, si in zip(x, s)) / k1, mp.fsum(si / (2 * (2 - xi)) for xi, si in zip(x, s)),
             mp.fsum(hi / xi**2 for xi, hi in zip(x, h)) / k1**2, mp.fsum(hi / xi for xi, hi in zip(x, h)) / k1,
             mp.fsum(h)]
    return terms, _averaged_risk_mp(k, x, s, h)


def _certify(rhs_of_terms):
    def certify(**point):
        with mp.workdps(CERTIFY_DPS + 30):  # the closed form's cancellation eats up to ~24 digits
            terms, exact = _theorem6_mp(point)
            return +exact, +rhs_of_terms(terms, min)

    return certify


def _theorem6_rhs(t, smallest):
    return smallest(t[0], t[1]) + smallest(smallest(t[2], t[3]), t[4])


@bound(source=f"{SRC} §14.3, Theorem 6 (constant alpha); n = 3", family="quadratic", space=SPACE,
       hypotheses=HYPOTHESES, certify=_certify(_theorem6_rhs), vectorized=True)
def theorem6(**point):
    """``(E[h(theta_bar_k)] - h*, Theorem 6's bound)`` for the Polyak average of constant-step iterates."""
    k, x, s, h = _stack(point)
    t = _theorem6_terms(k, x, s, h)
    rhs = np.minimum(t["noise_avg"], t["noise_floor"]) + np.minimum(np.minimum(t["start_quadratic"],
                                                                               t["start_linear"]), t["start_h0"])
    return _averaged_risk(k, x, s, h), rhs


@bound(source=f"{SRC} §14.3.1, eqn. 21: Theorem 6 with B = I, tr(H^-1 Sigma_g)/(2(k+1)) + "
              "|H^{-1/2}(theta_0 - theta*)|^2/(2(k+1)^2 alpha^2); n = 3", family="quadratic", space=SPACE,
       hypotheses=HYPOTHESES, certify=_certify(lambda t, smallest: t[0] + t[2]), vectorized=True)
def theorem6_B_identity(**point):
    """``(E[h(theta_bar_k)] - h*, noise_avg + start_quadratic)``: eqn. 21, Theorem 6's first terms (``B = I``)."""
    k, x, s, h = _stack(point)
    t = _theorem6_terms(k, x, s, h)
    return _averaged_risk(k, x, s, h), t["noise_avg"] + t["start_quadratic"]


# B = H: B^-1 H = I, so every x_i equals alpha and the coordinates add up to one, with s = alpha tr(H^-1 Sigma_g) and
# h = h(theta_0): x = alpha in (0, 1] (alpha = 1 is the second display's limit).
SPACE_BH = {"k": LogInteger(1, KMAX), "x1": LogReal(1e-8, 1.0), "s1": Real(0.0, 1.0), "h1": Real(0.0, 1.0)}


@bound(source=f"{SRC} §14.3.1, first display: Theorem 6 with B = H, tr(H^-1 Sigma_g)/(2(k+1)) + "
              "h(theta_0)/((k+1)^2 alpha^2)", family="quadratic", space=SPACE_BH,
       hypotheses="integer k >= 1, B = H, 0 < alpha <= 1, Sigma_g >= 0, h(theta_0) >= 0",
       certify=lambda **p: _bh_mp(p), vectorized=True)
def theorem6_B_hessian(k, x1, s1, h1):
    """``(E[h(theta_bar_k)] - h*, tr(H^-1 Sigma_g)/(2(k+1)) + h(theta_0)/((k+1)^2 alpha^2))`` with ``B = H``: in the
    reduced coordinates ``s/(2x(k+1)) + h/(x^2 (k+1)^2)``, ``x = alpha``."""
    k, x, s, h = (np.asarray(v, dtype=float) for v in (k, x1, s1, h1))
    exact = _averaged_risk(k, x[None, :], s[None, :], h[None, :])
    return exact, s / (2.0 * x * (k + 1.0)) + h / (x * (k + 1.0)) ** 2


def _bh_mp(point):
    with mp.workdps(CERTIFY_DPS + 30):
        k, (x,), (s,), (h,) = (int(point["k"]), *([mpf_exact(point[f"{v}1"])] for v in "xsh"))
        return +_averaged_risk_mp(k, [x], [s], [h]), +(s / (2 * x * (k + 1)) + h / (x * (k + 1)) ** 2)


# Flammarion & Bach: B = I, alpha lambda_1(H) <= 1, with tr(Sigma_g) = sum s_i / alpha and |theta_0 - theta*|^2 =
# sum 2 h_i/lambda_i in the reduced coordinates (alpha = 1): 4 sum s_i + sum 2 h_i / (x_i (k+1)).
SPACE_FB = {**SPACE, **{f"x{i}": LogReal(1e-8, 1.0) for i in range(1, N + 1)}}


@bound(source=f"{SRC} §14.3.2: Flammarion & Bach (2015), Theorem 3, 4 alpha tr(Sigma_g) + |theta_0 - theta*|^2/((k+1) "
              "alpha) for B = I; n = 3", family="quadratic", space=SPACE_FB,
       hypotheses="integer k >= 1, B = I, 0 < alpha lambda_i(H) <= 1 (n = 3), Sigma_g >= 0, h(theta_0) >= 0",
       certify=lambda **p: _flammarion_bach_mp(p), vectorized=True)
def flammarion_bach(**point):
    """``(E[h(theta_bar_k)] - h*, 4 alpha tr(Sigma_g) + |theta_0 - theta*|^2/((k+1) alpha))``."""
    k, x, s, h = _stack(point)
    return _averaged_risk(k, x, s, h), 4.0 * np.sum(s, axis=0) + np.sum(2.0 * h / x, axis=0) / (k + 1.0)


def _flammarion_bach_mp(point):
    with mp.workdps(CERTIFY_DPS + 30):
        k, x, s, h = _point_mp(point)
        return +_averaged_risk_mp(k, x, s, h), +(4 * mp.fsum(s) + mp.fsum(2 * hi / xi for xi, hi in zip(x, h)) / (k + 1))


# Theorem 5 with B = H (harmonic steps): B^-1 H = I, so b = 1 and n = 1 (the coordinates add up), Sigma_g = 1 a scale;
# tr(H^-1 Sigma_g) = 1 and the exact risk less t_U/(4(k+a)) is that of bounds_martens' n = 1 reduction at b = 1.
SPACE_HARMONIC_BH = {"k": LogInteger(1, HARMONIC_KMAX), "a": LogReal(1.0, 1e3), "h0": Real(0.0, 1.0)}


@bound(source=f"{SRC} §14.2.1: Theorem 5 with B = H and alpha_k = 1/(k+a+1), tr(H^-1 Sigma_g)/(2(k+a)) + h(theta_0) "
              "((1+a)/(k+a))^2", family="quadratic", space=SPACE_HARMONIC_BH,
       hypotheses="integer k >= 1, a >= 1, B = H, Sigma_g >= 0, h(theta_0) = h0 >= 0",
       certify=lambda k, a, h0: _harmonic_bh_mp(k, a, h0))
def harmonic_B_hessian(k, a, h0):
    """``(E[h(theta_k)] - h*, tr(H^-1 Sigma_g)/(2(k+a)) + h0 ((1+a)/(k+a))^2)``, each less ``t_U/(4(k+a)) =
    1/(2(k+a))`` (the common first-order term, as for Theorem 5's harmonic bounds in bounds_martens)."""
    _harmonic_region(a, 1.0)
    return _second_order_exact(k, a, 1.0, h0), h0 * ((1.0 + a) / (k + a)) ** 2


def _harmonic_bh_mp(k, a, h0):
    with mp.workdps(CERTIFY_DPS):
        lhs, _, _, decay = _second_order_mp(k, a, 1, h0)
        return lhs, mpf_exact(h0) * decay

