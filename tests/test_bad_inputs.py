"""Every malformed input is rejected with the right exception type and a message that names the
argument (DESIGN.md: "Errors say which argument broke which property, with the number")."""

from __future__ import annotations

import numpy as np
import pytest

from theorytools.errors import HypothesisError, NonFiniteError
from theorytools.linalg import as_steps
from theorytools.quadratic import (
    Constant,
    Harmonic,
    QuadraticProblem,
    StepSequence,
    V_infinity,
    as_schedule,
    averaged_excess_risk,
    excess_risk,
    hypotheses,
    lemma13_error_recursion,
    mean_iterate,
    operators,
    theorem5_bounds,
    theorem6_bound,
    variance,
)

I2 = np.eye(2)
H2 = np.array([[2.0, 0.5], [0.5, 1.0]])  # lambda(B^-1 H) = lambda(H) in (0.79, 2.21) for B = I
S2 = np.array([[1.0, 0.2], [0.2, 0.5]])
T2 = np.array([1.0, -1.0])


def good(**kw):
    args = dict(H=H2, B=I2, Sigma_g=S2, theta0=T2)
    args.update(kw)
    return QuadraticProblem(args["H"], args["B"], args["Sigma_g"], args["theta0"], args.get("theta_star"))


P = good()  # lambda_1 ~ 2.21, lambda_n ~ 0.79
NAN2 = np.array([[1.0, np.nan], [np.nan, 1.0]])

CASES = [
    # ---- the problem object: symmetry, definiteness, finiteness, shapes -------------------------
    ("H non-symmetric", lambda: good(H=[[2.0, 0.5], [0.4, 1.0]]), ValueError, r"^H is not symmetric: max \|H - H\^T\| = 1\.000e-01"),
    ("B non-symmetric", lambda: good(B=[[1.0, 0.1], [0.0, 1.0]]), ValueError, r"^B is not symmetric"),
    ("Sigma_g non-symmetric", lambda: good(Sigma_g=[[1.0, 0.3], [0.0, 1.0]]), ValueError, r"^Sigma_g is not symmetric"),
    ("H indefinite", lambda: good(H=[[1.0, 0.0], [0.0, -2.0]]), ValueError, r"^H is not positive definite: smallest eigenvalue -2\.000e\+00$"),
    ("H singular", lambda: good(H=[[1.0, 1.0], [1.0, 1.0]]), ValueError, r"^H is not positive definite: smallest eigenvalue"),
    ("B indefinite", lambda: good(B=[[1.0, 2.0], [2.0, 1.0]]), ValueError, r"^B is not positive definite: smallest eigenvalue -1\.000e\+00$"),
    ("Sigma_g indefinite", lambda: good(Sigma_g=[[1.0, 0.0], [0.0, -0.5]]), ValueError, r"^Sigma_g is not positive semidefinite: diagonal entry 1 is -5\.000e-01$"),
    ("H NaN", lambda: good(H=NAN2), ValueError, r"^H must be finite, entry \(0, 1\) is nan$"),
    ("B inf", lambda: good(B=[[np.inf, 0.0], [0.0, 1.0]]), ValueError, r"^B must be finite, entry \(0, 0\) is inf$"),
    ("Sigma_g NaN", lambda: good(Sigma_g=NAN2), ValueError, r"^Sigma_g must be finite"),
    ("theta0 NaN", lambda: good(theta0=[np.nan, 1.0]), ValueError, r"^theta0 must be finite, entry 0 is nan$"),
    ("theta0 -inf", lambda: good(theta0=[1.0, -np.inf]), ValueError, r"^theta0 must be finite, entry 1 is -inf$"),
    ("theta_star NaN", lambda: good(theta_star=[0.0, np.nan]), ValueError, r"^theta_star must be finite"),
    ("H not square", lambda: good(H=np.ones((2, 3))), ValueError, r"^H must be a square matrix, got shape \(2, 3\)$"),
    ("H 1-D", lambda: good(H=[1.0, 2.0]), ValueError, r"^H must be a square matrix, got shape \(2,\)$"),
    ("H 3-D", lambda: good(H=np.ones((2, 2, 2))), ValueError, r"^H must be a square matrix, got shape \(2, 2, 2\)$"),
    ("H empty", lambda: good(H=np.zeros((0, 0))), ValueError, r"^H must be at least 1x1, got shape \(0, 0\)$"),
    ("B wrong size", lambda: good(B=np.eye(3)), ValueError, r"^B must be 2x2 to match the other arguments, got shape \(3, 3\)$"),
    ("Sigma_g wrong size", lambda: good(Sigma_g=np.eye(1)), ValueError, r"^Sigma_g must be 2x2 to match"),
    ("theta0 wrong length", lambda: good(theta0=[1.0, 2.0, 3.0]), ValueError, r"^theta0 must be a vector of length 2, got shape \(3,\)$"),
    ("theta0 matrix", lambda: good(theta0=np.ones((2, 2))), ValueError, r"^theta0 must be a vector of length 2, got shape \(2, 2\)$"),
    ("theta_star wrong length", lambda: good(theta_star=[0.0]), ValueError, r"^theta_star must be a vector of length 2"),
    ("H empty list", lambda: good(H=[]), ValueError, r"^H must be a square matrix, got shape \(0,\)$"),
    # ---- iteration counts k --------------------------------------------------------------------
    ("k non-integer", lambda: excess_risk(P, 0.1, 2.5), ValueError, r"^k must be finite and integer-valued, got 2\.5$"),
    ("k non-integer in array", lambda: excess_risk(P, 0.1, [1, 2.5]), ValueError, r"^k must be finite and integer-valued, got 2\.5$"),
    ("k negative", lambda: excess_risk(P, 0.1, -1), ValueError, r"^k must be non-negative, got -1$"),
    ("k negative in array", lambda: mean_iterate(P, 0.1, [3, -2]), ValueError, r"^k must be non-negative, got -2$"),
    ("k bool", lambda: excess_risk(P, 0.1, True), ValueError, r"^k must be a non-negative integer or an array of them, got True$"),
    ("k bool array", lambda: variance(P, 0.1, np.array([True, False])), ValueError, r"^k must be a non-negative integer"),
    ("k NaN", lambda: excess_risk(P, 0.1, np.nan), ValueError, r"^k must be finite and integer-valued"),
    ("k inf", lambda: excess_risk(P, 0.1, np.inf), ValueError, r"^k must be finite and integer-valued"),
    ("k string", lambda: excess_risk(P, 0.1, "3"), ValueError, r"^k must be a non-negative integer or an array of them, got '3'$"),
    ("k None", lambda: excess_risk(P, 0.1, None), ValueError, r"^k must be a non-negative integer"),
    ("k complex", lambda: excess_risk(P, 0.1, 3 + 0j), ValueError, r"^k must be a non-negative integer"),
    ("k too large", lambda: excess_risk(P, 0.1, 1e19), ValueError, r"^k must be below 2\*\*62, got 1e\+19$"),
    ("k beyond Python int64", lambda: excess_risk(P, 0.1, 10**20), ValueError, r"^k must be a non-negative integer"),
    ("k name in as_steps", lambda: as_steps(-3, name="K"), ValueError, r"^K must be non-negative, got -3$"),
    ("averaged k negative", lambda: averaged_excess_risk(P, 0.1, -4), ValueError, r"^k must be non-negative, got -4$"),
    ("bounds k non-integer", lambda: theorem5_bounds(P, Constant(0.1), 0.5), ValueError, r"^k must be finite and integer-valued"),
    ("theorem6 k bool", lambda: theorem6_bound(P, 0.1, False), ValueError, r"^k must be a non-negative integer"),
    ("harmonic variance beyond its horizon", lambda: excess_risk(P, Harmonic(2.0), 10**12 + 1), ValueError, r"^k must be <= 1e\+12 for the exact harmonic variance"),
    ("StepSequence k beyond the sequence", lambda: excess_risk(P, StepSequence([0.1, 0.2]), 3), ValueError, r"^k must be <= 2 \(the number of step sizes given\), got 3$"),
    # ---- schedules -----------------------------------------------------------------------------
    ("alpha zero", lambda: Constant(0.0), ValueError, r"^alpha must be > 0, got 0$"),
    ("alpha negative", lambda: Constant(-0.1), ValueError, r"^alpha must be > 0, got -0\.1$"),
    ("alpha NaN", lambda: Constant(np.nan), ValueError, r"^alpha must be finite, got nan$"),
    ("alpha inf", lambda: Constant(np.inf), ValueError, r"^alpha must be finite, got inf$"),
    ("alpha as bare float <= 0", lambda: excess_risk(P, -0.5, 3), ValueError, r"^schedule must be > 0, got -0\.5$"),
    ("averaged alpha <= 0", lambda: averaged_excess_risk(P, 0.0, 3), ValueError, r"^alpha must be > 0, got 0$"),
    ("a = -1", lambda: Harmonic(-1.0), ValueError, r"^a must be > -1, got -1$"),
    ("a < -1", lambda: Harmonic(-3), ValueError, r"^a must be > -1, got -3$"),
    ("a NaN", lambda: Harmonic(np.nan), ValueError, r"^a must be finite, got nan$"),
    ("a inf", lambda: Harmonic(np.inf), ValueError, r"^a must be finite, got inf$"),
    ("StepSequence empty", lambda: StepSequence([]), ValueError, r"^values must not be empty, got shape \(0,\)$"),
    ("StepSequence negative", lambda: StepSequence([0.1, -0.2]), ValueError, r"^values must be positive step sizes, values\[1\] = -0\.2$"),
    ("StepSequence zero", lambda: StepSequence([0.0]), ValueError, r"^values must be positive step sizes, values\[0\] = 0\.0$"),
    ("StepSequence NaN", lambda: StepSequence([0.1, 0.1, np.nan]), ValueError, r"^values must be finite, entry 2 is nan$"),
    ("schedule of a wrong type", lambda: as_schedule("fast"), TypeError, r"^schedule must be Constant\(alpha\), Harmonic\(a\), StepSequence\(values\) or a float"),
    ("schedule bool", lambda: as_schedule(True), TypeError, r"^schedule must be Constant"),
    # ---- theorem hypotheses --------------------------------------------------------------------
    ("Theorem 5 alpha lambda_1 > 1", lambda: theorem5_bounds(P, Constant(1.2 / P.lambda_1), 3), HypothesisError, r"^theorem5 hypotheses violated for Constant\(alpha=.*\): alpha \* lambda_1\(B\^-1 H\) <= 1: value 1\.2, bound 1, margin -0\.2 \(VIOLATED\)"),
    ("Theorem 5 a < 1", lambda: theorem5_bounds(P, Harmonic(0.5), 3), HypothesisError, r"a >= 1: value 0\.5, bound 1, margin -0\.5 \(VIOLATED\)"),
    ("Theorem 5 b <= 1/2", lambda: theorem5_bounds(good(H=np.diag([2.0, 0.4])), Harmonic(1.0), 3), HypothesisError, r"b = lambda_n\(B\^-1 H\) > 1/2: value 0\.4, bound 0\.5"),
    ("Theorem 5 lambda_1 > a + 1", lambda: theorem5_bounds(good(H=np.diag([3.0, 1.0])), Harmonic(1.0), 3), HypothesisError, r"lambda_1\(B\^-1 H\) <= a \+ 1: value 3, bound 2"),
    ("Theorem 5 all three at once", lambda: theorem5_bounds(good(H=np.diag([3.0, 0.4])), Harmonic(0.5), 3), HypothesisError, r"a >= 1.*; b = lambda_n.*; lambda_1\(B\^-1 H\) <= a \+ 1"),
    ("Theorem 6 alpha lambda_1 = 1 (strict)", lambda: theorem6_bound(good(H=np.diag([2.0, 1.0])), 0.5, 3), HypothesisError, r"^theorem6 hypotheses violated for Constant\(alpha=0\.5\): alpha \* lambda_1\(B\^-1 H\) < 1: value 1, bound 1, margin 0 \(VIOLATED\)"),
    ("Theorem 6 harmonic schedule", lambda: hypotheses(P, Harmonic(1.0), "theorem6"), ValueError, r"^theorem6 is stated for a constant step size only"),
    ("unknown theorem", lambda: hypotheses(P, Constant(0.1), "theorem7"), ValueError, r"^theorem must be one of \('theorem3', 'theorem5', 'theorem6'\), got 'theorem7'$"),
    ("Theorem 5 StepSequence", lambda: theorem5_bounds(P, StepSequence([0.1]), 1), ValueError, r"^theorem5 covers constant and harmonic schedules only; got StepSequence"),
    # ---- operators and lemma helpers -----------------------------------------------------------
    ("operator power non-integer", lambda: operators(P).Xi ** 1.5, ValueError, r"^k must be an integer, got 1\.5$"),
    ("operators of different problems", lambda: operators(P).Xi + operators(good()).Xi, ValueError, r"^operators belong to different problems"),
    ("singular operator", lambda: (operators(good(H=np.diag([0.5, 1.0]))).Xi - 1.0).inv()(I2), ValueError, r"^operator \(Xi - 1 I\) is singular: eigenvalue f\(lam_0, lam_0\) = 0\.000e\+00$"),
    ("V_infinity at alpha lambda = 2", lambda: V_infinity(good(H=np.diag([2.0, 1.0])), 1.0), ValueError, r"is singular: eigenvalue f\(lam_1, lam_1\) = 0\.000e\+00$"),
    ("Lemma 13 recursion with a = 0", lambda: lemma13_error_recursion(P, 0.0, 3), ValueError, r"^a must be > 0 for Lemma 13 \(E_0 divides by a\), got 0\.0$"),
    # ---- results that overflow are reported, not returned --------------------------------------
    ("risk overflow (alpha lambda > 2)", lambda: excess_risk(P, Constant(3.0 / P.lambda_1), 10**5), NonFiniteError, r"^excess_risk: \d+ non-finite value\(s\) \(NaN or inf\) in the result$"),
    ("averaged risk overflow", lambda: averaged_excess_risk(P, 3.0 / P.lambda_1, 10**5), NonFiniteError, r"^averaged_excess_risk: "),
]


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("call, exc, pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_rejected(call, exc, pattern):
    with pytest.raises(exc, match=pattern) as info:
        call()
    assert type(info.value) is exc  # not merely a subclass (HypothesisError and NonFiniteError are ValueErrors)


def test_hypothesis_error_is_a_value_error():
    """HypothesisError(ValueError): callers catching ValueError also catch violated hypotheses."""
    assert issubclass(HypothesisError, ValueError) and issubclass(NonFiniteError, ValueError)


def test_nearly_symmetric_and_semidefinite_inputs_are_accepted():
    """The validators tolerate rounding: asymmetry below SYM_RTOL = 1e-10 relative, and a rank-deficient
    Sigma_g whose smallest eigenvalue is a rounding-level negative number."""
    p = good(H=H2 + np.array([[0.0, 1e-12], [0.0, 0.0]]))
    assert np.array_equal(p.H, p.H.T)
    g = np.array([[1.0], [1e-3]])
    S = g @ g.T  # rank 1
    assert good(Sigma_g=S).Sigma_g.shape == (2, 2)
    assert good(Sigma_g=np.zeros((2, 2))).s.tolist() == [0.0, 0.0]


def test_reviewed_edge_inputs():
    from theorytools.quadratic import Harmonic, StepSequence, StudentTNoise, RademacherMixture, nu, simulate
    from theorytools.quadratic import mean_iterate, random_problem

    with pytest.raises(ValueError, match=r"a must be > 0 for nu"):
        nu(0.0)
    # symmetry is judged relative to the matrix's own scale, also for tiny matrices
    with pytest.raises(ValueError, match=r"Sigma_g is not symmetric"):
        QuadraticProblem(np.eye(2), np.eye(2), 1e-11 * np.array([[1.0, 1.0], [0.0, 1.0]]), np.zeros(2))
    with pytest.raises(ValueError, match=r"df must be finite"):
        StudentTNoise(np.inf)
    with pytest.raises(ValueError, match=r"ratio"):
        RademacherMixture(0.1, np.inf)
    p = random_problem(2, 10.0, seed=0)
    with pytest.raises(ValueError, match=r"k must be <= 5 \(the number of step sizes given\), got 6"):
        simulate(p, StepSequence([0.1] * 5), [6], runs=10)
    # harmonic steps with lambda_1 > a + 1 use the step-by-step route, whose horizon is bounded
    q = QuadraticProblem(5.0 * np.eye(1), np.eye(1), np.eye(1), np.ones(1))
    with pytest.raises(ValueError, match=r"k must be <= 1e\+07 for the step-by-step route"):
        mean_iterate(q, Harmonic(0.0), 10**9)


def test_complex_input_is_rejected_not_cast_to_real():
    """numpy's float cast drops an imaginary part with only a ComplexWarning; every entry point refuses instead."""
    import warnings

    from theorytools.montecarlo import run_blocks
    from theorytools.quadratic import simulate
    from theorytools.tango import models

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ComplexWarning on the way would be a failure too
        with pytest.raises(ValueError, match="H must be real"):
            QuadraticProblem(H2 + 0j, I2, I2, np.ones(2))
        with pytest.raises(ValueError, match="theta0 must be real"):
            QuadraticProblem(H2, I2, I2, np.array([1.0, 1.0 + 1e-3j]))
        with pytest.raises(ValueError, match="values must be real"):
            StepSequence([0.1, 0.2 + 0j])
        with pytest.raises(ValueError, match="k must be"):
            excess_risk(QuadraticProblem(H2, I2, I2, np.ones(2)), Constant(0.1), np.array([1 + 0j]))
        with pytest.raises(ValueError, match="simulate_block output for block 0 must be real"):
            run_blocks(lambda rng, n: np.ones((n, 1)) * 1j, 10, seed=0, progress=False)
        p = QuadraticProblem(H2, I2, I2, np.ones(2))
        with pytest.raises(ValueError, match="theta must be real"):
            p.h(np.array([1j, 0.0]))
        assert simulate(p, Constant(0.1), [3], runs=8, seed=0, progress=False).mean.shape == (1,)
        with pytest.raises(ValueError, match="must be real"):
            models.GaussianModel().fisher(np.array([0.0, 1.0 + 0j]))


# ---- issue 15: decisions in the problem's own units, sizes checked first, valid input at unusual scales --------------
def test_semidefiniteness_of_sigma_g_is_decided_in_its_own_units():
    """diag(1e16, -1e-8) is indefinite; a slack relative to its largest eigenvalue (1e-12 * 1e16) accepted it and the
    noise model then dropped the negative direction silently."""
    with pytest.raises(ValueError, match=r"^Sigma_g is not positive semidefinite: diagonal entry 1 is -1\.000e-08$"):
        QuadraticProblem(I2, I2, np.diag([1e16, -1e-8]), np.ones(2))


def test_a_tiny_step_is_not_a_singular_operator():
    """``alpha Xi - alpha^2 Omega`` at alpha lam = 1e-15 has eigenvalues ~2e-15: tiny, not zero.  A cut at 1e-14
    relative to max(1, |f|) called it singular; the operator's own term sizes decide now."""
    p = QuadraticProblem(np.diag([1e5, 2e5]), I2, I2, np.ones(2))
    V = V_infinity(p, 1e-20)
    np.testing.assert_allclose(np.diag(V), 1e-20 / (2.0 * np.array([1e5, 2e5])), rtol=1e-12)


def test_preconditioner_equality_is_judged_in_its_own_units():
    """B = H up to rounding in any units passes the "B = H" hypothesis; a B that differs by 100% in a coordinate of
    small units does not (relative to max|H| that difference is 1e-16)."""
    from theorytools.quadratic import consequences as C

    s = np.array([1e8, 1e-8])
    H = H2 / np.outer(s, s)
    C.harmonic_BH_bound(QuadraticProblem(H, H, S2 / np.outer(s, s), T2 * s), 1.0, 5)
    B = H.copy()
    B[1, 1] *= 2.0
    with pytest.raises(HypothesisError, match=r"B = H \(max deviation, entry ij relative to sqrt\(T_ii T_jj\)\)"):
        C.harmonic_BH_bound(QuadraticProblem(H, B, S2 / np.outer(s, s), T2 * s), 1.0, 5)


def test_many_k_over_a_long_range_stay_cheap():
    """The constant-step curve used to form a table over all pairs of distinct k // sqrt(max k) and k % sqrt(max k):
    quadratic in the number of k (1.6 GB for 10**4 k spread up to 1e12).  Now O(len(k) n)."""
    import tracemalloc

    ks = np.unique(np.random.default_rng(0).integers(0, 10**12, 20_000))
    al = 0.5 / P.lambda_1
    tracemalloc.start()
    r = excess_risk(P, al, ks)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50e6
    idx = [0, 7777, ks.size - 1]
    np.testing.assert_allclose(r[idx], [excess_risk(P, al, int(k)) for k in ks[idx]], rtol=1e-13)


def test_tables_over_many_k_are_refused_with_the_cheaper_route():
    from theorytools.errors import SizeError
    from theorytools.linalg import limit_memory

    p = QuadraticProblem(np.eye(30), np.eye(30), np.eye(30), np.ones(30))
    with limit_memory("256M"):
        with pytest.raises(SizeError, match=r"the variances V_k \(100000 x 30 x 30 float64\).*fewer k per call"):
            variance(p, 0.1, np.arange(10**5))
        with pytest.raises(SizeError, match=r"K \+ 1 matrices V_k .* fewer k"):
            from theorytools.quadratic import variance_recursion
            variance_recursion(p, 0.1, 10**6)
        with pytest.raises(SizeError, match=r"Kronecker"):
            operators(QuadraticProblem(np.eye(150), np.eye(150), np.eye(150), np.ones(150))).Xi.kron
        assert excess_risk(p, 0.1, np.arange(10**5)).shape == (10**5,)  # O(n) per k: fits


def test_valid_input_at_unusual_scales():
    from theorytools.quadratic import consequences as C
    from theorytools.quadratic import lemmas as L
    from theorytools.quadratic import random_problem

    # n = 1, kappa = 1e12, k = 1e12, alpha at its limit
    q = QuadraticProblem([[3.0]], [[1.0]], [[2.0]], [1.0])
    assert np.isfinite(excess_risk(q, 1.0 / 3.0, 10**12))
    p = random_problem(5, 1e12, "I", "random", seed=1)
    r = excess_risk(p, 1.0 / p.lambda_1, [0, 10**12])
    assert np.all(np.isfinite(r)) and r[1] > 0
    # the odd harmonic sum in closed form: O(1) for any n (it used to build an n-vector)
    n = 1000
    direct = n * (n + 2.0) / 8.0 + np.sum(1.0 / (2.0 * np.arange(1, n + 1) - 1.0)) / 8.0
    assert C.linear_spectrum_noise_constants(n)[1] == pytest.approx(direct, rel=1e-14)
    assert C.linear_spectrum_noise_constants(10**12)[1] == pytest.approx(10**24 / 8, rel=1e-11)
    # exact rationals grow with k: bounded, with the argument named
    with pytest.raises(ValueError, match=r"^k must be <= 20000, got 1000000$"):
        L.proposition23_sum_exact(10**6, 1, 1)
    with pytest.raises(ValueError, match=r"^k must be <= 100000, got 1000000$"):
        L.proposition23_counterexample(10**6)


def test_formulas_outside_their_domain_name_the_argument():
    from theorytools.quadratic import eq29_trace, constant_noise_floor, nu, proposition14_trace

    with pytest.raises(ValueError, match=r"^alpha must satisfy alpha lambda_1\(B\^-1 H\) < 2 for eqn\. 29"):
        eq29_trace(P, 2.0 / P.lambda_1)
    with pytest.raises(ValueError, match=r"^alpha must satisfy .* for the noise floor"):
        constant_noise_floor(P, 3.0 / P.lambda_1)
    with pytest.raises(ValueError, match=r"^p must have lambda_n\(B\^-1 H\) > 1/2 for Proposition 14"):
        proposition14_trace(good(H=np.diag([2.0, 0.4])), I2)
    with pytest.raises(TypeError, match=r"^a must be a real number, got 'abc'$"):
        nu("abc")
    with pytest.raises(TypeError, match=r"^p must be a QuadraticProblem, got 3\.0$"):
        excess_risk(3.0, 0.1, 3)
