"""Theorem 3 (001_7d31b3ff3a2f0401.txt §14.2, Appendix B): exact mean and variance of theta_k,
Lemma 9 (V_k = (I - Lambda^k)(V_inf)), Lemma 13 (harmonic representation and its error E_k) and
Proposition 7 (second moment = V_k + m_k m_k^T), each against dense recursions written from the
definitions (tests/conftest.py), scipy's Lyapunov solver and mpmath."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from theorytools.quadratic import (
    Constant,
    Harmonic,
    QuadraticProblem,
    StepSequence,
    V_infinity,
    harmonic_leading_variance,
    lemma13_error,
    lemma13_error_recursion,
    lemma13_Z,
    mean_iterate,
    operators,
    random_problem,
    second_moment,
    variance,
    variance_lemma9,
    variance_recursion,
)

EPS = np.finfo(float).eps

K = 60
KS = np.array([0, 1, 2, 3, 7, 20, 59, 60])


def assert_close_matrices(got, want, rtol):
    """``|got - want|_F <= rtol |want|_F`` for each k (or an absolute floor when want = 0)."""
    got, want = np.atleast_3d(got), np.atleast_3d(want)
    for g, w in zip(got, want):
        scale = np.linalg.norm(w)
        assert np.linalg.norm(g - w) <= rtol * scale + 1e-300, (np.linalg.norm(g - w), scale)


def assert_close_vectors(got, want, rtol, scale):
    got, want = np.atleast_2d(got), np.atleast_2d(want)
    assert np.all(np.linalg.norm(got - want, axis=-1) <= rtol * scale), np.linalg.norm(got - want, axis=-1)


def with_lambda1(p, lam1):
    """Same H, Sigma_g, theta0 with B scaled so that lambda_1(B^-1 H) = lam1 (up to rounding)."""
    return QuadraticProblem(p.H, p.B * (p.lambda_1 / lam1), p.Sigma_g, p.theta0, p.theta_star)


def schedules_for(p):
    """(name, problem, schedule): constant (x in {0.3, 1, 1.6}); harmonic with a = 0, non-integer a and
    a in (-1, 0), each both inside (lambda_1 <= a + 1: Gamma-ratio route) and outside (lambda_1 > a + 1:
    direct recursion route, alpha_0 lambda_1 up to 1.7); harmonic with the smallest a >= 1 allowed by
    Theorem 5; and a user step sequence."""
    rng = np.random.default_rng(p.n)
    return [
        ("const0.3", p, Constant(0.3 / p.lambda_1)),
        ("const1", p, Constant(1.0 / p.lambda_1)),
        ("const1.6", p, Constant(1.6 / p.lambda_1)),
        ("harm_a0_in", with_lambda1(p, 0.9), Harmonic(0.0)),
        ("harm_a0_out", with_lambda1(p, 1.7), Harmonic(0.0)),
        ("harm_a2.5_in", with_lambda1(p, 3.4), Harmonic(2.5)),
        ("harm_a2.5_out", with_lambda1(p, 5.0), Harmonic(2.5)),
        ("harm_a-0.5_in", with_lambda1(p, 0.45), Harmonic(-0.5)),
        ("harm_a-0.5_out", with_lambda1(p, 0.8), Harmonic(-0.5)),
        ("harm_fit", p, Harmonic(max(1.0, p.lambda_1 - 1.0))),
        ("seq", p, StepSequence(rng.uniform(0.05, 1.5, K) / p.lambda_1)),
    ]



# ---------------------------------------------------------------------------------------------
# Theorem 3: mean (eqn. 23) and variance (the V_{k+1} recursion) for every schedule
# ---------------------------------------------------------------------------------------------
def test_mean_and_variance_vs_dense_recursion(small_case, ref):
    for name, p, sched in schedules_for(ref.grid_problem(*small_case)):
        ms, Vs = ref.dense_moments(p, sched, K)
        # Tolerance: route_rtol (see conftest) -- both routes backward stable in B^-1 H.
        rtol = ref.route_rtol(p, K)
        m = mean_iterate(p, sched, KS) - p.theta_star
        scale = np.max(np.linalg.norm(ms, axis=1)) * np.sqrt(np.linalg.cond(p.B))
        assert_close_vectors(m, ms[KS], rtol, scale)
        V = variance(p, sched, KS)
        # the variance is compared with a norm scale max_k |V_k| (entries of V_k in directions that are
        # much smaller than |V_k| carry absolute, not relative, rounding)
        Vscale = np.max(np.linalg.norm(Vs, axis=(1, 2)))
        for kk, Vk in zip(KS, V):
            assert np.linalg.norm(Vk - Vs[kk]) <= rtol * Vscale * np.sqrt(np.linalg.cond(p.B)), (name, kk)
        # the module's own dense route agrees with ours up to rounding
        Vr = variance_recursion(p, sched, K)
        assert np.linalg.norm(Vr - Vs) <= 1e-12 * Vscale * np.linalg.cond(p.B), name


def test_scalar_k_returns_unstacked_shapes():
    p = random_problem(3, 10.0, seed=1)
    assert mean_iterate(p, 0.1, 5).shape == (3,)
    assert variance(p, 0.1, 5).shape == (3, 3)
    assert second_moment(p, 0.1, 5).shape == (3, 3)
    assert mean_iterate(p, 0.1, [5]).shape == (1, 3)
    assert variance(p, 0.1, [4, 5]).shape == (2, 3, 3)
    # k = 0: theta_0 exactly and no variance (V_0 = Var(theta_0) = 0)
    np.testing.assert_allclose(mean_iterate(p, 0.1, 0), p.theta0, rtol=0, atol=1e-14 * np.abs(p.theta0).max() * 10)
    assert np.all(variance(p, Harmonic(1.0), 0) == 0.0)


def test_harmonic_lambda1_equal_a_plus_1_exactly(ref):
    """lambda_1 = a + 1 exactly: the first factor (1 - alpha_0 lambda_1) = 0 kills that coordinate of the
    mean from k = 1 on.  A diagonal H with B = I gives exact eigenvalues; a permutation keeps them exact."""
    P = np.eye(3)[[2, 0, 1]]
    H = P @ np.diag([3.0, 1.25, 0.75]) @ P.T
    p = QuadraticProblem(H, np.eye(3), np.diag([0.5, 1.0, 2.0]), [1.0, -2.0, 0.5])
    assert p.lambda_1 == 3.0  # precondition: the eigensolve is exact here
    sched = Harmonic(2.0)  # a + 1 = 3 = lambda_1
    ms, Vs = ref.dense_moments(p, sched, K)
    m = mean_iterate(p, sched, KS)
    # relative 1e-13 of |m_0|: the product of <= 60 factors in (0, 1) computed by Gamma ratios (error ~1e-15)
    assert_close_vectors(m, ms[KS], 1e-13, np.linalg.norm(ms[0]))
    # the lambda_1 direction (coordinate 2 of theta after the permutation) is exactly 0 for k >= 1
    v1 = P @ np.array([1.0, 0.0, 0.0])
    assert np.all(np.abs(m[1:] @ v1) <= 1e-15)
    V = variance(p, sched, KS)
    for kk, Vk in zip(KS, V):
        assert np.linalg.norm(Vk - Vs[kk]) <= 1e-13 * np.linalg.norm(Vs[kk]) + 1e-300


@pytest.mark.parametrize("a", [0.0, 0.37, 1.0, 2.5, 40.0])
def test_harmonic_moments_vs_mpmath_2x2(a, ref):
    """Non-integer and zero a, 2x2 problem: against the mpmath recursion at 50 digits (relative 1e-12:
    the Gamma-ratio products and the log-space variance sum round at ~1e-14 for k <= 200)."""
    import mpmath as mp

    H = np.array([[2.0, 0.3], [0.3, 0.7]])
    B = np.array([[1.0, 0.2], [0.2, 1.5]])
    S = np.array([[1.0, -0.4], [-0.4, 0.5]])
    p = QuadraticProblem(H, B, S, [1.0, -1.0])
    Kmp = 200
    alphas = 1.0 / (np.arange(Kmp) + a + 1.0)
    risks = ref.mp_risk(H, B, S, p.theta0, alphas)
    ks = np.array([0, 1, 5, 50, 199, 200])
    from theorytools.quadratic import excess_risk

    got = excess_risk(p, Harmonic(a), ks)
    assert np.all(ref.rel_err(got, [risks[k] for k in ks]) <= 1e-12)
    # the mean alone, in mpmath
    with mp.workdps(50):
        A = mp.matrix(B.tolist()) ** -1 * mp.matrix(H.tolist())
        m = mp.matrix([1.0, -1.0])
        mk = {0: m}
        for j in range(Kmp):
            m = (mp.eye(2) - mp.mpf(float(alphas[j])) * A) * m
            mk[j + 1] = m
    mi = mean_iterate(p, Harmonic(a), ks)
    for row, k in zip(mi, ks):
        want = np.array([float(mk[k][0]), float(mk[k][1])])
        assert np.linalg.norm(row - want) <= 1e-12 * np.linalg.norm(want)


def test_harmonic_mean_long_horizon_vs_mpmath():
    """The mean factor prod_{j<k} (1 - lam/(j+a+1)) = Gamma(k+A-lam) Gamma(A) / (Gamma(A-lam) Gamma(k+A))
    for k up to 1e12 (the variance is limited to k <= 1e7, the mean is not).  Relative 1e-13:
    |ln P_k| <= ~60 here and ln P_k is formed to ~eps (|ln P_k| + 30) absolutely."""
    import mpmath as mp

    H = np.diag([0.6, 1.5, 2.0])
    p = QuadraticProblem(H, np.eye(3), np.eye(3), [1.0, 1.0, 1.0])
    for a in (1.0, 20.0, 1e4):
        ks = np.array([10**3, 10**6, 10**9, 10**12])
        m = mean_iterate(p, Harmonic(a), ks)
        for row, k in zip(m, ks):
            # theta0 = (1, 1, 1) and H diagonal, B = I: coordinate i of E[theta_k] is P_k(H_ii)
            for lam, got in zip((0.6, 1.5, 2.0), row):
                if lam == a + 1:  # the factor j = 0 vanishes: P_k = 0 exactly for k >= 1
                    assert got == 0.0
                    continue
                with mp.workdps(50):
                    A, L = mp.mpf(a) + 1, mp.mpf(lam)
                    want = mp.exp(mp.loggamma(k + A - L) + mp.loggamma(A) - mp.loggamma(A - L) - mp.loggamma(k + A))
                assert abs(got - want) <= 1e-13 * want, (a, k, lam, got, float(want))


def test_harmonic_large_a_large_lambda_vs_mpmath(ref):
    """Section 14.2.1's first-order setting B = lambda_n(H) I with a = kappa(H) = 1e8: eigenvalues of
    B^-1 H up to 1e8 and alpha_k ~ 1e-8.  The exact risk against mpmath (relative 1e-10; this is the
    regime where differences of ln Gamma values of size ~1e9 would lose 1e-7)."""
    H = np.diag([1.0, 1e-4, 1e-8])
    B = 1e-8 * np.eye(3)
    S = np.diag([1.0, 2.0, 3.0])
    p = QuadraticProblem(H, B, S, [1.0, 1.0, 1.0])
    a = p.lambda_1 - 1.0
    Kmp = 100
    alphas = 1.0 / (np.arange(Kmp) + a + 1.0)
    risks = ref.mp_risk(H, B, S, p.theta0, alphas)
    from theorytools.quadratic import excess_risk

    ks = np.array([0, 1, 2, 3, 10, 99, 100])
    got = excess_risk(p, Harmonic(a), ks)
    assert np.all(ref.rel_err(got, [risks[k] for k in ks]) <= 1e-10)


# ---------------------------------------------------------------------------------------------
# Lemma 9 and V_infinity (constant step)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("x", [0.2, 0.9, 1.0])
def test_lemma9_and_v_infinity(small_case, x, ref):
    p = ref.grid_problem(*small_case)
    alpha = x / p.lambda_1
    ms, Vs = ref.dense_moments(p, alpha, K)
    rtol = ref.route_rtol(p, K)
    Vscale = np.max(np.linalg.norm(Vs, axis=(1, 2))) * np.sqrt(np.linalg.cond(p.B))
    V9 = variance_lemma9(p, alpha, KS)
    # Lemma 9's form V_inf - Lambda^k(V_inf) subtracts two matrices of size |V_inf| (multiplier
    # 1 - (r_i r_j)^k with r = 1 - alpha lam): its rounding is ~eps |V_inf| absolutely, which exceeds
    # |V_k| by up to 1/(k alpha lam_n) (1e9 at kappa = 1e8).  Hence the extra 64 n eps kappa(B) |V_inf|.
    Vinf_norm = np.linalg.norm(V_infinity(p, alpha))
    for kk, Vk in zip(KS, V9):
        assert np.linalg.norm(Vk - Vs[kk]) <= rtol * Vscale + 64 * p.n * EPS * np.linalg.cond(p.B) * Vinf_norm
    # V_inf solves (I - Lambda)(V) = alpha^2 U, i.e. V - D V D^T = alpha^2 U: scipy's Stein solver.
    BinvH, U = ref.dense_parts(p)
    D = np.eye(p.n) - alpha * BinvH
    Vinf_ref = scipy.linalg.solve_discrete_lyapunov(D, alpha**2 * U)
    Vinf = V_infinity(p, alpha)
    # conditioning of the Stein equation: 1/min(1 - rho_i rho_j) <= 1/(x lam_n/lam_1) = kappa(B^-1H)/x
    kap = p.lambda_1 / p.lambda_n
    assert np.linalg.norm(Vinf - Vinf_ref) <= 64 * p.n * EPS * kap / x * np.linalg.cond(p.B) * np.linalg.norm(Vinf_ref)
    # V_k -> V_inf: at k = 1e15 (beyond every 1/(alpha lam_n) <= 1e8 here) Lambda^k(V_inf) has
    # underflowed to zero, so V_k = V_inf to rounding (variance() transforms Sigma_g, V_infinity() U:
    # mat_rtol)
    Vbig = variance(p, Constant(alpha), 10**15)
    assert np.linalg.norm(Vbig - Vinf) <= ref.mat_rtol(p) * np.linalg.norm(Vinf)


# ---------------------------------------------------------------------------------------------
# Lemma 13: V_k = (Xi - I)^-1(U)/(k+a) + E_k with E_{k+1} = Lambda_k(E_k) + Z/((k+a)(k+a+1)^2)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("b", [0.6, 1.0, 2.0])
def test_lemma13_representation(small_case, b, ref):
    p = ref.rescaled_for_harmonic(ref.grid_problem(*small_case), b)
    a = ref.harmonic_a(p)
    E_exact = lemma13_error(p, a, KS)
    E_rec = lemma13_error_recursion(p, a, K)
    # E_k = V_k - L/(k+a) with L = (Xi - I)^-1(U): both routes carry terms of size |V_k| and |L|/a
    # (E_0 = -L/a), so the rounding scale is max_k |V_k| + |L|/a, amplified by the inverse's largest
    # multiplier 1/(2b - 1); the matrices are moved through the eigenbasis: mat_rtol (conftest).
    L = harmonic_leading_variance(p)
    _, Vs = ref.dense_moments(p, Harmonic(a), K)
    scale = (np.max(np.linalg.norm(Vs, axis=(1, 2))) + np.linalg.norm(L) / a) / (2 * p.lambda_n - 1)
    for kk, Ek in zip(KS, E_exact):
        assert np.linalg.norm(Ek - E_rec[kk]) <= ref.mat_rtol(p, K) * scale
    # E_0 = -(Xi - I)^-1(U)/a so that V_0 = 0; and Z = (Xi - I)^-1 Psi_1(U) solves (Xi - I)(Z) = Psi_1(U)
    np.testing.assert_allclose(E_rec[0], -L / a, rtol=0, atol=0)
    BinvH, U = ref.dense_parts(p)
    Z = lemma13_Z(p)
    D1 = np.eye(p.n) - BinvH
    lhs = BinvH @ Z + Z @ BinvH.T - Z
    # residual of the Sylvester equation, relative to the size of its terms (mat_rtol: see conftest)
    res_scale = (2 * np.linalg.norm(BinvH) + 1) * np.linalg.norm(Z) + np.linalg.norm(D1) ** 2 * np.linalg.norm(U)
    # plus the absolute rounding delta ~ 4 eps kappa(B) |B^-1 H| of the dense D1 = I - B^-1 H itself,
    # which enters D1 U D1^T as (2 delta |D1| + delta^2) |U| (dominant when B = H, where Psi_1 = 0)
    delta = 4 * EPS * np.linalg.cond(p.B) * np.linalg.norm(BinvH)
    d1_round = (2 * delta * np.linalg.norm(D1) + delta**2) * np.linalg.norm(U)
    assert np.linalg.norm(lhs - D1 @ U @ D1.T) <= ref.mat_rtol(p) * res_scale + d1_round
    # (Xi - I)^-1(U) by scipy: (B^-1 H - I/2) L + L (B^-1 H - I/2)^T = U; the solve amplifies rounding by
    # the inverse's largest multiplier 1/(2b - 1)
    L_ref = scipy.linalg.solve_continuous_lyapunov(BinvH - 0.5 * np.eye(p.n), U)
    assert np.linalg.norm(L - L_ref) <= ref.mat_rtol(p) * np.linalg.norm(L_ref) / (2 * p.lambda_n - 1)


def lemma13_decay(p, a, ks):
    return np.array([np.linalg.norm(E) for E in lemma13_error(p, a, ks)])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lemma13_error_shrinks_as_one_over_k_squared_when_b_above_1(seed, ref):
    """Theorem 3: E_k shrinks as 1/k^2.  With b > 1 the homogeneous part decays as k^{-2b}, faster
    than the 1/k^2 particular part, so |E_{2k}|/|E_k| -> 1/4.  At k = 2e4 the next-order corrections
    are O(a/k) + O(k^{2-2b}) <= 3e-2 here: we require the ratio within 5% of 1/4, and k^2 |E_k| to
    vary by < 5% between k = 1e4 and 4e4."""
    p = ref.rescaled_for_harmonic(random_problem(4, 10.0, "random", "random", seed=seed), 1.8)
    a = ref.harmonic_a(p)
    ks = np.array([10_000, 20_000, 40_000])
    e = lemma13_decay(p, a, ks)
    assert abs(e[1] / e[0] - 0.25) <= 0.05 * 0.25
    assert abs(e[2] / e[1] - 0.25) <= 0.05 * 0.25
    c = e * ks.astype(float) ** 2
    assert np.ptp(c) <= 0.05 * c.mean()


def test_lemma13_error_decays_as_k_to_minus_2b_when_b_below_1(ref):
    """For 1/2 < b < 1 the homogeneous part of E_k (started at E_0 = -(Xi - I)^-1(U)/a, which is NSD and
    nonzero) decays only as k^{-2b}, slower than 1/k^2: Theorem 3's '1/k^2' holds for b >= 1.
    Scalar case, b = 0.7: the log-log slope of |E_k| between k = 1e4 and 1e5 is -2b = -1.4 (to 0.05,
    the O(k^{2b-2}) = O(1e-2.4) relative contribution of the 1/k^2 part)."""
    p = QuadraticProblem([[0.7]], [[1.0]], [[1.0]], [0.0])
    a = 1.0
    e = lemma13_decay(p, a, np.array([10_000, 100_000]))
    slope = np.log(e[1] / e[0]) / np.log(10.0)
    assert abs(slope - (-2 * 0.7)) <= 0.05, slope
    assert slope > -2.0 + 0.5  # decisively slower than 1/k^2


# ---------------------------------------------------------------------------------------------
# Proposition 7 (Appendix A): E[(theta_k - theta*)(theta_k - theta*)^T] = V_k + m_k m_k^T
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["const", "harm", "seq"])
def test_proposition7_second_moment_vs_direct_recursion(small_case, which, ref):
    """The second moment obeys its own recursion M_{k+1} = D_k M_k D_k^T + alpha_k^2 U, M_0 = d0 d0^T
    (the noise is uncorrelated with theta_k and has mean zero): an independent route."""
    p = ref.grid_problem(*small_case)
    sched = {
        "const": Constant(0.7 / p.lambda_1),
        "harm": Harmonic(max(1.0, p.lambda_1 - 1.0)),
        "seq": StepSequence(np.linspace(0.2, 1.2, K) / p.lambda_1),
    }[which]
    BinvH, U = ref.dense_parts(p)
    d0 = p.theta0 - p.theta_star
    M = np.outer(d0, d0)
    Ms = [M]
    for al in ref.alphas_of(sched, K):
        D = np.eye(p.n) - al * BinvH
        M = D @ M @ D.T + al * al * U
        Ms.append(M)
    Ms = np.array(Ms)
    got = second_moment(p, sched, KS)
    scale = np.max(np.linalg.norm(Ms, axis=(1, 2))) * np.linalg.cond(p.B)
    for kk, Mk in zip(KS, got):
        assert np.linalg.norm(Mk - Ms[kk]) <= ref.route_rtol(p, K) * scale


@given(
    n=st.integers(1, 4),
    seed=st.integers(0, 2**31 - 1),
    x=st.floats(0.05, 1.9),
    k=st.integers(0, 40),
)
@settings(max_examples=30)
def test_variance_is_psd_and_symmetric(n, seed, x, k):
    """V_k is a covariance: symmetric PSD for any step (even outside Theorem 3's hypotheses)."""
    p = random_problem(n, 100.0, "random", "random", seed=seed)
    V = variance(p, Constant(x / p.lambda_1), k)
    scale = np.abs(V).max() + 1e-300
    assert np.abs(V - V.T).max() <= 64 * EPS * np.linalg.cond(p.B) * scale
    assert np.linalg.eigvalsh(0.5 * (V + V.T))[0] >= -64 * n * EPS * np.linalg.cond(p.B) * scale


def test_mean_independent_of_noise():
    """§14.2: E[theta_k] does not depend on Sigma_g (it follows the deterministic iteration)."""
    p1 = random_problem(4, 100.0, "random", "random", seed=4)
    p2 = QuadraticProblem(p1.H, p1.B, 0 * p1.Sigma_g, p1.theta0)
    for sched in (Constant(0.5 / p1.lambda_1), Harmonic(3.0)):
        np.testing.assert_array_equal(mean_iterate(p1, sched, KS), mean_iterate(p2, sched, KS))
        assert np.all(variance(p2, sched, KS) == 0.0)


def test_operator_route_of_lemma9_matches_explicit_kron_solve(ref):
    """V_inf = alpha^2 (I - Lambda)^-1(U) through the n^2 x n^2 Kronecker matrix (np.linalg.solve)."""
    p = random_problem(3, 1e2, "random", "random", seed=9)
    alpha = 0.8 / p.lambda_1
    ops = operators(p)
    _, U = ref.dense_parts(p)
    M = np.eye(9) - ops.Lambda(alpha).kron
    v = np.linalg.solve(M, alpha**2 * U.reshape(-1, order="F"))
    Vinf_ref = v.reshape(3, 3, order="F")
    # relative 1e-10: the Kronecker system has condition ~ kappa(B^-1 H)/x ~ 1.3e2 times kappa(B) ~ 7
    np.testing.assert_allclose(V_infinity(p, alpha), Vinf_ref, rtol=0, atol=1e-10 * np.abs(Vinf_ref).max())
