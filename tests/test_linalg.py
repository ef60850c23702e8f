"""Tests of ``theorytools.linalg``: stable series helpers against mpmath at 50 digits, Lemma 17
(001_7d31b3ff3a2f0401.txt Appendix D) against explicit solves, the Kronecker/vec convention,
the generalized eigenproblem and the input validators."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from theorytools.errors import NonFiniteError
from theorytools.linalg import (
    as_matrix,
    as_steps,
    as_symmetric,
    as_vector,
    check_definite,
    check_finite,
    generalized_eigh,
    geometric_sum,
    log_abs_one_minus,
    log_gamma_ratio,
    lyapunov_trace,
    sandwich_kron,
    solve_lyapunov_A,
    sum_sq_geometric,
    unvec,
    vec,
)

EPS = np.finfo(float).eps

mp.mp.dps = 50

# A log-uniform float in [10^lo, 10^hi]; hypothesis shrinks towards 10^lo.
def log_uniform(lo, hi):
    return st.floats(min_value=lo, max_value=hi, allow_nan=False).map(lambda e: float(10.0**e))


# =============================================================================================
# log_gamma_ratio: ln Gamma(z + m) - ln Gamma(z)
# =============================================================================================
def lgr_tol(z, m):
    """Rounding scale of ``ln Gamma(z+m) - ln Gamma(z)``.

    The implementation combines the terms ``(z - 1/2) ln(w/z)``, ``m ln w`` and ``m`` (w = z + m,
    Stirling difference) or two ``ln Gamma`` values of arguments < 10 (``|ln Gamma| <= 1 + |ln z|``
    there, up to 13).  Each is rounded to a few ulps, so the error is bounded by a small multiple of
    eps times the sum of their magnitudes: 32 eps S with S below.  At z = 1e12, m = 1 this is
    ~2e-13, while the naive ``gammaln(z+m) - gammaln(z)`` is off by ~3e-3.
    """
    w = z + m
    S = 1.0 + abs(z * np.log(w / z)) + abs(m) * (1.0 + abs(np.log(w))) + abs(np.log(z)) + 13.0 * (min(z, w) < 10)
    return 32.0 * EPS * S


@given(z=log_uniform(-3, 12), m_abs=log_uniform(-14, 12), sign=st.sampled_from([1.0, -1.0]))
@settings(max_examples=150)
def test_log_gamma_ratio_vs_mpmath(z, m_abs, sign):
    m = sign * m_abs
    if z + m <= 0:
        m = -0.999 * z  # keep z + m > 0 (the function's domain)
    got = float(log_gamma_ratio(z, m))
    ref = mp.loggamma(mp.mpf(z) + mp.mpf(m)) - mp.loggamma(mp.mpf(z))
    assert abs(got - float(ref)) <= lgr_tol(z, m), (z, m, got, float(ref))


@pytest.mark.parametrize(
    "z, m",
    [
        (1e12, 1.0),  # gammaln cancellation would lose 3e-3 here
        (1e12, -0.7),
        (1e12, 1e12),
        (1.3, 1e12),  # small z, huge m: the lnGamma branch
        (617048.8, -616647.2),  # m ~ -z: ln(w/z) instead of log1p(m/z)
        (10.0, -1e-14),
        (9.999, 1e-3),  # branch boundary z = 10
        (10.0, 0.0),
        (0.5, 0.0),
        (1e-3, 5.0),
    ],
)
def test_log_gamma_ratio_edge_points(z, m):
    got = float(log_gamma_ratio(z, m))
    ref = mp.loggamma(mp.mpf(z) + mp.mpf(m)) - mp.loggamma(mp.mpf(z))
    assert abs(got - float(ref)) <= lgr_tol(z, m)


def test_log_gamma_ratio_broadcasts_and_matches_scalar_calls():
    z = np.array([[0.5], [20.0], [1e9]])
    m = np.array([0.3, 7.0, 1e6])
    out = log_gamma_ratio(z, m)
    assert out.shape == (3, 3)
    for i in range(3):
        for j in range(3):
            # the same formula elementwise: bitwise identical up to the branch choice
            assert out[i, j] == pytest.approx(float(log_gamma_ratio(z[i, 0], m[j])), rel=4 * EPS, abs=0)


# =============================================================================================
# geometric_sum(n, ell) = sum_{j<n} e^{-ell j}
# =============================================================================================
def mp_geometric_sum(n, ell):
    n = int(n)
    if n == 0:
        return mp.mpf(0)
    if ell == np.inf:
        return mp.mpf(1)
    if ell == 0:
        return mp.mpf(n)
    l_ = mp.mpf(ell)
    return mp.expm1(-n * l_) / mp.expm1(-l_)


# Relative 8 eps: two expm1 calls (each correctly rounded to ~1 ulp) and one division;
# the product n*ell adds one more rounding whose effect is at most |n ell e^{-n ell}/(1-e^{-n ell})| <= 1 ulp.
GEO_RTOL = 8 * EPS


@given(
    n=st.one_of(st.integers(0, 3000), log_uniform(0, 12).map(lambda v: int(v))),
    ell=st.one_of(log_uniform(-14, 3), st.sampled_from([0.0, np.inf])),
)
@settings(max_examples=200)
def test_geometric_sum_vs_mpmath(n, ell):
    got = float(geometric_sum(n, ell))
    ref = mp_geometric_sum(n, ell)
    if ref == 0:
        assert got == 0.0
    else:
        assert abs(got - ref) <= GEO_RTOL * abs(ref), (n, ell, got, float(ref))


def test_geometric_sum_special_values():
    # Definitions: ell = 0 -> n terms equal to 1; ell = inf -> only the j = 0 term; n = 0 -> empty sum.
    assert geometric_sum(7, 0.0) == 7.0
    assert geometric_sum(7, np.inf) == 1.0
    assert geometric_sum(0, 0.3) == 0.0
    assert geometric_sum(0, np.inf) == 0.0
    # k = 1e12 terms of ratio e^{-1e-14}: n (1 - n ell/2 + ...) = 1e12 (1 - 0.005 + 1.67e-5 - ...)
    ref = mp_geometric_sum(10**12, 1e-14)
    assert abs(float(geometric_sum(1e12, 1e-14)) - ref) <= GEO_RTOL * ref


# =============================================================================================
# sum_sq_geometric(k, ell) = sum_{n=1}^k (1 - e^{-n ell})^2
# =============================================================================================
def mp_sum_sq_geometric(k, ell):
    """Term by term for k <= 3000, else the closed form
    ``k - 2 r (1 - r^k)/(1 - r) + r^2 (1 - r^{2k})/(1 - r^2)``, r = e^{-ell}, at 60 digits (its
    cancellation for k ell << 1 costs ~log10(1/(k ell)^2) <= 28 digits at ell >= 1e-14, k >= 1)."""
    k = int(k)
    if k == 0 or ell == 0:
        return mp.mpf(0)
    if ell == np.inf:
        return mp.mpf(k)
    with mp.workdps(80):
        l_ = mp.mpf(ell)
        if k <= 3000:
            return mp.fsum(mp.expm1(-n * l_) ** 2 for n in range(1, k + 1))
        r = mp.exp(-l_)
        return k - 2 * r * (1 - r**k) / (1 - r) + r**2 * (1 - r ** (2 * k)) / (1 - r**2)


# Relative 64 eps: the term-by-term branch sums <= 2048 positive terms (error <= k eps worst case
# but the cumulative sum of positive terms is ~sqrt-accurate; we allow 64 eps); the closed-form branch
# (k ell >= 0.5) cancels by at most a factor 1/(1 - 2(1-e^{-x})/x + (1-e^{-2x})/(2x)) ~ 17 at x = 0.5;
# the power-series branch sums positive-dominated terms.  Measured worst over 3000 random points: 4.4e-15.
SSQ_RTOL = 64 * EPS


@given(
    k=st.one_of(st.integers(0, 4100), log_uniform(0, 12).map(lambda v: int(v))),
    ell=st.one_of(log_uniform(-14, 2), st.sampled_from([0.0, np.inf])),
)
@settings(max_examples=200)
def test_sum_sq_geometric_vs_mpmath(k, ell):
    got = float(sum_sq_geometric(k, ell))
    ref = mp_sum_sq_geometric(k, ell)
    if ref == 0:
        assert got == 0.0
    else:
        assert abs(got - ref) <= SSQ_RTOL * abs(ref), (k, ell, got, float(ref))


@pytest.mark.parametrize(
    "k, ell",
    [
        (2048, 1e-3), (2049, 1e-3),  # direct / non-direct boundary
        (10**6, 0.5e-6 * 0.999), (10**6, 0.5e-6 * 1.001),  # series / closed-form boundary k ell = 0.5
        (10**12, 1e-14), (10**12, 1e-8), (10**12, 1.0), (10**12, 1e-12 * 0.5),
        (5000, np.inf), (3, np.inf), (10**12, 0.0),
    ],
)
def test_sum_sq_geometric_branch_boundaries(k, ell):
    got = float(sum_sq_geometric(k, ell))
    ref = mp_sum_sq_geometric(k, ell)
    if ref == 0:
        assert got == 0.0
    else:
        assert abs(got - ref) <= SSQ_RTOL * abs(ref)


def test_sum_sq_geometric_vectorized_mixed_branches():
    k = np.array([[0.0], [5.0], [3000.0], [1e9], [1e12]])
    ell = np.array([1e-14, 1e-6, 0.3, np.inf])
    out = sum_sq_geometric(k, ell)
    assert out.shape == (5, 4)
    for i in range(5):
        for j in range(4):
            ref = mp_sum_sq_geometric(k[i, 0], ell[j])
            assert abs(out[i, j] - ref) <= SSQ_RTOL * abs(ref) if ref != 0 else out[i, j] == 0.0


# =============================================================================================
# log_abs_one_minus(eps) = ln|1 - eps|
# =============================================================================================
@given(
    base=st.sampled_from([0.0, 1.0, 2.0]),
    off=log_uniform(-16, 0.3),
    sign=st.sampled_from([1.0, -1.0]),
)
@settings(max_examples=200)
def test_log_abs_one_minus_vs_mpmath(base, off, sign):
    e = base + sign * off
    if e == 1.0:
        assert float(log_abs_one_minus(e)) == -np.inf
        return
    got = float(log_abs_one_minus(e))
    ref = mp.log(abs(1 - mp.mpf(e)))
    # Relative 4 eps: log1p is correctly rounded to ~1 ulp, and its argument (-eps or eps - 2) is
    # exact (eps - 2 is exact by Sterbenz for eps in [1, 4]), so only the log1p rounding remains.
    assert abs(got - ref) <= 4 * EPS * abs(ref), (e, got, float(ref))


def test_log_abs_one_minus_exact_points():
    # 1 - 1 = 0 -> -inf; 1 - 2 = -1 -> ln 1 = 0; 1 - 0 = 1 -> 0
    assert log_abs_one_minus(1.0) == -np.inf
    assert log_abs_one_minus(2.0) == 0.0
    assert log_abs_one_minus(0.0) == 0.0
    out = log_abs_one_minus(np.array([0.5, 1.5, 3.0]))
    np.testing.assert_allclose(out, np.log([0.5, 0.5, 2.0]), rtol=2 * EPS, atol=0)


# =============================================================================================
# Lemma 17: tr(A) = -1/2 tr(P^-1 Q) for A^T P + P A + Q = 0
# =============================================================================================
@given(n=st.integers(1, 6), seed=st.integers(0, 2**31 - 1), symmetric=st.booleans())
@settings(max_examples=60)
def test_lemma17_trace_vs_explicit_solution(n, seed, symmetric):
    rng = np.random.default_rng(seed)
    P = rng.standard_normal((n, n)) + n * np.eye(n)  # invertible (diagonally dominated)
    if symmetric:
        P = P @ P.T + np.eye(n)
    A0 = rng.standard_normal((n, n))
    Q = -(A0.T @ P + P @ A0)
    t = lyapunov_trace(P, Q)
    scale = np.linalg.norm(A0) * np.linalg.cond(P) * n
    # Lemma 17 holds for *every* solution; A0 is one, by construction. Tolerance: the solve with P
    # has relative error ~eps cond(P); traces of n x n matrices add n terms: 64 eps cond(P) n |A0|.
    assert abs(t - np.trace(A0)) <= 64 * EPS * scale
    # The slow route solves the vectorized equation (least squares when singular, e.g. P symmetric,
    # where A -> A + P^-1 S with S skew is a kernel direction); every solution has the same trace.
    A1 = solve_lyapunov_A(P, Q)
    assert np.linalg.norm(A1.T @ P + P @ A1 + Q) <= 1e3 * EPS * np.linalg.norm(Q) * np.linalg.cond(P)
    assert abs(np.trace(A1) - t) <= 64 * EPS * scale * np.linalg.cond(P)


def test_lemma17_vs_scipy_lyapunov():
    """Proposition 14's equation written as Lemma 17 (A = H Y, P = B^-1 - H^-1/2, Q = -X),
    with Y from scipy's continuous Lyapunov solver: tr(A) = -1/2 tr(P^-1 Q)."""
    rng = np.random.default_rng(17)
    n = 4
    G = rng.standard_normal((n, n))
    H = G @ G.T + n * np.eye(n)
    B = 0.5 * H + 0.1 * np.eye(n)  # lambda(B^-1 H) ~ (1.9, 2): b > 1/2
    X = rng.standard_normal((n, n))
    X = X @ X.T
    M = np.linalg.solve(B, H) - 0.5 * np.eye(n)
    Y = scipy.linalg.solve_continuous_lyapunov(M, X)  # M Y + Y M^T = X, i.e. (Xi - I)(Y) = X
    A = H @ Y
    P = np.linalg.inv(B) - 0.5 * np.linalg.inv(H)
    Q = -X
    assert np.linalg.norm(A.T @ P + P @ A + Q) <= 1e-12 * np.linalg.norm(X) * np.linalg.cond(P)
    # relative 1e-12: both sides are well conditioned here (cond(P), cond(M) < 1e2), so rounding ~1e-14
    assert lyapunov_trace(P, Q) == pytest.approx(np.trace(A), rel=1e-12)
    assert np.trace(solve_lyapunov_A(P, Q)) == pytest.approx(np.trace(A), rel=1e-12)


# =============================================================================================
# vec / unvec / sandwich_kron
# =============================================================================================
@given(n=st.integers(1, 5), seed=st.integers(0, 2**31 - 1))
@settings(max_examples=30)
def test_vec_convention_and_sandwich(n, seed):
    rng = np.random.default_rng(seed)
    A, C, X = (rng.standard_normal((n, n)) for _ in range(3))
    # vec stacks columns
    assert np.array_equal(vec(X)[:n], X[:, 0])
    assert np.array_equal(unvec(vec(X), n), X)
    # vec(A X C^T) = (C kron A) vec(X); relative 1e-13: both are sums of n^2 products of O(1) numbers
    lhs = vec(A @ X @ C.T)
    rhs = sandwich_kron(A, C) @ vec(X)
    np.testing.assert_allclose(lhs, rhs, rtol=0, atol=1e-13 * n * n * (1 + np.abs(lhs).max()))
    np.testing.assert_allclose(sandwich_kron(A), np.kron(A, A), rtol=0, atol=0)


# =============================================================================================
# generalized_eigh: H v = lambda B v with B-orthonormal V
# =============================================================================================
@given(n=st.integers(1, 6), seed=st.integers(0, 2**31 - 1))
@settings(max_examples=30)
def test_generalized_eigh_properties(n, seed):
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((n, n))
    H = G @ G.T + 0.1 * np.eye(n)
    G = rng.standard_normal((n, n))
    B = G @ G.T + 0.5 * np.eye(n)
    e = generalized_eigh(H, B)
    assert np.all(np.diff(e.lam) >= 0)
    assert e.lambda_1 == e.lam[-1] and e.lambda_n == e.lam[0]
    # backward-stable eigensolve: residuals ~ eps cond(B) |H|; 1e3 eps n cond(B) leaves a wide margin
    tol = 1e3 * EPS * n * np.linalg.cond(B) * max(1.0, np.abs(H).max())
    np.testing.assert_allclose(e.V.T @ B @ e.V, np.eye(n), atol=tol)
    np.testing.assert_allclose(e.V.T @ H @ e.V, np.diag(e.lam), atol=tol * (1 + e.lambda_1))
    np.testing.assert_allclose(e.Vinv @ e.V, np.eye(n), atol=tol)
    # B^-1 H = V diag(lam) V^-1, against the dense solve
    np.testing.assert_allclose(np.linalg.solve(B, H), e.V @ np.diag(e.lam) @ e.Vinv, atol=tol * (1 + e.lambda_1))
    # the eigenvalues against scipy's general (non-symmetric) eigensolver on B^-1 H
    lam_ref = np.sort(np.linalg.eigvals(np.linalg.solve(B, H)).real)
    np.testing.assert_allclose(e.lam, lam_ref, atol=tol * (1 + e.lambda_1))
    X = rng.standard_normal((n, n))
    np.testing.assert_allclose(e.from_eigenbasis(e.to_eigenbasis(X)), X, atol=tol * np.abs(X).max())


# =============================================================================================
# Validation helpers: happy paths and the exact messages
# =============================================================================================
def test_as_matrix_and_as_vector_happy_paths():
    A = as_matrix("A", [[1, 2], [3, 4]])
    assert A.dtype == float and A.shape == (2, 2)
    assert as_matrix("A", np.eye(3), 3).shape == (3, 3)
    x = as_vector("x", [[1.0], [2.0]], 2)  # column vectors are flattened
    assert x.shape == (2,) and x.tolist() == [1.0, 2.0]


def test_as_symmetric_symmetrizes_within_tolerance():
    A = np.array([[2.0, 1.0], [1.0 + 1e-12, 3.0]])
    S = as_symmetric("A", A)
    assert np.array_equal(S, S.T)
    assert S[0, 1] == 0.5 * (1.0 + 1.0 + 1e-12)


def test_check_definite_values():
    check_definite("A", np.diag([2.0, 3.0]))  # accepted: no exception
    # a rank-deficient covariance built in floating point is accepted as semidefinite (smallest
    # eigenvalue within the n * 1e-12 * |S|_2 slack), by the Cholesky fast path or by eigvalsh
    G = np.random.default_rng(0).standard_normal((4, 1))
    S = G @ G.T
    assert abs(np.linalg.eigvalsh(S)[0]) <= 4 * 1e-12 * np.abs(S).max()
    check_definite("S", S, semi=True)
    check_definite("Z", np.zeros((2, 2)), semi=True)
    with pytest.raises(ValueError, match=r"^A is not positive definite: smallest eigenvalue -1\.000e\+00$"):
        check_definite("A", np.diag([-1.0, 1.0]))
    with pytest.raises(ValueError, match=r"^Z is not positive definite: smallest eigenvalue 0\.000e\+00$"):
        check_definite("Z", np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"^S is not positive semidefinite: diagonal entry 1 is -1\.000e-03$"):
        check_definite("S", np.diag([1.0, -1e-3]), semi=True)


def test_check_finite():
    assert check_finite("here", 3.0) == 3.0
    arr = np.array([1.0, 2.0])
    assert check_finite("here", arr) is arr
    with pytest.raises(NonFiniteError, match=r"^somewhere: 2 non-finite value\(s\)"):
        check_finite("somewhere", np.array([np.nan, 1.0, np.inf]))


def test_as_steps_accepts_integers_and_integer_valued_floats():
    assert as_steps(5) == 5 and as_steps(5).dtype == np.int64
    assert as_steps(np.float64(1e12)) == 10**12
    np.testing.assert_array_equal(as_steps([0, 1.0, 2]), [0, 1, 2])
    np.testing.assert_array_equal(as_steps(np.arange(4, dtype=np.uint8)), [0, 1, 2, 3])
    assert as_steps(np.int32(7)).dtype == np.int64


# =============================================================================================
# Decisions made in the matrix's own units (issue 15): definiteness, solves, eigenvector signs
# =============================================================================================
UNITS = np.logspace(8, -8, 4)  # a change of units theta -> S theta spanning 16 decades


def _spd(n, seed, cond=10.0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (Q * np.logspace(0, -np.log10(cond), n)) @ Q.T


def test_check_semidefinite_decides_in_units_free_coordinates():
    """``diag(1e16, -1e-8)`` is indefinite: a slack relative to the largest eigenvalue (check_definite(semi=True)'s
    ``n 1e-12 |A|``) hides the negative entry; the equilibrated test does not.  A rank-deficient PSD matrix is
    accepted in any units."""
    from theorytools.linalg import check_semidefinite

    with pytest.raises(ValueError, match=r"^S is not positive semidefinite: diagonal entry 1 is -1\.000e-08$"):
        check_semidefinite("S", np.diag([1e16, -1e-8]))
    G = np.random.default_rng(0).standard_normal((4, 2))
    S = G @ G.T  # rank 2
    v = np.linalg.svd(G.T)[2][-1]  # a null vector
    bad = S - 1e-6 * np.outer(v, v)  # indefinite by 1e-6 relative
    for s in (np.ones(4), UNITS):
        scaled = S / np.outer(s, s)
        assert np.array_equal(check_semidefinite("S", scaled), 0.5 * (scaled + scaled.T))
        with pytest.raises(ValueError, match=r"^S is not positive semidefinite: smallest eigenvalue"):
            check_semidefinite("S", bad / np.outer(s, s))
    with pytest.raises(ValueError, match=r"diagonal entry 0 is 0 but row 0 is not zero"):
        check_semidefinite("S", [[0.0, 1e-30], [1e-30, 1.0]])
    check_semidefinite("Z", np.zeros((3, 3)))


def test_spd_solve_and_trace_solve_keep_their_digits_in_any_units():
    """LU with partial pivoting on a matrix whose rows span 16 decades loses ~8 digits in the small ones; the
    Cholesky route used for symmetric positive definite matrices does not (its error is componentwise)."""
    from theorytools.linalg import spd_solve, trace_solve

    A, X = _spd(4, 1), _spd(4, 2)
    ref = np.linalg.solve(A, X)
    t = np.trace(ref)
    s = UNITS
    As, Xs = A / np.outer(s, s), X / np.outer(s, s)
    Y = spd_solve(As, Xs)  # = S (A^-1 X) S^-1
    np.testing.assert_allclose(Y / s[:, None] * s[None, :], ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    assert abs(trace_solve(As, Xs) - t) <= 1e-12 * abs(t)
    with pytest.raises(ValueError, match=r"^A must be positive definite"):
        spd_solve(np.diag([1.0, -1.0]), np.ones(2))
    with pytest.raises(ValueError, match=r"^A must be invertible"):
        trace_solve(np.zeros((2, 2)), np.eye(2))


def test_generalized_eigenvectors_have_units_free_signs():
    """``V -> S^-1 V`` under ``H, B -> S H S, S B S``: the signs are fixed so that this holds exactly (to rounding),
    not only up to the arbitrary sign LAPACK returns."""
    H, B = _spd(4, 3), _spd(4, 4)
    e = generalized_eigh(H, B)
    s = UNITS
    f = generalized_eigh(s[:, None] * H * s, s[:, None] * B * s)
    np.testing.assert_allclose(f.lam, e.lam, rtol=1e-10)
    np.testing.assert_allclose(f.V * s[:, None], e.V, rtol=1e-8, atol=1e-10 * np.abs(e.V).max())
    with pytest.raises(ValueError, match=r"^B must be positive definite"):
        generalized_eigh(H, -B)


def test_psd_functions_validate_their_arguments():
    from theorytools.linalg import psd_pinv, psd_rank, psd_solve

    with pytest.raises(ValueError, match=r"^A is not positive semidefinite: diagonal entry 1 is -1\.000e\+00$"):
        psd_pinv(np.diag([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"^A must be finite"):
        psd_rank([[1.0, np.nan], [np.nan, 1.0]])
    with pytest.raises(ValueError, match=r"^b must be a vector of length 2"):
        psd_solve(np.eye(2), np.ones(3))
    with pytest.raises(ValueError, match=r"^rtol must be >= 0"):
        psd_rank(np.eye(2), rtol=-1.0)
    # the scale-invariant rank of the documentation, in 16 decades of units
    assert psd_rank(np.diag([1e-20, 1.0, 1e20])) == 3


# =============================================================================================
# Size guards and argument checks of the helpers
# =============================================================================================
def test_dense_kronecker_routes_are_refused_above_the_memory_limit():
    from theorytools.errors import SizeError
    from theorytools.linalg import limit_memory

    with limit_memory("64M"):
        sandwich_kron(np.eye(40))  # 1600^2 floats: 20 MB
        with pytest.raises(SizeError, match=r"n\^2 x n\^2 Kronecker matrix \(90000 x 90000 float64\) needs 60\.3 GB.*"
                                            r"eigenbasis multipliers"):
            sandwich_kron(np.eye(300))
        with pytest.raises(SizeError, match=r"Lyapunov operator .* lyapunov_trace"):
            solve_lyapunov_A(np.eye(60), np.eye(60))


def test_check_allocation_and_memory_limit_arguments():
    from theorytools.linalg import check_allocation, limit_memory, memory_limit, set_memory_limit

    assert check_allocation("x", (10, 10), copies=2) == 1600
    assert check_allocation("x", np.array([3.0, 4.0])) == 96  # integer-valued floats are lengths
    with pytest.raises(ValueError, match=r"^shape\[1\] must be >= 0, got -1$"):
        check_allocation("x", (10, -1))
    with pytest.raises(TypeError, match=r"^shape must be a sequence of array lengths, got None$"):
        check_allocation("x", None)
    with pytest.raises(ValueError, match=r"^copies must be > 0"):
        check_allocation("x", (2,), copies=0)
    before = memory_limit()
    with pytest.raises(ValueError, match=r"^nbytes must be a number of bytes such as 4G"):
        set_memory_limit("lots")
    with pytest.raises(ValueError, match=r"^nbytes must be finite"):
        with limit_memory(float("nan")):
            pass
    assert memory_limit() == before  # a refused limit leaves the old one
    with limit_memory(1e6):
        assert memory_limit() == 10**6


def test_series_helpers_refuse_values_outside_their_domain():
    with pytest.raises(ValueError, match=r"^ell must be \+inf or finite, >= 0, got nan$"):
        geometric_sum(3, np.nan)
    with pytest.raises(ValueError, match=r"^k must be finite, >= 0, integer-valued, got 2\.5$"):
        sum_sq_geometric(2.5, 0.1)  # the direct branch would truncate it silently
    with pytest.raises(ValueError, match=r"^z must be finite, > 0, got -1$"):
        log_gamma_ratio(-1.0, 2.0)  # gammaln of a negative argument is not a ratio of factorials
    with pytest.raises(ValueError, match=r"^z \+ m must be > 0, got -1$"):
        log_gamma_ratio(1.0, -2.0)
    assert geometric_sum(3, np.inf) == 1.0 and geometric_sum(np.zeros(0), 1.0).shape == (0,)
