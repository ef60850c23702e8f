"""Consequences of Theorems 5 and 6 (001_7d31b3ff3a2f0401.txt §14.1-§14.3.2, Appendix C), each against the
exact risks of :mod:`theorytools.quadratic.risk` (themselves tested against dense and mpmath recursions in
test_moments / the risk tests) or an independent closed form, plus the findings: the §14.2.1 bound for
``B = lambda_n(H) I`` as printed, Theorem 5's harmonic upper bound for ``b < 3/2``, the n/(k+1) and
Polyak-Juditsky covariance misprints, and the factor 2 of the Defossez-Bach approximation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theorytools.errors import HypothesisError
from theorytools.quadratic import (
    Harmonic,
    QuadraticProblem,
    averaged_excess_risk,
    excess_risk,
    harmonic_traces,
    linear_spectrum_problem,
    mean_iterate,
    nu,
    random_problem,
    theorem5_bounds,
    theorem6_bound,
    variance_recursion,
)
from theorytools.quadratic.consequences import (
    amari_limit,
    appendixC_first_order_chain,
    appendixC_second_order_chain,
    averaged_covariance,
    bordes_constants,
    defossez_bach_approximation,
    first_order_noise_constant,
    flammarion_bach_bound,
    harmonic_BH_bound,
    harmonic_BH_exact,
    harmonic_lambda_n_bound,
    linear_spectrum_noise_constants,
    polyak_juditsky_asymptote,
    polyak_juditsky_covariance,
    realizable_noise_constants,
    realizable_noise_relations,
    second_order_noise_constant,
    theorem5_harmonic_upper_corrected,
    theorem6_BH_bound,
    theorem6_BI_bound,
    with_preconditioner,
)
from theorytools.quadratic.lemmas import proposition23_product, proposition23_sum

EPS = np.finfo(float).eps
SIGMA_KINDS = ("H", "random", "lowrank", "identity")
#: Relative slack for "exact <= bound": the exact risks are accurate to ~1e-10 relative for the
#: condition numbers used here (their own tests), the bounds to a few ulps of dense solves.
BOUND_RTOL = 1e-9


def route_rtol(p, k=1):
    """Relative tolerance between the eigenbasis routes and dense formulas on the same problem.

    The generalized eigenvalues of (H, B) carry relative errors ~ eps cond(B); the risk depends on them
    through powers/products with logarithmic sensitivity ~(1 + log(1+k)) (see tests/conftest.py,
    ``route_rtol``), and the dense traces (solves with H, B^-1 - H^-1/2) carry ~ eps cond(H).
    """
    c = max(np.linalg.cond(p.B), np.linalg.cond(p.H))
    return 1e-10 + 8.0 * (1.0 + np.log1p(float(np.max(k)))) * EPS * c


@st.composite
def problems(draw, nmax=5, kmax=1e8, B_kinds=("H", "I", "lambda_n", "random")):
    n = draw(st.integers(1, nmax))
    kappa = 10.0 ** draw(st.floats(0.0, np.log10(kmax)))
    return random_problem(n, kappa, draw(st.sampled_from(B_kinds)), draw(st.sampled_from(SIGMA_KINDS)),
                          seed=draw(st.integers(0, 2**31)))


def leq(a, b, rtol=BOUND_RTOL):
    return np.all(np.asarray(a) <= np.asarray(b) * (1 + rtol) + 1e-300)


# ---------------------------------------------------------------------------------------------
# §14.1 Amari and the exact B = H harmonic risk
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 7])
def test_amari_rate_is_exact_for_B_H_Sigma_H(n):
    """eqn. 18: k (E h(theta_k) - h*) -> n/2 with alpha_k = 1/(k+1); here it equals n/2 for every k >= 1."""
    p = random_problem(n, 1e4, "H", "H", seed=n)
    # (k <= 1e4: with a = 0, lambda = 1 = a + 1 up to an ulp, excess_risk may take its O(k) direct recursion)
    ks = np.array([1, 2, 3, 10, 1000, 10**4])
    got = ks * excess_risk(p, Harmonic(0.0), ks)
    # excess_risk (Gamma ratios, log-space sums) vs n/2: ~1e-13 per unit, times log k
    assert np.allclose(got, n / 2.0, rtol=1e-10, atol=0)
    assert np.allclose(ks * amari_limit(n, ks), n / 2.0, rtol=1e-15)


@given(problems(B_kinds=("H",)), st.sampled_from([0.0, 0.5, 1.0, 2.5, 40.0]))
@settings(max_examples=25)
def test_harmonic_BH_exact_matches_excess_risk(p, a):
    ks = np.array([0, 1, 2, 5, 37, 1000, 10**4])
    # closed form k t/(2(k+a)^2) + h0 (a/(k+a))^2 vs the generic Gamma-ratio / log-space routes
    assert np.allclose(harmonic_BH_exact(p, a, ks), excess_risk(p, Harmonic(a), ks), rtol=route_rtol(p, ks), atol=0)


@given(problems(B_kinds=("H",)), st.floats(1.0, 100.0))
@settings(max_examples=15)
def test_harmonic_BH_bound_holds_and_is_tight(p, a):
    ks = np.unique(np.logspace(0, 4, 13).astype(int))
    exact = excess_risk(p, Harmonic(a), ks)
    bound = harmonic_BH_bound(p, a, ks)
    rt = route_rtol(p, ks)
    assert leq(exact, bound, rtol=rt)
    # the gap is explicit: noise k/(k+a) of the bound's, start (a/(a+1))^2 of the bound's
    t = 0.5 * np.trace(np.linalg.solve(p.H, p.Sigma_g))
    gap = t * a / (ks + a) ** 2 + p.h0 * ((1 + a) ** 2 - a**2) / (ks + a) ** 2
    assert np.all(np.abs(bound - exact - gap) <= 2 * rt * bound)  # a difference of two values accurate to rt
    # and it is Theorem 5's own u(k) (Psi_1 = 0); the dense trace of (B^-1 - H^-1/2)^-1 U is accurate to ~eps cond(H)
    assert np.allclose(bound, theorem5_bounds(p, Harmonic(a), ks)[1], rtol=rt)


def test_harmonic_BH_bound_checks_B():
    p = random_problem(3, 10.0, "I", "H", seed=0)
    with pytest.raises(HypothesisError, match="B = H"):
        harmonic_BH_bound(p, 1.0, 10)


# ---------------------------------------------------------------------------------------------
# §14.2.1, B = lambda_n(H) I: the printed explicit bound fails, the corrected one holds
# ---------------------------------------------------------------------------------------------
def test_psi1_U_leq_U_is_false_and_its_trace_form_needs_kappa_at_most_2():
    """The text's "Psi_1(U) <= U" (B = lambda_n I): Psi_1(U) = D U D with D = I - H/lambda_n.

    As a Loewner inequality it fails for every kappa > 1 and a U that does not commute with H; the
    trace form that the derivation needs, tr(M Psi_1(U)) <= tr(M U) with M = (B^-1 - H^-1/2)^-1,
    follows from Lemma 20 iff D^2 <= I, i.e. kappa <= 2, and fails beyond (U along the top eigenvector).
    """
    for kappa in (1.5, 2.0, 3.0, 100.0):
        p = with_preconditioner(random_problem(4, kappa, "I", "random", seed=3), "lambda_n")
        D = np.eye(p.n) - p.BinvH
        gap = np.linalg.eigvalsh(p.U - D @ p.U @ D.T)[0]
        assert gap < -1e-3 * np.abs(p.U).max()  # not a Loewner inequality, even for kappa = 1.5
        M = np.linalg.inv(np.linalg.inv(p.B) - 0.5 * np.linalg.inv(p.H))
        w, Q = np.linalg.eigh(p.H)
        for U in (p.U, np.outer(Q[:, -1], Q[:, -1])):  # a generic U, and U along the top eigenvector
            lhs, rhs = np.sum(M * (D @ U @ D.T)), np.sum(M * U)
            if kappa <= 2.0:
                assert lhs <= rhs * (1 + 1e-12)
            elif U is not p.U:  # D U D = (kappa - 1)^2 U along the top eigenvector
                assert lhs == pytest.approx((kappa - 1.0) ** 2 * rhs, rel=1e-9) and lhs > rhs


@pytest.mark.parametrize("n", [2, 4, 10])
def test_printed_lambda_n_bound_is_violated(n):
    """§14.2.1 second display made explicit with Psi_1(U) <= U: with the realizable Sigma_g = H,
    kappa = 100 and theta_0 = theta* (no start term) the exact risk is 1.9x (n = 2), 1.6x (n = 4),
    1.2x (n = 10) above it at k = 1, and still above at k = 1000."""
    p0 = random_problem(n, 100.0, "I", "H", seed=1)
    p = QuadraticProblem(p0.H, np.linalg.eigvalsh(p0.H)[0] * np.eye(n), p0.Sigma_g, p0.theta_star)
    a = p.lambda_1 / p.lambda_n  # = kappa(H)
    ks = np.array([1, 2, 5, 10, 100, 1000])
    exact = excess_risk(p, Harmonic(a), ks)
    printed = harmonic_lambda_n_bound(p, ks, "printed")
    assert exact[0] > 1.2 * printed[0]
    assert np.all(exact > printed)
    # Theorem 5's own u(k) (with the true Psi_1(U) trace) and the corrected form are not violated here
    assert leq(exact, theorem5_bounds(p, Harmonic(a), ks)[1])
    assert leq(exact, harmonic_lambda_n_bound(p, ks, "corrected"))


@given(problems(nmax=4, kmax=1e4, B_kinds=("I",)))
@settings(max_examples=20)
def test_corrected_lambda_n_bound_holds(p0):
    p = with_preconditioner(p0, "lambda_n")
    ks = np.unique(np.logspace(0, 4, 15).astype(int))
    exact = excess_risk(p, Harmonic(p.lambda_1 / p.lambda_n), ks)
    assert leq(exact, harmonic_lambda_n_bound(p, ks, "corrected"))


def test_lambda_n_bound_versions_when_kappa_is_1():
    p = with_preconditioner(random_problem(3, 1.0, "I", "random", seed=5), "lambda_n")
    ks = np.array([1, 10, 100])
    T = 4 * first_order_noise_constant(p.H, p.Sigma_g)
    corr = harmonic_lambda_n_bound(p, ks, "corrected")
    # kappa = 1: (kappa - 1)^2 = 0, so the corrected form is T/(4(k+1)) + h0 (2/(k+1))^2 ...
    assert np.allclose(corr, T / (4 * (ks + 1.0)) + p.h0 * (2 / (ks + 1.0)) ** 2, rtol=1e-12)
    # ... which is the B = H bound with a = 1 (here B = lambda_n I = H), above the exact risk
    assert np.allclose(corr, harmonic_BH_bound(p, 1.0, ks), rtol=1e-10)
    assert leq(harmonic_BH_exact(p, 1.0, ks), corr)
    # the printed form keeps nu(1) k T/(4(k+1)^3) although Psi_1 = 0
    printed = harmonic_lambda_n_bound(p, ks, "printed")
    assert np.allclose(printed - corr, nu(1.0) * ks * T / (4 * (ks + 1.0) ** 3), rtol=1e-10)


# ---------------------------------------------------------------------------------------------
# Theorem 5's harmonic upper bound: printed u(k) fails for b < 3/2 (via Proposition 23); corrected holds
# ---------------------------------------------------------------------------------------------
def test_theorem5_printed_upper_bound_fails_in_1d():
    """1-D, B = 1, H = b = 1.3, Sigma_g = 1, theta_0 = theta*, a = 30 (all Theorem 5 hypotheses hold).

    Lemma 13 gives exactly ``E h - h* = t_U/(4(k+a)) + b/2 (Z S_k(a,b) + E_0 P_k(b)^2)`` with
    ``Z = (1-b)^2/(2b-1)``, ``E_0 = -1/(a(2b-1))``; the printed u(k) replaces the bracket by
    ``Z nu(a) k/(k+a)^3``.  Both second-order terms are formed directly (no cancellation against the
    leading 1/k term), to ~1e-13 relative.
    """
    a, b, k = 30.0, 1.3, 3_000_000
    p = QuadraticProblem([[b]], [[1.0]], [[1.0]], [0.0])
    lower, upper = theorem5_bounds(p, Harmonic(a), k)  # checks the hypotheses
    Z, E0 = (1 - b) ** 2 / (2 * b - 1), -1.0 / (a * (2 * b - 1))
    tU, tPsi = harmonic_traces(p)

    def lemma13_exact(kk):
        S, P = proposition23_sum(kk, a, b), proposition23_product(0, kk, a, b)
        return tU / (4 * (kk + a)) + 0.5 * b * (Z * S + E0 * P * P), S, P

    # the decomposition against the generic exact risk (log-space sum over 1e6 steps, ~1e-9 relative)
    assert excess_risk(p, Harmonic(a), 10**6) == pytest.approx(lemma13_exact(10**6)[0], rel=1e-8)
    exact, S, P = lemma13_exact(k)
    second_exact = 0.5 * b * (Z * S + E0 * P * P)
    second_printed = 0.5 * b * Z * nu(a) * k / (k + a) ** 3
    assert second_exact > 1.15 * second_printed  # 17.5% above at k = 3e6 (33% at 1e7, -> 47%)
    assert second_printed == pytest.approx(nu(a) * k * tPsi / (4 * (k + a) ** 3), rel=1e-12)
    assert exact > upper  # by ~6e-9 relative; both sides are accurate to ~1e-13 here
    assert (exact - upper) / exact > 1e-9
    # the corrected bound (exact S_k instead of Proposition 23) holds: its slack is -E0 P^2 b/2 > 0
    corr = theorem5_harmonic_upper_corrected(p, a, k)
    assert exact <= corr and corr - exact == pytest.approx(-0.5 * b * E0 * P * P, rel=1e-6)


@given(problems(nmax=4, kmax=1e4), st.floats(0.55, 3.0), st.floats(0.0, 3.0))
@settings(max_examples=30)
def test_theorem5_corrected_upper_bound_holds(p0, b_target, extra_a):
    p = QuadraticProblem(p0.H, p0.B * (p0.lambda_n / b_target), p0.Sigma_g, p0.theta0)
    a = max(1.0, p.lambda_1 - 1.0) + extra_a
    ks = np.array([1, 2, 5, 20, 100, 1000, 5000])
    exact = excess_risk(p, Harmonic(a), ks)
    lower, upper = theorem5_bounds(p, Harmonic(a), ks)
    corr = theorem5_harmonic_upper_corrected(p, a, ks)
    assert leq(exact, corr) and leq(lower, exact)
    if p.lambda_n >= 1.5:  # there the printed Proposition 23 holds, and the corrected bound is tighter
        assert leq(corr, upper)


# ---------------------------------------------------------------------------------------------
# Noise constants (§14.2.1) and Appendix C
# ---------------------------------------------------------------------------------------------
@given(st.integers(1, 40), st.floats(0.0, 8.0), st.integers(0, 2**31))
def test_realizable_noise_constants_and_relations(n, decades, seed):
    rng = np.random.default_rng(seed)
    lam = 10.0 ** rng.uniform(-decades, 0, n)
    half_n, c1 = realizable_noise_constants(lam)
    (r_sum, c1b), (half_n_b, two_c1) = realizable_noise_relations(lam)
    assert half_n == half_n_b == n / 2 and c1b == c1 and two_c1 == 2 * c1
    # the relations of §14.2.1, with the rounding of n-term sums
    assert r_sum <= c1 * (1 + 4 * n * EPS) and half_n <= two_c1 * (1 + 4 * n * EPS)
    # independent route: dense trace formulas with Sigma_g = H (eigenvalues of a rational function of H)
    if decades <= 6:  # keep the dense solves accurate (cond(H) <= 1e6)
        Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
        H = (Q * lam) @ Q.T
        H = 0.5 * (H + H.T)
        assert second_order_noise_constant(H, H) == pytest.approx(n / 2, rel=1e-8)
        assert first_order_noise_constant(H, H) == pytest.approx(c1, rel=1e-8)


def test_noise_relation_factor_2_is_never_needed():
    """§14.2.1 states n/2 <= 2 c1; in fact n/2 <= c1 (r/(1 - 1/(2r)) >= 2 for r >= 1), equality iff H = c I."""
    half_n, two_c1 = realizable_noise_relations(np.full(5, 3.0))[1]
    assert 2 * half_n == pytest.approx(two_c1, rel=1e-15)  # H = c I: c1 = n/2 exactly
    rng = np.random.default_rng(0)
    for _ in range(50):
        lam = 10.0 ** rng.uniform(-8, 0, rng.integers(1, 30))
        half_n, c1 = realizable_noise_constants(lam)
        assert half_n <= c1 * (1 + 1e-14)


@given(problems(nmax=6, kmax=1e6))
def test_second_order_noise_constant_never_exceeds_first_order(p):
    """For ANY Sigma_g: 1/2 tr(H^-1 S) <= 1/(4 l_n) tr((I - l_n/2 H^-1)^-1 S).  Per eigendirection of H the
    ratio of the two weights is (2 r - 1)/r^2 <= 1, so B = H is never worse (the text: 'no worse than twice')."""
    second = second_order_noise_constant(p.H, p.Sigma_g)
    first = first_order_noise_constant(p.H, p.Sigma_g)
    assert second <= first * (1 + 1e-8)  # dense solves, cond(H) <= 1e6


@pytest.mark.parametrize("n", [1, 2, 3, 10, 100, 1000])
def test_linear_spectrum_example_is_omega_n_squared(n):
    half_n, c1 = linear_spectrum_noise_constants(n)
    assert (half_n, c1) == pytest.approx(realizable_noise_constants(np.arange(n, 0, -1.0)), rel=1e-13)
    # c1 = n(n+2)/8 + O(log n): Omega(n^2), while the B = H constant is n/2
    assert n * (n + 2) / 8 <= c1 <= n * (n + 2) / 8 + (1 + np.log(2 * n)) / 8
    if n <= 100:  # the dense route on §14.2.1's instance (random eigenbasis)
        p = linear_spectrum_problem(n, "lambda_n", seed=n)
        assert first_order_noise_constant(p.H, p.Sigma_g) == pytest.approx(c1, rel=1e-9)
        assert second_order_noise_constant(p.H, p.Sigma_g) == pytest.approx(n / 2, rel=1e-9)


@given(problems(nmax=6))
def test_appendixC_chains(p):
    tol = 1e-10  # dense solves with cond(H) <= 1e8 are accurate to ~cond * eps ~ 2e-8 absolute-relative; Lemma 18 margin
    c2 = appendixC_second_order_chain(p.H, p.Sigma_g)
    c1 = appendixC_first_order_chain(p.H, p.Sigma_g)
    lamH = np.linalg.eigvalsh(p.H)
    slack = 1e-7 * np.trace(p.Sigma_g) / lamH[0] + tol
    assert all(x <= y + slack for x, y in zip(c2, c2[1:]))
    assert all(x <= y + slack for x, y in zip(c1, c1[1:]))
    # the middle terms are the two noise constants
    assert c2[1] == second_order_noise_constant(p.H, p.Sigma_g)
    assert c1[2] == first_order_noise_constant(p.H, p.Sigma_g)


# ---------------------------------------------------------------------------------------------
# §14.2.2 Bordes et al.
# ---------------------------------------------------------------------------------------------
@given(problems(nmax=5, kmax=1e6), st.floats(0.55, 4.0))
def test_bordes_constants_bracket_the_exact_limit(p0, b_target):
    p = QuadraticProblem(p0.H, p0.B * (p0.lambda_n / b_target), p0.Sigma_g, p0.theta0)
    lo, mid, hi = bordes_constants(p)
    assert lo <= mid * (1 + 1e-8) and mid <= hi * (1 + 1e-8)


@pytest.mark.parametrize("seed", [0, 1])
def test_k_times_risk_tends_to_bordes_middle(seed):
    p0 = random_problem(4, 20.0, "random", "random", seed=seed)
    p = QuadraticProblem(p0.H, p0.B * (p0.lambda_n / 1.2), p0.Sigma_g, p0.theta0)  # b = 1.2 > 1: O(1/k) approach
    a = max(1.0, p.lambda_1 - 1.0)
    _, mid, _ = bordes_constants(p)
    ks = np.array([10**2, 10**3, 10**4, 10**5])
    err = np.abs(ks * excess_risk(p, Harmonic(a), ks) / mid - 1)
    # Theorem 5: k risk = k t_U/(4(k+a)) + O(1/k) (b = 1.2 > 1), so err ~ C/k
    assert err[-1] < 1e-2 and np.all(np.diff(err) < 0) and err[-1] < 0.02 * err[0]


def test_bordes_needs_b_above_half():
    p = random_problem(3, 10.0, "I", "H", seed=0)
    p = QuadraticProblem(p.H, p.B * (p.lambda_n / 0.4), p.Sigma_g, p.theta0)
    with pytest.raises(HypothesisError, match="> 1/2"):
        bordes_constants(p)


# ---------------------------------------------------------------------------------------------
# §14.3.1 Theorem 6 specializations, the n/(k+1) misprint
# ---------------------------------------------------------------------------------------------
@given(problems(nmax=5, kmax=1e6, B_kinds=("I",)), st.floats(0.05, 1.0))
@settings(max_examples=30)
def test_theorem6_specializations_hold(p0, frac):
    ks = np.array([0, 1, 3, 10, 100, 10**4, 10**6])
    for kind, spec in (("H", theorem6_BH_bound), ("I", theorem6_BI_bound)):
        p = with_preconditioner(p0, kind)
        al = frac / p.lambda_1
        exact = averaged_excess_risk(p, al, ks)
        bound = spec(p, ks, al)
        assert leq(exact, bound)
        if frac < 1.0:  # Theorem 6 proper (alpha lambda_1 < 1) takes the minima, so it is below
            assert leq(theorem6_bound(p, al, ks), bound)
        # maximal alpha (the alpha -> 1/lambda_1 limit) also bounds the exact risk at that alpha
        assert leq(averaged_excess_risk(p, 1.0 / p.lambda_1, ks), spec(p, ks))


@given(problems(nmax=5, kmax=1e8, B_kinds=("I",)))
def test_second_order_start_term_never_worse(p0):
    """§14.3.1: lambda_1(H)^2 |H^{-1/2} d|^2 / 2 >= h(theta_0) (B = I at max alpha vs B = H at max alpha)."""
    pI, pH = with_preconditioner(p0, "I"), with_preconditioner(p0, "H")
    k = np.array([0, 5, 1000])
    tH = theorem6_BH_bound(pH, k) - polyak_juditsky_asymptote(pH, k)
    tI = theorem6_BI_bound(pI, k) - polyak_juditsky_asymptote(pI, k)
    assert leq(tH, tI, rtol=1e-8)


def test_B_H_averaged_risk_at_alpha_1_closed_form():
    """alpha = 1, B = H: theta_k - theta* = -H^-1 xi_{k-1} independent, so the exact risk is
    h0/(k+1)^2 + k tr(H^-1 Sigma)/(2(k+1)^2) -- the §14.3.1 maximal-alpha bound minus k... explicit."""
    p = random_problem(5, 1e3, "H", "random", seed=9)
    ks = np.array([0, 1, 2, 10, 10**5])
    t = np.trace(np.linalg.solve(p.H, p.Sigma_g))
    closed = p.h0 / (ks + 1.0) ** 2 + ks * t / (2 * (ks + 1.0) ** 2)
    assert np.allclose(averaged_excess_risk(p, 1.0, ks), closed, rtol=1e-9)
    assert np.all(theorem6_BH_bound(p, ks) - closed >= -1e-12)


@pytest.mark.parametrize("B_kind", ["I", "H"])
def test_averaged_rate_is_n_over_2k_not_n_over_k(B_kind):
    """§14.3.1 says "n/(k+1) + o(1/k)" for averaged SGD with Sigma_g = H; Theorem 6 and the exact risk give n/(2(k+1))."""
    n = 6
    p = with_preconditioner(random_problem(n, 10.0, "I", "H", seed=4), B_kind)
    k = 10**8
    val = (k + 1) * averaged_excess_risk(p, 0.5 / p.lambda_1, k)
    assert val == pytest.approx(n / 2, rel=1e-5)
    assert abs(val - n) > 0.4 * n


# ---------------------------------------------------------------------------------------------
# §14.3.2 Polyak-Juditsky, Flammarion-Bach, Defossez-Bach
# ---------------------------------------------------------------------------------------------
def dense_averaged_covariance(p, alpha, k):
    """Vbar_k = (k+1)^-2 sum_{i,j} Cov(theta_i, theta_j) with eqn. 39 and the dense V_i recursion."""
    V = variance_recursion(p, alpha, k)
    D = np.eye(p.n) - alpha * p.BinvH
    out = np.zeros((p.n, p.n))
    for i in range(k + 1):
        C = V[i].copy()
        out += C
        for _ in range(i + 1, k + 1):
            C = C @ D.T
            out += C + C.T
    return out / (k + 1) ** 2


@given(problems(nmax=4, kmax=1e4), st.floats(0.1, 1.0), st.integers(0, 25))
@settings(max_examples=25)
def test_averaged_covariance_matches_eqn39_and_risk(p, frac, k):
    al = frac / p.lambda_1
    C = averaged_covariance(p, al, k)
    Cd = dense_averaged_covariance(p, al, k)
    assert np.linalg.norm(C - Cd) <= 1e-9 * max(np.linalg.norm(Cd), 1e-300)
    # eqn. 38: the exact averaged risk = 1/2 tr(H Cov) + mean part
    mbar = np.mean(np.atleast_2d(mean_iterate(p, al, np.arange(k + 1))) - p.theta_star, axis=0)
    risk = 0.5 * np.sum(p.H * C) + 0.5 * mbar @ p.H @ mbar
    assert risk == pytest.approx(averaged_excess_risk(p, al, k), rel=1e-8)


def test_polyak_juditsky_covariance_is_H_inv_Sigma_H_inv():
    p = random_problem(3, 5.0, "random", "random", seed=11)
    al = 0.5 / p.lambda_1
    k = 200_000
    C = (k + 1) * averaged_covariance(p, al, k)
    PJ = polyak_juditsky_covariance(p)
    # (k+1) Cov = PJ (1 + O(1/(k alpha lambda_n))) with 1/(alpha lambda_n) ~ 10 here
    assert np.linalg.norm(C - PJ) <= 1e-3 * np.linalg.norm(PJ)
    w, Q = np.linalg.eigh(p.H)
    Hmh = (Q / np.sqrt(w)) @ Q.T
    printed = Hmh @ p.Sigma_g @ Hmh
    assert np.linalg.norm(C - printed) > 0.1 * np.linalg.norm(PJ)
    # only H^-1 Sigma H^-1 reproduces the displayed risk tr(H^-1 Sigma)/(2(k+1)) through eqn. 20
    t = np.trace(np.linalg.solve(p.H, p.Sigma_g))
    assert 0.5 * np.sum(p.H * PJ) == pytest.approx(0.5 * t, rel=1e-10)
    assert 0.5 * np.sum(p.H * printed) == pytest.approx(0.5 * np.trace(p.Sigma_g), rel=1e-10)
    assert abs(np.trace(p.Sigma_g) - t) > 0.1 * t
    # and the risk asymptote itself
    assert (k + 1) * averaged_excess_risk(p, al, k) == pytest.approx(
        (k + 1) * polyak_juditsky_asymptote(p, k), rel=1e-3)


@given(problems(nmax=5, kmax=1e6, B_kinds=("I",)), st.floats(0.01, 1.0))
@settings(max_examples=30)
def test_flammarion_bach_bound_holds(p, frac):
    al = frac / p.lambda_1
    ks = np.array([0, 1, 10, 1000, 10**6])
    exact = averaged_excess_risk(p, al, ks)
    fb = flammarion_bach_bound(p, al, ks)
    assert leq(exact, fb)
    if frac < 1.0:
        assert leq(theorem6_bound(p, al, ks), fb)


def test_flammarion_bach_looseness_and_hypotheses():
    p = random_problem(5, 100.0, "I", "H", seed=2)
    al = 0.5 / p.lambda_1
    k = np.array([10, 10**3, 10**6])
    ratio = flammarion_bach_bound(p, al, k) / averaged_excess_risk(p, al, k)
    assert np.all(ratio > 8)  # does not decay: 4 alpha tr(Sigma) is constant in k
    assert ratio[-1] > 1e3
    with pytest.raises(HypothesisError, match="B = I"):
        flammarion_bach_bound(with_preconditioner(p, "H"), 0.5, 10)
    with pytest.raises(HypothesisError, match="alpha lambda_1"):
        flammarion_bach_bound(p, 2.0 / p.lambda_1, 10)


def test_defossez_bach_is_twice_the_exact_asymptote_for_constant_noise():
    """alpha -> 0, k -> inf with k alpha lambda_n(H) -> inf: exact averaged risk -> half of the DB formula."""
    p = random_problem(4, 10.0, "I", "random", seed=6)
    for al, k in [(1e-3, 10**8), (1e-4, 10**9), (1e-5, 10**10)]:
        ratio = defossez_bach_approximation(p, al, k) / averaged_excess_risk(p, al, k)
        assert ratio == pytest.approx(2.0, rel=5e-3)
    # outside the regime (moderate alpha, small k) it is not even within a factor 2
    r = defossez_bach_approximation(p, 0.5 / p.lambda_1, 5) / averaged_excess_risk(p, 0.5 / p.lambda_1, 5)
    assert not (1.0 < r < 2.5)
