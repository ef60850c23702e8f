"""Theorem 6 (001_7d31b3ff3a2f0401.txt §14.3; proof Appendix B.3): the exact risk of the Polyak
average is below the bound, on the seeded grid; each of the five candidate terms against its
definition computed a second way (eigen-coordinates of (H, B) and matrix square roots)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from theorytools.errors import HypothesisError
from theorytools.quadratic import (
    QuadraticProblem,
    averaged_excess_risk,
    random_problem,
    theorem6_bound,
    theorem6_terms,
)

EPS = np.finfo(float).eps
KS = np.array([0, 1, 2, 5, 10, 100, 1000, 10**6, 10**12])


@pytest.mark.parametrize("x", [0.5, 0.999])
def test_theorem6_bound_on_grid(grid_case, x, ref):
    """E[h(theta_bar_k)] - h* <= bound for alpha lambda_1 in {0.5, 0.999} (the hypothesis is strict).

    Slack: perturbation_rtol (conftest) of both the exact averaged risk and the bound, i.e. 1e-10 plus
    16 x their measured sensitivity to backward-error-sized perturbations of (H, B, Sigma_g).  The
    noise part of the exact risk is below its bound by a relative margin >= 1/(k+1) (F_k <= k), so
    at k = 1e12 the comparison is a genuine 1e-12-level one only through that margin."""
    p = ref.grid_problem(*grid_case)
    alpha = x / p.lambda_1

    def both(q):
        return np.concatenate([averaged_excess_risk(q, alpha, KS), theorem6_bound(q, alpha, KS, check=False)])

    r = ref.perturbation_rtol(p, both)
    tol = np.maximum(r[: len(KS)], r[len(KS) :])
    exact = averaged_excess_risk(p, alpha, KS)
    bound = theorem6_bound(p, alpha, KS)
    assert np.all(exact <= bound * (1 + tol)), (exact, bound)
    # k = 0: the average is theta_0, the bound's start part is min(..., h0) <= h0
    assert exact[0] == pytest.approx(p.h0, rel=tol[0])


def eigen_terms(p, alpha, ks):
    """The five terms from the generalized eigen-coordinates (V^T H V = diag(lam), V^T B V = I):
    H^-1 = V diag(1/lam) V^T, (B - alpha/2 H)^-1 = V diag(1/(1 - alpha lam/2)) V^T, B d = V^-T z0, so

    tr(H^-1 Sigma_g) = sum s/lam, tr((B - alpha/2 H)^-1 Sigma_g) = sum s/(1 - alpha lam/2),
    |H^-1/2 B d|^2 = sum z0^2/lam, |B^1/2 d|^2 = sum z0^2, h(theta_0) = 1/2 sum lam z0^2."""
    kf = np.asarray(ks, dtype=float)
    lam, s, z0 = p.lam, p.s, p.z0
    return {
        "noise_avg": np.sum(s / lam) / (2 * (kf + 1)),
        "noise_floor": np.full(kf.shape, alpha / 4 * np.sum(s / (1 - alpha * lam / 2))),
        "start_quadratic": np.sum(z0**2 / lam) / (2 * (kf + 1) ** 2 * alpha**2),
        "start_linear": np.sum(z0**2) / (2 * (kf + 1) * alpha),
        "start_h0": np.full(kf.shape, 0.5 * np.sum(lam * z0**2)),
    }


def sqrtm_terms(p, alpha, ks):
    """The five terms as printed, with principal square roots from scipy.linalg.sqrtm."""
    kf = np.asarray(ks, dtype=float)
    d = p.theta0 - p.theta_star
    Hs = np.real(scipy.linalg.sqrtm(p.H))
    Bs = np.real(scipy.linalg.sqrtm(p.B))
    Hinvs = np.linalg.inv(Hs)
    v = Hinvs @ (p.B @ d)
    M = p.B - alpha / 2 * p.H
    return {
        "noise_avg": np.trace(Hinvs @ p.Sigma_g @ Hinvs) / (2 * (kf + 1)),
        "noise_floor": np.full(kf.shape, alpha / 4 * np.trace(np.linalg.inv(M) @ p.Sigma_g)),
        "start_quadratic": (v @ v) / (2 * (kf + 1) ** 2 * alpha**2),
        "start_linear": np.sum((Bs @ d) ** 2) / (2 * (kf + 1) * alpha),
        "start_h0": np.full(kf.shape, 0.5 * float(d @ p.H @ d)),
    }


def test_theorem6_terms_computed_two_other_ways(small_case, ref):
    """Each term against the eigen-coordinate formula and the sqrtm formula.

    Tolerance 64 n eps (kappa(H) + kappa(B)): the code uses solves with H and B - alpha/2 H (relative
    error eps kappa), the eigen route the generalized eigensolve (eps kappa(B) for B^-1 H, and small
    eigenvalues carry ~eps |H|, i.e. eps kappa(H) relatively), the sqrtm route H^-1/2 (eps kappa(H)).
    Every term is a sum of nonnegative parts, so these relative bounds apply to the sums."""
    p = ref.grid_problem(*small_case)
    alpha = 0.7 / p.lambda_1
    t = theorem6_terms(p, alpha, KS)
    e = eigen_terms(p, alpha, KS)
    q = sqrtm_terms(p, alpha, KS)
    rtol = 64 * p.n * EPS * (ref.cond(p.H) + ref.cond(p.B))
    assert set(t) == set(e)
    for name in t:
        np.testing.assert_allclose(t[name], e[name], rtol=rtol, atol=0, err_msg=name)
        np.testing.assert_allclose(t[name], q[name], rtol=rtol, atol=0, err_msg=name)
    # the bound is the sum of the two minima
    want = np.minimum(t["noise_avg"], t["noise_floor"]) + np.minimum.reduce(
        [t["start_quadratic"], t["start_linear"], t["start_h0"]]
    )
    np.testing.assert_array_equal(theorem6_bound(p, alpha, KS), want)


def test_consequences_B_equal_H(ref):
    """§14.3.1, B = H: |H^-1/2 H d|^2 = d^T H d = 2 h0, so the quadratic start term is
    h0/((k+1)^2 alpha^2); relative 1e-12 (kappa(H) = 10)."""
    p = random_problem(4, 10.0, "H", "random", seed=50)
    alpha = 0.9 / p.lambda_1
    t = theorem6_terms(p, alpha, KS)
    np.testing.assert_allclose(t["start_quadratic"], p.h0 / ((KS + 1.0) ** 2 * alpha**2), rtol=1e-12)
    # and both noise terms are dominated by tr(H^-1 Sigma_g)/2 = noise_floor * ... : for B = H,
    # alpha/4 tr((H - alpha/2 H)^-1 Sigma) = alpha/(4 (1 - alpha/2)) tr(H^-1 Sigma)
    np.testing.assert_allclose(
        t["noise_floor"], alpha / (4 * (1 - alpha / 2)) * np.trace(np.linalg.solve(p.H, p.Sigma_g)), rtol=1e-12
    )


def test_eqn21_B_identity(ref):
    """§14.3.1 eqn. 21 (B = I): start term |H^-1/2 (theta0 - theta*)|^2 / (2 (k+1)^2 alpha^2)."""
    p = random_problem(5, 1e3, "I", "random", seed=51)
    alpha = 0.9 / p.lambda_1
    d = p.theta0 - p.theta_star
    t = theorem6_terms(p, alpha, KS)
    want = float(d @ np.linalg.solve(p.H, d)) / (2 * (KS + 1.0) ** 2 * alpha**2)
    # relative 64 n eps kappa(H) (one solve with H)
    np.testing.assert_allclose(t["start_quadratic"], want, rtol=64 * 5 * EPS * 1e3)


def test_theorem6_hypothesis_is_strict(ref):
    p = random_problem(3, 10.0, "random", "random", seed=52)
    with pytest.raises(HypothesisError, match=r"alpha \* lambda_1\(B\^-1 H\) < 1: value 1,"):
        theorem6_bound(p, 1.0 / p.lambda_1, 5)
    with pytest.raises(HypothesisError, match=r"theorem6 hypotheses violated"):
        theorem6_terms(p, 1.5 / p.lambda_1, 5)
    # check=False evaluates anyway; at alpha lambda_1 = 1 the bound still holds on this instance
    b = theorem6_bound(p, 1.0 / p.lambda_1, KS, check=False)
    assert np.all(np.isfinite(b))
    assert np.all(averaged_excess_risk(p, 1.0 / p.lambda_1, KS) <= b * (1 + 1e-10))


def test_scalar_k_returns_float():
    p = random_problem(3, 10.0, seed=53)
    b = theorem6_bound(p, 0.5 / p.lambda_1, 3)
    assert isinstance(b, float)
    assert averaged_excess_risk(p, 0.5 / p.lambda_1, 3) <= b


def test_noise_free_start_only(ref):
    """Sigma_g = 0: only the start terms; the bound's start part is the smallest of the three, and the
    exact averaged risk is the pure deterministic average (relative 1e-12 vs the double sum)."""
    p0 = random_problem(4, 1e2, "random", "random", seed=54)
    p = QuadraticProblem(p0.H, p0.B, np.zeros((4, 4)), p0.theta0)
    alpha = 0.5 / p.lambda_1
    t = theorem6_terms(p, alpha, KS)
    assert np.all(t["noise_avg"] == 0) and np.all(t["noise_floor"] == 0)
    for k in (0, 1, 4, 9):
        want = ref.double_sum_averaged_risk(p, alpha, k)
        assert averaged_excess_risk(p, alpha, k) == pytest.approx(want, rel=1e-12)
        assert want <= theorem6_bound(p, alpha, k) * (1 + 1e-12)
