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
    ("Sigma_g indefinite", lambda: good(Sigma_g=[[1.0, 0.0], [0.0, -0.5]]), ValueError, r"^Sigma_g is not positive semidefinite: smallest eigenvalue -5\.000e-01$"),
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
    ("alpha zero", lambda: Constant(0.0), ValueError, r"^alpha must be a positive finite step size, got 0\.0$"),
    ("alpha negative", lambda: Constant(-0.1), ValueError, r"^alpha must be a positive finite step size, got -0\.1$"),
    ("alpha NaN", lambda: Constant(np.nan), ValueError, r"^alpha must be a positive finite step size"),
    ("alpha inf", lambda: Constant(np.inf), ValueError, r"^alpha must be a positive finite step size"),
    ("alpha as bare float <= 0", lambda: excess_risk(P, -0.5, 3), ValueError, r"^alpha must be a positive finite step size"),
    ("averaged alpha <= 0", lambda: averaged_excess_risk(P, 0.0, 3), ValueError, r"^alpha must be a positive finite step size"),
    ("a = -1", lambda: Harmonic(-1.0), ValueError, r"^a must be a finite number > -1 \(alpha_0 = 1/\(a\+1\) > 0\), got -1\.0$"),
    ("a < -1", lambda: Harmonic(-3), ValueError, r"^a must be a finite number > -1"),
    ("a NaN", lambda: Harmonic(np.nan), ValueError, r"^a must be a finite number > -1"),
    ("a inf", lambda: Harmonic(np.inf), ValueError, r"^a must be a finite number > -1"),
    ("StepSequence empty", lambda: StepSequence([]), ValueError, r"^values must hold at least one step size, got an empty sequence$"),
    ("StepSequence negative", lambda: StepSequence([0.1, -0.2]), ValueError, r"^values must be positive finite step sizes, values\[1\] = -0\.2$"),
    ("StepSequence zero", lambda: StepSequence([0.0]), ValueError, r"^values must be positive finite step sizes, values\[0\] = 0\.0$"),
    ("StepSequence NaN", lambda: StepSequence([0.1, 0.1, np.nan]), ValueError, r"^values must be positive finite step sizes, values\[2\] = nan$"),
    ("schedule of a wrong type", lambda: as_schedule("fast"), ValueError, r"^schedule must be Constant\(alpha\), Harmonic\(a\), StepSequence\(values\) or a float"),
    ("schedule bool", lambda: as_schedule(True), ValueError, r"^schedule must be Constant"),
    # ---- theorem hypotheses --------------------------------------------------------------------
    ("Theorem 5 alpha lambda_1 > 1", lambda: theorem5_bounds(P, Constant(1.2 / P.lambda_1), 3), HypothesisError, r"^theorem5 hypotheses violated for Constant\(alpha=.*\): alpha \* lambda_1\(B\^-1 H\) <= 1: value 1\.2, bound 1, margin -0\.2 \(VIOLATED\)"),
    ("Theorem 5 a < 1", lambda: theorem5_bounds(P, Harmonic(0.5), 3), HypothesisError, r"a >= 1: value 0\.5, bound 1, margin -0\.5 \(VIOLATED\)"),
    ("Theorem 5 b <= 1/2", lambda: theorem5_bounds(good(H=np.diag([2.0, 0.4])), Harmonic(1.0), 3), HypothesisError, r"b = lambda_n\(B\^-1 H\) > 1/2: value 0\.4, bound 0\.5"),
    ("Theorem 5 lambda_1 > a + 1", lambda: theorem5_bounds(good(H=np.diag([3.0, 1.0])), Harmonic(1.0), 3), HypothesisError, r"lambda_1\(B\^-1 H\) <= a \+ 1: value 3, bound 2"),
    ("Theorem 5 all three at once", lambda: theorem5_bounds(good(H=np.diag([3.0, 0.4])), Harmonic(0.5), 3), HypothesisError, r"a >= 1.*; b = lambda_n.*; lambda_1\(B\^-1 H\) <= a \+ 1"),
    ("Theorem 6 alpha lambda_1 = 1 (strict)", lambda: theorem6_bound(good(H=np.diag([2.0, 1.0])), 0.5, 3), HypothesisError, r"^theorem6 hypotheses violated for Constant\(alpha=0\.5\): alpha \* lambda_1\(B\^-1 H\) < 1: value 1, bound 1, margin 0 \(VIOLATED\)"),
    ("Theorem 6 harmonic schedule", lambda: hypotheses(P, Harmonic(1.0), "theorem6"), ValueError, r"^theorem6 is stated for a constant step size only"),
    ("unknown theorem", lambda: hypotheses(P, Constant(0.1), "theorem7"), ValueError, r"^theorem must be 'theorem3', 'theorem5' or 'theorem6', got 'theorem7'$"),
    ("Theorem 5 StepSequence", lambda: theorem5_bounds(P, StepSequence([0.1]), 1), ValueError, r"^theorem5 covers constant and harmonic schedules only; got StepSequence"),
    # ---- operators and lemma helpers -----------------------------------------------------------
    ("operator power non-integer", lambda: operators(P).Xi ** 1.5, ValueError, r"^operator power k must be an integer, got 1\.5$"),
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
