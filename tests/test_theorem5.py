"""Theorem 5 (001_7d31b3ff3a2f0401.txt §14.2; proofs Lemmas 11 and 16): l(k) <= E[h(theta_k)] - h* <= u(k)
for constant and harmonic steps, on the seeded grid and on edge cases; HypothesisError outside the
hypotheses; ``check=False`` evaluates anyway."""

from __future__ import annotations

import numpy as np
import pytest

from theorytools.errors import HypothesisError
from theorytools.quadratic import (
    Constant,
    Harmonic,
    QuadraticProblem,
    constant_noise_floor,
    excess_risk,
    harmonic_traces,
    hypotheses,
    nu,
    random_problem,
    theorem5_bounds,
)

EPS = np.finfo(float).eps
KS_CONST = np.array([0, 1, 2, 5, 10, 100, 1000, 10**6, 10**12])
KS_HARM = np.array([0, 1, 2, 5, 10, 100, 1000])


def bound_tolerance(p, sched, ks, ref):
    """Relative slack for '<=' between the exact risk (eigenbasis route, risk.py) and the bounds
    (dense solves with B - alpha/2 H and B^-1 - H^-1/2, theorem5.py).

    The two are independent float64 routes; each is exact for data perturbed by a backward error of
    ~eps.  perturbation_rtol measures how far such perturbations move *both* sides (re-evaluating
    exact risk and bounds on randomly perturbed H, B, Sigma_g) and returns 1e-10 + 16 x that change.
    Where a bound is tight (B = H: l = exact = u; k = 0: l = exact = u for constant steps) this is the
    only slack; elsewhere the bounds hold with margins far above it."""

    def both(q):
        lo, up = theorem5_bounds(q, sched, ks, check=False)
        return np.concatenate([excess_risk(q, sched, ks), lo, up])

    r = ref.perturbation_rtol(p, both)
    m = len(ks)
    return np.maximum(np.maximum(r[:m], r[m : 2 * m]), r[2 * m :])


def assert_within(p, sched, ks, ref):
    lower, upper = theorem5_bounds(p, sched, ks)
    exact = excess_risk(p, sched, ks)
    tol = bound_tolerance(p, sched, ks, ref)
    scale = np.maximum(np.abs(exact), np.maximum(np.abs(lower), np.abs(upper)))
    assert np.all(lower <= exact + tol * scale), (lower, exact, tol)
    assert np.all(exact <= upper + tol * scale), (exact, upper, tol)
    return lower, exact, upper


@pytest.mark.parametrize("x", [0.5, 1.0])
def test_constant_step_bounds_on_grid(grid_case, x, ref):
    """alpha lambda_1 = 0.5 and exactly 1 (the boundary of the hypothesis), k from 0 to 1e12."""
    p = ref.grid_problem(*grid_case)
    sched = Constant(x / p.lambda_1)
    lower, exact, upper = assert_within(p, sched, KS_CONST, ref)
    # k = 0: (1 - eps)^0 = 1, so l(0) = u(0) = h(theta_0) = exact
    assert lower[0] == upper[0] == p.h0
    # k -> inf: both bounds tend to the noise floor alpha/4 tr((B - alpha/2 H)^-1 Sigma_g), like the risk
    # (at k = 1e12 every (1 - eps)^{2k} with eps >= alpha lambda_n >= 1e-8 * x has underflowed)
    floor = constant_noise_floor(p, sched.alpha)
    assert upper[-1] == pytest.approx(floor, rel=1e-14) and lower[-1] == pytest.approx(floor, rel=1e-14)


@pytest.mark.parametrize("b", [0.6, 1.0, 3.0])
def test_harmonic_step_bounds_on_grid(grid_case, b, ref):
    """B rescaled so that b = lambda_n(B^-1 H) in {0.6, 1, 3}; a = max(1, lambda_1 - 1), i.e. exactly at
    lambda_1 = a + 1 whenever lambda_1 >= 2."""
    p = ref.rescaled_for_harmonic(ref.grid_problem(*grid_case), b)
    sched = Harmonic(ref.harmonic_a(p))
    lower, exact, upper = assert_within(p, sched, KS_HARM, ref)
    # k = 0, from the printed formulas with g = ((1+a)/a)^{2b} > 1:
    # u(0) = t_U/(4a) + h0 g and l(0) = t_U/(4a) (1 - g) < 0, while exact = h0
    tU, _ = harmonic_traces(p)
    a = sched.a
    g = ((1 + a) / a) ** (2 * p.lambda_n)
    assert lower[0] == pytest.approx(tU / (4 * a) * (1 - g), rel=1e-13) and lower[0] < 0
    assert upper[0] == pytest.approx(tU / (4 * a) + p.h0 * g, rel=1e-13)


def test_constant_bounds_tight_when_B_equals_H(ref):
    """B = H: every eigenvalue of B^-1 H is 1, eps_1 = eps_2 = alpha, and l(k) = exact = u(k)
    (§14.2.1).  Relative 1e-13 at kappa(H) = 10 (kappa(B) = 10: rounding ~1e-15)."""
    p = random_problem(4, 10.0, "H", "random", seed=3)
    for alpha in (0.3, 1.0):
        lower, upper = theorem5_bounds(p, Constant(alpha), KS_CONST)
        exact = excess_risk(p, Constant(alpha), KS_CONST)
        np.testing.assert_allclose(lower, exact, rtol=1e-13)
        np.testing.assert_allclose(upper, exact, rtol=1e-13)


def test_harmonic_b_just_above_half(ref):
    """b = 1/2 + 1e-6: (Xi - I)^-1 has multipliers up to 1/(2b - 1) = 5e5; the bounds still hold."""
    p0 = random_problem(3, 10.0, "random", "random", seed=40)
    p = QuadraticProblem(p0.H, p0.B * (p0.lambda_n / (0.5 + 1e-6)), p0.Sigma_g, p0.theta0)
    assert 0.5 < p.lambda_n < 0.5 + 2e-6
    sched = Harmonic(ref.harmonic_a(p))
    assert all(h.holds for h in hypotheses(p, sched, "theorem5"))
    assert_within(p, sched, KS_HARM, ref)


def test_harmonic_lambda1_equals_a_plus_1_exactly(ref):
    """A diagonal H (exact eigenvalues) with lambda_1 = 4 = a + 1 for a = 3."""
    p = QuadraticProblem(np.diag([4.0, 2.0, 0.75]), np.eye(3), np.diag([1.0, 0.5, 2.0]), [1.0, -1.0, 2.0])
    assert p.lambda_1 == 4.0 and p.lambda_n == 0.75
    sched = Harmonic(3.0)
    h = {x.name: x for x in hypotheses(p, sched, "theorem5")}
    assert h["lambda_1"].margin == 0.0 and h["lambda_1"].holds
    assert_within(p, sched, KS_HARM, ref)


@pytest.mark.parametrize("kind", ["constant", "harmonic"])
def test_theta0_equal_theta_star(kind, ref):
    """h(theta_0) = 0: only the noise terms remain on both sides."""
    p0 = random_problem(5, 1e2, "random", "random", seed=41)
    p = QuadraticProblem(p0.H, p0.B, p0.Sigma_g, p0.theta0, theta_star=p0.theta0)
    if kind == "constant":
        sched = Constant(0.8 / p.lambda_1)
        lower, exact, upper = assert_within(p, sched, KS_CONST, ref)
        assert lower[0] == exact[0] == upper[0] == 0.0
    else:
        p = ref.rescaled_for_harmonic(p, 1.0)
        sched = Harmonic(ref.harmonic_a(p))
        assert_within(p, sched, KS_HARM, ref)


def test_n1_closed_forms(ref):
    """n = 1: every quantity is a scalar formula; check the bounds' ingredients by hand.

    h = 2, b = 1, sigma = 3, d0 = 0.5, alpha = 0.25: lambda = 2, eps_1 = eps_2 = 0.5,
    N = alpha/4 sigma/(b - alpha h/2) = 0.0625 * 3/0.75 = 0.25, h0 = 0.25:
    l(k) = u(k) = (1 - 0.25^k) 0.25 + 0.25^k 0.25 = 0.25 for every k -- and so is the exact risk
    (at this step the noise floor equals h0)."""
    p = QuadraticProblem([[2.0]], [[1.0]], [[3.0]], [0.5])
    ks = np.array([0, 1, 3, 50])
    lower, upper = theorem5_bounds(p, Constant(0.25), ks)
    exact = excess_risk(p, Constant(0.25), ks)
    np.testing.assert_allclose(lower, 0.25, rtol=4 * EPS)
    np.testing.assert_allclose(upper, 0.25, rtol=4 * EPS)
    np.testing.assert_allclose(exact, 0.25, rtol=4 * EPS)
    # harmonic, a = 1, b = lambda = 2 >= 1/2, lambda_1 = 2 = a + 1:
    # t_U = U/(1/b - 1/(2h)) = 3/(1 - 0.25) = 4, Psi_1(U) = (1 - 2)^2 * 3 = 3 -> t_Psi = 4,
    # nu(1) = 27/4; u(k) = 4/(4(k+1)) + 27/4 k 4/(4(k+1)^3) + 0.25 (2/(k+1))^4, l(k) = 1/(k+1) - (2/(k+1))^4
    tU, tPsi = harmonic_traces(p)
    assert tU == pytest.approx(4.0, rel=4 * EPS) and tPsi == pytest.approx(4.0, rel=4 * EPS)
    assert nu(1.0) == 27.0 / 4.0
    lower, upper = theorem5_bounds(p, Harmonic(1.0), ks)
    kf = ks.astype(float)
    np.testing.assert_allclose(upper, 1 / (kf + 1) + 27 / 4 * kf / (kf + 1) ** 3 + 0.25 * (2 / (kf + 1)) ** 4, rtol=8 * EPS)
    np.testing.assert_allclose(lower, 1 / (kf + 1) - (2 / (kf + 1)) ** 4, rtol=8 * EPS, atol=8 * EPS)
    assert_within(p, Harmonic(1.0), KS_HARM, ref)


def test_scalar_k_returns_floats():
    p = random_problem(3, 10.0, seed=2)
    lo, up = theorem5_bounds(p, Constant(0.5 / p.lambda_1), 7)
    assert isinstance(lo, float) and isinstance(up, float) and lo <= up


# ---------------------------------------------------------------------------------------------
# Hypotheses
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, pattern",
    [
        (lambda p: Constant(1.01 / p.lambda_1), r"alpha \* lambda_1\(B\^-1 H\) <= 1: value 1\.01"),
        (lambda p: Harmonic(0.5), r"a >= 1: value 0\.5"),
    ],
)
def test_hypothesis_error_and_check_false(make, pattern, ref):
    p = ref.rescaled_for_harmonic(random_problem(3, 10.0, "random", "random", seed=42), 1.0)
    sched = make(p)
    with pytest.raises(HypothesisError, match=pattern):
        theorem5_bounds(p, sched, KS_HARM)
    # check=False evaluates the printed formulas anyway
    lower, upper = theorem5_bounds(p, sched, KS_HARM, check=False)
    assert np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))


def test_hypothesis_b_and_lambda1_violations_are_named(ref):
    p = ref.rescaled_for_harmonic(random_problem(3, 10.0, "random", "random", seed=43), 0.4)
    with pytest.raises(HypothesisError, match=r"b = lambda_n\(B\^-1 H\) > 1/2: value 0\.4"):
        theorem5_bounds(p, Harmonic(max(1.0, p.lambda_1)), 5)
    p = ref.rescaled_for_harmonic(random_problem(3, 10.0, "random", "random", seed=43), 1.0)
    with pytest.raises(HypothesisError, match=r"lambda_1\(B\^-1 H\) <= a \+ 1"):
        theorem5_bounds(p, Harmonic(1.0), 5)  # lambda_1 = 10 > 2


def test_bounds_can_fail_outside_the_hypotheses():
    """With alpha lambda_1 = 2.5 (> 1, outside Theorem 5) the constant-step 'upper bound' is violated at
    k = 1 on this problem -- the hypothesis is not decorative.  (Also: check=False must not return NaN:
    (1 - eps)^{2k} = |1 - eps|^{2k} is real for eps > 1.)"""
    p = random_problem(3, 10.0, seed=1)
    sched = Constant(2.5 / p.lambda_1)
    lower, upper = theorem5_bounds(p, sched, [0, 1, 5], check=False)
    exact = excess_risk(p, sched, [0, 1, 5])
    assert np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))
    assert exact[1] > upper[1] * (1 + 1e-3)


def test_limit_step_is_accepted_within_rounding():
    """alpha = 1/lambda_1 'exactly' is reproduced only up to the eigensolve's rounding; the hypothesis
    allows LIMIT_RTOL = 1e-12 relative slack for non-strict bounds (hypotheses.py)."""
    p = random_problem(4, 1e2, "random", "random", seed=44)
    h = hypotheses(p, Constant(1.0 / p.lambda_1), "theorem5")[0]
    assert h.holds and abs(h.margin) <= 4 * EPS
    h = hypotheses(p, Constant((1 + 1e-9) / p.lambda_1), "theorem5")[0]
    assert not h.holds
