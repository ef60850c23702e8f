"""Martens' operator algebra (001_7d31b3ff3a2f0401.txt §14.2, Appendix B): Xi, Omega, Psi_beta,
Lambda, their combinations; the eigenbasis multipliers against the dense Kronecker matrices and
against the defining matrix formulas; Corollaries 8 and 12 (PSD preservation)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from theorytools.linalg import unvec, vec
from theorytools.quadratic import QuadraticProblem, operators, random_problem
from theorytools.testing.strategies import condition_numbers, quadratic_problems

EPS = np.finfo(float).eps


# random_problem's seeded instances, widened: kappa(H) log-uniform in [1, 1e3] with both ends, every
# spectrum shape, every preconditioner and noise kind (theorytools.testing.strategies)
problems = quadratic_problems(n=st.integers(1, 5), condition=condition_numbers(1e3))


def op_tol(p, mult, X, cancelled=0.0):
    """Absolute tolerance for comparing two routes of an operator applied to X.

    In the eigenbasis the operator is diagonal with multipliers f, but the basis V is only
    B-orthonormal: ``|op(X)| <= kappa(B) max|f| |X|``.  Each route (``V (f o V^-1 X V^-T) V^T``, or the
    Kronecker matrix from the dense ``B^-1 H``) rounds at relative ~eps kappa(B) of that size, with
    n^2-term inner products: tol = 64 n^2 eps kappa(B) max|f| |X|_F.  Where f is a difference (Psi's
    (1 - beta lam_i)(1 - beta lam_j), which vanishes at beta lam = 1), the dense route rounds at the size of
    the terms before they cancel: ``cancelled`` is that size, (1 + beta lam_1)^2 for Psi.
    """
    kB = np.linalg.cond(p.B)
    return 64 * p.n**2 * EPS * kB * max(float(np.max(np.abs(mult))), cancelled) * np.linalg.norm(X)


def defining_formula(p, name, beta=None):
    """The operators as written in the paper, with dense B^-1 H (no eigenbasis, no Kronecker)."""
    A = np.linalg.solve(p.B, p.H)
    if name == "Xi":
        return lambda X: A @ X + X @ A.T
    if name == "Omega":
        return lambda X: A @ X @ A.T
    if name == "Psi":
        D = np.eye(p.n) - beta * A
        return lambda X: D @ X @ D.T
    if name == "I":
        return lambda X: X
    raise KeyError(name)


@given(p=problems, seed=st.integers(0, 2**31 - 1), beta=st.floats(0.0, 2.0))
@settings(max_examples=40)
def test_both_representations_and_definitions_agree(p, seed, beta):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((p.n, p.n))  # not symmetric: the operators act on all square matrices
    ops = operators(p)
    beta = beta / p.lambda_1
    for name, op in [("I", ops.I), ("Xi", ops.Xi), ("Omega", ops.Omega), ("Psi", ops.Psi(beta))]:
        Y_eig = op(X)
        Y_kron = op.apply_dense(X)
        Y_def = defining_formula(p, name, beta)(X)
        tol = op_tol(p, op.multiplier, X, (1 + beta * p.lambda_1) ** 2 if name == "Psi" else 0.0)
        np.testing.assert_allclose(Y_eig, Y_def, rtol=0, atol=tol)
        np.testing.assert_allclose(Y_kron, Y_def, rtol=0, atol=tol)
    # Lambda is Psi_alpha (Appendix B.1)
    np.testing.assert_array_equal(ops.Lambda(beta).multiplier, ops.Psi(beta).multiplier)


@given(p=problems)
@settings(max_examples=25)
def test_kron_eigenvalues_are_the_multipliers(p):
    """The n^2 x n^2 matrix of each operator has eigenvalues {f(lam_i, lam_j)} (Corollary 12's proof:
    'Kronecker products respect eigenvalue decompositions')."""
    ops = operators(p)
    for op in (ops.Xi, ops.Omega, ops.Psi(0.7 / p.lambda_1)):
        ev = np.sort(np.linalg.eigvals(op.kron).real)
        f = np.sort(op.multiplier.ravel())
        tol = 64 * p.n**2 * EPS * np.linalg.cond(p.B) * np.max(np.abs(f))
        np.testing.assert_allclose(ev, f, rtol=0, atol=tol)


@given(p=problems, seed=st.integers(0, 2**31 - 1))
@settings(max_examples=30)
def test_xi_and_omega_commute(p, seed):
    """Appendix B: Xi(Omega(X)) = Omega(Xi(X)) -- checked on the dense matrices, independent of V."""
    ops = operators(p)
    K1 = ops.Xi.kron @ ops.Omega.kron
    K2 = ops.Omega.kron @ ops.Xi.kron
    scale = np.linalg.norm(ops.Xi.kron) * np.linalg.norm(ops.Omega.kron)
    assert np.linalg.norm(K1 - K2) <= 64 * p.n**2 * EPS * scale
    X = np.random.default_rng(seed).standard_normal((p.n, p.n))
    f = defining_formula(p, "Xi")
    g = defining_formula(p, "Omega")
    np.testing.assert_allclose(f(g(X)), g(f(X)), rtol=0, atol=64 * p.n**2 * EPS * np.linalg.norm(f(g(X))) + 1e-300)


@given(p=problems, beta=st.floats(-2.0, 3.0))
@settings(max_examples=30)
def test_psi_is_I_minus_beta_xi_plus_beta2_omega(p, beta):
    """Psi_beta = I - beta Xi + beta^2 Omega (Appendix B), on both representations."""
    ops = operators(p)
    beta = beta / p.lambda_1
    combo = ops.I - beta * ops.Xi + beta**2 * ops.Omega
    Psi = ops.Psi(beta)
    scale = 1.0 + abs(beta) * np.max(np.abs(ops.Xi.multiplier)) + beta**2 * np.max(np.abs(ops.Omega.multiplier))
    np.testing.assert_allclose(combo.multiplier, Psi.multiplier, rtol=0, atol=8 * EPS * scale)
    np.testing.assert_allclose(combo.kron, Psi.kron, rtol=0, atol=64 * p.n**2 * EPS * np.linalg.cond(p.B) * scale)


@given(p=problems, seed=st.integers(0, 2**31 - 1), power=st.integers(-3, 4))
@settings(max_examples=30)
def test_composition_power_inverse(p, seed, power):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((p.n, p.n))
    ops = operators(p)
    Lam = ops.Lambda(0.5 / p.lambda_1)  # multipliers in [0.25, 1): invertible, well conditioned
    XiI = ops.Xi - ops.I if p.lambda_n > 0.55 else ops.Xi + 1.0
    # composition is application in sequence
    comp = Lam * XiI
    tol = op_tol(p, comp.multiplier, X) * 4
    np.testing.assert_allclose(comp(X), Lam(XiI(X)), rtol=0, atol=tol)
    np.testing.assert_allclose(comp.apply_dense(X), Lam.apply_dense(XiI.apply_dense(X)), rtol=0, atol=tol)
    np.testing.assert_allclose((Lam @ XiI)(X), comp(X), rtol=0, atol=tol)
    # power: repeated application (negative powers through the inverse)
    P = Lam**power
    Y = X.copy()
    for _ in range(abs(power)):
        Y = Lam(Y) if power > 0 else Lam.inv()(Y)
    tol = op_tol(p, P.multiplier, X) * (1 + abs(power))
    np.testing.assert_allclose(P(X), Y, rtol=0, atol=tol)
    np.testing.assert_allclose(P.apply_dense(X), Y, rtol=0, atol=tol)
    # inverse: op^-1(op(X)) = X, on both routes (kron inverse via numpy, multiplier 1/f)
    inv = XiI.inv()
    cond_op = np.max(np.abs(XiI.multiplier)) / np.min(np.abs(XiI.multiplier))
    tol = op_tol(p, np.ones(1), X) * cond_op
    np.testing.assert_allclose(inv(XiI(X)), X, rtol=0, atol=tol)
    np.testing.assert_allclose(inv.apply_dense(XiI.apply_dense(X)), X, rtol=0, atol=tol)


def test_scalar_arithmetic():
    p = random_problem(3, 10.0, "random", "random", seed=3)
    ops = operators(p)
    X = np.random.default_rng(0).standard_normal((3, 3))
    # 1 - Xi, Xi - 1, 2 Xi, -Xi, Xi + Omega against the defining formulas
    xi = defining_formula(p, "Xi")
    om = defining_formula(p, "Omega")
    tol = 1e-12 * (1 + np.abs(xi(X)).max() + np.abs(om(X)).max())  # kappa(B) <= e^2: rounding ~1e-14
    np.testing.assert_allclose((1.0 - ops.Xi)(X), X - xi(X), atol=tol)
    np.testing.assert_allclose((ops.Xi - 1.0)(X), xi(X) - X, atol=tol)
    np.testing.assert_allclose((2 * ops.Xi)(X), 2 * xi(X), atol=tol)
    np.testing.assert_allclose((ops.Xi * 2)(X), 2 * xi(X), atol=tol)
    np.testing.assert_allclose((-ops.Xi)(X), -xi(X), atol=tol)
    np.testing.assert_allclose((ops.Xi + ops.Omega)(X), xi(X) + om(X), atol=tol)
    np.testing.assert_allclose((ops.Xi + ops.Omega).apply_dense(X), xi(X) + om(X), atol=tol)
    np.testing.assert_allclose((1.0 + ops.Omega).apply_dense(X), X + om(X), atol=tol)
    assert "Xi" in repr(ops.Xi) and "n=3" in repr(ops.Xi)


def test_inverse_against_scipy_solvers():
    """(I - Lambda)^-1 is scipy's discrete Lyapunov solve (Y - D Y D^T = X, D = I - alpha B^-1 H);
    (Xi - I)^-1 is the Sylvester solve (M Y + Y M^T = X, M = B^-1 H - I/2)."""
    p = random_problem(4, 1e2, "random", "random", seed=11)
    p = QuadraticProblem(p.H, p.B * p.lambda_n / 0.8, p.Sigma_g, p.theta0)  # b = 0.8 > 1/2
    ops = operators(p)
    X = np.random.default_rng(1).standard_normal((4, 4))
    A = np.linalg.solve(p.B, p.H)
    alpha = 0.9 / p.lambda_1
    Y1 = (ops.I - ops.Lambda(alpha)).inv()(X)
    Y1_ref = scipy.linalg.solve_discrete_lyapunov(np.eye(4) - alpha * A, X)
    # relative 1e-9: the solves are conditioned by 1/min|1 - (1-x_i)(1-x_j)| <= 1/(alpha lam_n) ~ 1.4e2
    # times kappa(B) ~ 7 times the n^2 = 16 term sums: error <= ~1e-11 |Y|
    np.testing.assert_allclose(Y1, Y1_ref, rtol=0, atol=1e-9 * np.abs(Y1_ref).max())
    Y2 = (ops.Xi - ops.I).inv()(X)
    Y2_ref = scipy.linalg.solve_sylvester(A - 0.5 * np.eye(4), A.T - 0.5 * np.eye(4), X)
    np.testing.assert_allclose(Y2, Y2_ref, rtol=0, atol=1e-9 * np.abs(Y2_ref).max())


# ---------------------------------------------------------------------------------------------
# Corollary 8: alpha lambda_1 <= 1  =>  (I - Lambda)^-1 = sum_i Lambda^i preserves PSD matrices.
# Corollary 12: b > 1/2  =>  (Xi - I)^-1 preserves PSD matrices.
# ---------------------------------------------------------------------------------------------
def random_psd(n, rng, rank=None):
    G = rng.standard_normal((n, rank or n))
    return G @ G.T


def psd_slack(Y, p):
    """Rounding slack for 'PSD': an exact PSD result computed in a kappa(B)-conditioned basis may show
    eigenvalues down to -64 n eps kappa(B) |Y|."""
    return 64 * p.n * EPS * np.linalg.cond(p.B) * np.abs(Y).max()


@given(p=problems, seed=st.integers(0, 2**31 - 1), x=st.floats(0.01, 1.0), rank1=st.booleans())
@settings(max_examples=40)
def test_corollary8_psd_preservation(p, seed, x, rank1):
    rng = np.random.default_rng(seed)
    X = random_psd(p.n, rng, 1 if rank1 else None)
    ops = operators(p)
    Lam = ops.Lambda(x / p.lambda_1)
    IL = ops.I - Lam
    assert np.all(IL.multiplier > 0)  # 'I - Lambda has all positive eigenvalues'
    Y = IL.inv()(X)
    Y = 0.5 * (Y + Y.T)
    assert np.linalg.eigvalsh(Y)[0] >= -psd_slack(Y, p)
    # the Neumann series of Corollary 8, summed with dense products (independent of V):
    # sum_{i<N} Lambda^i (X) -> Y; the tail is Lambda^N (Y), of size <= (1 - x lam_n/lam_1)^{2N} |Y|.
    D = np.eye(p.n) - (x / p.lambda_1) * np.linalg.solve(p.B, p.H)
    S, T = np.zeros_like(X), X.copy()
    N = 400
    for _ in range(N):
        S += T
        T = D @ T @ D.T
    rho = (1 - x * p.lambda_n / p.lambda_1) ** 2
    tail = rho**N / (1 - rho) if rho < 1 else np.inf
    if tail < 1e-3:
        tol = (tail * np.linalg.cond(p.B) + 1e-10) * np.abs(Y).max() * p.n
        np.testing.assert_allclose(S, Y, rtol=0, atol=tol)


def test_corollary8_at_alpha_equal_one_over_lambda1():
    """Boundary alpha lambda_1 = 1: the multiplier 1 - (1 - alpha lam_1)^2 = 1 > 0 and PSD is kept."""
    p = random_problem(5, 1e2, "I", "random", seed=5)
    ops = operators(p)
    Y = (ops.I - ops.Lambda(1.0 / p.lambda_1)).inv()(random_psd(5, np.random.default_rng(2)))
    assert np.linalg.eigvalsh(0.5 * (Y + Y.T))[0] >= -psd_slack(Y, p)


@given(p=problems, seed=st.integers(0, 2**31 - 1), b=st.floats(0.51, 3.0), rank1=st.booleans())
@settings(max_examples=40)
def test_corollary12_psd_preservation(p, seed, b, rank1):
    p = QuadraticProblem(p.H, p.B * (p.lambda_n / b), p.Sigma_g, p.theta0)  # lambda_n(B^-1 H) = b
    rng = np.random.default_rng(seed)
    X = random_psd(p.n, rng, 1 if rank1 else None)
    ops = operators(p)
    XiI = ops.Xi - ops.I
    assert np.all(XiI.multiplier > 0)
    Y = XiI.inv()(X)
    Y = 0.5 * (Y + Y.T)
    # the inverse amplifies rounding by 1/min multiplier = 1/(2b - 1)
    assert np.linalg.eigvalsh(Y)[0] >= -psd_slack(Y, p) / (2 * p.lambda_n - 1)


def test_corollary12_fails_without_its_hypothesis():
    """With b < 1/2 the operator (Xi - I)^-1 maps a PSD matrix to a non-PSD one (scalar: 1/(2b-1) < 0)."""
    p = QuadraticProblem([[0.3]], [[1.0]], [[1.0]], [1.0])
    ops = operators(p)
    Y = (ops.Xi - ops.I).inv()(np.array([[1.0]]))
    assert Y[0, 0] == pytest.approx(1.0 / (2 * 0.3 - 1.0), rel=4 * EPS)
    assert Y[0, 0] < 0


def test_corollary8_fails_without_its_hypothesis():
    """With alpha lambda > 2 the series diverges and (I - Lambda)^-1 maps PSD to negative (scalar)."""
    p = QuadraticProblem([[1.0]], [[1.0]], [[1.0]], [1.0])
    ops = operators(p)
    Y = (ops.I - ops.Lambda(2.5)).inv()(np.array([[1.0]]))
    # 1 - (1 - 2.5)^2 = -1.25
    assert Y[0, 0] == pytest.approx(1.0 / -1.25, rel=4 * EPS)


@pytest.mark.parametrize(
    "build, what",
    [
        # lam = 1/2 exactly: Xi - I has multiplier 2 lam - 1 = 0
        (lambda ops: ops.Xi - ops.I, "Xi - I at lam = 1/2"),
        # alpha lam = 2 exactly: I - Lambda has multiplier 1 - (1-2)^2 = 0
        (lambda ops: ops.I - ops.Lambda(4.0), "I - Lambda at alpha lam = 2"),
        # Psi_2 at lam = 1/2: multiplier (1 - 2 * 1/2)^2 = 0
        (lambda ops: ops.Psi(2.0), "Psi_{1/lam}"),
    ],
)
def test_singular_operator_inversion_raises(build, what):
    p = QuadraticProblem([[0.5]], [[1.0]], [[1.0]], [1.0])  # lam = 0.5 exactly
    op = build(operators(p))
    with pytest.raises(ValueError, match=r"operator .* is singular: eigenvalue f\(lam_0, lam_0\) = 0\.000e\+00"):
        op.inv()(np.eye(1))
    with pytest.raises(ValueError, match=r"is singular"):
        (op**-1).multiplier


def test_singular_in_one_coordinate_only():
    """A 2x2 problem with eigenvalues {0.5, 2}: Xi - I is singular only at (i, j) = (0, 0)."""
    p = QuadraticProblem(np.diag([0.5, 2.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    with pytest.raises(ValueError, match=r"f\(lam_0, lam_0\)"):
        (operators(p).Xi - 1.0).inv()(np.eye(2))


def test_kron_of_inverse_and_power_are_dense_matrix_operations():
    p = random_problem(3, 10.0, "random", "random", seed=8)
    ops = operators(p)
    L = ops.Lambda(0.5 / p.lambda_1)
    # relative 1e-12: n^2 = 9, the matrices are well conditioned (kappa(B) <= e^2, multipliers in [1/4, 1))
    np.testing.assert_allclose(L.inv().kron @ L.kron, np.eye(9), atol=1e-12)
    np.testing.assert_allclose((L**3).kron, L.kron @ L.kron @ L.kron, atol=1e-12)
    np.testing.assert_allclose((L**0).kron, np.eye(9), atol=0)
    np.testing.assert_allclose(vec(L(np.eye(3))), L.kron @ vec(np.eye(3)), atol=1e-12)
    assert unvec(vec(np.eye(3)), 3).shape == (3, 3)
