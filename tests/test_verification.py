"""The verification suite can fail: planted wrong formulas are reported FAIL, and a correct toolkit
passes the quick profile for 50 seeds.  Also unit tests of verdicts, Holm's procedure and the CLI."""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

import theorytools.quadratic as Q
from verification.__main__ import main
from verification.runner import any_failed, holm, run_checks
from verification.verdict import FAIL, PASS, PENDING, Verdict

# -- planted wrong formulas ------------------------------------------------------------------
_real_bounds = Q.theorem5_bounds
_real_risk = Q.excess_risk
_real_avg = Q.averaged_excess_risk
_real_t6 = Q.theorem6_bound
_real_p10 = Q.proposition10_trace


def _constant_pieces(p, alpha, k):
    k = np.atleast_1d(np.asarray(k, dtype=float))
    N = 0.25 * alpha * np.trace(np.linalg.solve(p.B - 0.5 * alpha * p.H, p.Sigma_g))
    return k, N, alpha * p.lambda_1, alpha * p.lambda_n


def bounds_half_instead_of_quarter(p, schedule, k, check=True):
    """u(k) with alpha/2 instead of alpha/4 (constant) and 1/(2(k+a)) instead of 1/(4(k+a)) (harmonic)."""
    lower, upper = _real_bounds(p, schedule, k, check=check)
    if isinstance(schedule, Q.Constant):
        kk, N, e1, _ = _constant_pieces(p, schedule.alpha, k)
        return lower, upper + (1.0 - (1.0 - e1) ** (2 * kk)) * N
    tU, _ = Q.harmonic_traces(p)
    return lower, upper + tU / (4.0 * (np.asarray(k, dtype=float) + schedule.a))


def bounds_exponent_k(p, schedule, k, check=True):
    """(1 - eps)^k instead of (1 - eps)^{2k} in both bounds (constant step)."""
    if not isinstance(schedule, Q.Constant):
        return _real_bounds(p, schedule, k, check=check)
    Q.require(p, schedule, "theorem5")
    kk, N, e1, e2 = _constant_pieces(p, schedule.alpha, k)
    q1, q2 = (1.0 - e1) ** kk, (1.0 - e2) ** kk
    return (1.0 - q2) * N + q1 * p.h0, (1.0 - q1) * N + q2 * p.h0


def bounds_dropped_half_alpha_H(p, schedule, k, check=True):
    """N = alpha/4 tr(B^-1 Sigma_g): the -alpha/2 H term dropped."""
    if not isinstance(schedule, Q.Constant):
        return _real_bounds(p, schedule, k, check=check)
    Q.require(p, schedule, "theorem5")
    kk, _, e1, e2 = _constant_pieces(p, schedule.alpha, k)
    N = 0.25 * schedule.alpha * np.trace(np.linalg.solve(p.B, p.Sigma_g))
    q1, q2 = (1.0 - e1) ** (2 * kk), (1.0 - e2) ** (2 * kk)
    return (1.0 - q2) * N + q1 * p.h0, (1.0 - q1) * N + q2 * p.h0


def bounds_harmonic_b_is_one(p, schedule, k, check=True):
    """Harmonic u(k) with ((1+a)/(k+a))^2 instead of ^(2b)."""
    lower, upper = _real_bounds(p, schedule, k, check=check)
    if isinstance(schedule, Q.Constant):
        return lower, upper
    kk = np.asarray(k, dtype=float)
    r = (1.0 + schedule.a) / (kk + schedule.a)
    return lower, upper - p.h0 * r ** (2 * p.lambda_n) + p.h0 * r**2


def risk_scaled(p, schedule, k):
    return 1.03 * _real_risk(p, schedule, k)


PLANTED_BOUNDS = {
    "u(k) with 1/2 instead of 1/4": (bounds_half_instead_of_quarter, {"quadratic.theorem5_noise_constant_is_exact",
                                                                      "quadratic.theorem5_exact_when_B_is_H"}),
    "exponent k instead of 2k": (bounds_exponent_k, {"quadratic.theorem5_exact_when_B_is_H", "quadratic.theorem5_bounds_hold"}),
    "alpha/2 H term dropped": (bounds_dropped_half_alpha_H, {"quadratic.theorem5_exact_when_B_is_H",
                                                             "quadratic.theorem5_noise_constant_is_exact"}),
    "harmonic bound with b replaced by 1": (bounds_harmonic_b_is_one, {"quadratic.theorem5_bounds_hold"}),
}


def _failed_checks(results):
    return {r.check for r in results if r.verdict.status == FAIL}


@pytest.mark.parametrize("name", sorted(PLANTED_BOUNDS))
def test_planted_wrong_theorem5_is_reported_fail(monkeypatch, name):
    planted, expected = PLANTED_BOUNDS[name]
    monkeypatch.setattr(Q, "theorem5_bounds", planted)
    failed = _failed_checks(run_checks("quick", only="theorem5", seed=0))
    assert expected <= failed, f"{name}: expected {expected} to FAIL, got {failed}"


def test_planted_scaled_exact_risk_is_reported_fail(monkeypatch):
    monkeypatch.setattr(Q, "excess_risk", risk_scaled)
    failed = _failed_checks(run_checks("quick", only="quadratic.[em]*", seed=0))
    # Deterministic (closed form vs brute force) and statistical (Monte Carlo vs exact) checks both catch it.
    assert {"quadratic.exact_risk_matches_dense_recursion", "quadratic.monte_carlo_matches_exact"} <= failed


def test_planted_wrong_averaged_risk_fails_statistical_and_order_checks(monkeypatch):
    # A 1/k^0.9 instead of 1/k tail: the order check's slope moves by 0.1, the Monte Carlo check sees
    # the excess at small k (factor (k+1)^0.1 >= 1.07 for k >= 1).
    monkeypatch.setattr(Q, "averaged_excess_risk", lambda p, a, k: _real_avg(p, a, k) * (np.asarray(k) + 1.0) ** 0.1)
    failed = _failed_checks(run_checks("quick", only="quadratic.*polyak*", seed=0))
    assert {"quadratic.polyak_rate_is_one_over_k", "quadratic.monte_carlo_polyak"} <= failed


def test_planted_wrong_theorem6_and_trace_identity_fail(monkeypatch):
    monkeypatch.setattr(Q, "theorem6_bound", lambda p, a, k, check=True: 0.5 * _real_t6(p, a, k, check=check))
    monkeypatch.setattr(Q, "proposition10_trace", lambda p, a, X: 2.0 * _real_p10(p, a, X))  # 1/alpha for 1/(2 alpha)
    failed = _failed_checks(run_checks("quick", only="quadratic.t[hr]*", seed=0))
    assert {"quadratic.theorem6_bound_holds", "quadratic.trace_identities"} <= failed


def test_measured_checks_report_but_never_fail():
    results = run_checks("quick", only="least_squares", seed=0)
    assert results and all(r.verdict.status == "MEASURED" for r in results)
    assert all(np.isfinite(r.verdict.details["max_rel_deviation"]) for r in results)


def _outcomes(seed, only=None):
    """(seed, check, instance, status, raw p-value, message) of every verdict of the quick profile at ``seed``."""
    import warnings

    warnings.simplefilter("ignore")  # e.g. TANGO's stability warnings in Figure 1's setting
    return [(seed, r.check, r.instance, r.verdict.status, r.verdict.p_value, r.verdict.message)
            for r in run_checks("quick", only=only, seed=seed)]


def _random_outcome_checks() -> str:
    """The checks whose verdict is a random variable of the seed's Monte Carlo streams: the statistical ones
    (one Holm family, exactly as in a full run: deterministic checks do not enter it) and the order checks
    fitted to simulations."""
    from verification.registry import select

    return ",".join(c.name for c in select() if c.kind == "statistical" or c.name == "tango.stochastic_tango_order_half")


@pytest.mark.parametrize("seed", [1, 2, 9])
def test_quick_profile_has_no_false_fail(seed):
    """A correct toolkit passes the whole quick profile, deterministic checks on the seed's random instances and seeded
    experiments included, at seeds other than the default 0 (which the README's main command runs in CI).  Seed 9 made
    the Figure 1 SGD baseline diverge at every learning rate, once reported as a FAIL (issue 15)."""
    assert [o for o in _outcomes(seed) if o[3] == FAIL] == []


def test_statistical_checks_are_calibrated_and_never_false_fail():
    """The statistical checks are designed to false-fail a run with probability <= 1% (Holm): over 12 seeds no run
    fails (a single badly miscalibrated check shows here), and the raw p-values of all their verdicts pooled over the
    12 seeds (about 700) are not stochastically smaller than uniform.  Under a correct toolkit each p-value is uniform
    or, for the Bonferroni-combined and conservative tests, larger; the one-sided Kolmogorov-Smirnov test at level
    1e-3 sees an excess of small p-values of sqrt(ln(1e3) / 2) / sqrt(700) = 7% of the sample: a systematic drift
    shared by many checks (a standard error or z-test of the runner slightly too small everywhere), which no single
    run would fail on.  The p-values are a fixed function of the seeds, so the test is deterministic."""
    from scipy import stats

    only = _random_outcome_checks()
    with ProcessPoolExecutor(max_workers=2) as pool:
        outcomes = [o for os in pool.map(_outcomes, range(10, 22), [only] * 12) for o in os]
    assert [o for o in outcomes if o[3] == FAIL] == []
    p = np.array([o[4] for o in outcomes if o[4] is not None])
    assert p.size > 500
    assert stats.kstest(p, "uniform", alternative="greater").pvalue > 1e-3


# -- units ---------------------------------------------------------------------------------
def test_holm_matches_hand_computation():
    # p sorted: 0.001, 0.01, 0.02, 0.5 -> adjusted 4*0.001, max(., 3*0.01), max(., 2*0.02), max(., 0.5)
    reject, adj = holm([0.02, 0.001, 0.5, 0.01], alpha=0.05)
    np.testing.assert_allclose(adj, [0.04, 0.004, 0.5, 0.03])
    assert reject.tolist() == [True, True, False, True]


def test_statistical_verdict_pending_and_decided():
    v = Verdict.statistical([1.0, 2.0], [0.1, 0.1], [1.0, 2.5], runs=100)
    assert v.status == PENDING and v.p_value < 1e-5  # z = 5 at the second point
    assert v.decided(True, 1e-5).status == FAIL and v.decided(False, 0.5).status == PASS


def test_within_and_close_verdicts():
    assert Verdict.within([1.0, 2.0], [0.5, 2.0 - 1e-13], [1.5, 2.5], rtol=1e-12).status == PASS
    assert Verdict.within([1.0, 2.0], [0.5, 2.1], [1.5, 2.5], rtol=1e-12).status == FAIL
    assert Verdict.close([1.0], [1.0 + 1e-9], rtol=1e-12).status == FAIL
    assert Verdict.order([1, 10, 100], [1, 0.1, 0.01], predicted=-1.0, tol=1e-9).status == PASS


def test_cli_writes_report_and_exit_status(tmp_path):
    out = tmp_path / "r"
    assert main(["--quick", "--only", "trace_identities", "--out", str(out)]) == 0
    doc = json.loads((out / "report.json").read_text())
    assert doc["summary"].get(PASS, 0) > 0 and (out / "report.md").exists() and (out / "summary.png").exists()
    assert main(["--list"]) == 0
    assert main(["--only", "no-such-check"]) == 2


def test_cli_exits_nonzero_on_fail(tmp_path, monkeypatch):
    monkeypatch.setattr(Q, "proposition10_trace", lambda p, a, X: 2.0 * _real_p10(p, a, X))
    assert main(["--quick", "--only", "trace_identities", "--out", str(tmp_path)]) == 1
    assert any_failed(run_checks("quick", only="trace_identities")) is True


def test_least_squares_divergence_is_measured_not_failed():
    from dataclasses import replace

    from verification.checks.quadratic import _least_squares_instances, least_squares_deviation

    inst = _least_squares_instances("quick", 0)[0]
    fast = replace(inst, schedule=Q.Constant(8.0 / inst.problem.lambda_1), ks_mc=np.array([0, 2000]), runs=64)
    v = least_squares_deviation(fast, np.random.default_rng(0))
    assert v.status == "MEASURED" and v.details["diverged"] and v.details["max_single_case_step"] > 2


def test_non_finite_values_never_pass():
    nan = np.nan
    assert Verdict.close([1.0, 2.0], [nan, 2.0], rtol=1e-12).status == FAIL
    assert Verdict.within([1.0], [nan], [nan], rtol=1e-12).status == FAIL
    assert Verdict.within([nan], [0.0], [1.0], rtol=1e-12).status == FAIL
    v = Verdict.statistical([1.0, 2.0], [0.1, 0.1], [nan, 2.0], runs=100)
    assert v.p_value == 0.0 and v.decided(True, 0.0).status == FAIL


def test_a_check_whose_instances_are_all_skipped_fails(monkeypatch):
    def always_rejects(p, schedule, k, check=True):
        raise Q.HypothesisError("planted: hypotheses wrongly rejected")

    monkeypatch.setattr(Q, "theorem5_bounds", always_rejects)
    results = run_checks("quick", only="theorem5_bounds_hold")
    assert any(r.instance == "(all instances)" and r.verdict.status == FAIL for r in results)


def test_johnson_correction_calibrates_skewed_means():
    """Studentized means of chi^2(1) samples (skewness 2.8, like h(theta_k) with rank-1 noise):
    the plain |z| > 3 rate is inflated, the skew-corrected one is at the nominal 0.27%.  With 60000
    repetitions the binomial standard error of a 0.27% rate is 0.021%, so the 0.05% margins below
    are 2.4 standard errors."""
    from scipy import stats

    rng = np.random.default_rng(0)
    n, reps = 512, 60000
    X = rng.chisquare(1, size=(reps, n))
    est, se, g = X.mean(1), X.std(1, ddof=1) / np.sqrt(n), stats.skew(X, axis=1)
    z = (est - 1.0) / se
    zj = z + g * (1 + 2 * z * z) / (6 * np.sqrt(n))
    nominal = 2 * stats.norm.sf(3.0)
    assert np.mean(np.abs(z) > 3) > nominal + 0.0005
    assert abs(np.mean(np.abs(zj) > 3) - nominal) < 0.0005
    v = Verdict.statistical([est[0]], [se[0]], [1.0], n, skewness=[g[0]])
    assert np.isclose(v.details["max_abs_z"], abs(zj[0]))


# -- bad input to the public API (issue 15) ----------------------------------------------------
def test_holm_refuses_what_is_not_a_family_of_p_values():
    for p in ([0.01, np.nan], [0.2, 1.5], [-0.1], [[0.1, 0.2]], "abc"):
        with pytest.raises((ValueError, TypeError), match="p_values"):
            holm(p, 0.05)
    for alpha in (0.0, 1.0, np.nan, -0.5):
        with pytest.raises(ValueError, match="alpha"):
            holm([0.1], alpha)
    reject, adjusted = holm([], 0.05)
    assert reject.size == adjusted.size == 0


def test_holm_agrees_with_the_step_down_loop_including_ties():
    rng = np.random.default_rng(15)
    for m in (1, 2, 7, 50):
        p = np.round(rng.random(m) ** 3, 2)  # rounding makes ties
        loop, running = np.empty(m), 0.0
        for rank, i in enumerate(np.argsort(p, kind="stable")):
            running = max(running, min(1.0, (m - rank) * p[i]))
            loop[i] = running
        np.testing.assert_array_equal(holm(p, 0.05)[1], loop)


def test_verdicts_refuse_malformed_input_but_fail_on_non_finite_results():
    with pytest.raises(ValueError, match="value and lower and upper must have matching shapes"):
        Verdict.within([1.0, 2.0], [0.0, 0.0, 0.0], 3.0, rtol=0.0)
    with pytest.raises(ValueError, match="value must not be empty"):
        Verdict.close([], [], rtol=1e-12)  # a comparison of nothing used to PASS
    with pytest.raises(ValueError, match="rtol must be >= 0"):
        Verdict.close(1.0, 1.0, rtol=-1e-12)
    with pytest.raises(ValueError, match="reference must be real"):
        Verdict.close(1.0, 1.0 + 1e-3j, rtol=1e-12)  # its imaginary part used to be dropped with a warning
    with pytest.raises(ValueError, match="verdicts must not be empty"):
        Verdict.all_of([], "nothing")  # used to PASS "all 0 comparisons agree"
    with pytest.raises(ValueError, match="stderr must be >= 0"):
        Verdict.statistical([1.0], [-0.1], [1.0], runs=10)
    assert Verdict.within(1.0, [0.0, 0.5], [2.0, 0.9], rtol=0.0).status == FAIL  # a scalar against arrays broadcasts
    assert Verdict.statistical([1.0], [0.1], [1.0], runs=10, skewness=[np.nan]).p_value == 0.0


def test_verdict_fields_and_decisions_are_checked():
    with pytest.raises(ValueError, match="status must be one of"):
        Verdict("OK", "deterministic", "agrees")
    with pytest.raises(ValueError, match="kind must be one of"):
        Verdict(PASS, "exact", "agrees")
    with pytest.raises(ValueError, match="p_value must be given"):
        Verdict(PENDING, "statistical", "z = 1")  # the runner could not decide it
    with pytest.raises(ValueError, match="p_value must be finite"):
        Verdict(PENDING, "statistical", "z = 1", p_value=np.nan)
    with pytest.raises(ValueError, match="only a PENDING verdict is decided"):
        Verdict(PASS, "deterministic", "agrees").decided(True, 0.01)


def test_order_fits_refuse_unusable_abscissae_and_fail_on_bad_results():
    for x, y, match in (([1.0, 2.0], [1.0, 2.0], "at least 3 points"), ([1.0, 2.0, 4.0], [1.0, 2.0], "shapes"),
                        ([0.0, 1.0, 2.0], [1.0, 2.0, 3.0], "x must be finite and > 0"),
                        ([2.0, 2.0, 2.0], [1.0, 2.0, 3.0], "two different values")):
        with pytest.raises(ValueError, match=match):
            Verdict.order(x, y, predicted=1.0)
    assert Verdict.order([1.0, 2.0, 4.0], [1.0, 0.0, 3.0], predicted=1.0).status == FAIL
    assert Verdict.order([1.0, 2.0, 4.0], [1.0, np.nan, 3.0], predicted=1.0).status == FAIL


def test_run_checks_and_select_refuse_bad_arguments():
    from verification.registry import select

    for kwargs, match in ((dict(profile="fast"), "profile must be one of"), (dict(seed=-1), "seed must be >= 0"),
                          (dict(seed=2**63), "seed must be <="), (dict(alpha=1.0), "alpha must be < 1"),
                          (dict(resume=True), "resume=True needs a store"),
                          (dict(modules="my_checks.py"), "modules must be a list"),
                          (dict(only="tengrad,tengrda"), "no check matches 'tengrda'")):
        with pytest.raises((ValueError, TypeError), match=match):
            run_checks(**{"only": "fisher.tengrad", **kwargs})
    assert [c.name for c in select(" fisher.tengrad , trace_identities ")] == [
        c.name for c in select("fisher.tengrad") + select("trace_identities")]


def test_check_decorator_refuses_bad_arguments():
    from verification.registry import check

    good = dict(source="s", family="userapi", kind="deterministic", rule="r", instances=lambda profile, seed: [])
    for change, match in ((dict(family="a.b"), "family must be one word"), (dict(kind="exact"), "kind must be one of"),
                          (dict(instances=[]), "instances must be callable"), (dict(source=None), "source must be a string"),
                          (dict(name="x,y"), "name must be")):
        with pytest.raises((ValueError, TypeError), match=match):
            check(**{**good, **change})
    with pytest.raises(TypeError, match="func must be callable"):
        check(**good)("not a function")


def test_series_for_figures_are_checked_where_the_check_is():
    v = Verdict.measured("m")
    with pytest.raises(ValueError, match=r"exact must be a vector of the length of k \(3\)"):
        v.with_series(k=[1, 2, 3], exact=[1.0, 2.0])
    with pytest.raises(ValueError, match="give k too"):
        v.with_series(exact=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"paths\['a'\] must be two vectors of one length"):
        v.with_series(paths={"a": ([1.0, 2.0], [1.0])})
    assert v.with_series(k=[1, 2], exact=[np.nan, 1.0]).with_series(bound=[1.0, 2.0]).series["bound"] == [1.0, 2.0]
