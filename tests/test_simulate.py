"""The Monte Carlo simulator of eqn. 19 against the exact theory, and its reproducibility."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import theorytools.quadratic as Q
from theorytools.quadratic.noise import LeastSquaresData, RademacherMixture, StudentTNoise, as_noise_model
from theorytools.quadratic.simulation import default_ks, simulate

P = Q.random_problem(4, 30.0, "random", "lowrank", seed=11, noise_scale=0.3)
KS = np.array([0, 1, 3, 10, 40, 150])

# A fixed-seed test rejects only if some |z| exceeds the two-sided Bonferroni quantile over the
# points compared: with level 1e-4 per test, a correct simulator fails it with probability <= 1e-4.
Z_CRIT = stats.norm.isf(1e-4 / 2 / len(KS))


def _assert_agrees(res, exact):
    nz = res.stderr > 0
    z = (res.mean[nz] - exact[nz]) / res.stderr[nz]
    assert np.all(np.abs(z) < Z_CRIT), z
    np.testing.assert_allclose(res.mean[~nz], exact[~nz], rtol=1e-12)  # k = 0: h(theta_0) exactly


@pytest.mark.parametrize("noise", ["gaussian", StudentTNoise(5.5), RademacherMixture(0.1, 3.0)])
@pytest.mark.parametrize("schedule", [Q.Constant(0.8 / P.lambda_1), Q.Harmonic(max(1.0, P.lambda_1 - 1.0))])
def test_monte_carlo_mean_matches_exact_risk(noise, schedule):
    res = simulate(P, schedule, KS, runs=6000, noise=noise, seed=5)
    _assert_agrees(res, Q.excess_risk(P, schedule, KS))
    assert res.runs == 6000 and res.k.tolist() == KS.tolist()


def test_polyak_average_matches_exact():
    al = 0.6 / P.lambda_1
    res = simulate(P, al, KS, runs=6000, seed=9, average="polyak")
    _assert_agrees(res, Q.averaged_excess_risk(P, al, KS))


def test_step_sequence_matches_exact():
    seq = Q.StepSequence(np.linspace(1.0, 0.2, 150) / P.lambda_1)
    ks = KS[KS <= 150]
    res = simulate(P, seq, ks, runs=6000, seed=3)
    _assert_agrees(res, Q.excess_risk(P, seq, ks))


def test_bit_identical_whatever_chunk_size_and_workers():
    base = simulate(P, 0.5 / P.lambda_1, KS, runs=3000, seed=42)
    for chunk, workers in ((1024, 1), (2048, 2), (4096, 2)):
        other = simulate(P, 0.5 / P.lambda_1, KS, runs=3000, seed=42, chunk_size=chunk, workers=workers)
        assert np.array_equal(base.mean, other.mean) and np.array_equal(base.stderr, other.stderr)
    assert not np.array_equal(base.mean, simulate(P, 0.5 / P.lambda_1, KS, runs=3000, seed=43).mean)


def test_ci_object_and_methods():
    res = simulate(P, 0.5 / P.lambda_1, KS, runs=12 * 1024, seed=1)
    for method in ("normal", "mom", "bootstrap"):
        lo, hi = res.ci(0.99, method)
        assert np.all(lo <= res.mean + 1e-15) and np.all(res.mean <= hi + 1e-15)


def test_least_squares_noise_covariance_at_optimum_by_enumeration():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + rng.standard_normal(50)
    for m in (1, 4):
        data = LeastSquaresData(X, y, batch=m)
        g = -X * data.e[:, None]  # the gradient of each case at theta*
        assert np.allclose(g.mean(axis=0), 0.0, atol=1e-12)  # theta* is the least-squares solution
        np.testing.assert_allclose(data.Sigma_g_star, g.T @ g / 50 / m, rtol=1e-12)
        np.testing.assert_allclose(data.H, X.T @ X / 50, rtol=1e-12)


def test_least_squares_near_optimum_matches_constant_noise_theory():
    """Started at theta*, with a small step, the theta-dependence of the noise is second order: the
    simulated risk stays within a few percent of the constant-Sigma_g(theta*) prediction."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((400, 3))
    y = X @ np.ones(3) + rng.standard_normal(400)
    data = LeastSquaresData(X, y)
    p = data.problem(np.eye(3), data.theta_star)
    al = 0.02 / p.lambda_1
    res = simulate(p, al, [50, 200], runs=8192, noise=data, seed=2)
    pred = Q.excess_risk(p, al, [50, 200])
    assert np.all(np.abs(res.mean / pred - 1) < 0.05 + 4 * res.stderr / pred)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"average": "mean"}, "average"),
        ({"average": "ema", "beta_max": 1.0}, "beta_max"),
        ({"noise": "cauchy"}, "noise"),
        ({"noise": object()}, "noise"),
        ({"runs": 1}, "runs"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        simulate(P, 0.1, [1, 2], **{"runs": 100, **kwargs})


def test_bad_noise_models_and_data():
    with pytest.raises(ValueError, match="df"):
        StudentTNoise(4.0)
    with pytest.raises(ValueError, match="q must be"):
        RademacherMixture(1.5)
    with pytest.raises(ValueError, match="X must be"):
        LeastSquaresData(np.ones((2, 3)), np.ones(2))
    with pytest.raises(ValueError, match="batch"):
        LeastSquaresData(np.eye(3), np.ones(3), batch=0)
    data = LeastSquaresData(np.eye(3) + 0.1, np.ones(3))
    with pytest.raises(ValueError, match="problem of this data set"):
        simulate(P, 0.1, [1], runs=10, noise=data)
    assert as_noise_model("gaussian").name == "gaussian"


def test_default_ks():
    ks = default_ks(1000, 30)
    assert ks[0] == 0 and ks[-1] == 1000 and np.all(np.diff(ks) > 0)


def test_sizes_are_checked_before_simulating():
    """k = 10**12 would need the step sizes alpha_0..alpha_{k-1} (8 TB) and 10**12 loop steps; the message points to
    the exact formula.  A minibatch of 10**12 rows is refused; a large one is summed in slices (same numbers)."""
    from theorytools.errors import SizeError
    from theorytools.linalg import limit_memory

    with limit_memory("4G"):
        with pytest.raises(SizeError, match=r"alpha_0\.\.alpha_\{k-1\} .*excess_risk gives E\[h\(theta_k\)\] exactly"):
            simulate(P, 0.1, 10**12, runs=8, progress=False)
        X = np.eye(3) + 0.1
        with pytest.raises(SizeError, match="minibatch indices .* a smaller batch"):
            LeastSquaresData(X, np.ones(3), batch=10**12)


def test_large_minibatches_are_summed_in_slices(monkeypatch):
    import theorytools.quadratic.noise as N

    rng = np.random.default_rng(5)
    X = rng.standard_normal((50, 3))
    data = LeastSquaresData(X, X @ np.ones(3) + rng.standard_normal(50), batch=7)
    p = data.problem(np.eye(3), np.zeros(3))
    al = 0.5 / p.lambda_1
    whole = simulate(p, al, [5, 20], runs=64, noise=data, seed=3, workers=1, progress=False)
    monkeypatch.setattr(N, "_GRADIENT_CHUNK_ELEMS", 2 * 64 * 3)  # slices of 2 rows of the minibatch
    sliced = simulate(p, al, [5, 20], runs=64, noise=data, seed=3, workers=1, progress=False)
    np.testing.assert_allclose(sliced.mean, whole.mean, rtol=1e-12)
