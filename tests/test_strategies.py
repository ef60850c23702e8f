"""theorytools.testing.strategies: the strategies produce what they promise.

SPD matrices have the requested condition number (to 1e-6 relative, up to 1e8) and spectrum shape;
PSD matrices have the exact rank; problems pass QuadraticProblem's validation with the requested
preconditioner and noise kinds; ``inside`` schedules satisfy the hypotheses of Theorems 3, 5 and 6
(001_7d31b3ff3a2f0401.txt §14.2-14.3) with no rounding slack -- and Theorem 5's bounds then do bound
the exact risk -- while ``outside`` ones make ``theorem5_bounds`` raise HypothesisError; iteration
counts cover 0, 1 and 1e12; and the strategies shrink to the simple cases.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from theorytools.errors import HypothesisError
from theorytools.linalg import as_steps, check_definite
from theorytools.quadratic import (
    Constant,
    Harmonic,
    QuadraticProblem,
    excess_risk,
    hypotheses,
    require,
    theorem5_bounds,
    theorem6_bound,
)
from theorytools.quadratic.hypotheses import LIMIT_RTOL
from theorytools.testing import strategies as S
from theorytools.testing.strategies import (
    MAX_CONDITION,
    MIN_VIOLATION,
    SPECTRA,
    condition_numbers,
    iteration_counts,
    iteration_grids,
    orthogonal_matrices,
    problem_and_schedule,
    psd_matrices,
    quadratic_problems,
    schedules,
    spd_matrices,
)

EPS = np.finfo(float).eps
COND_RTOL = 1e-6  # the documented promise


def rel(a, b):
    return abs(a / b - 1.0)


def cond2(A):
    """2-norm condition number of the stored float64 matrix, two ways (SVD and symmetric eigensolve)."""
    w = np.linalg.eigvalsh(A)
    return np.linalg.cond(A), w[-1] / w[0]


# ---------------------------------------------------------------------------------------------
# condition numbers, orthogonal and SPD matrices
# ---------------------------------------------------------------------------------------------
@given(st.data())
@settings(max_examples=100)
def test_condition_numbers_in_range(data):
    hi = data.draw(st.floats(1.0, MAX_CONDITION))
    c = data.draw(condition_numbers(hi))
    assert 1.0 <= c <= hi


def test_condition_numbers_reach_both_ends():
    assert find(condition_numbers(1e8), lambda c: True) == 1.0
    assert find(condition_numbers(1e8), lambda c: c >= 1e8) == 1e8
    assert find(condition_numbers(1e8), lambda c: 1e3 < c < 1e4) > 1e3


@given(orthogonal_matrices(st.integers(1, 12)))
@settings(max_examples=40)
def test_orthogonal_matrices(Q):
    n = Q.shape[0]
    assert np.abs(Q.T @ Q - np.eye(n)).max() <= 16 * n * EPS


@given(st.data())
@settings(max_examples=150)
def test_spd_matrices_have_the_requested_condition_number(data):
    n = data.draw(st.integers(1, 12), label="n")
    c = data.draw(condition_numbers(), label="condition")
    scale = data.draw(st.floats(1e-3, 1e3), label="scale")
    A = data.draw(spd_matrices(n, condition=c, scale=scale), label="A")
    assert A.shape == (n, n) and A.dtype == np.float64
    assert np.array_equal(A, A.T)  # exactly symmetric
    check_definite("A", A)  # QuadraticProblem's own test (Cholesky)
    np.linalg.cholesky(A)
    want = c if n >= 2 else 1.0
    for got in cond2(A):
        assert rel(got, want) <= COND_RTOL, (got, want)
    assert rel(np.linalg.eigvalsh(A)[-1], scale) <= 64 * n * EPS


@pytest.mark.parametrize("spectrum", SPECTRA)
@pytest.mark.parametrize("condition", [1.0, 10.0, 1e4, 1e8])
def test_spd_grid_every_shape_and_condition_up_to_1e8(spectrum, condition):
    """Fixed requests, including the largest condition 1e8 at n = 30 (where the promise is tightest)."""

    @given(spd_matrices(st.sampled_from([2, 3, 8, 30]), condition=condition, spectrum=spectrum))
    @settings(max_examples=12)
    def inner(A):
        n = A.shape[0]
        assert np.array_equal(A, A.T)
        np.linalg.cholesky(A)
        for got in cond2(A):
            assert rel(got, condition) <= COND_RTOL, (got, condition)
        w = np.linalg.eigvalsh(A)
        tol = 64 * n * EPS  # absolute, relative to the top eigenvalue 1
        bottom = 1.0 / condition
        if spectrum == "two_cluster":
            assert np.all(np.abs(w[: n // 2] - bottom) <= tol) and np.all(np.abs(w[n // 2:] - 1.0) <= tol)
        elif spectrum == "outlier":
            assert np.all(np.abs(w[:-1] - bottom) <= tol) and abs(w[-1] - 1.0) <= tol
        elif spectrum == "linear":
            np.testing.assert_allclose(w, np.linspace(bottom, 1.0, n), rtol=0, atol=tol)
        elif spectrum == "geometric":
            np.testing.assert_allclose(w, np.logspace(-math.log10(condition), 0.0, n), rtol=1e-6)
        else:  # random: within the range, ends attained
            assert w[0] >= bottom * (1 - COND_RTOL) and w[-1] <= 1.0 + tol

    inner()


@given(spd_matrices(5, condition=1e3, spectrum=st.sampled_from(SPECTRA)))
@settings(max_examples=20)
def test_spectrum_may_be_a_strategy(A):
    assert rel(np.linalg.cond(A), 1e3) <= COND_RTOL


@pytest.mark.parametrize("kwargs", [
    {"n": 0}, {"n": 2.5}, {"n": True}, {"n": 3, "condition": 0.5}, {"n": 3, "condition": 1e9},
    {"n": 3, "condition": float("nan")}, {"n": 3, "spectrum": "cauchy"}, {"n": 3, "scale": 0.0},
])
def test_spd_matrices_reject_invalid_requests_eagerly(kwargs):
    n = kwargs.pop("n")
    with pytest.raises(InvalidArgument):
        spd_matrices(n, **kwargs)


def test_drawn_invalid_values_are_errors_not_silent():
    with pytest.raises(InvalidArgument, match="condition"):
        find(spd_matrices(3, condition=st.just(1e9)), lambda A: True)


# ---------------------------------------------------------------------------------------------
# PSD matrices of a given rank
# ---------------------------------------------------------------------------------------------
@given(st.data())
@settings(max_examples=120)
def test_psd_matrices_have_the_exact_rank(data):
    n = data.draw(st.integers(1, 10), label="n")
    r = data.draw(st.integers(0, n), label="rank")
    c = data.draw(condition_numbers(), label="condition")  # up to 1e8 among the nonzero eigenvalues
    X = data.draw(psd_matrices(n, rank=r, condition=c), label="X")
    assert X.shape == (n, n) and np.array_equal(X, X.T)
    assert np.linalg.matrix_rank(X) == r
    check_definite("X", X, semi=True)  # what QuadraticProblem requires of Sigma_g
    w = np.linalg.eigvalsh(X)
    assert np.all(np.abs(w[: n - r]) <= 16 * n * EPS)  # the null space
    if r >= 2:
        assert rel(w[-1] / w[n - r], c) <= COND_RTOL
    if r == 0:
        assert not X.any()
    QuadraticProblem(np.eye(n), np.eye(n), X, np.ones(n))  # accepted as a noise covariance


@given(psd_matrices(4))
@settings(max_examples=30)
def test_psd_default_rank_is_drawn(X):
    assert 0 <= np.linalg.matrix_rank(X) <= 4


def test_psd_rank_shrinks_to_zero_and_reaches_full():
    assert not find(psd_matrices(4), lambda X: True).any()
    assert np.linalg.matrix_rank(find(psd_matrices(4), lambda X: np.linalg.matrix_rank(X) == 4)) == 4
    with pytest.raises(InvalidArgument):
        psd_matrices(3, rank=4)


# ---------------------------------------------------------------------------------------------
# quadratic problems
# ---------------------------------------------------------------------------------------------
@given(st.data())
@settings(max_examples=120)
def test_quadratic_problems_are_valid_and_as_requested(data):
    n = data.draw(st.integers(1, 8), label="n")
    c = data.draw(condition_numbers(), label="condition")
    B = data.draw(st.sampled_from(S.B_KINDS), label="B")
    noise = data.draw(st.sampled_from(S.NOISE_KINDS), label="noise")
    p = data.draw(quadratic_problems(n=n, condition=c, B=B, noise=noise, random_optimum=st.booleans()), label="p")
    assert isinstance(p, QuadraticProblem) and p.n == n
    for got in cond2(p.H):
        assert rel(got, c if n >= 2 else 1.0) <= COND_RTOL
    assert rel(np.linalg.eigvalsh(p.H)[-1], 1.0) <= 64 * n * EPS
    lam_tol = 64 * n * EPS * np.linalg.cond(p.B) * (p.lambda_1 / p.lambda_n)
    if B == "H":
        assert np.array_equal(p.B, p.H) and np.all(np.abs(p.lam - 1.0) <= lam_tol)
    elif B == "lambda_n":
        assert rel(p.lambda_n, 1.0) <= lam_tol and np.count_nonzero(p.B - np.diag(np.diag(p.B))) == 0
    elif B == "I":
        assert np.array_equal(p.B, np.eye(n))
    rank = np.linalg.matrix_rank(p.Sigma_g) if p.Sigma_g.any() else 0
    expected = {"H": (n, n), "identity": (n, n), "random": (n, n), "lowrank": (0, n - 1), "zero": (0, 0)}[noise]
    assert expected[0] <= rank <= expected[1]


@pytest.mark.parametrize("b", [0.3, 0.5, 0.55, 1.0, 4.0])
def test_b_target_is_reached(b):
    @given(quadratic_problems(b=b, condition=condition_numbers(1e6)))
    @settings(max_examples=25)
    def inner(p):
        # lambda_n(B^-1 H) is recomputed by a new generalized eigensolve after the rescaling: it carries
        # ~ n eps kappa(B) (lambda_1 / lambda_n) relative rounding (1e-9 at kappa(H) = 1e6)
        tol = 64 * p.n * EPS * np.linalg.cond(p.B) * (p.lambda_1 / p.lambda_n)
        assert rel(p.lambda_n, b) <= max(tol, 1e-12)

    inner()


def test_quadratic_problems_reject_invalid_requests():
    for kwargs in ({"B": "Hessian"}, {"noise": "gaussian"}, {"n": 0}, {"condition": 1e12}, {"b": 0.0},
                   {"noise_scale": -1.0}):
        with pytest.raises(InvalidArgument):
            quadratic_problems(**kwargs)


# ---------------------------------------------------------------------------------------------
# schedules inside / outside the hypotheses
# ---------------------------------------------------------------------------------------------
def holds_without_slack(h) -> bool:
    """The hypothesis as printed in the paper, with none of the library's 1e-12 rounding slack."""
    return h.margin > 0 if h.strict else h.margin >= 0


B_ANY = st.one_of(st.none(), st.floats(0.3, 3.0))  # about half the problems admit harmonic steps


@given(problem_and_schedule(quadratic_problems(b=B_ANY), inside=True), iteration_grids(10**12, max_size=6))
@settings(max_examples=150)
def test_inside_schedules_are_accepted_by_theorem5(case, ks):
    p, sched = case
    assert isinstance(sched, (Constant, Harmonic))
    assert all(holds_without_slack(h) for h in hypotheses(p, sched, "theorem5"))
    require(p, sched, "theorem3")
    lower, upper = theorem5_bounds(p, sched, ks)  # must not raise
    assert np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))


@given(problem_and_schedule(quadratic_problems(b=B_ANY), inside=False), iteration_grids(10**12, max_size=6))
@settings(max_examples=150)
def test_outside_schedules_raise_hypothesis_error(case, ks):
    p, sched = case
    bad = [h for h in hypotheses(p, sched, "theorem5") if not h.holds]
    assert bad  # violated even with the library's rounding slack
    with pytest.raises(HypothesisError):
        theorem5_bounds(p, sched, ks)
    with pytest.raises(HypothesisError):
        require(p, sched, "theorem3")


def test_min_violation_is_far_beyond_the_rounding_slack():
    assert MIN_VIOLATION >= 1e3 * LIMIT_RTOL


@given(problem_and_schedule(quadratic_problems(), inside=True, theorem="theorem6"), iteration_counts())
@settings(max_examples=80)
def test_theorem6_inside_is_strict(case, k):
    p, sched = case
    assert isinstance(sched, Constant) and sched.alpha * p.lambda_1 < 1.0
    assert all(holds_without_slack(h) for h in hypotheses(p, sched, "theorem6"))
    assert np.isfinite(theorem6_bound(p, sched.alpha, k))


@given(problem_and_schedule(quadratic_problems(), inside=False, theorem="theorem6"))
@settings(max_examples=60)
def test_theorem6_outside_raises(case):
    p, sched = case
    assert sched.alpha * p.lambda_1 >= 1.0
    with pytest.raises(HypothesisError):
        theorem6_bound(p, sched.alpha, 10)


@given(problem_and_schedule(quadratic_problems(b=st.floats(0.55, 3.0)), inside=True, kinds=("harmonic",)))
@settings(max_examples=60)
def test_harmonic_inside(case):
    p, sched = case
    assert isinstance(sched, Harmonic) and sched.a >= 1.0 and p.lambda_1 <= sched.a + 1.0 and p.lambda_n > 0.5
    theorem5_bounds(p, sched, [0, 1, 10**12])


@given(problem_and_schedule(quadratic_problems(b=st.floats(0.55, 3.0)), inside=False, kinds="harmonic"))
@settings(max_examples=60)
def test_harmonic_outside(case):
    p, sched = case
    assert isinstance(sched, Harmonic) and (sched.a < 1.0 or p.lambda_1 > sched.a + 1.0)
    with pytest.raises(HypothesisError):
        theorem5_bounds(p, sched, 5)


@given(case=problem_and_schedule(quadratic_problems(n=st.integers(1, 5), condition=condition_numbers(1e4),
                                                    b=B_ANY), inside=True),
       ks=iteration_grids(10**5, max_size=8))
@settings(max_examples=40)
def test_inside_schedules_make_theorem5_true(case, ks, ref):
    """Not only accepted: Theorem 5's conclusion l(k) <= E[h(theta_k)] - h* <= u(k) holds on them
    (tolerance as in tests/test_theorem5.py: measured sensitivity to backward errors)."""
    p, sched = case
    lower, upper = theorem5_bounds(p, sched, ks)
    exact = excess_risk(p, sched, ks)

    def both(q):
        lo, up = theorem5_bounds(q, sched, ks, check=False)
        return np.concatenate([excess_risk(q, sched, ks), lo, up])

    r = ref.perturbation_rtol(p, both)
    m = len(ks)
    tol = np.maximum(np.maximum(r[:m], r[m:2 * m]), r[2 * m:])
    scale = np.maximum(np.abs(exact), np.maximum(np.abs(lower), np.abs(upper)))
    assert np.all(lower <= exact + tol * scale + 1e-300)
    assert np.all(exact <= upper + tol * scale + 1e-300)


def test_schedules_for_a_fixed_problem():
    p = find(quadratic_problems(n=3, B="I", condition=100.0), lambda q: True)  # b = 1/100: no inside harmonic
    assert p.lambda_n < 0.5
    with pytest.raises(InvalidArgument, match="b = lambda_n"):
        schedules(p, inside=True, kinds=("harmonic",))
    with pytest.raises(InvalidArgument, match="theorem6"):
        schedules(p, theorem="theorem6", kinds=("harmonic",))
    with pytest.raises(InvalidArgument):
        schedules(quadratic_problems())  # a strategy, not a problem
    # inside draws fall back to the constant kind; outside harmonic draws are free in a
    s_in = find(schedules(p, inside=True), lambda s: True)
    assert isinstance(s_in, Constant)
    s_out = find(schedules(p, inside=False, kinds="harmonic"), lambda s: True)
    with pytest.raises(HypothesisError):
        theorem5_bounds(p, s_out, 3)


def test_schedules_shrink_to_the_boundary():
    """Minimal examples are the hardest valid ones: alpha lambda_1 = 1 exactly, a = max(1, lambda_1 - 1)."""
    p = find(quadratic_problems(n=4, B="random", condition=1e3, b=0.8), lambda q: q.lambda_1 > 2)
    s = find(schedules(p, inside=True, kinds="constant"), lambda s: True)
    assert s.alpha * p.lambda_1 <= 1.0 and rel(s.alpha * p.lambda_1, 1.0) <= 4 * EPS
    h = find(schedules(p, inside=True, kinds="harmonic"), lambda s: True)
    assert h.a + 1.0 >= p.lambda_1 and rel(h.a + 1.0, p.lambda_1) <= 4 * EPS
    s6 = find(schedules(p, inside=True, theorem="theorem6"), lambda s: True)
    assert s6.alpha * p.lambda_1 < 1.0 and rel(s6.alpha * p.lambda_1, 1.0) <= 4 * EPS


# ---------------------------------------------------------------------------------------------
# iteration counts
# ---------------------------------------------------------------------------------------------
@given(iteration_counts())
@settings(max_examples=200)
def test_iteration_counts_in_range(k):
    assert isinstance(k, int) and 0 <= k <= 10**12
    assert as_steps(k) == k


@pytest.mark.parametrize("target", [
    lambda k: k == 0, lambda k: k == 1, lambda k: k == 10**12, lambda k: 10**9 < k < 10**12,
    lambda k: 1000 < k < 10**5, lambda k: 2 <= k <= 100,
])
def test_iteration_counts_cover_edges_and_all_scales(target):
    assert target(find(iteration_counts(), target))


def test_iteration_counts_shrink_to_min_and_respect_bounds():
    assert find(iteration_counts(), lambda k: True) == 0
    assert find(iteration_counts(10**6, min_k=5), lambda k: True) == 5
    assert find(iteration_counts(10**6, min_k=5), lambda k: k >= 10**6) == 10**6
    with pytest.raises(InvalidArgument):
        iteration_counts(10, min_k=11)
    with pytest.raises(InvalidArgument):
        iteration_counts(2**63)


@given(iteration_grids(10**12, min_size=2, max_size=10))
@settings(max_examples=100)
def test_iteration_grids_sorted_unique(ks):
    assert ks.dtype == np.int64 and 2 <= ks.size <= 10
    assert np.all(np.diff(ks) > 0) and ks[0] >= 0 and ks[-1] <= 10**12
    np.testing.assert_array_equal(as_steps(ks), ks)


# ---------------------------------------------------------------------------------------------
# shrinking
# ---------------------------------------------------------------------------------------------
def test_problems_shrink_to_the_simplest_case():
    p = find(quadratic_problems(), lambda q: q.n >= 3)
    assert p.n == 3
    assert np.array_equal(p.B, p.H)  # B = H
    np.testing.assert_allclose(p.H, np.eye(3), atol=8 * EPS)  # condition 1
    np.testing.assert_allclose(p.Sigma_g, p.H)  # Sigma_g = H


def test_spd_shrinks_in_size_and_condition():
    A = find(spd_matrices(st.integers(1, 8)), lambda A: A.shape[0] >= 3)
    assert A.shape == (3, 3)
    np.testing.assert_allclose(A, np.eye(3), atol=8 * EPS)
