"""Trace identities of 001_7d31b3ff3a2f0401.txt Appendix B (all via Lemma 17): Proposition 10,
Proposition 14, eqns. 29 and 45 -- against the explicit operator solve (eigenbasis multiplier and
n^2 x n^2 Kronecker solve) and scipy's Lyapunov/Stein/Sylvester solvers."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from theorytools.linalg import lyapunov_trace
from theorytools.quadratic import (
    QuadraticProblem,
    V_infinity,
    constant_noise_floor,
    eq29_trace,
    eq45_trace,
    operators,
    proposition10_trace,
    proposition14_trace,
)
from theorytools.testing.strategies import condition_numbers, quadratic_problems

EPS = np.finfo(float).eps


# random_problem's seeded instances, widened: kappa(H) log-uniform in [1, 1e4] with both ends, every
# spectrum shape, every preconditioner and noise kind (theorytools.testing.strategies)
problems = quadratic_problems(n=st.integers(1, 5), condition=condition_numbers(1e4))


def trace_tol(p, Y, cond_op):
    """Absolute tolerance for tr(H Y) computed by two routes.

    tr(H Y) is a linear functional; for a non-PSD X it can cancel, so the scale is |H|_F |Y|_F.
    Each route solves a linear operator equation with condition ~ cond_op = max|f|/min|f| (the
    operator's multipliers) in a basis of condition kappa(B), with n^2-term sums:
    64 n^2 eps kappa(B) cond_op |H|_F |Y|_F."""
    return 64 * p.n**2 * EPS * np.linalg.cond(p.B) * cond_op * np.linalg.norm(p.H) * np.linalg.norm(Y)


def stein_solve(p, alpha, X):
    """(I - Lambda)(Y) = X, i.e. Y - D Y D^T = X with D = I - alpha B^-1 H (scipy, no eigenbasis)."""
    D = np.eye(p.n) - alpha * np.linalg.solve(p.B, p.H)
    return scipy.linalg.solve_discrete_lyapunov(D, X)


def sylvester_solve(p, X):
    """(Xi - I)(Y) = X, i.e. (B^-1 H - I/2) Y + Y (H B^-1 - I/2) = X (scipy)."""
    A = np.linalg.solve(p.B, p.H) - 0.5 * np.eye(p.n)
    return scipy.linalg.solve_sylvester(A, A.T, X)


@given(p=problems, x=st.floats(0.05, 1.95), seed=st.integers(0, 2**31 - 1), sym=st.booleans())
@settings(max_examples=60)
def test_proposition10(p, x, seed, sym):
    """tr(H (I - Lambda)^-1(X)) = 1/(2 alpha) tr((B - alpha/2 H)^-1 B X B) for alpha lambda_1 < 2."""
    alpha = x / p.lambda_1
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((p.n, p.n))
    if sym:
        X = X @ X.T
    ops = operators(p)
    IL = ops.I - ops.Lambda(alpha)
    f = np.abs(IL.multiplier)
    if f.min() < 1e-6 * f.max():  # (I - Lambda) nearly singular (alpha lam_i ~ 2 - alpha lam_j): skip-free guard
        x = 1.0
        alpha = x / p.lambda_1
        IL = ops.I - ops.Lambda(alpha)
        f = np.abs(IL.multiplier)
    cond_op = f.max() / f.min()
    got = proposition10_trace(p, alpha, X)
    Y_eig = IL.inv()(X)
    Y_kron = np.linalg.solve(IL.kron, X.reshape(-1, order="F")).reshape(p.n, p.n, order="F")
    Y_sp = stein_solve(p, alpha, X)
    tol = trace_tol(p, Y_sp, cond_op)
    for Y in (Y_eig, Y_kron, Y_sp):
        assert abs(got - np.trace(p.H @ Y)) <= tol
    # Lemma 17 directly on the proof's (A, P, Q) = (Y H, alpha (B - alpha/2 H), -B X B)
    P = alpha * (p.B - 0.5 * alpha * p.H)
    assert abs(lyapunov_trace(P, -p.B @ X @ p.B) - np.trace(Y_sp @ p.H)) <= tol


@given(p=problems, b=st.floats(0.55, 4.0), seed=st.integers(0, 2**31 - 1), sym=st.booleans())
@settings(max_examples=60)
def test_proposition14(p, b, seed, sym):
    """tr(H (Xi - I)^-1(X)) = 1/2 tr((B^-1 - H^-1/2)^-1 X) for b = lambda_n(B^-1 H) > 1/2."""
    p = QuadraticProblem(p.H, p.B * (p.lambda_n / b), p.Sigma_g, p.theta0)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((p.n, p.n))
    if sym:
        X = X @ X.T
    ops = operators(p)
    XiI = ops.Xi - ops.I
    f = XiI.multiplier
    cond_op = f.max() / f.min()
    got = proposition14_trace(p, X)
    Y_eig = XiI.inv()(X)
    Y_kron = np.linalg.solve(XiI.kron, X.reshape(-1, order="F")).reshape(p.n, p.n, order="F")
    Y_sp = sylvester_solve(p, X)
    # the dense (B^-1 - H^-1/2) of the formula has condition up to kappa(H) kappa(B)/(2b - 1) relative to
    # its smallest eigenvalue: include kappa(H) in the tolerance
    tol = trace_tol(p, Y_sp, cond_op) * np.linalg.cond(p.H)
    for Y in (Y_eig, Y_kron, Y_sp):
        assert abs(got - np.trace(p.H @ Y)) <= tol
    # continuous Lyapunov form: (B^-1 H - I/2) Y + Y (B^-1 H - I/2)^T = X (same equation)
    A = np.linalg.solve(p.B, p.H) - 0.5 * np.eye(p.n)
    Y_ly = scipy.linalg.solve_continuous_lyapunov(A, X)
    assert abs(got - np.trace(p.H @ Y_ly)) <= tol


@pytest.mark.parametrize("x", [0.1, 0.5, 1.0, 1.5])
def test_eq29_and_eq45(small_case, x, ref):
    """eqn. 29: tr(H V_inf) = alpha/2 tr((B - alpha/2 H)^-1 Sigma_g) (= 2 x the constant-step noise floor);
    eqn. 45: tr((B/alpha - H/2) V_inf) = tr(H^-1 Sigma_g)/2, independent of alpha.
    V_inf from scipy's Stein solver (V - D V D^T = alpha^2 U) and from V_infinity (eigenbasis)."""
    p = ref.grid_problem(*small_case)
    alpha = x / p.lambda_1
    _, U = ref.dense_parts(p)
    V_sp = stein_solve(p, alpha, alpha**2 * U)
    V_eig = V_infinity(p, alpha)
    # PSD quantities: relative tolerances.  The Stein solve has condition 1/min(1 - rho_i rho_j)
    # <= kappa(B^-1 H)/x (eps/x cancellation in forming D); the eigen route kappa(B); traces weighted
    # by H of V_inf are dominated by the fast coordinates, so relative 64 n eps (kappa(B) + 1/x_min)
    # with x_min = alpha lambda_n is the bound for the Stein route.
    x_min = alpha * p.lambda_n
    rtol_sp = 64 * p.n * EPS * (ref.cond(p.B) + 1.0 / x_min) * ref.cond(p.H)
    rtol_eig = 64 * p.n * EPS * (ref.cond(p.B) + ref.cond(p.H))
    t29 = eq29_trace(p, alpha)
    assert t29 == pytest.approx(2 * constant_noise_floor(p, alpha), rel=4 * EPS)
    assert t29 == pytest.approx(np.trace(p.H @ V_eig), rel=rtol_eig)
    assert t29 == pytest.approx(np.trace(p.H @ V_sp), rel=rtol_sp)
    t45 = eq45_trace(p)
    W = p.B / alpha - 0.5 * p.H
    assert t45 == pytest.approx(np.trace(W @ V_eig), rel=rtol_eig)
    assert t45 == pytest.approx(np.trace(W @ V_sp), rel=rtol_sp)
    # the formula itself, by the same Cholesky solve (LU differs by ~kappa(H) eps: a different rounding, not an error)
    assert t45 == pytest.approx(0.5 * np.trace(scipy.linalg.cho_solve(scipy.linalg.cho_factor(p.H), p.Sigma_g)),
                                rel=4 * EPS)


@given(p=problems, x1=st.floats(0.05, 1.9), x2=st.floats(0.05, 1.9))
@settings(max_examples=30)
def test_eq45_is_independent_of_alpha(p, x1, x2):
    """The left side of eqn. 45, computed from V_inf(alpha) for two different alphas, is the same number
    (relative 64 n eps (kappa(B) + kappa(H)) per evaluation, see test_eq29_and_eq45)."""
    vals = []
    for x in (x1, x2):
        alpha = x / p.lambda_1
        vals.append(np.trace((p.B / alpha - 0.5 * p.H) @ V_infinity(p, alpha)))
    rtol = 128 * p.n * EPS * (np.linalg.cond(p.B) + np.linalg.cond(p.H)) * (1 + 1 / min(x1, x2))
    assert vals[0] == pytest.approx(vals[1], rel=rtol)
    assert vals[0] == pytest.approx(eq45_trace(p), rel=rtol)


def test_proposition10_at_kappa_1e8_vs_mpmath(ref):
    """kappa(H) = 1e8, B = I, PSD X = Sigma_g: the left side tr(H (I - Lambda)^-1(X)) solved in mpmath at
    50 digits through the 25 x 25 Kronecker system (independent of the identity), against
    (a) proposition10_trace and (b) the eigen-coordinate form sum_i lam_i S_ii / f_ii (S = V^-1 X V^-T,
    f = 1 - (1 - x_i)(1 - x_j) formed as x_i + x_j - x_i x_j).

    Relative 64 n eps kappa(B - alpha/2 H) for both: (a) is one solve with B - alpha/2 H (eigenvalues
    relative to B in [1/2, 1]); in (b) lam_i/f_ii = 1/(alpha (2 - x_i)) is well conditioned whatever
    lam_i.  (A dense float64 tr(H @ Y) is NOT that accurate here: Y has entries ~1/x ~ 1e8 in the slow
    directions, and the product H @ Y cancels them to ~eps |H| |Y|, i.e. ~1e-9 relatively.)"""
    import mpmath as mp

    p = ref.grid_problem(5, 1e8, "I", "random")
    n = p.n
    alpha = 0.9 / p.lambda_1
    X = p.Sigma_g
    with mp.workdps(50):
        H, B, Xm, a = mp.matrix(p.H.tolist()), mp.matrix(p.B.tolist()), mp.matrix(X.tolist()), mp.mpf(alpha)
        D = mp.eye(n) - a * (B**-1 * H)
        M = mp.matrix(n * n, n * n)
        for i in range(n):
            for j in range(n):
                for k in range(n):
                    for m in range(n):
                        M[i + n * j, k + n * m] = (1 if (i == k and j == m) else 0) - D[i, k] * D[j, m]
        v = mp.lu_solve(M, mp.matrix([Xm[i, j] for j in range(n) for i in range(n)]))
        Y = mp.matrix(n, n)
        for j in range(n):
            for i in range(n):
                Y[i, j] = v[i + n * j]
        want = mp.fsum((H * Y)[i, i] for i in range(n))
    rtol = 64 * n * EPS * ref.cond(p.B - 0.5 * alpha * p.H)
    assert ref.rel_err(proposition10_trace(p, alpha, X), want)[0] <= rtol
    ops = operators(p)
    f = (alpha * ops.Xi - alpha**2 * ops.Omega).multiplier
    S = p.eig.to_eigenbasis(X)
    assert ref.rel_err(np.sum(p.lam * np.diag(S) / np.diag(f)), want)[0] <= rtol
