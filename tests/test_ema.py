"""The exponentially decayed iterate average of 001_7d31b3ff3a2f0401.txt §14.3 (theorytools.quadratic.ema):
exact risk against the dense brute force (explicit weights and the covariances of eqn. 39), its limits
(beta_max = 0: the plain iterate; phase 1: the plain average of theta_1..theta_k, via the Polyak average),
a 40-digit evaluation of the pair recursion for k up to 1e12, and the stationary floor."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theorytools.quadratic import (
    QuadraticProblem,
    averaged_excess_risk,
    constant_noise_floor,
    excess_risk,
    mean_iterate,
    random_problem,
)
from theorytools.quadratic.ema import (
    ema_betas,
    ema_excess_risk,
    ema_excess_risk_dense,
    ema_stationary_excess_risk,
    ema_switch,
    ema_weights,
)

EPS = np.finfo(float).eps


def route_rtol(p, k=1):
    """Eigenbasis route vs dense route on the same problem: the eigenvalues of B^-1 H carry ~eps cond(B)
    relative error, amplified by at most ~(1 + log(1+k)) in the risk (tests/conftest.py, route_rtol);
    plus 1e-10 for the dense O(k^2) sums of n x n products."""
    return 1e-10 + 8.0 * (1.0 + np.log1p(float(np.max(k)))) * EPS * np.linalg.cond(p.B)


@st.composite
def problems(draw, nmax=3, kmax=1e4):
    n = draw(st.integers(1, nmax))
    kappa = 10.0 ** draw(st.floats(0.0, np.log10(kmax)))
    return random_problem(n, kappa, draw(st.sampled_from(["H", "I", "lambda_n", "random"])),
                          draw(st.sampled_from(["H", "random", "lowrank", "identity"])),
                          seed=draw(st.integers(0, 2**31)))


# ---------------------------------------------------------------------------------------------
# schedule, switch point, weights
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("beta_max,kstar", [(0.0, 1), (0.5, 2), (0.9, 10), (0.99, 100), (0.999, 1000), (0.3, 1)])
def test_switch_point(beta_max, kstar):
    assert ema_switch(beta_max) == kstar
    b = ema_betas(3 * kstar + 5, beta_max)
    k = np.arange(1, b.size + 1)
    assert np.all(b[: kstar] == 1.0 - 1.0 / k[: kstar])  # phase 1
    assert np.all(b[kstar:] == beta_max)  # phase 2
    assert np.all(b == np.minimum(1.0 - 1.0 / k, beta_max))


@given(st.integers(0, 200), st.floats(0.0, 0.995))
def test_weights(k, beta_max):
    w = ema_weights(k, beta_max)
    assert w.size == k + 1 and np.all(w >= 0) and w.sum() == pytest.approx(1.0, rel=1e-13)
    ks = ema_switch(beta_max)
    if 1 <= k <= ks:  # phase 1: plain average of theta_1..theta_k
        assert w[0] == 0.0 and np.allclose(w[1:], 1.0 / k, rtol=1e-12)
    if k > ks:  # phase 2: w_{k,m} = (1 - beta_max) beta_max^(k-m) for m > k*
        m = np.arange(ks + 1, k + 1)
        # atol: weights below ~1e-308 are subnormal and carry absolute, not relative, precision (k=75, beta=5e-5)
        assert np.allclose(w[ks + 1 :], (1.0 - beta_max) * beta_max ** (k - m), rtol=1e-12, atol=1e-300)


# ---------------------------------------------------------------------------------------------
# against the dense brute force
# ---------------------------------------------------------------------------------------------
@given(problems(), st.floats(0.05, 1.0), st.floats(0.0, 0.97), st.integers(0, 30))
@settings(max_examples=40)
def test_matches_dense_bruteforce(p, frac, beta_max, k):
    al = frac / p.lambda_1
    got = ema_excess_risk(p, al, k, beta_max)
    ref = ema_excess_risk_dense(p, al, k, beta_max)
    assert got == pytest.approx(ref, rel=route_rtol(p, k), abs=1e-300)


@pytest.mark.parametrize("x1", [1.0, 1.3, 1.8])
@pytest.mark.parametrize("beta_max", [0.0, 0.6, 0.9])
def test_matches_dense_bruteforce_large_steps(x1, beta_max):
    """alpha lambda_1 in [1, 2): rho <= 0 for some coordinates (the non-log branch of phase 1)."""
    p = random_problem(3, 10.0, "random", "random", seed=7)
    al = x1 / p.lambda_1
    ks = np.arange(0, 25)
    got = ema_excess_risk(p, al, ks, beta_max)
    ref = np.array([ema_excess_risk_dense(p, al, int(k), beta_max) for k in ks])
    assert np.allclose(got, ref, rtol=route_rtol(p, 25), atol=0)


# ---------------------------------------------------------------------------------------------
# limits
# ---------------------------------------------------------------------------------------------
@given(problems(nmax=5, kmax=1e8), st.floats(0.01, 1.0))
@settings(max_examples=25)
def test_beta_max_zero_is_the_plain_iterate(p, frac):
    al = frac / p.lambda_1
    ks = np.array([0, 1, 2, 3, 10, 1000, 10**6, 10**9, 10**12])
    want = excess_risk(p, al, ks)
    # beta = 0: theta_bar_k = theta_k for k >= 1.  Phase 2 is the recursion M22 <- rho^2 M22 + alpha^2 s by
    # squaring (relative error ~ min(k, 1/(alpha lam)) eps, <= 1e-8 at kappa = 1e8) vs excess_risk's log space
    assert np.allclose(ema_excess_risk(p, al, ks, 0.0), want, rtol=1e-7, atol=0)
    # beta_max -> 0: continuity (the difference is O(beta_max) relative)
    assert np.allclose(ema_excess_risk(p, al, ks, 1e-9), want, rtol=1e-6, atol=0)


@given(problems(nmax=4, kmax=1e6), st.floats(0.05, 1.0), st.sampled_from([1, 2, 3, 17, 200, 999, 1000]))
@settings(max_examples=25)
def test_phase1_is_plain_average_of_theta_1_to_k(p, frac, k):
    """k <= k* = 1000 (beta_max = 0.999): theta_bar_k = mean(theta_1..theta_k) = ((k+1) PolyakAvg_k - theta_0)/k,
    so E h - h* = [(k+1)^2 R_P(k) - sum_{i<=k} m_i^T H d_0 + h(theta_0)] / k^2 with R_P the exact Polyak risk."""
    al = frac / p.lambda_1
    beta_max = 0.999
    assert k <= ema_switch(beta_max)
    d0 = p.theta0 - p.theta_star
    m = np.atleast_2d(mean_iterate(p, al, np.arange(k + 1))) - p.theta_star
    want = ((k + 1) ** 2 * averaged_excess_risk(p, al, k) - float(np.sum(m @ p.H @ d0)) + p.h0) / k**2
    got = ema_excess_risk(p, al, k, beta_max)
    # the relation subtracts terms of size (k+1)^2 R_P ~ k^2 * risk: cancellation costs a factor ~ the
    # ratio of the start term to the risk; 1e-7 covers it for these seeds (measured <= 1e-10)
    assert got == pytest.approx(want, rel=1e-7 + route_rtol(p, k))


# ---------------------------------------------------------------------------------------------
# long horizons: 40-digit evaluation of the same pair recursion; the stationary floor
# ---------------------------------------------------------------------------------------------
def mp_ema_risk(lam, s, z0, alpha, k, beta_max, dps=40):
    """Per coordinate, the recursion of M = (E ybar^2, E ybar y, E y^2) at `dps` digits: phase 1 step by step
    (beta_j = 1 - 1/j), phase 2 by binary powering of the 4x4 augmented matrix; float inputs taken as exact."""
    kstar = ema_switch(beta_max)
    with mp.workdps(dps):
        al = mp.mpf(float(alpha))
        total = mp.mpf(0)
        for l_, s_, z_ in zip(lam, s, z0):
            l_, s_, z_ = mp.mpf(float(l_)), mp.mpf(float(s_)), mp.mpf(float(z_))
            rho = 1 - al * l_
            q = s_ * al * al
            M11 = M12 = M22 = z_ * z_

            def step(M11, M12, M22, b):
                g = 1 - b
                return (b * b * M11 + 2 * b * g * rho * M12 + g * g * rho * rho * M22 + q * g * g,
                        b * rho * M12 + g * rho * rho * M22 + q * g,
                        rho * rho * M22 + q)

            for j in range(1, min(k, kstar) + 1):
                M11, M12, M22 = step(M11, M12, M22, 1 - mp.mpf(1) / j)
            if k > kstar:
                b = mp.mpf(float(beta_max))
                g = 1 - b
                T = mp.matrix([[b * b, 2 * b * g * rho, g * g * rho * rho, q * g * g],
                               [0, b * rho, g * rho * rho, q * g],
                               [0, 0, rho * rho, q],
                               [0, 0, 0, 1]])
                v = mp.matrix([M11, M12, M22, 1])
                e = k - kstar
                while e:
                    if e & 1:
                        v = T * v
                    e >>= 1
                    if e:
                        T = T * T
                M11 = v[0]
            total += l_ / 2 * M11
        return total


@pytest.mark.parametrize("kappa", [1e2, 1e8])
@pytest.mark.parametrize("beta_max", [0.9, 0.99, 0.999])
def test_long_horizons_against_40_digits(kappa, beta_max):
    p = random_problem(3, kappa, "I", "random", seed=12)
    al = 1.0 / p.lambda_1  # alpha lambda_n = 1/kappa: rho within 1e-8 of 1 for kappa = 1e8
    ks = np.array([1, 10, 999, 1000, 1001, 5000, 10**6, 10**9, 10**12])
    got = ema_excess_risk(p, al, ks, beta_max)
    ref = np.array([float(mp_ema_risk(p.lam, p.s, p.z0, al, int(k), beta_max)) for k in ks])
    # binary powering loses ~ min(k, 1/(alpha lam)) eps relative on rho^(2k): <= 1e8 * 2.2e-16 = 2.2e-8 at
    # kappa = 1e8 (measured 2e-9), ~1e-14 at kappa = 1e2; phase 1 is closed form (log space), ~1e-14
    assert np.allclose(got, ref, rtol=2.5e-8 if kappa > 1e6 else 1e-11, atol=0)


@given(problems(nmax=4, kmax=1e4), st.floats(0.05, 1.9), st.floats(0.0, 0.9999))
@settings(max_examples=30)
def test_stationary_limit(p, x1, beta_max):
    al = x1 / p.lambda_1
    lim = ema_stationary_excess_risk(p, al, beta_max)
    # independent route: fixed point (I - T) M = d of the phase-2 recursion, solved per coordinate
    tot = 0.0
    for lam, s in zip(p.lam, p.s):
        rho, b = 1 - al * lam, beta_max
        g = 1 - b
        T = np.array([[b * b, 2 * b * g * rho, g * g * rho * rho], [0, b * rho, g * rho * rho], [0, 0, rho * rho]])
        d = s * al * al * np.array([g * g, g, 1.0])
        tot += 0.5 * lam * np.linalg.solve(np.eye(3) - T, d)[0]
    assert lim == pytest.approx(tot, rel=1e-8, abs=1e-300)  # 3x3 solve, cond <= ~1/(alpha lam_n (1-b)) <= 1e8
    # the long-run risk approaches it once beta^(k-k*) and rho^k have decayed (k alpha lam_n >= 1e4 here)
    k = int(min(2**62, 1e4 / (al * p.lambda_n) + 1e4 / (1 - beta_max)))
    assert ema_excess_risk(p, al, k, beta_max) == pytest.approx(lim, rel=1e-6, abs=1e-300)


def test_stationary_floor_shrinks_with_beta():
    p = random_problem(4, 100.0, "I", "H", seed=3)
    al = 1.0 / p.lambda_1
    floor = constant_noise_floor(p, al)
    assert ema_stationary_excess_risk(p, al, 0.0) == pytest.approx(floor, rel=1e-12)  # beta = 0: eqn. 29 floor
    vals = [ema_stationary_excess_risk(p, al, b) for b in (0.0, 0.5, 0.9, 0.99, 0.999)]
    assert all(x > y > 0 for x, y in zip(vals, vals[1:]))  # never reaches 0 for beta_max < 1


def test_scalar_array_and_ordering():
    p = random_problem(3, 50.0, "random", "random", seed=1)
    al = 0.8 / p.lambda_1
    ks = np.array([10**6, 0, 5, 100, 3, 10**9, 100])
    arr = ema_excess_risk(p, al, ks, 0.95)
    one = np.array([ema_excess_risk(p, al, int(k), 0.95) for k in ks])
    # Same values whether k comes as an array or one at a time, up to the last bit of a BLAS
    # matrix-vector product (whose blocking depends on the number of rows).
    np.testing.assert_allclose(arr, one, rtol=4 * np.finfo(float).eps, atol=0)
    assert isinstance(ema_excess_risk(p, al, 7, 0.95), float)
    assert ema_excess_risk(p, al, 0, 0.95) == pytest.approx(p.h0, rel=1e-12)


@pytest.mark.parametrize("beta_max", [1.0, -0.1, 1.5])
def test_rejects_bad_beta(beta_max):
    p = random_problem(2, 10.0, seed=0)
    with pytest.raises(ValueError, match="beta_max"):
        ema_excess_risk(p, 0.1, 10, beta_max)


def test_rejects_bad_alpha():
    p = random_problem(2, 10.0, seed=0)
    with pytest.raises(ValueError, match="alpha"):
        ema_excess_risk(p, 0.0, 10, 0.9)


def test_one_dimensional_closed_form_phase2():
    """n = 1, theta_0 = theta*: E ybar_k^2 = V_inf f(beta, rho) (1 - O(beta^k + rho^k)); at k = k* + 1 by hand."""
    lam, alpha, beta = 0.5, 0.4, 0.9
    p = QuadraticProblem([[lam]], [[1.0]], [[2.0]], [0.0])
    kstar = ema_switch(beta)
    rho, q = 1 - alpha * lam, 2.0 * alpha * alpha
    # phase 1 (plain average of y_1..y_k*) by hand: Var(sum y_m)/k^2 with Cov(y_i, y_j) = rho^|i-j| V_min
    V = [q * (1 - rho ** (2 * i)) / (1 - rho * rho) for i in range(kstar + 2)]
    C = sum(rho ** abs(i - j) * V[min(i, j)] for i in range(1, kstar + 1) for j in range(1, kstar + 1)) / kstar**2
    Cy = sum(rho ** (kstar - i) * V[i] for i in range(1, kstar + 1)) / kstar  # Cov(ybar_k*, y_k*)
    # one phase-2 step: ybar' = beta ybar + (1-beta)(rho y - alpha eta)
    g = 1 - beta
    nxt = beta * beta * C + 2 * beta * g * rho * Cy + g * g * (rho * rho * V[kstar] + q)
    assert ema_excess_risk(p, alpha, kstar, beta) == pytest.approx(0.5 * lam * C, rel=1e-13)
    assert ema_excess_risk(p, alpha, kstar + 1, beta) == pytest.approx(0.5 * lam * nxt, rel=1e-13)
