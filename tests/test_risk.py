"""The exact expected excess objective (001_7d31b3ff3a2f0401.txt §14.2, eqn. 20) and the exact risk of
the Polyak average (§14.3, eqns. 38-39), against the dense recursions, the O(k^2) double sum of
Appendix B.3 and mpmath at 50+ digits (k up to 1e12)."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

from theorytools.errors import NonFiniteError
from theorytools.quadratic import (
    Constant,
    Harmonic,
    QuadraticProblem,
    StepSequence,
    averaged_excess_risk,
    constant_noise_floor,
    excess_risk,
    excess_risk_decomposition,
    random_problem,
)

EPS = np.finfo(float).eps
K = 100
KS = np.array([0, 1, 2, 3, 5, 10, 33, 99, 100])


# =============================================================================================
# excess_risk against the dense recursion on the seeded grid
# =============================================================================================
def test_excess_risk_vs_dense_recursion_grid(grid_case, ref):
    """kappa(H) in {1, 1e2, 1e4, 1e8} x n in {1, 2, 5, 30} x B in {H, I, lambda_n, random} x
    Sigma_g in {H, random, lowrank}; constant steps alpha lambda_1 in {0.5, 1, 1.5} and the harmonic
    step with the smallest admissible a.  Relative tolerance perturbation_rtol (conftest): 1e-10 plus
    16 x the measured sensitivity of the dense risk to backward-error-sized perturbations of the data
    (tiny for well-conditioned cells; ~1e-7 for B = H at kappa 1e8, where no backward-stable float64
    route can resolve B^-1 H better -- see test_ill_conditioned_B_is_limited_by_eps_kappa_B)."""
    p = ref.grid_problem(*grid_case)
    for sched in (
        Constant(0.5 / p.lambda_1),
        Constant(1.0 / p.lambda_1),
        Constant(1.5 / p.lambda_1),
        Harmonic(ref.harmonic_a(p)),
    ):
        want, wnoise, wstart = ref.dense_risk(p, sched, K)
        rtol = ref.perturbation_rtol(p, lambda q: ref.dense_risk(q, sched, K)[0])[KS]
        got = excess_risk(p, sched, KS)
        assert np.all(np.abs(got - want[KS]) <= rtol * np.abs(want[KS])), (sched, got, want[KS])
        noise, start = excess_risk_decomposition(p, sched, KS)
        # each term of eqn. 20 against its dense version; the terms are nonnegative, so their
        # rounding is relative to the total risk
        assert np.all(np.abs(noise - wnoise[KS]) <= rtol * want[KS])
        assert np.all(np.abs(start - wstart[KS]) <= rtol * want[KS])
        # the decomposition sums to excess_risk: the same factors, summed in a different order
        # (relative 8 eps)
        assert np.all(np.abs(noise + start - got) <= 8 * EPS * got)
        # k = 0 gives h(theta_0): E[theta_0] = theta_0, V_0 = 0
        assert got[0] == pytest.approx(p.h0, rel=rtol[0])


def test_grid_tolerance_detects_a_planted_cancellation(ref, monkeypatch):
    """The grid comparison can fail: plant the former harmonic variance route, which worked with
    ln G(x) = ln Gamma(x + A - lam) - ln Gamma(x + A) itself (size ~lam ln A, so ~eps lam ln A = 2e-7
    absolute rounding at lam ~ a ~ 1e8, B = lambda_n(H) I, the §14.2.1 first-order setting), and check
    that the same tolerance rejects it while accepting the current code."""
    import theorytools.quadratic._factors as factors
    from theorytools.linalg import log_gamma_ratio

    p = ref.grid_problem(5, 1e8, "lambda_n", "H")
    sched = Harmonic(ref.harmonic_a(p))
    want = ref.dense_risk(p, sched, K)[0][KS]
    rtol = ref.perturbation_rtol(p, lambda q: ref.dense_risk(q, sched, K)[0])[KS]
    assert np.all(np.abs(excess_risk(p, sched, KS) - want) <= rtol * want)
    monkeypatch.setattr(factors, "_log_G", lambda x, A, lam: -log_gamma_ratio(x + A - lam, lam))
    planted = excess_risk(p, sched, KS)
    assert np.max(np.abs(planted - want) / (rtol * want)) > 100.0


def test_ill_conditioned_B_is_limited_by_eps_kappa_B(ref):
    """B = H with kappa = 1e8: both float64 routes (eigenbasis and dense) differ from the mpmath
    recursion by ~1e-8 relatively, i.e. eps kappa(B): forming B^-1 H (or the Cholesky-based
    generalized eigensolve) from an ill-conditioned B is only backward stable.  The deviation stays
    within route_rtol and is *not* smaller than ~1e-12 (documenting the limitation)."""
    p = ref.grid_problem(2, 1e8, "H", "random")
    sched = Constant(0.5 / p.lambda_1)
    k = np.arange(41)
    mpr = ref.mp_risk(p.H, p.B, p.Sigma_g, p.theta0, ref.alphas_of(sched, 40))
    e_eig = ref.rel_err(excess_risk(p, sched, k), mpr)
    e_dense = ref.rel_err(ref.dense_risk(p, sched, 40)[0], mpr)
    assert e_eig.max() <= ref.route_rtol(p, 40)
    assert e_dense.max() <= ref.route_rtol(p, 40)


@pytest.mark.parametrize("n", [2, 5])
@pytest.mark.parametrize("B_kind", ["I", "lambda_n", "random"])
def test_excess_risk_vs_mpmath_kappa_1e8(n, B_kind, ref):
    """With a well-conditioned B, the eigenbasis route matches the exact risk of the float data
    (mpmath recursion at 50 digits) even at kappa(H) = 1e8.  Tolerance perturbation_rtol: 1e-10 plus
    16 x the measured sensitivity of the risk to 4-eps perturbations of H, B, Sigma_g -- the accuracy
    any backward-stable float64 route can promise (here it stays <= ~1e-9)."""
    p = ref.grid_problem(n, 1e8, B_kind, "random")
    for sched in (Constant(0.9 / p.lambda_1), Harmonic(ref.harmonic_a(p))):
        mpr = ref.mp_risk(p.H, p.B, p.Sigma_g, p.theta0, ref.alphas_of(sched, 30))
        got = excess_risk(p, sched, np.arange(31))
        rtol = ref.perturbation_rtol(p, lambda q: ref.dense_risk(q, sched, 30)[0])
        assert np.all(ref.rel_err(got, mpr) <= rtol)
        assert rtol.max() <= 1e-8  # the guarantee is meaningful: these cells are well conditioned


def test_theta0_equal_theta_star_gives_pure_noise(ref):
    p0 = random_problem(5, 1e2, "random", "random", seed=21)
    ts = np.linspace(-1.0, 1.0, 5)
    p = QuadraticProblem(p0.H, p0.B, p0.Sigma_g, ts, theta_star=ts)
    assert p.h0 == 0.0
    for sched in (Constant(0.7 / p.lambda_1), Harmonic(ref.harmonic_a(p))):
        noise, start = excess_risk_decomposition(p, sched, KS)
        assert np.all(start == 0.0)
        want, wnoise, _ = ref.dense_risk(p, sched, K)
        got = excess_risk(p, sched, KS)
        assert got[0] == 0.0
        assert np.all(np.abs(got[1:] - wnoise[KS][1:]) <= ref.route_rtol(p, K) * wnoise[KS][1:])


def test_zero_noise_gives_deterministic_decay(ref):
    p0 = random_problem(4, 1e2, "random", "random", seed=22)
    p = QuadraticProblem(p0.H, p0.B, np.zeros((4, 4)), p0.theta0)
    sched = Constant(0.8 / p.lambda_1)
    noise, start = excess_risk_decomposition(p, sched, KS)
    assert np.all(noise == 0.0)
    want = ref.dense_risk(p, sched, K)[0]
    np.testing.assert_allclose(start, want[KS], rtol=ref.route_rtol(p, K), atol=0)


def test_step_sequence_risk_vs_dense(ref):
    p = random_problem(5, 1e4, "random", "lowrank", seed=23)
    rng = np.random.default_rng(0)
    sched = StepSequence(rng.uniform(0.0, 1.9, K) / p.lambda_1 + 1e-3)
    want = ref.dense_risk(p, sched, K)[0]
    np.testing.assert_allclose(excess_risk(p, sched, KS), want[KS], rtol=ref.route_rtol(p, K), atol=0)
    assert excess_risk(p, sched, 100) == pytest.approx(want[100], rel=ref.route_rtol(p, K))  # theta_K is defined
    with pytest.raises(ValueError, match=r"^k must be <= 100 \(the number of step sizes given\), got 101$"):
        excess_risk(p, sched, 101)


# =============================================================================================
# Constant step, long horizons and every regime of alpha lambda, vs mpmath closed forms
# =============================================================================================
# Scalar problems with dyadic data, so that lambda = h/b and x = alpha lambda are exact in binary:
# the float64 code and the mpmath formula see the same x (far from x = 2 the risk is insensitive to
# the last bit anyway, but at x = 2 exactly the regime changes).
SCALAR = dict(h=0.5, b=0.25, sigma=0.375, d0=1.25)  # lambda = 2 (b = 1/4: its Cholesky factor 1/2 is exact)
LAM = SCALAR["h"] / SCALAR["b"]
KBIG = np.array([0, 1, 2, 10, 1000, 10**6, 10**9, 10**12])


def scalar_problem():
    s = SCALAR
    return QuadraticProblem([[s["h"]]], [[s["b"]]], [[s["sigma"]]], [s["d0"]])


@pytest.mark.parametrize("x", [2.0**-40, 2.0**-27, 2.0**-10, 0.25, 0.5, 1.0, 1.25, 1.5, 1.75])
def test_constant_step_long_horizon_vs_mpmath(x, ref):
    """k up to 1e12 without underflow or cancellation; the limit is constant_noise_floor.

    Relative 1e-12: the code forms q = 2k ln|1 - x| with relative error <= 2 eps, then e^q and
    expm1(q); their relative errors are <= 2 eps |q| + eps, and a term d e^q with |q| e^q <= 1/e
    shifts the (positive) risk by <= eps |q| relative while it matters (|q| < ~745 before underflow):
    <= 750 * 4 eps = 6.7e-13."""
    p = scalar_problem()
    alpha = x / LAM
    assert alpha * p.lambda_1 == x  # precondition: exact binary data
    got = excess_risk(p, Constant(alpha), KBIG)
    want = [ref.mp_scalar_constant_risk(SCALAR["h"], SCALAR["b"], SCALAR["sigma"], SCALAR["d0"], alpha, k) for k in KBIG]
    assert np.all(got > 0)
    assert ref.rel_err(got, want).max() <= 1e-12
    if x >= 2.0**-27:
        # q = 2e12 ln|1 - x| <= -2e12 * 7e-9 < -1e4: converged to the floor (exactly, up to rounding of c)
        floor = constant_noise_floor(p, alpha)
        assert got[-1] == pytest.approx(floor, rel=8 * EPS)
        with mp.workdps(50):
            # alpha/4 tr((B - alpha/2 H)^-1 Sigma_g), scalar
            a_ = mp.mpf(alpha)
            fl = a_ / 4 * SCALAR["sigma"] / (SCALAR["b"] - a_ / 2 * SCALAR["h"])
        assert abs(floor - fl) <= 8 * EPS * fl


def test_constant_step_non_dyadic_tiny_step_vs_mpmath():
    """x = 1e-12 (not dyadic), k = 1e12: the float 1 - x is off by up to ~1e-4 relatively in x, so a
    naive (1 - x)**(2k) is off by ~1e-4 (asserted below, as the reason for the log1p route), while
    the code's exp(2k log1p(-x)) agrees with mpmath (alpha, lambda as exact binary numbers) to 1e-12
    (same error budget as test_constant_step_long_horizon_vs_mpmath)."""
    p = scalar_problem()
    alpha = 1e-12 / LAM
    k = 10**12
    got = excess_risk(p, Constant(alpha), k)
    with mp.workdps(50):
        x = mp.mpf(alpha) * mp.mpf(p.lambda_1)
        rho = 1 - x
        q = mp.mpf(alpha) ** 2 * SCALAR["sigma"] / SCALAR["b"] ** 2
        decay = rho ** (2 * k)
        want = SCALAR["h"] / 2 * (q * (1 - decay) / (1 - rho**2) + SCALAR["d0"] ** 2 * decay)
        decay_f = float(decay)
    assert abs(got - want) <= 1e-12 * want
    naive = (1.0 - alpha * p.lambda_1) ** (2 * k)
    assert abs(naive - decay_f) > 1e-6 * decay_f


def test_alpha_lambda_equal_two_grows_linearly(ref):
    """|rho| = 1 (x = 2 exactly): the mean oscillates with constant size and the noise adds
    alpha^2 s per step: risk = h0 + k h alpha^2 sigma / (2 b^2) (mpmath closed form, relative 1e-13)."""
    p = scalar_problem()
    alpha = 2.0 / LAM
    ks = np.array([0, 1, 2, 3, 100, 10**6, 10**9])
    got = excess_risk(p, Constant(alpha), ks)
    want = [ref.mp_scalar_constant_risk(SCALAR["h"], SCALAR["b"], SCALAR["sigma"], SCALAR["d0"], alpha, k) for k in ks]
    assert ref.rel_err(got, want).max() <= 1e-13
    assert got[-1] > got[-2] > got[-3]


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize("x", [2.25, 3.0])
def test_alpha_lambda_above_two_diverges(x, ref):
    """x > 2: |rho| > 1 and the risk grows geometrically; exact for moderate k (relative 1e-12, as in
    the long-horizon test) and a NonFiniteError (not a silent inf) once it overflows."""
    p = scalar_problem()
    alpha = x / LAM
    ks = np.array([0, 1, 5, 30, 200])
    got = excess_risk(p, Constant(alpha), ks)
    want = [ref.mp_scalar_constant_risk(SCALAR["h"], SCALAR["b"], SCALAR["sigma"], SCALAR["d0"], alpha, k) for k in ks]
    assert ref.rel_err(got, want).max() <= 1e-12
    with pytest.raises(NonFiniteError, match=r"^excess_risk: "):
        excess_risk(p, Constant(alpha), 10**6)


def test_two_by_two_mixed_regimes_vs_mpmath_recursion(ref):
    """A 2x2 problem with one coordinate at x in (1, 2) and one at x = 1e-4, against the mpmath
    mean/covariance recursion (relative 1e-12: the factors are formed to ~1e-15 and summed positively;
    the 2x2 eigensolve adds ~eps kappa(B) with kappa(B) ~ 3)."""
    H = np.array([[1.0, 0.0], [0.0, 1e-4]])
    B = np.array([[0.7, 0.2], [0.2, 0.9]])
    S = np.array([[0.5, 0.1], [0.1, 0.3]])
    p = QuadraticProblem(H, B, S, [1.0, -2.0])
    for x in (0.5, 1.0, 1.6):
        sched = Constant(x / p.lambda_1)
        mpr = ref.mp_risk(H, B, S, p.theta0, ref.alphas_of(sched, 200))
        ks = np.array([0, 1, 2, 17, 100, 200])
        got = excess_risk(p, sched, ks)
        assert ref.rel_err(got, [mpr[k] for k in ks]).max() <= 1e-12


def test_vectorized_over_k_matches_single_calls():
    p = random_problem(7, 1e3, "random", "random", seed=24)
    ks = np.array([0, 5, 3, 10**6, 7, 10**12, 5])
    for sched in (Constant(0.6 / p.lambda_1),):
        vec = excess_risk(p, sched, ks)
        one = np.array([excess_risk(p, sched, int(k)) for k in ks])
        # the same per-coordinate factors; only the BLAS summation order of the n = 7 terms may differ
        # with the shape of the product: relative 8 eps (positive terms)
        np.testing.assert_allclose(vec, one, rtol=8 * EPS, atol=0)
    sched = Harmonic(max(1.0, p.lambda_1))
    ks = np.array([0, 5, 3, 700, 7, 5])
    vec = excess_risk(p, sched, ks)
    one = np.array([excess_risk(p, sched, int(k)) for k in ks])
    # harmonic: the log-space cumulative sum is shared across k, rounding differs by ~k eps
    np.testing.assert_allclose(vec, one, rtol=1e-12, atol=0)


# =============================================================================================
# Polyak averaging: exact E[h(theta_bar_k)] - h*
# =============================================================================================
@pytest.mark.parametrize("x", [0.3, 0.99, 1.0, 1.5])
def test_averaged_vs_double_sum(small_case, x, ref):
    """Against the O(k^2) double sum of covariances of Appendix B.3 (eqn. 39) for k <= 12.
    Tolerance route_rtol: both are exact finite sums of the same covariances; the double sum adds
    O(k^2) matrix terms (<= 169 here) whose rounding is below 1e-12 relatively."""
    p = ref.grid_problem(*small_case)
    alpha = x / p.lambda_1
    ks = [0, 1, 2, 5, 12]
    got = averaged_excess_risk(p, alpha, ks)
    for g, k in zip(got, ks):
        want = ref.double_sum_averaged_risk(p, alpha, k)
        assert abs(g - want) <= ref.route_rtol(p, k) * want, (k, g, want)
    # k = 0: the average is theta_0
    assert got[0] == pytest.approx(p.h0, rel=ref.route_rtol(p))


DIAG = dict(h=[1.0, 2.0**-27], b=[1.0, 1.0], sigma=[0.5, 2.0], d0=[1.0, -3.0])  # kappa = 1.3e8


def diag_problem():
    d = DIAG
    return QuadraticProblem(np.diag(d["h"]), np.diag(d["b"]), np.diag(d["sigma"]), d["d0"])


@pytest.mark.parametrize("alpha", [0.5, 1.0, 1.5])
def test_averaged_kappa_1e8_vs_mpmath(alpha, ref):
    """kappa = 1.3e8 diagonal problem (x_min = alpha 2^-27): for small k the variance of the average
    is sum_m (1 - rho^m)^2 ~ x^2 k^3/3, which the plain closed form loses entirely to cancellation;
    for k = 1e12 it is ~k.  mpmath closed form at 80 digits (>= 30 digits survive its cancellation).
    alpha = 1.5 mixes a coordinate with rho = -0.5 and one with rho ~ 1 (the case that used the plain
    closed forms for every coordinate, 6% wrong at k = 5).  Relative 1e-13: sum_sq_geometric and
    geometric_sum are accurate to 64 eps and 8 eps and the risk is a positive combination."""
    p = diag_problem()
    ks = np.array([0, 1, 2, 5, 100, 2048, 2049, 10**4, 10**6, 10**9, 10**12])
    got = averaged_excess_risk(p, alpha, ks)
    want = [ref.mp_averaged_risk_diag(DIAG["h"], DIAG["b"], DIAG["sigma"], DIAG["d0"], alpha, k, dps=80) for k in ks]
    assert ref.rel_err(got, want).max() <= 1e-13


def test_averaged_kappa_1e8_small_k_vs_mpmath_double_sum(ref):
    """The same regime against the O(k^2) double sum evaluated in mpmath (independent of any closed
    form), on a non-diagonal 2x2 problem with kappa(H) = 1e8 (relative 1e-12: 2x2 eigensolve with
    kappa(B) ~ 2 plus the 1e-13 of the closed forms)."""
    rng = np.random.default_rng(5)
    Q, _ = np.linalg.qr(rng.standard_normal((2, 2)))
    H = Q @ np.diag([1.0, 1e-8]) @ Q.T
    H = 0.5 * (H + H.T)
    B = np.array([[1.2, 0.3], [0.3, 0.8]])
    S = np.array([[1.0, 0.2], [0.2, 0.4]])
    p = QuadraticProblem(H, B, S, [0.7, -1.1])
    for x in (0.5, 1.5):
        alpha = x / p.lambda_1
        for k in (1, 3, 8):
            want = ref.mp_averaged_risk_double_sum(H, B, S, p.theta0, alpha, k)
            got = averaged_excess_risk(p, alpha, k)
            assert ref.rel_err(got, want).max() <= 1e-12, (x, k)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_polyak_juditsky_limit(seed, ref):
    """(k+1) (E[h(theta_bar_k)] - h*) -> tr(H^-1 Sigma_g)/2 (§14.3.2), for any alpha and B.

    Per coordinate (x = alpha lam): (k+1) * noise term = s F_k/(2 lam (k+1)) with
    |F_k - (k+1)| <= 1 + 2/x + 1/(x(2-x)) <= 1 + 3/x, and (k+1) * start term <= lam z0^2/(2 x^2 (k+1)).
    So |(k+1) risk - tr(H^-1 Sigma_g)/2| <= C/(k+1) with C = sum s(1+3/x)/(2 lam) + lam z0^2/(2x^2),
    which we assert at k = 1e6, 1e9, 1e12 (plus 1e-12 relative rounding)."""
    p = random_problem(6, 1e3, "random", "random", seed=30 + seed)
    alpha = 0.7 / p.lambda_1
    x = alpha * p.lam
    C = np.sum(p.s * (1 + 3 / x) / (2 * p.lam)) + np.sum(p.lam * p.z0**2 / (2 * x**2))
    target = 0.5 * float(np.trace(np.linalg.solve(p.H, p.Sigma_g)))
    ks = np.array([10**6, 10**9, 10**12])
    got = (ks + 1.0) * averaged_excess_risk(p, alpha, ks)
    assert np.all(np.abs(got - target) <= C / (ks + 1.0) + 1e-12 * target)
    assert abs(got[-1] - target) <= 1e-6 * target  # the limit is reached, not just bounded


def test_averaged_beats_last_iterate_noise_floor():
    """Sanity of the two exact curves against each other (§14.2.1 vs §14.3): with constant steps the
    last iterate stalls at the noise floor, the average keeps decreasing like 1/k."""
    p = random_problem(5, 1e2, "random", "random", seed=31)
    alpha = 0.5 / p.lambda_1
    k = 10**8
    last = excess_risk(p, Constant(alpha), k)
    avg = averaged_excess_risk(p, alpha, k)
    assert last == pytest.approx(constant_noise_floor(p, alpha), rel=1e-12)
    assert avg < 1e-3 * last
