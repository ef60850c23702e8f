"""Appendix D of 001_7d31b3ff3a2f0401.txt (Lemmas 17-21, Propositions 22-23), each side of each
inequality against an independent route (eigendecompositions, Kronecker solves, exact rationals,
mpmath), with hypothesis property tests over n = 1..6 and condition numbers up to 1e8, the
equality cases, and the counterexample to the printed Proposition 23 (part 2)."""

from __future__ import annotations

from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from theorytools.errors import HypothesisError
from theorytools.linalg import lyapunov_trace, solve_lyapunov_A
from theorytools.quadratic import nu
from theorytools.quadratic.lemmas import (
    corollary19_bounds,
    harmonic_number,
    lemma17_trace,
    lemma18_bounds,
    lemma20_sides,
    lemma21_inverse,
    lemma21_inverse_kron,
    lemma21_phi,
    proposition22_sides,
    proposition23_counterexample,
    proposition23_product,
    proposition23_product_sides,
    proposition23_sum,
    proposition23_sum_exact,
    proposition23_sum_sides,
)
from theorytools.testing.strategies import condition_numbers, psd_matrices

EPS = np.finfo(float).eps


# ---------------------------------------------------------------------------------------------
# strategies
# ---------------------------------------------------------------------------------------------
def orthogonal(rng, n):
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.sign(np.diag(R))


@st.composite
def sym_and_psd(draw, nmax=6):
    """(S, X, Q, lamS): S symmetric with a spectrum of mixed signs spanning up to 8 decades (condition
    numbers up to 1e8), X PSD of exact rank 0..n (rank-deficient included; its nonzero eigenvalues
    spanning up to 8 decades too), in independent random bases."""
    n = draw(st.integers(1, nmax))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    decades = draw(st.floats(0.0, 8.0))
    mags = 10.0 ** rng.uniform(-decades, 0.0, n)
    signs = np.where(rng.random(n) < draw(st.floats(0.0, 1.0)), -1.0, 1.0)
    lamS = np.sort(signs * mags)
    Q = orthogonal(rng, n)
    S = (Q * lamS) @ Q.T
    S = 0.5 * (S + S.T)
    X = draw(psd_matrices(n, rank=st.integers(0, n), condition=condition_numbers(1e8)))
    return S, X, Q, lamS


def trace_tol(S, X):
    """Rounding bound for ``tr(SX)`` against ``lambda(S) tr(X)``.

    ``sum(S * X)`` has error <= n^2 eps max|S_ij| max|X_ij| <= n^2 eps |S|_2 tr(X) (X PSD), and the
    eigenvalues of S are backward stable to ~n eps |S|_2; factor 8 for headroom.
    """
    n = S.shape[0]
    return 8.0 * n * n * EPS * np.max(np.abs(np.linalg.eigvalsh(S))) * max(abs(np.trace(X)), 1e-300)


# ---------------------------------------------------------------------------------------------
# Lemma 17 (re-exported from linalg)
# ---------------------------------------------------------------------------------------------
def test_lemma17_is_the_linalg_function_and_matches_a_solve():
    assert lemma17_trace is lyapunov_trace  # re-exported, not duplicated
    rng = np.random.default_rng(17)
    for n in (1, 3, 5):
        # symmetric P (invertible, indefinite allowed) and symmetric Q, as in Proposition 14: then a
        # solution exists (for random non-symmetric P, Q the equation generally has none)
        G = rng.standard_normal((n, n))
        P = G + G.T
        Q = rng.standard_normal((n, n))
        Q = Q + Q.T
        A = solve_lyapunov_A(P, Q)
        assert np.abs(A.T @ P + P @ A + Q).max() <= 1e-10 * np.abs(Q).max()
        # relative 1e-8: the Kronecker solve's condition is ~cond(P)^2, below 1e6 for these seeds
        assert abs(np.trace(A) - lemma17_trace(P, Q)) <= 1e-8 * max(1.0, abs(np.trace(A)))


# ---------------------------------------------------------------------------------------------
# Lemma 18, Corollary 19
# ---------------------------------------------------------------------------------------------
@given(sym_and_psd())
def test_lemma18_chain_holds(case):
    S, X, Q, lamS = case
    lo, mid, hi = lemma18_bounds(S, X)
    tol = trace_tol(S, X)
    assert lo <= mid + tol and mid <= hi + tol
    # independent route for the middle: tr(SX) = sum_i lam_i (Q^T X Q)_ii
    assert abs(mid - float(np.sum(lamS * np.diag(Q.T @ X @ Q)))) <= tol
    assert lo == pytest.approx(lamS[0] * np.trace(X), rel=1e-10, abs=tol)
    assert hi == pytest.approx(lamS[-1] * np.trace(X), rel=1e-10, abs=tol)


@given(sym_and_psd())
def test_lemma18_equality_cases(case):
    S, _, Q, lamS = case
    vn, v1 = Q[:, :1], Q[:, -1:]
    lo, mid, _ = lemma18_bounds(S, 2.5 * vn @ vn.T)  # X along the eigenvector of lambda_n
    assert mid == pytest.approx(lo, rel=1e-9, abs=1e-9 * max(abs(lamS).max(), 1e-300))
    _, mid, hi = lemma18_bounds(S, 0.5 * v1 @ v1.T)  # X along the eigenvector of lambda_1
    assert mid == pytest.approx(hi, rel=1e-9, abs=1e-9 * max(abs(lamS).max(), 1e-300))
    n = S.shape[0]
    lo, mid, hi = lemma18_bounds(-3.0 * np.eye(n), np.eye(n))  # S = c I: all three equal
    assert lo == mid == hi == -3.0 * n


def test_lemma18_n1_and_hypothesis_error():
    assert lemma18_bounds([[2.0]], [[3.0]]) == (6.0, 6.0, 6.0)
    S, X = np.diag([1.0, 0.0]), np.diag([-1.0, 1.0])  # X indefinite
    with pytest.raises(HypothesisError, match="X is PSD"):
        lemma18_bounds(S, X)
    lo, mid, hi = lemma18_bounds(S, X, check=False)
    assert mid < lo  # the inequality fails outside its hypothesis: tr(SX) = -1 < 0 = lambda_n(S) tr(X)
    with pytest.raises(ValueError, match="S is not symmetric"):
        lemma18_bounds([[1.0, 2.0], [0.0, 1.0]], np.eye(2))


@given(sym_and_psd())
def test_corollary19_chain_holds_for_nsd(case):
    S, X, _, lamS = case
    lo, mid, hi = corollary19_bounds(S, -X)
    tol = trace_tol(S, X)
    assert lo <= mid + tol and mid <= hi + tol
    assert (lo, hi) == pytest.approx((-lamS[-1] * np.trace(X), -lamS[0] * np.trace(X)), rel=1e-10, abs=tol)
    with pytest.raises(HypothesisError, match="NSD"):
        corollary19_bounds(S + 0 * X, X + np.eye(S.shape[0]))


# ---------------------------------------------------------------------------------------------
# Lemma 20
# ---------------------------------------------------------------------------------------------
@given(st.integers(1, 6), st.integers(0, 2**32 - 1), st.floats(0.0, 8.0))
def test_lemma20_holds_for_commuting_matrices(n, seed, decades):
    rng = np.random.default_rng(seed)
    Q = orthogonal(rng, n)
    a = 10.0 ** rng.uniform(-decades, 0, n) * (rng.random(n) < 0.8)  # PSD, possibly singular
    s = rng.standard_normal(n) * 10.0 ** rng.uniform(-decades, 0, n)  # S need not be PSD
    d = 10.0 ** rng.uniform(-decades, 0, n) * (rng.random(n) < 0.7)  # T - S PSD, possibly singular

    def mk(v):
        M = (Q * v) @ Q.T
        return 0.5 * (M + M.T)

    A, S, T = mk(a), mk(s), mk(s + d)
    G = rng.standard_normal((n, rng.integers(0, n + 1)))
    X = G @ G.T
    left, right = lemma20_sides(A, S, T, X)
    # independent route: the proof's tr(A^{1/2} (T - S) A^{1/2} X) >= 0, formed in the common eigenbasis
    gap = float(np.sum(a * d * np.diag(Q.T @ X @ Q)))
    # rounding of two traces of triple products of dense matrices: the eigen-directions mix, so the size is
    # |A| |S| tr X, not sum_i a_i |s_i| (a and s may be large in different directions)
    scale = float(n * np.max(np.abs(a)) * np.max(np.abs(s) + d) * max(np.trace(X), 1e-300))
    tol = 16 * n * n * EPS * scale
    assert left <= right + tol
    assert right - left == pytest.approx(gap, abs=tol)


def test_lemma20_needs_commutation():
    """Without commutation the conclusion fails: S = 0 <= T = e1 e1^T, A and X PSD, tr(ATX) = (XA)_11 < 0."""
    A = np.array([[1.0, 1.0], [1.0, 2.0]])
    S, T = np.zeros((2, 2)), np.diag([1.0, 0.0])
    X = np.array([[1.0, -2.0], [-2.0, 4.0]])
    with pytest.raises(HypothesisError, match="commute"):
        lemma20_sides(A, S, T, X)
    left, right = lemma20_sides(A, S, T, X, check=False)
    assert (left, right) == (0.0, -1.0)


def test_lemma20_hypotheses_reported():
    with pytest.raises(HypothesisError, match="T-S is PSD"):
        lemma20_sides(np.eye(2), np.eye(2), np.zeros((2, 2)), np.eye(2))
    with pytest.raises(HypothesisError, match="A is PSD"):
        lemma20_sides(-np.eye(2), np.zeros((2, 2)), np.eye(2), np.eye(2))


# ---------------------------------------------------------------------------------------------
# Lemma 21
# ---------------------------------------------------------------------------------------------
@st.composite
def contraction(draw, nmax=5, rmax=0.999):
    """Non-symmetric D = P diag(mu) P^-1 with real mu in [-rmax, rmax] and cond(P) <= ~10."""
    n = draw(st.integers(1, nmax))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    mu = rng.uniform(-rmax, rmax, n)
    P = np.eye(n) + 0.4 * rng.standard_normal((n, n)) / np.sqrt(n)
    assume(np.linalg.cond(P) < 20)
    return P @ np.diag(mu) @ np.linalg.inv(P), rng


@given(contraction())
def test_lemma21_series_equals_kronecker_solve(case):
    D, rng = case
    n = D.shape[0]
    X = rng.standard_normal((n, n))
    Y = lemma21_inverse(D, X)
    Yk = lemma21_inverse_kron(D, X)
    # Both routes solve (I - D kron D) y = x, condition <= cond(P)^4 / (1 - 0.999^2) ~ 1e8 at worst;
    # 1e-7 relative covers it (measured errors are ~1e-12).
    assert np.linalg.norm(Y - Yk) <= 1e-7 * np.linalg.norm(Yk)
    assert np.linalg.norm(lemma21_phi(D, Y) - X) <= 1e-9 * np.linalg.norm(Y)


@given(contraction())
def test_lemma21_preserves_psd(case):
    D, rng = case
    n = D.shape[0]
    G = rng.standard_normal((n, rng.integers(0, n + 1)))
    Y = lemma21_inverse(D, G @ G.T)
    # a sum of PSD terms D^i X D^iT: its eigenvalues are >= -(rounding) ~ eps |Y|
    assert np.linalg.eigvalsh(0.5 * (Y + Y.T))[0] >= -1e-12 * max(np.linalg.norm(Y), 1e-300)


def test_lemma21_partial_sums_and_slow_contraction():
    rng = np.random.default_rng(21)
    D = rng.standard_normal((3, 3)) * 0.3
    X = rng.standard_normal((3, 3))
    naive, P = np.zeros((3, 3)), np.eye(3)
    for m in range(0, 40):
        got = lemma21_inverse(D, X, terms=m, require_real=False)  # this D has complex eigenvalues
        assert np.allclose(got, naive, rtol=1e-13, atol=1e-14)
        naive = naive + P @ X @ P.T
        P = P @ D
    # spectral radius 1 - 1e-6 (~1e7 terms matter): diagonal D has the exact inverse X_ij / (1 - mu_i mu_j)
    mu = np.array([1.0 - 1e-6, -0.5, 0.3])
    Xs = rng.standard_normal((3, 3))
    exact = Xs / (1.0 - np.outer(mu, mu))
    # doubling sums 2^j terms with |D^m|^2 < 1e-17 at the end: ~ (1 + log2 k) eps relative per entry
    assert np.allclose(lemma21_inverse(np.diag(mu), Xs), exact, rtol=1e-10, atol=0)
    assert lemma21_inverse([[0.5]], [[3.0]])[0, 0] == pytest.approx(4.0, rel=1e-15)  # n = 1: 3/(1 - 1/4)


@pytest.mark.parametrize(
    "D",
    [np.diag([1.0, 0.2]), np.diag([-1.0, 0.2]), np.diag([1.5, 0.0]), np.array([[0.0, -0.9], [0.9, 0.0]])],
    ids=["eig+1", "eig-1", "eig1.5", "complex"],
)
def test_lemma21_rejects_D_outside_hypothesis(D):
    with pytest.raises(ValueError, match="D"):
        lemma21_inverse(D, np.eye(2))
    with pytest.raises(ValueError, match="D"):
        lemma21_inverse_kron(D, np.eye(2))


# ---------------------------------------------------------------------------------------------
# Proposition 22
# ---------------------------------------------------------------------------------------------
@given(st.integers(1, 10**15), st.integers(0, 10**15))
def test_proposition22_holds(n2, extra):
    n1 = n2 + extra
    lower, diff = proposition22_sides(n1, n2)
    assert lower <= diff  # formed at 50 digits; rounding is monotone
    if n1 == n2:
        assert lower == diff == 0.0


@pytest.mark.parametrize("n1,n2", [(1, 1), (2, 1), (3, 1), (10, 3), (300, 299), (300, 1), (257, 17)])
def test_proposition22_against_exact_rationals(n1, n2):
    lower, diff = proposition22_sides(n1, n2)
    exact = harmonic_number(n1, exact=True) - harmonic_number(n2, exact=True)
    assert diff == pytest.approx(float(exact), rel=1e-15, abs=1e-300)
    assert lower == pytest.approx(float(mp.log(n1) - mp.log(min(n2 + 1, n1))), rel=1e-15, abs=1e-300)
    assert Fraction(lower) <= exact


def test_proposition22_hypotheses():
    with pytest.raises(HypothesisError, match="n1 >= n2"):
        proposition22_sides(3, 5)
    with pytest.raises(HypothesisError, match="n2 >= 1"):
        proposition22_sides(3, 0)
    with pytest.raises(ValueError, match="integer"):
        proposition22_sides(3.5, 1)


# ---------------------------------------------------------------------------------------------
# Proposition 23, part 1 (the product bound)
# ---------------------------------------------------------------------------------------------
def mp_product(i, k, a, b):
    with mp.workdps(40):
        return mp.fprod(1 - mp.mpf(b) / (j + mp.mpf(a) + 1) for j in range(i, k))


@given(st.integers(0, 50), st.integers(1, 150), st.floats(-0.99, 60.0), st.floats(0.0, 1.0))
def test_proposition23_product_holds_also_for_non_integer_a(i, dk, a, frac):
    """a is any real > -1 here (non-integer in almost every example): the proof's harmonic numbers are
    replaced by sum_{j=i}^{k-1} 1/(j+a+1) >= log((k+a+1)/(i+a+1)), valid for real a."""
    k = i + dk
    b = frac * (i + a + 1.0)
    prod, bound = proposition23_product_sides(i, k, a, b)
    ref = mp_product(i, k, a, b)
    # Gamma-ratio route vs 40-digit product: log_gamma_ratio is ~1e-15 absolute in the log, the
    # logs are O(b log k) <= ~500: 1e-12 relative.  Absolute 1e-14: at b = i+a+1 (frac = 1) the first
    # factor is 0 in float but ~eps in mpmath (b and i+a+1 are rounded differently); the other factors are <= 1.
    assert prod == pytest.approx(float(ref), rel=1e-12, abs=1e-14)
    assert ref <= mp.mpf(bound) * (1 + mp.mpf(10) ** -13)


@pytest.mark.parametrize("a", [0.25, 0.5, 1.7, 3.3, -0.5, 1.0, 7.0])
def test_proposition23_product_grid_non_integer_a(a):
    worst = 0.0
    for i in range(0, 30):
        for k in (i + 1, i + 2, i + 5, i + 50, i + 1000, 10**6, 10**12):
            if k <= i:
                continue
            for b in np.linspace(0.0, i + a + 1.0, 9):
                prod, _ = proposition23_product_sides(i, k, a, b)
                if prod > 0.0:  # compare logs: the bound itself underflows for k = 1e12 and large b
                    worst = max(worst, np.log(prod) - b * np.log((i + a + 1.0) / (k + a)))
    assert worst <= 1e-12  # log(product / bound) <= 0 on the whole grid (equality at b = 0)


def test_proposition23_product_equality_and_hypotheses():
    assert proposition23_product_sides(3, 10, 1.0, 0.0) == (1.0, 1.0)  # b = 0
    assert proposition23_product_sides(0, 5, 1.0, 2.0)[0] == 0.0  # b = i + a + 1: first factor 0
    with pytest.raises(HypothesisError, match="b <= i \\+ a \\+ 1"):
        proposition23_product_sides(0, 5, 1.0, 2.5)
    with pytest.raises(HypothesisError, match="i <= k - 1"):
        proposition23_product_sides(5, 5, 1.0, 1.0)
    # outside the hypothesis the factors change sign and the product can exceed the bound
    prod, bound = proposition23_product_sides(0, 2, 0.0, 10.0, check=False)
    assert prod == pytest.approx(36.0) and bound == pytest.approx(0.5**10) and prod > bound
    # k = 1e12: finite, and the log-space product matches the asymptotic Gamma ratio
    p = proposition23_product(0, 10**12, 1.0, 1.5)
    with mp.workdps(30):
        ref = mp.gamma(2) / mp.gamma(mp.mpf("0.5")) * mp.exp(mp.loggamma(10**12 + 0.5) - mp.loggamma(10**12 + 2))
    assert p == pytest.approx(float(ref), rel=1e-10)


# ---------------------------------------------------------------------------------------------
# Proposition 23, part 2 (the weighted sum): printed statement false, corrected statement true
# ---------------------------------------------------------------------------------------------
@given(st.integers(1, 60), st.integers(1, 12), st.integers(1, 5), st.integers(0, 40), st.integers(1, 8))
def test_proposition23_sum_against_exact_rationals(k, anum, aden, bnum, bden):
    a, b = Fraction(anum, aden), Fraction(bnum, bden)
    assume(b <= a + 2)
    exact = proposition23_sum_exact(k, a, b)
    # k positive terms, each from a Gamma ratio accurate to ~1e-15 relative
    assert proposition23_sum(k, float(a), float(b)) == pytest.approx(float(exact), rel=1e-12)


def test_proposition23_printed_statement_fails_at_a_equal_b_equal_1():
    """Counterexample in exact arithmetic: a = b = 1 satisfies the printed hypothesis b <= a + 2."""
    # the telescoped closed form H_k/(k+1)^2 is the sum itself (exact recursion, no telescoping used)
    lhs600, _ = proposition23_counterexample(600)
    assert proposition23_sum_exact(600, 1, 1) == lhs600
    lhs, rhs = proposition23_counterexample(3000)
    assert lhs > rhs and 1.27 < float(lhs / rhs) < 1.28
    # the first failure is at k = 473: (k+1) H_k > 6.75 k
    l472, r472 = proposition23_counterexample(472)
    l473, r473 = proposition23_counterexample(473)
    assert l472 <= r472 and l473 > r473
    # the library's float sides agree, and the printed version does not flag the hypothesis
    fl, fr = proposition23_sum_sides(3000, 1.0, 1.0, version="printed")
    assert fl == pytest.approx(float(lhs), rel=1e-12) and fr == pytest.approx(float(rhs), rel=1e-14)
    assert fl > fr
    with pytest.raises(HypothesisError, match="b >= 3/2"):
        proposition23_sum_sides(3000, 1.0, 1.0, version="corrected")


def test_proposition23_printed_statement_fails_badly_for_b_0_6():
    """b = 0.6, a = 1: LHS/RHS ~ 127 at k = 3000 (LHS by the recursion at 40 digits)."""
    a, b, k = 1, mp.mpf("0.6"), 3000
    with mp.workdps(40):
        S = mp.mpf(0)
        for m in range(k):
            r = 1 - b / (m + a + 1)
            S = r * r * S + 1 / mp.mpf((m + a) * (m + a + 1) ** 2)
        ratio = S / (mp.mpf(nu(1.0)) * k / mp.mpf(k + a) ** 3)
    assert 120 < ratio < 135
    lhs, rhs = proposition23_sum_sides(k, 1.0, 0.6)
    assert lhs == pytest.approx(float(S), rel=1e-12) and lhs / rhs == pytest.approx(float(ratio), rel=1e-12)


def test_proposition23_threshold_3_over_2_is_sharp_for_large_a():
    """For 1 < b < 3/2, k^2 LHS -> 1/(2b - 2) while nu(a) -> 1: the printed bound fails for large a and k
    even close to b = 3/2 (here b = 1.45, a = 200: limit ratio 1/(0.9 nu(200)) = 1.10)."""
    lhs, rhs = proposition23_sum_sides(200_000, 200.0, 1.45, version="printed")
    assert lhs > 1.05 * rhs


@given(st.floats(0.05, 100.0), st.floats(0.0, 1.0), st.integers(1, 5000))
@settings(max_examples=60)
def test_proposition23_corrected_statement_holds(a, frac, k):
    b = 1.5 + frac * (a + 0.5)  # 3/2 <= b <= a + 2
    lhs, rhs = proposition23_sum_sides(k, a, b, version="corrected")
    assert lhs <= rhs * (1 + 1e-12)  # lhs is accurate to ~1e-13 relative
    # and the proof's penultimate line sits between them
    _, mid = proposition23_sum_sides(k, a, b, version="intermediate")
    assert lhs <= mid * (1 + 1e-12) and mid <= rhs * (1 + 1e-12)


@given(st.floats(0.05, 100.0), st.floats(0.0, 1.0), st.integers(1, 5000))
@settings(max_examples=60)
def test_proposition23_intermediate_line_holds_for_all_b(a, frac, k):
    b = frac * (a + 2.0)  # 0 <= b <= a + 2, including the range where the printed bound fails
    lhs, rhs = proposition23_sum_sides(k, a, b, version="intermediate")
    assert lhs <= rhs * (1 + 1e-12)


def test_proposition23_intermediate_uses_hurwitz_zeta_for_large_k():
    # k > 2e5 switches the sum of powers to Hurwitz zeta / digamma; both agree with the direct sum at 2e5
    for b in (0.6, 1.0, 1.3, 2.5):
        small = proposition23_sum_sides(200_000, 3.0, b, version="intermediate", check=False)[1]
        a, k = 3.0, 200_001
        big = proposition23_sum_sides(k, a, b, version="intermediate")[1]
        p = 2 * b - 3
        # recompute k = 200001 from the k = 200000 value: the sums differ by one term
        s_prev = small * (200_000 + a) ** (2 * b) / nu(a) - (200_000 + a) ** p
        direct = nu(a) * (s_prev + (200_001 + a) ** p) / (k + a) ** (2 * b)
        assert big == pytest.approx(direct, rel=1e-9)


def test_proposition23_sum_edge_cases():
    assert proposition23_sum(0, 1.0, 1.0) == 0.0
    assert proposition23_sum(1, 2.0, 1.0) == pytest.approx(1.0 / (2.0 * 9.0))  # only i = 0, empty product
    # b = a + 2: the factor j = 1 vanishes, so the i = 0 term drops for k >= 2
    assert proposition23_sum(3, 1.0, 3.0) == pytest.approx(float(proposition23_sum_exact(3, 1, 3)), rel=1e-14)
    # b > a + 2 (outside every version): factors may be negative, the direct route agrees with rationals
    assert proposition23_sum(30, 1.0, 5.0) == pytest.approx(float(proposition23_sum_exact(30, 1, 5)), rel=1e-12)
    with pytest.raises(HypothesisError, match="b <= a \\+ 2"):
        proposition23_sum_sides(30, 1.0, 5.0)
    with pytest.raises(ValueError, match="a must be > 0"):
        proposition23_sum(5, 0.0, 1.0)
