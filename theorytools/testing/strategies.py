"""Hypothesis strategies for what the toolkit's lemmas and theorems quantify over.

Everything here is a `hypothesis <https://hypothesis.readthedocs.io>`_ ``SearchStrategy``, for
``@given`` or ``data.draw``; every parameter that takes a value also takes a strategy of values,
so the strategies compose (``spd_matrices(st.integers(2, 8), condition=condition_numbers(1e4))``).

Randomness that hypothesis cannot usefully shrink element by element (eigenvectors, Gaussian
starting points) comes from a ``numpy.random.Generator`` seeded by an integer that hypothesis
draws: the structural choices (size, condition number, spectrum shape, preconditioner, noise
kind, step size) shrink independently, the seed shrinks to 0, and a failing example is
reproducible from hypothesis's report alone.

=============================  ==================================================================
strategy                       draws
=============================  ==================================================================
:func:`condition_numbers`      floats in ``[min, max]``, log-uniform, with both endpoints
:func:`orthogonal_matrices`    Haar-random orthogonal ``n x n`` matrices
:func:`spd_matrices`           SPD matrices, condition number and spectrum shape prescribed
:func:`psd_matrices`           PSD matrices of an exact rank ``0..n`` (rank-deficient covariances)
:func:`quadratic_problems`     validated :class:`~theorytools.quadratic.QuadraticProblem` instances
:func:`schedules`              ``Constant`` / ``Harmonic`` steps inside or outside Theorems 3, 5, 6
:func:`problem_and_schedule`   ``(problem, schedule)`` pairs, for a single ``@given`` argument
:func:`iteration_counts`       k in ``[0, 1e12]``, log-uniform-ish, with 0, 1 and the maximum
:func:`iteration_grids`        sorted unique ``int64`` arrays of such k
=============================  ==================================================================

Guarantees (each asserted by ``tests/test_strategies.py``): matrices are exactly symmetric; an
SPD matrix's 2-norm condition number is within 1e-6 relative of the requested one (for
``n >= 2``; a 1 x 1 matrix has condition 1) for every requested condition up to
:data:`MAX_CONDITION`; a PSD matrix has exactly the requested numerical rank; a problem passes
``QuadraticProblem``'s validation; an ``inside=True`` schedule satisfies the theorem's hypotheses
exactly in floating point (not merely within the rounding slack ``theorytools.quadratic`` allows),
and an ``inside=False`` one violates at least one of them by at least :data:`MIN_VIOLATION`
relative, so that ``theorem5_bounds`` raises :class:`~theorytools.errors.HypothesisError`.

Examples
--------
Outside ``@given``, :func:`hypothesis.find` draws a value; an ``inside=True`` pair satisfies Theorem 5's
hypotheses:

>>> from hypothesis import Phase, find, settings
>>> from theorytools.quadratic import hypotheses
>>> from theorytools.testing.strategies import problem_and_schedule, quadratic_problems
>>> first = settings(database=None, derandomize=True, phases=[Phase.generate])  # no shrinking, no database
>>> p, s = find(problem_and_schedule(quadratic_problems(n=2), inside=True), lambda c: True, settings=first)
>>> all(h.holds for h in hypotheses(p, s, "theorem5"))
True
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from theorytools.quadratic.problem import QuadraticProblem
from theorytools.quadratic.schedules import Constant, Harmonic

__all__ = [
    "B_KINDS", "MAX_CONDITION", "MIN_VIOLATION", "NOISE_KINDS", "SCHEDULE_KINDS", "SPECTRA", "THEOREMS",
    "condition_numbers", "iteration_counts", "iteration_grids", "orthogonal_matrices", "problem_and_schedule",
    "psd_matrices", "quadratic_problems", "schedules", "spd_matrices",
]

#: Largest condition number :func:`spd_matrices` accepts.  Beyond it the float64 matrix's own
#: smallest eigenvalue is no longer pinned to 1e-6 relative (rounding the entries perturbs it by
#: ~ n eps |A|, i.e. ~ n eps kappa relative).
MAX_CONDITION = 1e8

#: Smallest relative violation of a hypothesis by an ``inside=False`` schedule: far beyond the
#: 1e-12 rounding slack that ``theorytools.quadratic.hypotheses`` grants non-strict limits.
MIN_VIOLATION = 1e-9

#: Spectrum shapes of :func:`spd_matrices` (eigenvalues between ``scale / condition`` and ``scale``).
SPECTRA = ("geometric", "linear", "two_cluster", "outlier", "random")

#: Preconditioners of :func:`quadratic_problems` (the choices of 001_7d31b3ff3a2f0401.txt §14.2.1).
B_KINDS = ("H", "lambda_n", "I", "random")

#: Gradient-noise covariances ``Sigma_g`` of :func:`quadratic_problems`.
NOISE_KINDS = ("H", "identity", "random", "lowrank", "zero")

THEOREMS = ("theorem3", "theorem5", "theorem6")
SCHEDULE_KINDS = ("constant", "harmonic")

_SEEDS = st.integers(0, 2**32 - 1)
_MAX_DRAWN_POSITIONS = 64


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _is_strategy(x) -> bool:
    return isinstance(x, st.SearchStrategy)


def _value(draw, x):
    """``draw(x)`` for a strategy, ``x`` itself otherwise."""
    return draw(x) if _is_strategy(x) else x


def _rng(draw) -> np.random.Generator:
    return np.random.default_rng(draw(_SEEDS))


def _check_int(name, v, lo, hi=None):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise InvalidArgument(f"{name} must be an integer (or a strategy of integers), got {v!r}")
    if v < lo or (hi is not None and v > hi):
        bound = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise InvalidArgument(f"{name} must be {bound}, got {v}")
    return int(v)


def _check_float(name, v, lo, hi=math.inf, lo_open=False):
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{name} must be a number (or a strategy of numbers), got {v!r}") from None
    if isinstance(v, bool) or not math.isfinite(f) or f < lo or (lo_open and f == lo) or f > hi:
        rng_txt = f"{'(' if lo_open else '['}{lo:g}, {hi:g}]"
        raise InvalidArgument(f"{name} must be a finite number in {rng_txt}, got {v!r}")
    return f


def _check_choice(name, v, choices):
    if v not in choices:
        raise InvalidArgument(f"{name} must be one of {choices} (or a strategy of them), got {v!r}")
    return v


def _eager(check, name, v, *args):
    """Validate ``v`` now when it is a plain value (errors at strategy construction, not at draw)."""
    if not _is_strategy(v):
        check(name, v, *args)


def _symmetrize(A):
    return 0.5 * (A + A.T)


def _haar(n: int, rng: np.random.Generator) -> np.ndarray:
    """Haar-distributed orthogonal matrix: QR of a Gaussian matrix with the sign of diag(R) fixed."""
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.where(np.diag(R) < 0, -1.0, 1.0)


def _positions(draw, shape: str, n: int) -> np.ndarray:
    """Where each eigenvalue sits between the bottom (0) and the top (1), ascending; 0 and 1 occur."""
    if n == 1:
        return np.ones(1)
    if shape in ("geometric", "linear"):
        return np.linspace(0.0, 1.0, n)
    if shape == "two_cluster":
        return np.where(np.arange(n) < n // 2, 0.0, 1.0)
    if shape == "outlier":
        return np.where(np.arange(n) < n - 1, 0.0, 1.0)
    # "random": interior positions drawn by hypothesis (they shrink to 0, i.e. towards "outlier");
    # beyond _MAX_DRAWN_POSITIONS of them, uniformly from the seeded generator (hypothesis's input
    # buffer would overflow, and element-wise shrinking of a thousand positions says little)
    if n - 2 <= _MAX_DRAWN_POSITIONS:
        inner = draw(st.lists(st.floats(0.0, 1.0), min_size=n - 2, max_size=n - 2))
    else:
        inner = _rng(draw).uniform(0.0, 1.0, n - 2)
    return np.sort(np.concatenate([[0.0], inner, [1.0]]))


def _eigenvalues(draw, n: int, condition: float, shape: str, top: float) -> np.ndarray:
    """Ascending eigenvalues in ``[top / condition, top]`` with both ends attained (n >= 2)."""
    t = _positions(draw, shape, n)
    if shape == "linear":
        lam = top * (1.0 / condition + (1.0 - 1.0 / condition) * t)
    else:  # log-interpolation between the ends
        lam = top * condition ** (t - 1.0)
    lam[t == 1.0] = top  # the ends exactly: condition = top / (top / condition) to one rounding
    lam[t == 0.0] = top / condition if n > 1 else top
    return lam


def _draw_condition(draw, condition, max_condition=MAX_CONDITION):
    return _check_float("condition", _value(draw, condition), 1.0, max_condition)


def _draw_spd(draw, n, condition, spectrum, scale):
    """``(A, eigenvalues)`` with ``A = Q diag(eigenvalues) Q^T``, Q Haar-random from a drawn seed."""
    n = _check_int("n", _value(draw, n), 1)
    kappa = _draw_condition(draw, condition)
    shape = _check_choice("spectrum", _value(draw, spectrum), SPECTRA)
    top = _check_float("scale", _value(draw, scale), 0.0, lo_open=True)
    lam = _eigenvalues(draw, n, kappa, shape, top)
    Q = _haar(n, _rng(draw))
    return _symmetrize((Q * lam) @ Q.T), lam


# ---------------------------------------------------------------------------------------------
# scalars and matrices
# ---------------------------------------------------------------------------------------------
def condition_numbers(max_condition: float = MAX_CONDITION, *, min_condition: float = 1.0) -> st.SearchStrategy[float]:
    """Condition numbers in ``[min_condition, max_condition]``: both endpoints, and log-uniform in between.

    Shrinks to ``min_condition`` (a perfectly conditioned matrix by default).

    Parameters
    ----------
    max_condition : float, optional
        The largest condition number, at most :data:`MAX_CONDITION` (default ``MAX_CONDITION = 1e8``).
    min_condition : float, optional
        The smallest condition number, >= 1 (default 1).

    Returns
    -------
    hypothesis.strategies.SearchStrategy of float
        The condition numbers.

    Examples
    --------
    In a test::

        @given(spd_matrices(5, condition=condition_numbers(1e4)))
        def test_cholesky_succeeds(A):
            np.linalg.cholesky(A)

    The first draw is the simplest, ``min_condition``:

    >>> from hypothesis import Phase, find, settings
    >>> first = settings(database=None, derandomize=True, phases=[Phase.generate])  # no shrinking, no database
    >>> from theorytools.testing.strategies import condition_numbers
    >>> [find(condition_numbers(100.0, min_condition=m), lambda c: True, settings=first) for m in (1.0, 10.0)]
    [1.0, 10.0]
    """
    hi = _check_float("max_condition", max_condition, 1.0, MAX_CONDITION)
    lo = _check_float("min_condition", min_condition, 1.0, hi)
    if lo == hi:
        return st.just(lo)
    lo10, hi10 = math.log10(lo), math.log10(hi)
    inner = st.floats(lo10, hi10).map(lambda u: min(max(10.0**u, lo), hi))
    return st.one_of(st.sampled_from((lo, hi)), inner)


# default arguments (strategies are immutable: sharing one instance is safe)
_ANY_CONDITION = condition_numbers()
_CONDITION_1E4 = condition_numbers(1e4)
_CONDITION_10 = condition_numbers(10.0)
_ANY_SPECTRUM = st.sampled_from(SPECTRA)
_ANY_B = st.sampled_from(B_KINDS)
_ANY_NOISE = st.sampled_from(NOISE_KINDS)
_SMALL_N = st.integers(1, 6)


def orthogonal_matrices(n) -> st.SearchStrategy[np.ndarray]:
    """Haar-random orthogonal ``n x n`` matrices (``n``: int or strategy), from a drawn seed.

    Parameters
    ----------
    n : int or hypothesis.strategies.SearchStrategy of int
        The size, >= 1.

    Returns
    -------
    hypothesis.strategies.SearchStrategy of numpy.ndarray
        The ``n x n`` orthogonal matrices.

    Examples
    --------
    In a test::

        @given(orthogonal_matrices(4))
        def test_orthogonal(Q):
            assert np.allclose(Q.T @ Q, np.eye(4))

    Drawing one directly:

    >>> import numpy as np
    >>> from hypothesis import Phase, find, settings
    >>> first = settings(database=None, derandomize=True, phases=[Phase.generate])  # no shrinking, no database
    >>> from theorytools.testing.strategies import orthogonal_matrices
    >>> Q = find(orthogonal_matrices(3), lambda Q: True, settings=first)
    >>> print(Q.shape, bool(np.allclose(Q.T @ Q, np.eye(3))))
    (3, 3) True
    """
    _eager(_check_int, "n", n, 1)

    @st.composite
    def _orth(draw):
        m = _check_int("n", _value(draw, n), 1)
        return _haar(m, _rng(draw))

    return _orth()


def spd_matrices(n, condition=_ANY_CONDITION, spectrum=_ANY_SPECTRUM, *,
                 scale=1.0) -> st.SearchStrategy[np.ndarray]:
    """Symmetric positive-definite ``n x n`` matrices ``Q diag(lam) Q^T``.

    Each parameter is a value or a strategy of values.  The eigenvectors ``Q`` are Haar-random, from a
    numpy ``Generator`` whose seed hypothesis draws (and shrinks to 0).  The result is exactly symmetric.

    Parameters
    ----------
    n : int
        The size, >= 1.
    condition : float, optional
        In ``[1, MAX_CONDITION = 1e8]`` -- the 2-norm condition number
        ``lam_max / lam_min``.  The matrix's own condition number (of the float64 matrix, as
        ``np.linalg.cond`` sees it) is within 1e-6 relative of it (measured: ~1e-8 at 1e8).
        A 1 x 1 matrix is ``[[scale]]``, whose condition number is 1 whatever is requested.
    spectrum : str, optional
        One of :data:`SPECTRA`, the shape of the eigenvalues between ``scale/condition``
        and ``scale`` (both always attained):

        * ``"geometric"`` -- log-spaced (the spectrum of ``random_problem``);
        * ``"linear"`` -- evenly spaced (001_7d31b3ff3a2f0401.txt §14.2.1's ``lambda_i = n - i + 1``
          is ``linear`` with ``condition = n``, ``scale = n``);
        * ``"two_cluster"`` -- ``n // 2`` eigenvalues at the bottom, the rest at the top;
        * ``"outlier"`` -- one eigenvalue at the top, ``n - 1`` at the bottom (a spiked spectrum);
        * ``"random"`` -- interior eigenvalues log-uniform between the ends, drawn by hypothesis
          (they shrink to the bottom, i.e. towards ``"outlier"``); for n > 66 they come from the
          seeded generator instead.

        The default draws a shape (shrinking to ``"geometric"``).
    scale : float, optional
        The largest eigenvalue, > 0 (default 1).

    Returns
    -------
    hypothesis.strategies.SearchStrategy of numpy.ndarray
        The ``n x n`` SPD matrices.

    Examples
    --------
    In a test::

        from hypothesis import given, strategies as st
        from theorytools.testing.strategies import spd_matrices

        @given(spd_matrices(st.integers(2, 6), condition=1e6, spectrum="two_cluster"))
        def test_inverse_is_spd(A):
            np.linalg.cholesky(np.linalg.inv(A))

    Drawing one directly: §14.2.1's spectrum ``(3, 2, 1)``, condition number 3, exactly symmetric:

    >>> import numpy as np
    >>> from hypothesis import Phase, find, settings
    >>> first = settings(database=None, derandomize=True, phases=[Phase.generate])  # no shrinking, no database
    >>> from theorytools.testing.strategies import spd_matrices
    >>> A = find(spd_matrices(3, condition=3.0, spectrum="linear", scale=3.0), lambda A: True, settings=first)
    >>> print(np.round(np.linalg.eigvalsh(A), 6).tolist(), f"{np.linalg.cond(A):.4f}", bool((A == A.T).all()))
    [1.0, 2.0, 3.0] 3.0000 True
    """
    _eager(_check_int, "n", n, 1)
    _eager(_check_float, "condition", condition, 1.0, MAX_CONDITION)
    _eager(_check_choice, "spectrum", spectrum, SPECTRA)
    _eager(_check_float, "scale", scale, 0.0, math.inf, True)

    @st.composite
    def _spd(draw):
        return _draw_spd(draw, n, condition, spectrum, scale)[0]

    return _spd()


def _draw_psd(draw, n, rank, condition, spectrum, scale):
    n = _check_int("n", _value(draw, n), 1)
    r = _value(draw, st.integers(0, n) if rank is None else rank)
    r = _check_int("rank", r, 0, n)
    kappa = _draw_condition(draw, condition)
    shape = _check_choice("spectrum", _value(draw, spectrum), SPECTRA)
    top = _check_float("scale", _value(draw, scale), 0.0, lo_open=True)
    Q = _haar(n, _rng(draw))
    if r == 0:
        return np.zeros((n, n))
    lam = _eigenvalues(draw, r, kappa, shape, top)
    return _symmetrize((Q[:, :r] * lam) @ Q[:, :r].T)


def psd_matrices(n, rank=None, *, condition=_CONDITION_1E4, spectrum=_ANY_SPECTRUM,
                 scale=1.0) -> st.SearchStrategy[np.ndarray]:
    """Symmetric positive-semidefinite ``n x n`` matrices of exact rank ``rank``.

    ``Q[:, :r] diag(lam) Q[:, :r]^T`` with Haar-random ``Q`` (from a drawn seed) and ``r`` nonzero
    eigenvalues shaped as in :func:`spd_matrices` (``condition`` is the ratio of the largest to the
    smallest *nonzero* eigenvalue, default up to 1e4; ``scale`` the largest).  ``rank`` is an int in
    ``0..n`` or a strategy of them; ``None`` (default) draws it from ``0..n``, shrinking to 0 (the
    zero matrix).  The numerical rank is exact: ``np.linalg.matrix_rank`` returns ``rank``, and the
    matrix passes ``QuadraticProblem``'s semidefiniteness check, so it can be a rank-deficient
    gradient-noise covariance ``Sigma_g`` (001_7d31b3ff3a2f0401.txt §14.2 assumes only PSD).

    Parameters
    ----------
    n : int or hypothesis.strategies.SearchStrategy of int
        The size, >= 1.
    rank : int or hypothesis.strategies.SearchStrategy of int, optional
        The rank, in ``0..n`` (default: drawn from ``0..n``).
    condition : float or hypothesis.strategies.SearchStrategy of float, optional
        Ratio of the largest to the smallest nonzero eigenvalue (default up to 1e4).
    spectrum : str or hypothesis.strategies.SearchStrategy of str, optional
        The shape of the nonzero eigenvalues, one of :data:`SPECTRA`.
    scale : float or hypothesis.strategies.SearchStrategy of float, optional
        The largest eigenvalue, > 0 (default 1).

    Returns
    -------
    hypothesis.strategies.SearchStrategy of numpy.ndarray
        The ``n x n`` PSD matrices.

    Examples
    --------
    In a test::

        @given(st.data())
        def test_trace_is_sum_of_eigenvalues(data):
            n = data.draw(st.integers(1, 6))
            X = data.draw(psd_matrices(n, rank=st.integers(0, n)))
            assert np.trace(X) == pytest.approx(np.linalg.eigvalsh(X).sum(), abs=1e-12)

    Drawing one directly:

    >>> import numpy as np
    >>> from hypothesis import Phase, find, settings
    >>> first = settings(database=None, derandomize=True, phases=[Phase.generate])  # no shrinking, no database
    >>> from theorytools.testing.strategies import psd_matrices
    >>> X = find(psd_matrices(3, rank=2), lambda X: True, settings=first)
    >>> print(int(np.linalg.matrix_rank(X)), bool((X == X.T).all()))
    2 True
    """
    _eager(_check_int, "n", n, 1)
    if rank is not None and not _is_strategy(rank):
        _check_int("rank", rank, 0, n if isinstance(n, (int, np.integer)) else None)
    _eager(_check_float, "condition", condition, 1.0, MAX_CONDITION)
    _eager(_check_choice, "spectrum", spectrum, SPECTRA)
    _eager(_check_float, "scale", scale, 0.0, math.inf, True)

    @st.composite
    def _psd(draw):
        return _draw_psd(draw, n, rank, condition, spectrum, scale)

    return _psd()


# ---------------------------------------------------------------------------------------------
# problems
# ---------------------------------------------------------------------------------------------
def quadratic_problems(*, n=_SMALL_N, condition=_ANY_CONDITION, spectrum=_ANY_SPECTRUM,
                       B=_ANY_B, noise=_ANY_NOISE, b=None,
                       B_condition=_CONDITION_10, noise_condition=_CONDITION_1E4,
                       noise_scale=1.0, start_scale=1.0, random_optimum=False) -> st.SearchStrategy[QuadraticProblem]:
    """Validated :class:`~theorytools.quadratic.QuadraticProblem` instances (001_7d31b3ff3a2f0401.txt §14.2).

    ``h(theta) = 1/2 (theta - theta*)^T H (theta - theta*)`` minimized by
    ``theta_{k+1} = theta_k - alpha_k B^{-1} g_k`` with gradient noise of covariance ``Sigma_g``.
    Every parameter is a value or a strategy of values.
    Shrinks towards ``n = 1``, ``condition = 1``, geometric spectrum, ``B = H``, ``Sigma_g = H``.

    Parameters
    ----------
    n : int, optional
        The dimension, >= 1 (default 1..6).
    condition : float, optional
        ``kappa(H)`` (default log-uniform in ``[1, 1e8]``), as in :func:`spd_matrices`; H's largest eigenvalue is 1.
    spectrum : str, optional
        The shape of H's spectrum, as in :func:`spd_matrices`.
    B : str, optional
        The preconditioner, one of :data:`B_KINDS` (the choices of §14.2.1): ``"H"`` (stochastic
        2nd-order, ``B^{-1} H = I``), ``"lambda_n"`` (``B = lambda_n(H) I``, the 1st-order method with
        the largest safe scaling), ``"I"`` (plain SGD), ``"random"`` (an SPD matrix of condition
        ``B_condition``, default up to 10, scaled to H's mean eigenvalue, in its own random basis).
    noise : str, optional
        ``Sigma_g``, one of :data:`NOISE_KINDS`: ``"H"`` (the realizable case of §14.1),
        ``"identity"``, ``"random"`` (full rank, condition ``noise_condition``, default up to 1e4),
        ``"lowrank"`` (rank drawn from ``0..n-1``: rank-deficient), ``"zero"`` (noise-free); the
        largest eigenvalue of ``Sigma_g`` is ``noise_scale`` (times H's for ``"H"``).
    b : float or None, optional
        ``None`` (default) or a float > 0 (or a strategy of either): when a number, B is rescaled so that
        ``lambda_n(B^{-1} H) = b`` (up to the eigensolve's rounding, ~ n eps kappa(B) lambda_1/lambda_n relative).
        Theorem 5's harmonic case needs ``b > 1/2`` (§14.2, Theorem 5); e.g.
        ``b=st.floats(0.55, 3.0)`` makes every drawn problem admit an ``inside`` harmonic schedule.
    B_condition : float, optional
        Condition number of a ``"random"`` B (default up to 10).
    noise_condition : float, optional
        Condition number of a ``"random"`` or ``"lowrank"`` ``Sigma_g`` (default up to 1e4).
    noise_scale : float, optional
        The largest eigenvalue of ``Sigma_g`` (default 1).
    start_scale : float, optional
        ``theta_0 - theta*`` is ``start_scale`` times a standard Gaussian vector (default 1).
    random_optimum : bool, optional
        When true ``theta*`` is a standard Gaussian vector, else 0 (default False).

    Returns
    -------
    hypothesis.strategies.SearchStrategy of QuadraticProblem
        The problems.

    Examples
    --------
    In a test::

        from theorytools.quadratic import Constant, excess_risk
        from theorytools.testing.strategies import quadratic_problems

        @given(quadratic_problems(B="H", noise=st.sampled_from(["H", "lowrank"])))
        def test_risk_is_nonnegative(p):
            assert excess_risk(p, Constant(0.5 / p.lambda_1), 10) >= 0

    Drawing one directly: with ``B = H`` every eigenvalue of ``B^{-1} H`` is 1:

    >>> import numpy as np
    >>> from hypothesis import Phase, find, settings
    >>> first = settings(database=None, derandomize=True, phases=[Phase.generate])  # no shrinking, no database
    >>> from theorytools.testing.strategies import quadratic_problems
    >>> p = find(quadratic_problems(n=2, B="H"), lambda p: True, settings=first)
    >>> print(p.n, np.round(p.lam, 6).tolist())
    2 [1.0, 1.0]
    """
    _eager(_check_int, "n", n, 1)
    _eager(_check_float, "condition", condition, 1.0, MAX_CONDITION)
    _eager(_check_choice, "spectrum", spectrum, SPECTRA)
    _eager(_check_choice, "B", B, B_KINDS)
    _eager(_check_choice, "noise", noise, NOISE_KINDS)
    if b is not None:
        _eager(_check_float, "b", b, 0.0, math.inf, True)
    _eager(_check_float, "B_condition", B_condition, 1.0, MAX_CONDITION)
    _eager(_check_float, "noise_condition", noise_condition, 1.0, MAX_CONDITION)
    _eager(_check_float, "noise_scale", noise_scale, 0.0)
    _eager(_check_float, "start_scale", start_scale, 0.0)

    @st.composite
    def _problems(draw):
        H, lam_H = _draw_spd(draw, n, condition, spectrum, 1.0)
        m = H.shape[0]
        B_kind = _check_choice("B", _value(draw, B), B_KINDS)
        if B_kind == "H":
            Bm = H.copy()
        elif B_kind == "lambda_n":
            Bm = lam_H[0] * np.eye(m)
        elif B_kind == "I":
            Bm = np.eye(m)
        else:
            Bm = _draw_spd(draw, m, B_condition, "random", float(np.mean(lam_H)))[0]
        kind = _check_choice("noise", _value(draw, noise), NOISE_KINDS)
        s = _check_float("noise_scale", _value(draw, noise_scale), 0.0)
        if kind == "H":
            S = s * H
        elif kind == "identity":
            S = s * np.eye(m)
        elif kind == "zero" or s == 0.0:
            S = np.zeros((m, m))
        elif kind == "random":
            S = _draw_psd(draw, m, m, noise_condition, "random", s)
        else:  # lowrank
            S = _draw_psd(draw, m, st.integers(0, m - 1), noise_condition, "random", s)
        start = _check_float("start_scale", _value(draw, start_scale), 0.0)
        rng = _rng(draw)
        theta0 = start * rng.standard_normal(m)
        theta_star = None
        if _value(draw, random_optimum):
            theta_star = rng.standard_normal(m)
            theta0 = theta0 + theta_star
        p = QuadraticProblem(H, Bm, S, theta0, theta_star)
        target = _value(draw, b)
        if target is not None:
            target = _check_float("b", target, 0.0, lo_open=True)
            p = QuadraticProblem(H, Bm * (p.lambda_n / target), S, theta0, theta_star)
        return p

    return _problems()


# ---------------------------------------------------------------------------------------------
# schedules
# ---------------------------------------------------------------------------------------------
def _feasible_kinds(p, inside, theorem, kinds):
    """The schedule kinds that can be drawn for ``p``: harmonic-inside needs b > 1/2, Theorem 6 is constant-only."""
    out = []
    for kind in kinds:
        if kind == "harmonic" and theorem == "theorem6":
            continue  # Theorem 6 is stated for a constant step only
        if kind == "harmonic" and inside and not p.lambda_n > 0.5:
            continue  # b = lambda_n(B^-1 H) > 1/2 is a hypothesis on the problem, no `a` can fix it
        out.append(kind)
    return out


def _draw_constant(draw, p, inside, theorem):
    """``Constant(alpha)``: inside ``alpha lambda_1 <= 1`` (``< 1`` for Theorem 6), outside beyond it."""
    lam1 = p.lambda_1
    strict = theorem == "theorem6"
    if inside:
        x = 10.0 ** draw(st.floats(-4.0, 0.0))  # alpha lambda_1 in [1e-4, 1], shrinks to the limit 1
        alpha = x / lam1
        # exactly inside in floating point, not only within the eigensolve's rounding slack
        while alpha * lam1 > 1.0 or (strict and alpha * lam1 >= 1.0):
            alpha = math.nextafter(alpha, 0.0)
        return Constant(alpha)
    if strict and draw(st.booleans()):  # Theorem 6's limit itself, alpha lambda_1 = 1, is outside
        alpha = 1.0 / lam1
        while alpha * lam1 < 1.0:
            alpha = math.nextafter(alpha, math.inf)
        return Constant(alpha)
    x = 1.0 + 10.0 ** draw(st.floats(math.log10(MIN_VIOLATION), 1.0))  # alpha lambda_1 in [1 + 1e-9, 11]
    return Constant(x / lam1)


def _draw_harmonic(draw, p, inside):
    """``Harmonic(a)``: inside ``a >= 1`` and ``lambda_1 <= a + 1``; outside violates one (or b <= 1/2)."""
    lam1 = p.lambda_1
    a_min = max(1.0, lam1 - 1.0)
    if inside:
        a = a_min * 10.0 ** draw(st.floats(0.0, 3.0))  # shrinks to the smallest admissible a
        while a + 1.0 < lam1:
            a = math.nextafter(a, math.inf)
        return Harmonic(max(a, 1.0))
    if not p.lambda_n > 0.5:  # b <= 1/2: every a is outside; draw from a wide range
        f = draw(st.floats(1e-3, 10.0))
    else:  # a + 1 = f (a_min + 1) < a_min + 1: violates a >= 1 (lambda_1 <= 2) or lambda_1 <= a + 1
        f = 10.0 ** draw(st.floats(-3.0, math.log10(1.0 - 1e3 * MIN_VIOLATION)))
    return Harmonic(f * (a_min + 1.0) - 1.0)


def _draw_schedule(draw, p, inside, theorem, kinds):
    feasible = _feasible_kinds(p, inside, theorem, kinds)
    if not feasible:
        return None
    kind = draw(st.sampled_from(feasible))
    if kind == "constant":
        return _draw_constant(draw, p, inside, theorem)
    return _draw_harmonic(draw, p, inside)


def _check_schedule_args(inside, theorem, kinds):
    if not isinstance(inside, bool):
        raise InvalidArgument(f"inside must be True or False, got {inside!r}")
    _check_choice("theorem", theorem, THEOREMS)
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    if not kinds:
        raise InvalidArgument("kinds must name at least one of ('constant', 'harmonic')")
    for k in kinds:
        _check_choice("kinds", k, SCHEDULE_KINDS)
    if theorem == "theorem6" and "constant" not in kinds:
        raise InvalidArgument("theorem6 is stated for a constant step only: kinds must include 'constant'")
    return kinds


def schedules(problem: QuadraticProblem, *, inside: bool = True, theorem: str = "theorem5",
              kinds=SCHEDULE_KINDS) -> st.SearchStrategy:
    """Step-size schedules for ``problem`` that satisfy or violate the hypotheses of ``theorem``.

    ``inside=True`` draws schedules that satisfy them, ``inside=False`` ones that violate them; ``theorem`` is
    "theorem3", "theorem5" or "theorem6".
    The hypotheses (001_7d31b3ff3a2f0401.txt §14.2, Theorems 3 and 5; §14.3, Theorem 6):

    * constant ``alpha_k = alpha`` -- ``alpha lambda_1(B^{-1} H) <= 1`` (Theorem 6: ``< 1``).
      Inside: ``alpha lambda_1`` log-uniform in ``[1e-4, 1]``, shrinking to the limit 1 itself (for
      Theorem 6 the largest float below it).  Outside: ``alpha lambda_1`` in
      ``[1 + MIN_VIOLATION, 11]`` (Theorem 6 also the limit itself, ``alpha lambda_1 = 1``);
    * harmonic ``alpha_k = 1/(k + a + 1)`` (Theorems 3 and 5 only) -- ``a >= 1``,
      ``b = lambda_n(B^{-1} H) > 1/2`` and ``lambda_1(B^{-1} H) <= a + 1``.  Inside: ``a`` from
      ``max(1, lambda_1 - 1)`` (shrinking to it) up to 1000 times that, only when the problem has
      ``b > 1/2`` (a property of the problem that no ``a`` can fix: build problems with
      ``quadratic_problems(b=...)``).  Outside: ``a + 1`` a fraction ``<= 1 - 1e-6`` of
      ``max(2, lambda_1)``, which violates ``a >= 1`` or ``lambda_1 <= a + 1`` (any ``a`` when ``b <= 1/2``).

    Inside schedules satisfy the hypotheses exactly in floating point; outside ones violate one by at
    least :data:`MIN_VIOLATION` relative, so ``theorem5_bounds(problem, schedule, k)`` raises
    :class:`~theorytools.errors.HypothesisError` (``check=False`` evaluates the formula anyway).

    Parameters
    ----------
    problem : QuadraticProblem
        The problem (a value, not a strategy; see :func:`problem_and_schedule`).
    inside : bool, optional
        Draw schedules inside (default) or outside the hypotheses.
    theorem : str, optional
        ``"theorem3"``, ``"theorem5"`` (default) or ``"theorem6"``.
    kinds : str or tuple of str, optional
        Restricts the schedule kinds ("constant", "harmonic"; default both); those impossible for this
        problem are left out, and :class:`hypothesis.errors.InvalidArgument` is raised when none is left.

    Returns
    -------
    hypothesis.strategies.SearchStrategy
        The ``Constant`` or ``Harmonic`` schedules.

    Examples
    --------
    In a test::

        from hypothesis import given, strategies as st
        from theorytools.quadratic import theorem5_bounds
        from theorytools.testing.strategies import quadratic_problems, schedules

        @given(st.data())
        def test_bounds_are_ordered(data):
            p = data.draw(quadratic_problems(b=st.floats(0.55, 3.0)))
            lower, upper = theorem5_bounds(p, data.draw(schedules(p, inside=True)), 100)
            assert lower <= upper * (1 + 1e-9)

    Drawing one directly: a harmonic schedule inside Theorem 5 for ``lambda(B^-1 H) = (1, 2)``:

    >>> import numpy as np
    >>> from hypothesis import Phase, find, settings
    >>> first = settings(database=None, derandomize=True, phases=[Phase.generate])  # no shrinking, no database
    >>> from theorytools.quadratic import QuadraticProblem, hypotheses
    >>> from theorytools.testing.strategies import schedules
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> s = find(schedules(p, inside=True, kinds="harmonic"), lambda s: True, settings=first)
    >>> [h.holds for h in hypotheses(p, s)]
    [True, True, True]
    """
    if not isinstance(problem, QuadraticProblem):
        raise InvalidArgument(
            f"problem must be a QuadraticProblem, got {type(problem).__name__}; to draw the problem too, "
            "use problem_and_schedule(quadratic_problems(...))")
    kinds = _check_schedule_args(inside, theorem, kinds)
    feasible = _feasible_kinds(problem, inside, theorem, kinds)
    if not feasible:
        raise InvalidArgument(
            f"no {'inside' if inside else 'outside'} schedule of kinds {kinds} exists for {theorem} on {problem!r}: "
            f"harmonic steps inside Theorem 5 need b = lambda_n(B^-1 H) > 1/2, here {problem.lambda_n:.6g}")

    @st.composite
    def _schedules(draw):
        return _draw_schedule(draw, problem, inside, theorem, kinds)

    return _schedules()


def problem_and_schedule(problems=None, *, inside: bool = True, theorem: str = "theorem5",
                         kinds=SCHEDULE_KINDS) -> st.SearchStrategy[tuple]:
    """``(problem, schedule)`` pairs: a problem from ``problems`` and a schedule from :func:`schedules` for it.

    The hypotheses are those of 001_7d31b3ff3a2f0401.txt §14.2, Theorem 5, or Theorems 3/6 via ``theorem``.
    A drawn problem for which no schedule of ``kinds`` can be inside (harmonic only, ``b <= 1/2``) is
    rejected (``hypothesis.assume``); pass ``quadratic_problems(b=st.floats(0.55, 3.0))`` to keep all.

    Parameters
    ----------
    problems : hypothesis.strategies.SearchStrategy of QuadraticProblem, optional
        The problems (default :func:`quadratic_problems`).
    inside : bool, optional
        Draw schedules inside (default) or outside the hypotheses.
    theorem : str, optional
        ``"theorem3"``, ``"theorem5"`` (default) or ``"theorem6"``.
    kinds : str or tuple of str, optional
        The schedule kinds, "constant" and/or "harmonic" (default both).

    Returns
    -------
    hypothesis.strategies.SearchStrategy of tuple
        The ``(problem, schedule)`` pairs.

    Examples
    --------
    In a test::

        @given(problem_and_schedule(quadratic_problems(n=3), inside=False))
        def test_outside_raises(case):
            p, schedule = case
            with pytest.raises(HypothesisError):
                theorem5_bounds(p, schedule, 10)

    Drawing one directly: an outside pair violates a hypothesis:

    >>> from hypothesis import Phase, find, settings
    >>> first = settings(database=None, derandomize=True, phases=[Phase.generate])  # no shrinking, no database
    >>> from theorytools.quadratic import hypotheses
    >>> from theorytools.testing.strategies import problem_and_schedule, quadratic_problems
    >>> p, s = find(problem_and_schedule(quadratic_problems(n=2), inside=False), lambda c: True, settings=first)
    >>> all(h.holds for h in hypotheses(p, s))
    False
    """
    kinds = _check_schedule_args(inside, theorem, kinds)
    problems = quadratic_problems() if problems is None else problems
    if not _is_strategy(problems):
        raise InvalidArgument(f"problems must be a strategy of QuadraticProblem, got {problems!r}")

    @st.composite
    def _pairs(draw):
        p = draw(problems)
        sched = _draw_schedule(draw, p, inside, theorem, kinds)
        assume(sched is not None)
        return p, sched

    return _pairs()


# ---------------------------------------------------------------------------------------------
# iteration counts
# ---------------------------------------------------------------------------------------------
_K_LIMIT = 2**62  # theorytools.linalg.as_steps accepts k below 2**62


def iteration_counts(max_k: int = 10**12, *, min_k: int = 0) -> st.SearchStrategy[int]:
    """Iteration counts ``k`` in ``[min_k, max_k]`` (Python ints; default up to 1e12).

    A mix of the edge cases (``min_k``, 1, ``max_k``), every small count up to ``min_k + 100``, and
    log-uniform counts across the whole range (so 1e3, 1e7 and 1e11 are all as likely as 10).
    Shrinks to ``min_k`` (0 by default: the starting point ``theta_0``).

    Parameters
    ----------
    max_k : int, optional
        The largest count, below 2^62 (default 1e12).
    min_k : int, optional
        The smallest count, >= 0 (default 0).

    Returns
    -------
    hypothesis.strategies.SearchStrategy of int
        The counts.

    Examples
    --------
    In a test::

        @given(quadratic_problems(), iteration_counts())
        def test_risk_is_finite_up_to_1e12(p, k):
            assert np.isfinite(excess_risk(p, Constant(1.0 / p.lambda_1), k))

    The first draw is the edge case ``min_k``:

    >>> from hypothesis import Phase, find, settings
    >>> first = settings(database=None, derandomize=True, phases=[Phase.generate])  # no shrinking, no database
    >>> from theorytools.testing.strategies import iteration_counts
    >>> [find(iteration_counts(10**6, min_k=m), lambda k: True, settings=first) for m in (0, 7)]
    [0, 7]
    """
    hi = _check_int("max_k", max_k, 0, _K_LIMIT)
    lo = _check_int("min_k", min_k, 0, hi)
    edges = sorted({lo, min(max(1, lo), hi), hi})
    parts = [st.sampled_from(edges), st.integers(lo, min(hi, lo + 100))]
    if hi > lo + 100:
        lo10, hi10 = math.log10(max(lo, 1)), math.log10(hi)
        parts.append(st.floats(lo10, hi10).map(lambda u: min(max(round(10.0**u), lo), hi)))
    return st.one_of(parts)


def iteration_grids(max_k: int = 10**12, *, min_k: int = 0, min_size: int = 1,
                    max_size: int = 20) -> st.SearchStrategy[np.ndarray]:
    """Sorted arrays of distinct iteration counts (``numpy.int64``), drawn by :func:`iteration_counts`.

    The toolkit's closed forms take such arrays (``excess_risk(p, schedule, ks)``).

    Parameters
    ----------
    max_k : int, optional
        The largest count, below 2^62 (default 1e12).
    min_k : int, optional
        The smallest count, >= 0 (default 0).
    min_size : int, optional
        The fewest counts (default 1).
    max_size : int, optional
        The most counts (default 20).

    Returns
    -------
    hypothesis.strategies.SearchStrategy of numpy.ndarray
        Sorted ``int64`` arrays of distinct counts.

    Examples
    --------
    In a test::

        @given(quadratic_problems(noise="zero"), iteration_grids(10**6, min_size=2))
        def test_noise_free_risk_decreases(p, ks):
            risk = excess_risk(p, Constant(0.5 / p.lambda_1), ks)
            assert np.all(np.diff(risk) <= 1e-12 * risk[0])

    Drawing one directly (three distinct counts in ``[0, 100]``, sorted):

    >>> from hypothesis import Phase, find, settings
    >>> first = settings(database=None, derandomize=True, phases=[Phase.generate])  # no shrinking, no database
    >>> from theorytools.testing.strategies import iteration_grids
    >>> ks = find(iteration_grids(100, min_size=3), lambda ks: True, settings=first)
    >>> print(ks.dtype, len(ks), bool((ks[1:] > ks[:-1]).all()))
    int64 3 True
    """
    hi = _check_int("max_k", max_k, 0, _K_LIMIT)
    lo = _check_int("min_k", min_k, 0, hi)
    mn = _check_int("min_size", min_size, 0)
    mx = _check_int("max_size", max_size, mn)
    if mn > hi - lo + 1:
        raise InvalidArgument(f"min_size={mn} distinct counts do not fit in [{lo}, {hi}]")
    return st.lists(iteration_counts(hi, min_k=lo), min_size=mn, max_size=mx, unique=True).map(
        lambda ks: np.array(sorted(ks), dtype=np.int64))
