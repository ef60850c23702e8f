"""Tests of the Monte Carlo engine: streams, streaming moments, intervals, runner."""

from __future__ import annotations

import dataclasses
import math
import time

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from theorytools.errors import NonFiniteError
from theorytools.montecarlo import (
    BLOCK,
    DEFAULT_CHUNK_BLOCKS,
    ConfidenceInterval,
    MonteCarloResult,
    StreamingMoments,
    block_rng,
    bootstrap_interval,
    iter_blocks,
    mom_interval,
    normal_interval,
    resolve_chunk_size,
    run_blocks,
)
from theorytools.montecarlo.intervals import mom_groups, mom_tail_probability

EPS = np.finfo(float).eps
KS = np.array([1, 10, 50])


def random_walk(rng, nruns):
    """Squared position of a Gaussian random walk at steps KS, plus a Student-t(3) draw."""
    steps = rng.standard_normal((nruns, KS[-1]))
    position = np.cumsum(steps, axis=1)[:, KS - 1]
    return np.column_stack([position**2, rng.standard_t(3, size=nruns)])


def shuffled_random_walk(rng, nruns):
    """``random_walk`` after a random sleep, so that threads finish out of block order."""
    time.sleep(rng.uniform(0.0, 0.003))
    return random_walk(rng, nruns)


def binomial_band(trials, p, prob=0.999):
    """Central interval holding a Binomial(trials, p) count with probability ``>= prob``."""
    tail = 0.5 * (1.0 - prob)
    return stats.binom.ppf(tail, trials, p), stats.binom.isf(tail, trials, p)


# --------------------------------------------------------------------------- streams


def test_block_streams_are_the_spawned_children():
    runs = 3 * BLOCK + 5
    children = np.random.SeedSequence(42).spawn(4)
    blocks = list(iter_blocks(42, runs))
    assert [b.index for b in blocks] == [0, 1, 2, 3]
    assert [b.nruns for b in blocks] == [BLOCK, BLOCK, BLOCK, 5]
    for block, child in zip(blocks, children):
        expected = np.random.Generator(np.random.PCG64(child)).random(8)
        np.testing.assert_array_equal(block.rng.random(8), expected)
    # A SeedSequence root gives its own children, and does not advance its spawn counter.
    root = np.random.SeedSequence(7, spawn_key=(3,))
    child = root.spawn(3)[2]
    for _ in range(2):
        np.testing.assert_array_equal(
            block_rng(root, 2).random(4), np.random.Generator(np.random.PCG64(child)).random(4)
        )


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        (None, DEFAULT_CHUNK_BLOCKS * BLOCK),
        (1, BLOCK),
        (BLOCK, BLOCK),
        (1500, 2 * BLOCK),
        (10 * BLOCK, 10 * BLOCK),
    ],
)
def test_chunk_size_rounds_up_to_whole_blocks(requested, expected):
    assert resolve_chunk_size(requested) == expected


# --------------------------------------------------------------------------- engine


def test_results_bit_identical_across_chunk_sizes_and_workers():
    runs = 10 * BLOCK + 37  # a partial last block, too
    reference = run_blocks(shuffled_random_walk, runs, seed=2024, chunk_size=BLOCK, progress=False)
    for chunk_size in (BLOCK, 2 * BLOCK, 10 * BLOCK, 1500, 100 * BLOCK):
        for workers in (1, 2, 3):
            res = run_blocks(
                shuffled_random_walk, runs, seed=2024, chunk_size=chunk_size, workers=workers, progress=False
            )
            for field in ("mean", "std", "stderr", "block_means", "block_counts"):
                np.testing.assert_array_equal(getattr(res, field), getattr(reference, field), err_msg=field)
            assert res.runs == runs
    other_seed = run_blocks(shuffled_random_walk, runs, seed=2025, progress=False)
    assert not np.array_equal(other_seed.mean, reference.mean)


def test_engine_moments_equal_numpy_on_all_runs():
    seen = {}

    def record(rng, nruns):
        values = random_walk(rng, nruns)
        seen[len(seen)] = values  # single worker: calls come in block order
        return values

    runs = 5 * BLOCK + 100
    res = run_blocks(record, runs, seed=3, chunk_size=2 * BLOCK, workers=1, progress=False)
    assert [len(v) for v in seen.values()] == [BLOCK] * 5 + [100]
    x = np.concatenate(list(seen.values()))
    np.testing.assert_allclose(res.mean, x.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(res.std, x.std(axis=0, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(res.stderr, x.std(axis=0, ddof=1) / math.sqrt(runs), rtol=1e-12)
    np.testing.assert_allclose(res.block_means, [v.mean(axis=0) for v in seen.values()], rtol=1e-13)
    np.testing.assert_array_equal(res.block_counts, [BLOCK] * 5 + [100])
    # The random walk's E[S_k^2] = k, to within the 99% interval.
    lo, hi = res.ci(0.99)
    assert np.all((lo[:3] < KS) & (KS < hi[:3]))


def test_variance_survives_a_large_offset():
    """``1e8 + N(0, 1)``: sum-of-squares formulas lose every digit here; ours keeps ~all."""

    def offset_noise(rng, nruns):
        return 1e8 + rng.standard_normal((nruns, 1))

    res = run_blocks(offset_noise, 20 * BLOCK, seed=11, progress=False)
    x = np.concatenate([offset_noise(b.rng, b.nruns) for b in iter_blocks(11, 20 * BLOCK)])
    # x - 1e8 is exact (Sterbenz), so this reference has no cancellation at all.
    reference = np.var(x - 1e8, ddof=1)
    assert abs(res.std[0] ** 2 - reference) <= 1e-9 * reference


def test_result_is_immutable_and_ci_unpacks():
    res = run_blocks(random_walk, 2 * BLOCK, seed=0, progress=False)
    assert isinstance(res, MonteCarloResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.runs = 3
    with pytest.raises(ValueError):
        res.mean[0] = 0.0
    ci = res.ci(0.95)
    assert isinstance(ci, ConfidenceInterval)
    lo, hi = ci
    assert (ci.level, ci.method, ci.runs) == (0.95, "normal", 2 * BLOCK)
    np.testing.assert_array_equal(ci.contains(res.mean), np.ones(4, dtype=bool))
    assert np.all(lo < res.mean) and np.all(res.mean < hi)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_simulation_raises_naming_the_block(workers, bad):
    def poisoned(rng, nruns):
        values = random_walk(rng, nruns)
        if nruns < BLOCK:  # only the last, partial block (index 3)
            values[7, 1] = bad
        return values

    with pytest.raises(NonFiniteError, match=r"block 3.*run 7, quantity 1"):
        run_blocks(poisoned, 3 * BLOCK + 10, seed=1, workers=workers, progress=False)


def test_progress_bar_only_when_asked(capsys):
    run_blocks(random_walk, 2 * BLOCK, seed=0, progress=False)
    run_blocks(random_walk, 2 * BLOCK, seed=0)  # pytest's stderr is not a terminal
    assert capsys.readouterr().err == ""
    run_blocks(random_walk, 2 * BLOCK, seed=0, progress=True, desc="walk")
    err = capsys.readouterr().err
    assert "walk" in err and f"{2 * BLOCK}/{2 * BLOCK}" in err


# --------------------------------------------------------------------------- moments


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_streaming_moments_equal_numpy(data):
    n = data.draw(st.integers(1, 300), label="runs")
    m = data.draw(st.integers(1, 3), label="m")
    offset = data.draw(st.sampled_from([0.0, 1.0, -1e3, 1e8, -1e8]), label="offset")
    scale = data.draw(st.sampled_from([0.0, 1e-6, 1e-3, 1.0, 1e3]), label="scale")
    noise = data.draw(hnp.arrays(float, (n, m), elements=st.floats(-1.0, 1.0)), label="noise")
    cuts = data.draw(st.lists(st.integers(1, max(1, n - 1)), max_size=6, unique=True), label="cuts")
    x = offset + scale * noise
    batches = np.split(x, sorted(c for c in cuts if c < n))

    acc = StreamingMoments()
    for batch in batches:
        acc.update(batch)

    assert acc.count == n
    np.testing.assert_array_equal(acc.block_counts, [len(b) for b in batches])
    big = np.abs(x).max(axis=0)
    # numpy sums the rows one after another: its mean is within n * eps * max|x| of the
    # exact one, ours within (blocks + 2) * eps * max|x|; 4 (n + 2) eps max|x| covers both.
    tol_mean = 4 * (n + 2) * EPS * big
    assert np.all(np.abs(acc.mean - x.mean(axis=0)) <= tol_mean)
    np.testing.assert_allclose(
        acc.block_means, [b.mean(axis=0) for b in batches], rtol=0, atol=tol_mean.max()
    )
    if scale == 0.0:
        # Constant data: the corrected two-pass mean is exact and the variance vanishes.
        np.testing.assert_array_equal(acc.mean, x[0])
    if n == 1:
        assert np.all(acc.m2 == 0.0)
        with pytest.raises(ValueError, match="count=1"):
            acc.variance
        return
    var = x.var(axis=0, ddof=1)
    spread = np.abs(x - x.mean(axis=0)).max(axis=0)
    # numpy's two-pass variance carries n * delta**2 from its mean's error delta <= n eps
    # max|x|; ours carries, from the rounding of the block means in Chan's update, at
    # most ~8 eps max|x| * spread (see moments.py).  A sum-of-squares formula would be
    # off by ~eps * max|x|**2 = 2 for offset 1e8: far outside this tolerance.
    tol_var = 1e-9 * var + 4 * (n * EPS * big) ** 2 + 64 * EPS * big * (spread + EPS * big)
    assert np.all(np.abs(acc.variance - var) <= tol_var)
    np.testing.assert_allclose(acc.stderr, np.sqrt(acc.variance / n), rtol=1e-15)


def test_merge_matches_update_and_handles_empty():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(30, 2)), rng.normal(size=(17, 2))
    updated = StreamingMoments().update(a).update(b)
    merged = StreamingMoments().merge(StreamingMoments.from_batch(a)).merge(StreamingMoments.from_batch(b))
    merged.merge(StreamingMoments())
    np.testing.assert_array_equal(merged.mean, updated.mean)
    np.testing.assert_array_equal(merged.m2, updated.m2)
    np.testing.assert_allclose(merged.block_means, [a.mean(axis=0), b.mean(axis=0)], rtol=1e-15)
    with pytest.raises(ValueError, match="3 quantities per run.*have 2"):
        merged.merge(StreamingMoments.from_batch(np.zeros((4, 3))))
    with pytest.raises(ValueError, match="count=0"):
        StreamingMoments().mean


# --------------------------------------------------------------------------- intervals


def test_normal_interval_covers_at_the_nominal_rate():
    """400 independent 90% intervals for the mean (1) of Exp(1) data, 2048 runs each.

    If the interval had exactly its nominal coverage, the number of covering repetitions
    would be Binomial(400, 0.9): mean 360, sd 6.  The band below holds it with
    probability 99.9%, so a correct engine fails for about one choice of seeds in 1000
    (the seeds are fixed, so the test is deterministic).  The CLT error at 2048 runs
    of a skewness-2 law is ~1e-3 in coverage, far inside the band, while the usual bugs
    land far outside it: a one-sided z (coverage 80%: 320), std for stderr (100%: 400),
    variance for std (~100%).
    """
    reps, level = 400, 0.9

    def exponential(rng, nruns):
        return rng.exponential(1.0, size=(nruns, 1))

    covered = sum(
        bool(run_blocks(exponential, 2 * BLOCK, seed=rep, progress=False).ci(level).contains(1.0)[0])
        for rep in range(reps)
    )
    lo, hi = binomial_band(reps, level)
    assert lo <= covered <= hi, (covered, lo, hi)


def student_t3(rng, nruns):
    return rng.standard_t(3, size=(nruns, 1))  # mean 0, variance 3, infinite 4th moment


def test_mom_tail_probability_and_groups():
    for groups in (1, 2, 5, 9, 30):
        for delta in (0.5, 0.05, 0.01, 1e-4):
            p = mom_tail_probability(groups, delta)
            k = -(-groups // 2)
            assert stats.binom.sf(k - 1, groups, p) == pytest.approx(delta, rel=1e-9)
    # Values quoted in mom_interval's docstring: 99% -> G = 5, t = 6.88 sigma / sqrt(n),
    # versus Lugosi & Mendelson's sqrt(32 ln 100) = 12.1.
    assert mom_groups(10**6, 0.01) == 5
    assert 1 / math.sqrt(mom_tail_probability(5, 0.01) / 5) == pytest.approx(6.88, abs=0.005)
    assert math.sqrt(32 * math.log(100)) == pytest.approx(12.1, abs=0.05)
    assert mom_groups(10**6, 0.1) == 1
    # The search cap of mom_groups loses nothing: compare with trying every G.
    for delta in (0.7, 0.1, 0.01, 1e-6):
        for nblocks in (1, 2, 7, 40, 300):
            def score(g):
                return (nblocks // g) * mom_tail_probability(g, delta)

            best = max(score(g) for g in range(1, nblocks + 1))
            assert score(mom_groups(nblocks, delta)) == pytest.approx(best, rel=1e-12)


def test_mom_with_one_group_is_chebyshev():
    means = np.array([[0.5]])
    ci = mom_interval(means, [100], std=[2.0], level=0.9)
    # Chebyshev: P(|mean - mu| > t) <= sigma^2 / (n t^2) = 0.1  =>  t = 2 / sqrt(10).
    np.testing.assert_allclose([ci.lo[0], ci.hi[0]], [0.5 - 2 / math.sqrt(10), 0.5 + 2 / math.sqrt(10)])
    assert (ci.runs, ci.method) == (100, "mom")


def test_mom_interval_is_valid_on_student_t3():
    """Median of means at 99% on t(3) data, 200 repetitions of 32 full blocks + a partial one.

    The interval is conservative, so misses must not exceed what a Binomial(200, 0.01)
    count exceeds with probability 0.1% (a one-sided check: a valid conservative interval
    misses less often, here never).
    """
    reps, level, block = 200, 0.99, 256
    runs = 32 * block + 100
    misses = 0
    for rep in range(reps):
        res = run_blocks(student_t3, runs, seed=rep, block_size=block, progress=False)
        ci = res.ci(level, method="mom")
        misses += not ci.contains(0.0)[0]
    assert misses <= stats.binom.isf(0.001, reps, 1 - level), misses
    # The last repetition's interval, rebuilt from mom_interval's docstring: the partial
    # block is left out, G = 5 groups of 7, 7, 6, 6, 6 blocks, t = std / sqrt(n_min p*).
    assert ci.runs == 32 * block
    groups = mom_groups(32, 1 - level)
    assert groups == 5
    expected = np.median([g.mean(axis=0) for g in np.array_split(res.block_means[:32], groups)], axis=0)
    np.testing.assert_array_equal(ci.estimate, expected)
    half = res.std / math.sqrt(6 * block * mom_tail_probability(groups, 1 - level))
    np.testing.assert_allclose(ci.hi - ci.estimate, half, rtol=1e-12)


def test_bootstrap_interval_is_valid_on_student_t3():
    """Percentile bootstrap at 90% over 40 block means of t(3) data, 300 repetitions.

    With exact coverage the number of misses is Binomial(300, 0.1) (mean 30, sd 5.2),
    inside the band [14, 48] with probability 99.9%.  The percentile interval over
    B = 40 block means is narrower than the CLT one by ~sqrt(39/40), i.e. its coverage is
    ~0.896 (31 misses): well inside.  Swapped quantiles giving an 80% interval (60
    misses) or resamples of one block (width x sqrt(40): ~0 misses) land outside.
    """
    reps, level, block = 300, 0.9, 256
    rng = np.random.default_rng(12)
    counts = np.full(40, block)
    misses = 0
    for rep in range(reps):
        # Block means drawn directly: the engine's part is tested above, this is the interval's.
        means = rng.standard_t(3, size=(40, block)).mean(axis=1, keepdims=True)
        ci = bootstrap_interval(means, counts, level, resamples=1000, seed=rep)
        misses += not ci.contains(0.0)[0]
    assert ci.runs == 40 * block
    lo, hi = binomial_band(reps, 1 - level)
    assert lo <= misses <= hi, (misses, lo, hi)


def test_bootstrap_is_reproducible_and_weights_runs():
    rng = np.random.default_rng(1)
    means = rng.normal(size=(12, 2))
    counts = np.array([10] * 11 + [1])
    a = bootstrap_interval(means, counts, 0.9, seed=3)
    b = bootstrap_interval(means, counts, 0.9, seed=3)
    np.testing.assert_array_equal(a.lo, b.lo)
    np.testing.assert_array_equal(a.hi, b.hi)
    np.testing.assert_allclose(a.estimate, counts @ means / counts.sum())
    assert a.runs == 111
    # The one-run block weighs 1/111 of the estimate, not 1/12: with a huge mean it would
    # otherwise drag the whole interval along with it.
    means[-1] = 1e3
    c = bootstrap_interval(means, counts, 0.9, seed=3)
    assert np.all(c.lo < a.estimate + 1e3 / 111 * 2)
    # MonteCarloResult.ci(method="bootstrap") is bootstrap_interval with its defaults.
    res = _result()
    np.testing.assert_array_equal(
        res.ci(0.9, "bootstrap").hi, bootstrap_interval(res.block_means, res.block_counts, 0.9).hi
    )


# --------------------------------------------------------------------------- bad input


def _result():
    return run_blocks(random_walk, 12 * 64, seed=0, block_size=64, progress=False)


@pytest.mark.parametrize("level", [0, 1, 1.5, -0.2, float("nan"), "high"])
@pytest.mark.parametrize("method", ["normal", "mom", "bootstrap"])
def test_bad_level_is_named(level, method):
    with pytest.raises((ValueError, TypeError), match="level"):
        _result().ci(level, method=method)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"runs": 1}, r"runs must be >= 2, got 1"),
        ({"runs": 0}, r"runs .* got 0"),
        ({"runs": 2.5}, r"runs .* got 2\.5"),
        ({"runs": True}, r"runs .* got True"),
        ({"seed": -1}, r"seed .* got -1"),
        ({"seed": "abc"}, r"seed .* got 'abc'"),
        ({"seed": 1.5}, r"seed .* got 1\.5"),
        ({"chunk_size": 0}, r"chunk_size .* got 0"),
        ({"workers": 0}, r"workers .* got 0"),
        ({"block_size": 0}, r"block_size .* got 0"),
    ],
)
def test_bad_engine_arguments_are_named(kwargs, pattern):
    args = {"runs": 2 * BLOCK, "seed": 0, **kwargs}
    with pytest.raises((ValueError, TypeError), match=pattern):
        run_blocks(random_walk, args.pop("runs"), args.pop("seed"), progress=False, **args)


def test_bad_simulator_output_and_method():
    with pytest.raises(ValueError, match=r"simulate_block\(rng, 1024\) must return .* got shape \(1024,\)"):
        run_blocks(lambda rng, n: rng.random(n), 2 * BLOCK, seed=0, progress=False)
    with pytest.raises(TypeError, match="simulate_block must be callable"):
        run_blocks(None, 2 * BLOCK, seed=0, progress=False)
    with pytest.raises(ValueError, match=r"method must be one of .* got 'median'"):
        _result().ci(0.9, method="median")


def test_bad_batches_are_named():
    acc = StreamingMoments()
    first_nan = r"batch: 1 non-finite value\(s\); first at run 1, quantity 0: nan"
    with pytest.raises(NonFiniteError, match=first_nan):
        acc.update([[1.0], [np.nan]])
    with pytest.raises(ValueError, match=r"batch must be a 2-D array .* got shape \(0, 2\)"):
        acc.update(np.zeros((0, 2)))
    with pytest.raises(ValueError, match=r"batch must be a 2-D array .* got shape \(3,\)"):
        acc.update(np.zeros(3))
    with pytest.raises(NonFiniteError, match="moments of batch"):
        acc.update([[1e308], [-1e308]])  # finite values whose moments overflow
    assert acc.count == 0


def test_bad_interval_inputs_are_named():
    with pytest.raises(ValueError, match="block_means must hold at least 10 blocks"):
        bootstrap_interval(np.zeros((3, 1)), [5, 5, 5])
    with pytest.raises(ValueError, match=r"block_counts must have shape \(3,\)"):
        mom_interval(np.zeros((3, 1)), [5, 5], std=[1.0])
    with pytest.raises(ValueError, match="block_counts must be positive integers"):
        mom_interval(np.zeros((2, 1)), [5, 0], std=[1.0])
    with pytest.raises(ValueError, match="std must be non-negative"):
        mom_interval(np.zeros((2, 1)), [5, 5], std=[-1.0])
    with pytest.raises(ValueError, match=r"block_means must be finite, entry \(0, 0\) is nan"):
        mom_interval([[np.nan]], [5], std=[1.0])
    with pytest.raises(ValueError, match=r"mean must not be empty, got shape \(0,\)"):
        normal_interval([], [], runs=3)
    with pytest.raises(ValueError, match="resamples .* got 1"):
        bootstrap_interval(np.zeros((10, 1)), [5] * 10, resamples=1)


def test_confidence_interval_indexes_like_its_pair():
    from theorytools.montecarlo import normal_interval

    ci = normal_interval(np.array([1.0]), np.array([0.1]), 100, 0.95)
    lo, hi = ci
    assert ci[0] is ci.lo and ci[1] is ci.hi and lo is ci.lo and hi is ci.hi


def test_streaming_skewness_matches_scipy_on_merged_blocks():
    from scipy import stats

    from theorytools.montecarlo import StreamingMoments

    x = np.random.default_rng(3).chisquare(1, size=(3001, 3)) + 1e3  # offset: the merge must not cancel
    acc = StreamingMoments()
    for part in np.array_split(x, 7):
        acc.merge(StreamingMoments.from_batch(part))
    np.testing.assert_allclose(acc.skewness, stats.skew(x, axis=0), rtol=1e-9)


def test_impossible_sizes_are_refused_before_anything_runs():
    """The result keeps one mean vector per block (for the median-of-means and bootstrap intervals): 10**12 runs
    would keep 10**9 of them, so run_blocks refuses up front, naming the runs; a bootstrap of 10**12 resamples and a
    cluster of 10**12 processes are refused the same way."""
    from theorytools.errors import SizeError
    from theorytools.linalg import limit_memory
    from theorytools.montecarlo import local_client

    calls = []

    def never(rng, n):
        calls.append(n)
        return np.zeros((n, 1))

    with limit_memory("4G"):  # the same verdicts on any machine
        with pytest.raises(SizeError, match=r"per-block means .* fewer runs"):
            run_blocks(never, 10**12, seed=0, progress=False)
        assert calls == []
        with pytest.raises(SizeError, match=r"per-block means .* \(9765625 x 1020 float64\)"):  # 1e10 runs, m = 1000
            run_blocks(lambda rng, n: np.zeros((n, 1000)), 10**10, seed=0, progress=False, workers=1)
        with pytest.raises(SizeError, match="bootstrap estimates .* fewer resamples"):
            bootstrap_interval(np.zeros((10, 1)), [5] * 10, resamples=10**12)
    with pytest.raises(ValueError, match=r"^n_workers must be <= \d+, got 1000000000000$"):
        with local_client(10**12):
            pass


def test_interval_membership_checks_its_value():
    ci = normal_interval(np.array([1.0, 2.0]), np.array([0.1, 0.1]), 100, 0.95)
    assert ci.contains(1.0).tolist() == [True, False]
    assert ci.contains([1.0, 2.0]).tolist() == [True, True]
    with pytest.raises(ValueError, match=r"^value must be finite"):
        ci.contains(np.nan)  # NaN compares False everywhere: a silent "not covered"
    with pytest.raises(ValueError, match=r"^value must be a number or a vector of 2"):
        ci.contains([1.0, 2.0, 3.0])
