"""Bounds of Martens (001_7d31b3ff3a2f0401.txt) for the hunt (:mod:`verification.hunt`).

* Appendix D, Proposition 23, second inequality, ``S_k(a, b) <= nu(a) k / (k+a)^3``: as printed (hypotheses
  ``0 <= b <= a + 2``; false, the erratum of ``quadratic.proposition23_correction``), as printed on Theorem 5's region
  (``a >= 1``, ``b > 1/2``, where the harmonic bound u(k) uses it; still false) and corrected (``3/2 <= b <= a + 2``;
  holds).  The left side is the library's O(k) sum, so k is searched up to :data:`KMAX`; each certificate evaluates
  both sides in exact rationals (:func:`theorytools.quadratic.lemmas.proposition23_sum_exact`).
* §14.2, Theorem 5, harmonic u(k) as printed (false: ``quadratic.theorem5_printed_harmonic_upper_counterexample``),
  Appendix B, Lemma 15's upper bound as printed (false: ``quadratic.theorem5_harmonic_corrected_upper_holds``) and
  u(k) corrected with the exact S_k(a, b) (holds), on n = 1 with k up to 1e12 (the library's Gamma-ratio and
  Euler-Maclaurin route for the exact risk, milliseconds per point; certified at 50 digits by
  :mod:`verification.reference.harmonic`).
* §14.2.1, the display for B = lambda_n(H) I with Theorem 5's explicit second-order constant (false for
  kappa > 2.7421: ``quadratic.lambda_n_specialization``) and corrected (holds), on n = 3.
* §14.2, Theorem 5, l(k) and u(k) for a constant step (hold), on n = 3, vectorized.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath as mp
import numpy as np

import theorytools.quadratic as Q
from theorytools.errors import HypothesisError
from verification.checks import quadratic as _quadratic  # noqa: F401 - registers the erratum reused below
from verification.hunt import CERTIFY_DPS, LogInteger, LogReal, Real, bound, mpf_exact
from verification.registry import CHECKS

SRC = "001_7d31b3ff3a2f0401.txt"
#: Largest k searched: the left side costs O(k) (about 6 ms at k = 1e4, 0.4 s at 1e6 on one core), and the hunt
#: evaluates it thousands of times.  The printed statement already fails at k = 3.
KMAX = 10**4
SPACE = {"k": LogInteger(1, KMAX), "a": LogReal(1e-3, 1e3), "b": Real(0.0, 10.0)}
#: Theorem 5's region: a >= 1 (the harmonic step's offset) and b = lambda_n(B^-1 H) > 1/2.
SPACE_THEOREM5 = {"k": LogInteger(1, KMAX), "a": LogReal(1.0, 1e3), "b": Real(0.5, 10.0)}
ERRATUM = CHECKS["quadratic.proposition23_correction"].erratum


def _theorem5_region(a, b) -> None:
    if not (a >= 1 and b > Fraction(1, 2)):
        raise HypothesisError(f"Theorem 5's region needs a >= 1 and b > 1/2, got a = {a}, b = {b}")


def _exact_sides(version: str, region=None):
    """``certify`` of a Proposition 23 bound: both sides in exact rationals at rational ``a``, ``b`` (a float is the
    dyadic rational it stores), after the hypotheses of ``version`` (and ``region``)."""
    def certify(k, a, b):
        a, b = Fraction(a), Fraction(b)
        Q.lemmas.proposition23_sum_sides(int(k), float(a), float(b), version=version)  # its hypotheses, or raise
        if region is not None:
            region(a, b)
        return Q.lemmas.proposition23_sum_exact(int(k), a, b), _nu_term(k, a)

    return certify


@bound(source=f"{SRC} Appendix D, Proposition 23 (part 2), as printed", family="quadratic", space=SPACE,
       hypotheses="integer k >= 1, a > 0, 0 <= b <= a + 2", certify=_exact_sides("printed"), erratum=ERRATUM)
def proposition23_sum_printed(k, a, b):
    """``(S_k(a, b), nu(a) k/(k+a)^3)`` under the printed hypotheses (Appendix D, Proposition 23, part 2)."""
    return Q.lemmas.proposition23_sum_sides(k, a, b, version="printed")


@bound(source=f"{SRC} Appendix D, Proposition 23 (part 2), as printed, on Theorem 5's region (§14.2)",
       family="quadratic", space=SPACE_THEOREM5, hypotheses="integer k >= 1, a >= 1, 1/2 < b <= a + 2",
       certify=_exact_sides("printed", _theorem5_region), erratum=ERRATUM)
def proposition23_sum_theorem5_region(k, a, b):
    """Proposition 23's printed second inequality where Theorem 5's harmonic u(k) applies it."""
    _theorem5_region(a, b)
    return Q.lemmas.proposition23_sum_sides(k, a, b, version="printed")


@bound(source=f"{SRC} Appendix D, Proposition 23 (part 2), corrected (b >= 3/2)", family="quadratic", space=SPACE,
       hypotheses="integer k >= 1, a > 0, 3/2 <= b <= a + 2", certify=_exact_sides("corrected"))
def proposition23_sum_corrected(k, a, b):
    """``(S_k(a, b), nu(a) k/(k+a)^3)`` with the missing hypothesis ``b >= 3/2`` added."""
    return Q.lemmas.proposition23_sum_sides(k, a, b, version="corrected")


# -- Theorem 5 (harmonic steps) and Lemma 15: n = 1 ---------------------------------------------------------------------
# In every dimension Theorem 5's harmonic bound splits over the eigenvalues b of B^-1 H, and the start term only adds
# slack (the evidence of quadratic.theorem5_printed_harmonic_upper_counterexample), so n = 1 with H = b, B = 1,
# Sigma_g = 1 (both sides are linear in Sigma_g) and h(theta_0) = h0 spans the statement.  Both sides are stated less
# the common first-order term t_U/(4(k+a)): the same inequality, scored where it can fail (the second-order term,
# 1/k of the whole at large k, where log(lhs/rhs) of the whole would be below float resolution).
HARMONIC_KMAX = 10**12
SPACE_HARMONIC = {"k": LogInteger(1, HARMONIC_KMAX), "a": LogReal(1.0, 1e3), "b": Real(0.5, 10.0),
                  "h0": Real(0.0, 1.0)}
#: Lemma 15 bounds tr(H E_k) alone (no start term); the corrected u(k) needs the O(k) sum S_k(a, b), so k <= KMAX.
SPACE_LEMMA15 = {"k": LogInteger(1, HARMONIC_KMAX), "a": LogReal(1.0, 1e3), "b": Real(0.5, 10.0)}
SPACE_CORRECTED = {"k": LogInteger(1, KMAX), "a": LogReal(1.0, 1e3), "b": Real(0.5, 10.0), "h0": Real(0.0, 1.0)}
ERRATUM_U = CHECKS["quadratic.theorem5_printed_harmonic_upper_counterexample"].erratum
ERRATUM_LEMMA15 = CHECKS["quadratic.theorem5_harmonic_corrected_upper_holds"].erratum
THEOREM5_HYPOTHESES = "integer k >= 1, a >= 1, 1/2 < b = lambda_n(B^-1 H) <= lambda_1(B^-1 H) <= a + 1"


def _harmonic_region(a, b) -> None:
    if not (a >= 1 and 0.5 < b <= a + 1):
        raise HypothesisError(f"Theorem 5's harmonic case needs a >= 1 and 1/2 < b <= a + 1, got a = {a}, b = {b}")


def _second_order_exact(k, a, b, h0):
    """``E[h(theta_k)] - h* - t_U/(4(k+a))`` for H = b, B = 1, Sigma_g = 1, h(theta_0) = h0, alpha_j = 1/(j+a+1)
    (the library's exact route, :func:`theorytools.quadratic.excess_risk`), and ``t_U = 2b/(2b-1)``."""
    _harmonic_region(a, b)
    p = Q.QuadraticProblem([[b]], [[1.0]], [[1.0]], [0.0], [(2.0 * h0 / b) ** 0.5])
    return Q.excess_risk(p, Q.Harmonic(a), int(k)) - 2.0 * b / (2.0 * b - 1.0) / (4.0 * (k + a))



def _second_order_mp(k, a, b, h0):
    """:func:`_second_order_exact` at :data:`~verification.hunt.CERTIFY_DPS` digits by the reference's independent
    route (:mod:`verification.reference.harmonic`: recursion, then Euler-Maclaurin), less its error estimate (so a
    certificate built on it errs toward rhs), with ``t_U/4``, ``(1-b)^2`` and ``((1+a)/(k+a))^(2b)`` beside it."""
    from verification.reference import harmonic as RH

    _harmonic_region(Fraction(a), Fraction(b))
    a, b, h0 = mpf_exact(a), mpf_exact(b), mpf_exact(h0)
    T, err = RH.noise_factor(a, b, b, int(k), dps=CERTIFY_DPS)
    P = RH.mean_factor(a, b, int(k), dps=CERTIFY_DPS)
    quarter_tU = b / (2 * b - 1) / 2
    return b / 2 * (T - err) + h0 * P**2 - quarter_tU / (k + a), quarter_tU, (1 - b) ** 2, ((1 + a) / (k + a)) ** (2 * b)


def _nu_term(k, a):
    """``nu(a) k/(k+a)^3`` (Proposition 23's bound on S_k(a, b))."""
    return (a + 2) ** 3 / (a * (a + 1) ** 2) * k / (k + a) ** 3


def _theorem5_u_mp(k, a, b, h0):
    """``certify`` of Theorem 5's printed harmonic u(k): both sides at 50 digits."""
    with mp.workdps(CERTIFY_DPS):
        lhs, quarter_tU, psi, decay = _second_order_mp(k, a, b, h0)
        return lhs, _nu_term(k, mpf_exact(a)) * psi * quarter_tU + mpf_exact(h0) * decay


def _lemma15_mp(k, a, b):
    """``certify`` of Lemma 15's printed upper bound: both sides at 50 digits."""
    with mp.workdps(CERTIFY_DPS):
        lhs, quarter_tU, psi, _ = _second_order_mp(k, a, b, 0)
        return lhs, _nu_term(k, mpf_exact(a)) * psi * quarter_tU


def _corrected_mp(k, a, b, h0):
    """``certify`` of the corrected u(k): both sides at 50 digits."""
    with mp.workdps(CERTIFY_DPS):
        lhs, quarter_tU, psi, decay = _second_order_mp(k, a, b, h0)
        first = quarter_tU / (k + mpf_exact(a))
        return lhs + first, first + _proposition23_sum_mp(int(k), mpf_exact(a), mpf_exact(b)) * psi * quarter_tU + mpf_exact(h0) * decay


def _proposition23_sum_mp(k, a, b):
    """``S_k(a, b)`` by its recursion ``S_{m+1} = (1 - b/(m+a+1))^2 S_m + 1/((m+a)(m+a+1)^2)``, ``S_0 = 0``, in mpmath
    (Appendix D, Proposition 23; O(k) steps at the working precision, each rounding 1 part in 10^50)."""
    S = mp.mpf(0)
    for m in range(k):
        d = m + a + 1
        S = (1 - b / d) ** 2 * S + 1 / ((m + a) * d * d)
    return S


@bound(source=f"{SRC} §14.2, Theorem 5 (harmonic u(k)), as printed; n = 1", family="quadratic",
       space=SPACE_HARMONIC, hypotheses=THEOREM5_HYPOTHESES + ", h(theta_0) = h0 >= 0 (n = 1, B = 1, Sigma_g = 1)",
       certify=_theorem5_u_mp, erratum=ERRATUM_U)
def theorem5_harmonic_upper_printed(k, a, b, h0):
    """``E[h(theta_k)] - h* <= u(k)`` of Theorem 5 (harmonic steps, eqn. after "If on the other hand"), each side less
    ``t_U/(4(k+a))``: ``(exact - t_U/(4(k+a)), nu(a) k t_Psi/(4(k+a)^3) + h0 ((1+a)/(k+a))^(2b))`` with
    ``t_Psi = (1-b)^2 t_U``."""
    _harmonic_region(a, b)  # before dividing by 2b - 1
    tU = 2.0 * b / (2.0 * b - 1.0)
    return (_second_order_exact(k, a, b, h0),
            _nu_term(k, a) * (1.0 - b) ** 2 * tU / 4.0 + h0 * ((1.0 + a) / (k + a)) ** (2.0 * b))


@bound(source=f"{SRC} Appendix B, Lemma 15 (upper bound), as printed; n = 1", family="quadratic",
       space=SPACE_LEMMA15, hypotheses=THEOREM5_HYPOTHESES + " (n = 1, B = 1, Sigma_g = 1, theta_0 = theta*)",
       certify=_lemma15_mp, erratum=ERRATUM_LEMMA15)
def lemma15_upper_printed(k, a, b):
    """``1/2 tr(H E_k) <= nu(a) k/(4(k+a)^3) tr((B^-1 - H^-1/2)^-1 Psi_1(U))`` (Lemma 15, halved); at
    ``theta_0 = theta*``, ``1/2 tr(H E_k) = E[h(theta_k)] - h* - t_U/(4(k+a))``."""
    return _second_order_exact(k, a, b, 0.0), _nu_term(k, a) * (1.0 - b) ** 2 * b / (2.0 * b - 1.0) / 2.0


@bound(source=f"{SRC} §14.2, Theorem 5 (harmonic u(k)) and Appendix B, Lemma 15, corrected: the exact S_k(a, b) of "
              "Proposition 23 in place of nu(a) k/(k+a)^3; n = 1", family="quadratic", space=SPACE_CORRECTED,
       hypotheses=THEOREM5_HYPOTHESES + ", h(theta_0) = h0 >= 0 (n = 1, B = 1, Sigma_g = 1)",
       certify=_corrected_mp)
def theorem5_harmonic_upper_corrected(k, a, b, h0):
    """``E[h(theta_k)] - h* <= t_U/(4(k+a)) + S_k(a, b) t_Psi/4 + h0 ((1+a)/(k+a))^(2b)``: u(k) with Lemma 15's use of
    Proposition 23's second inequality replaced by the sum it bounds
    (:func:`theorytools.quadratic.lemmas.proposition23_sum`).  Stated whole: it is tight to rounding where
    ``b >= 3/2`` and k is large (the slack, t_U P_k^2/(4a), decays like k^-2b), where its second-order part alone
    would be lost to cancellation."""
    _harmonic_region(a, b)  # before dividing by 2b - 1
    tU = 2.0 * b / (2.0 * b - 1.0)
    first = tU / (4.0 * (k + a))
    rhs = first + Q.lemmas.proposition23_sum(int(k), a, b) * (1.0 - b) ** 2 * tU / 4.0
    return _second_order_exact(k, a, b, h0) + first, rhs + h0 * ((1.0 + a) / (k + a)) ** (2.0 * b)


# -- §14.2.1: B = lambda_n(H) I, a = kappa(H) (b = 1); n = 3 ------------------------------------------------------------
# With B = lambda_n I every matrix commutes with H in its eigenbasis, where only the diagonal of Sigma_g enters the
# risk; lambda_n = 1 (a scale), H = diag(1, r, kappa) with r = 1 + t (kappa - 1), Sigma_g = diag(s1, s2, s3), and
# theta_0 = theta* (the start terms of both sides are equal: h(theta_0) ((1+kappa)/(k+kappa))^2 bounds it).
SPACE_LAMBDA_N = {"k": LogInteger(1, HARMONIC_KMAX), "kappa": LogReal(1.0, 1e4), "t": Real(0.0, 1.0),
                  "s1": Real(0.0, 1.0), "s2": Real(0.0, 1.0), "s3": Real(0.0, 1.0)}
ERRATUM_LAMBDA_N = CHECKS["quadratic.lambda_n_specialization"].erratum


def _lambda_n_problem(kappa, t, s1, s2, s3):
    if not s1 + s2 + s3 > 0:
        raise HypothesisError("Sigma_g = diag(s1, s2, s3) must not vanish (both sides would be 0)")
    return Q.QuadraticProblem(np.diag([1.0, 1.0 + t * (kappa - 1.0), kappa]), np.eye(3), np.diag([s1, s2, s3]),
                              np.zeros(3))


def _lambda_n_sides(version):
    def sides(k, kappa, t, s1, s2, s3):
        p = _lambda_n_problem(kappa, t, s1, s2, s3)
        return (Q.excess_risk(p, Q.Harmonic(kappa), int(k)),
                Q.consequences.harmonic_lambda_n_bound(p, int(k), version=version))

    sides.__doc__ = (f"``(E[h(theta_k)] - h*, the §14.2.1 display ({version}))`` for H = diag(1, r, kappa), "
                     "B = lambda_n(H) I = I, alpha_j = 1/(j+kappa+1), theta_0 = theta*.")
    return sides


def _lambda_n_mp(version):
    def certify(k, kappa, t, s1, s2, s3):
        """Both sides at 50 digits: the exact risk by the reference's route (:mod:`verification.reference.harmonic`),
        the display with T = t_U = tr((B^-1 - H^-1/2)^-1 Sigma_g) = sum_i s_i lambda_i/(lambda_i - 1/2) (B = I) and
        mpmath's digamma."""
        from verification.reference import harmonic as RH

        with mp.workdps(CERTIFY_DPS):
            kap, t = mpf_exact(kappa), mpf_exact(t)
            lams, s = (mp.mpf(1), 1 + t * (kap - 1), kap), [mpf_exact(v) for v in (s1, s2, s3)]
            exact = RH.excess_risk_diagonal(kap, lams, s, (0, 0, 0), int(k), dps=CERTIFY_DPS)
            T = mp.fsum(si * lam / (lam - mp.mpf(1) / 2) for lam, si in zip(lams, s))  # tr((I - H^-1/2)^-1 Sigma_g)
            first = T / (4 * (k + kap))
            if version == "printed":
                return exact, first + _nu_term(k, kap) * T / 4
            return exact, first + (kap - 1) ** 2 * T * (mp.digamma(k + kap) - mp.digamma(kap)) / (4 * (k + kap) ** 2)

    return certify


lambda_n_display_printed = bound(
    source=f"{SRC} §14.2.1, B = lambda_n(H) I, a = kappa(H): the display with Theorem 5's nu(kappa) k/(4(k+kappa)^3) for "
           "its O(1/(k+kappa)^2) term (the text's Psi_1(U) <= U); n = 3", family="quadratic", space=SPACE_LAMBDA_N,
    hypotheses="integer k >= 1, kappa = kappa(H) >= 1, B = lambda_n(H) I, alpha_j = 1/(j+kappa+1), Sigma_g >= 0",
    certify=_lambda_n_mp("printed"), erratum=ERRATUM_LAMBDA_N, name="lambda_n_display_printed",
)(_lambda_n_sides("printed"))
lambda_n_display_corrected = bound(
    source=f"{SRC} §14.2.1, B = lambda_n(H) I, a = kappa(H): the display corrected ((kappa-1)^2 T (psi(k+kappa) - "
           "psi(kappa))/(4(k+kappa)^2) for its O-term); n = 3", family="quadratic", space=SPACE_LAMBDA_N,
    hypotheses="integer k >= 1, kappa = kappa(H) >= 1, B = lambda_n(H) I, alpha_j = 1/(j+kappa+1), Sigma_g >= 0",
    certify=_lambda_n_mp("corrected"), name="lambda_n_display_corrected",
)(_lambda_n_sides("corrected"))


# -- Theorem 5 (constant steps): l(k) <= E[h(theta_k)] - h* <= u(k); n = 3 ----------------------------------------------
# B = I and alpha = 1 (a scale): the eigenvalues x_i = alpha lambda_i(B^-1 H) in (0, 1] (alpha lambda_1 <= 1),
# Sigma_g = diag(s_i) and start terms d_i = lambda_i z0_i^2 / 2 (h(theta_0) = sum d_i) span the statement for n = 3.
SPACE_CONSTANT = {"k": LogInteger(1, HARMONIC_KMAX), **{f"x{i}": LogReal(1e-6, 1.0) for i in (1, 2, 3)},
                  **{f"s{i}": Real(0.0, 1.0) for i in (1, 2, 3)}, **{f"d{i}": Real(0.0, 1.0) for i in (1, 2, 3)}}
CONSTANT_HYPOTHESES = "integer k >= 1, 0 < alpha lambda_i(B^-1 H) <= 1 (n = 3, B = I, alpha = 1), Sigma_g, h(theta_0) >= 0"


def _constant_terms(k, x, s, d):
    """Vectorized (rows: x_i, s_i, d_i; columns: candidates): ``(exact, N, q_1, q_n, h0)`` with the exact
    ``sum_i c_i (1 - (1-x_i)^2k) + d_i (1-x_i)^2k``, ``c_i = s_i/(2(2 - x_i))`` (eqn. 20 in B^-1 H's eigenbasis),
    ``N = sum_i c_i`` (eqn. 29's noise floor), ``q = (1 - eps)^2k`` at the largest and smallest x."""
    k = np.asarray(k, dtype=float)
    with np.errstate(divide="ignore"):
        logq = 2.0 * k * np.log1p(-x)
    c = s / (2.0 * (2.0 - x))
    exact = np.sum(-c * np.expm1(logq) + d * np.exp(logq), axis=0)
    return exact, np.sum(c, axis=0), np.exp(logq.min(axis=0)), np.exp(logq.max(axis=0)), np.sum(d, axis=0)


def _constant_stack(point):
    return (np.array([np.asarray(point[f"{v}{i}"], dtype=float) for i in (1, 2, 3)]) for v in "xsd")


@bound(source=f"{SRC} §14.2, Theorem 5 (constant alpha), u(k); n = 3", family="quadratic", space=SPACE_CONSTANT,
       hypotheses=CONSTANT_HYPOTHESES, certify=lambda **p: _constant_mp(p, "upper"), vectorized=True)
def theorem5_constant_upper(k, **point):
    """``(E[h(theta_k)] - h*, u(k))``, ``u(k) = [1 - (1-eps_1)^2k] N + (1-eps_2)^2k h(theta_0)``."""
    exact, N, q1, q2, h0 = _constant_terms(k, *_constant_stack(point))
    return exact, (1.0 - q1) * N + q2 * h0


@bound(source=f"{SRC} §14.2, Theorem 5 (constant alpha), l(k); n = 3", family="quadratic", space=SPACE_CONSTANT,
       hypotheses=CONSTANT_HYPOTHESES, certify=lambda **p: _constant_mp(p, "lower"), vectorized=True)
def theorem5_constant_lower(k, **point):
    """``(l(k), E[h(theta_k)] - h*)``, ``l(k) = [1 - (1-eps_2)^2k] N + (1-eps_1)^2k h(theta_0)``."""
    exact, N, q1, q2, h0 = _constant_terms(k, *_constant_stack(point))
    return (1.0 - q2) * N + q1 * h0, exact


def _constant_mp(point, side):
    """``certify`` of Theorem 5's constant-step bounds: the same sums at 50 digits (mpmath powers)."""
    with mp.workdps(CERTIFY_DPS):
        k = int(point["k"])
        x, s, d = ([mpf_exact(point[f"{v}{i}"]) for i in (1, 2, 3)] for v in "xsd")
        q = [(1 - xi) ** (2 * k) for xi in x]
        c = [si / (2 * (2 - xi)) for si, xi in zip(s, x)]
        exact = mp.fsum(ci * (1 - qi) + di * qi for ci, qi, di in zip(c, q, d))
        N, h0, q1, q2 = mp.fsum(c), mp.fsum(d), q[x.index(max(x))], q[x.index(min(x))]
        if side == "upper":
            return exact, (1 - q1) * N + q2 * h0
        return (1 - q2) * N + q1 * h0, exact
