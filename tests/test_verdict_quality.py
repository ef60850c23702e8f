"""The suite catches wrong formulas by itself (issue: verdict quality): independent routes for every
reported quantity, printed bounds re-evaluated, the Monte Carlo standard error self-calibrated, the
power of each statistical check reported, and the mutation-testing harness."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

import theorytools.quadratic as Q
import verification.checks.montecarlo as CM
import verification.checks.quadratic as CQ
from theorytools.quadratic._factors import mean_factor
from theorytools.quadratic.simulation import SimulationResult
from verification.mutation import Mutant, ROOT, load_mutants, rates
from verification.reference import quadratic as R
from verification.registry import CHECKS, load_all
from verification.runner import run_checks
from verification.verdict import FAIL, PASS, PENDING, Verdict


def _status(results):
    out = {}
    for r in results:
        out.setdefault(r.check, set()).add(r.verdict.status)
    return out


def _failed(results):
    return {r.check for r in results if r.verdict.status == FAIL}


# -- 1. every reported quantity against an independent route -------------------------------------
def test_transposed_mean_is_caught(monkeypatch):
    def mean_transposed(p, schedule, k):  # V^T d for V d: the risk (a quadratic form) never saw it
        ks = np.atleast_1d(k)
        out = p.theta_star + (mean_factor(Q.as_schedule(schedule), p.lam, ks) * p.z0) @ p.eig.V
        return out if np.ndim(k) else out[0]

    monkeypatch.setattr(Q, "mean_iterate", mean_transposed)
    assert "quadratic.moments_match_dense_recursion" in _failed(run_checks("quick", only="moments_match", seed=0))


def test_wrong_user_sequence_route_is_caught(monkeypatch):
    real = Q.excess_risk_decomposition

    def off_by_one(p, schedule, k):  # alpha_{j+1} at step j, for user sequences only
        s = Q.as_schedule(schedule)
        if isinstance(s, Q.StepSequence):
            s = Q.StepSequence(list(s.values[1:]) + [s.values[-1]])
        return real(p, s, k)

    monkeypatch.setattr(Q, "excess_risk_decomposition", off_by_one)
    assert "quadratic.moments_match_dense_recursion" in _failed(run_checks("quick", only="moments_match", seed=0))


def test_wrong_limits_and_operator_representations_are_caught(monkeypatch):
    real_Z, real_psi = Q.lemma13_Z, Q.operators.Psi
    monkeypatch.setattr(Q, "lemma13_Z", lambda p: 1.01 * real_Z(p))

    def psi_transposed_kron(self, beta):  # the Kronecker matrix of X -> D X D instead of D X D^T
        op = real_psi(self, beta)
        D = np.eye(self.p.n) - beta * self.p.BinvH
        op._kron = lambda: np.kron(D.T, D)
        return op

    monkeypatch.setattr(Q.operators, "Psi", psi_transposed_kron)
    failed = _failed(run_checks("quick", only="theorem3_limits,operator_algebra", seed=0))
    assert {"quadratic.theorem3_limits_match_kronecker", "quadratic.operator_algebra_matches_definition"} <= failed


# -- 2. printed bounds re-evaluated, not only "exact <= bound" ------------------------------------
def test_looser_but_valid_theorem5_is_caught_by_transcription(monkeypatch):
    real = Q.theorem5_bounds
    monkeypatch.setattr(Q, "theorem5_bounds", lambda p, s, k, check=True: (lambda lu: (lu[0], 1.01 * lu[1]))(real(p, s, k, check)))
    status = _status(run_checks("quick", only="theorem5_bounds_hold,theorem5_matches", seed=0))
    assert status["quadratic.theorem5_bounds_hold"] == {PASS}  # a valid bound: "exact <= u" cannot see it
    assert FAIL in status["quadratic.theorem5_matches_transcription"]


def test_t_psi_replaced_by_t_U_is_caught(monkeypatch):
    real = Q.harmonic_traces
    monkeypatch.setattr(Q, "harmonic_traces", lambda p: (real(p)[0], real(p)[0]))
    assert "quadratic.theorem5_matches_transcription" in _failed(run_checks("quick", only="theorem5_matches", seed=0))


def test_looser_theorem6_and_flammarion_bach_are_caught(monkeypatch):
    real6, real_fb = Q.theorem6_bound, Q.consequences.flammarion_bach_bound
    monkeypatch.setattr(Q, "theorem6_bound", lambda p, a, k, check=True: 2.0 * real6(p, a, k, check))
    monkeypatch.setattr(Q.consequences, "flammarion_bach_bound", lambda p, a, k, check=True: 1.1 * real_fb(p, a, k, check))
    status = _status(run_checks("quick", only="theorem6_bound_holds,flammarion,transcription", seed=0))
    assert status["quadratic.theorem6_bound_holds"] == {PASS} and status["quadratic.flammarion_bach_bound_holds"] == {PASS}
    assert FAIL in status["quadratic.theorem6_matches_transcription"]
    assert FAIL in status["quadratic.consequences_match_transcription"]


def test_small_bias_in_decayed_average_is_caught_by_the_deterministic_twin(monkeypatch):
    real = Q.ema_excess_risk
    # +0.2% for k >= 1 (at k = 0 every run gives h(theta_0): there the Monte Carlo check is exact)
    monkeypatch.setattr(Q, "ema_excess_risk", lambda p, a, k, b: (1.0 + 0.002 * (np.asarray(k) > 0)) * real(p, a, k, b))
    status = _status(run_checks("quick", only="monte_carlo_ema,averages_match", seed=0))
    assert status["quadratic.monte_carlo_ema"] == {PASS}  # 0.2% is below its resolution (1-7%)
    assert FAIL in status["quadratic.averages_match_joint_recursion"]


# -- 3. Monte Carlo standard errors self-calibrated -------------------------------------------------
def _inflated_stderr(factor):
    real = CQ.simulate

    def simulate(*args, **kwargs):
        res = real(*args, **kwargs)
        mc = replace(res.mc, stderr=res.mc.stderr * factor, std=res.mc.std * factor)
        return SimulationResult(res.k, mc, res.average, res.noise)

    return simulate


def test_too_large_standard_error_silences_mean_checks_but_not_the_calibration(monkeypatch):
    monkeypatch.setattr(CQ, "simulate", _inflated_stderr(np.sqrt(2.0)))
    status = _status(run_checks("quick", only="monte_carlo_matches_exact,calibration", seed=0))
    assert FAIL in status["quadratic.monte_carlo_variance_calibration"]
    assert FAIL in status["quadratic.monte_carlo_stderr_calibration"]


def test_correlated_blocks_are_caught_by_the_spread_and_engine_checks(monkeypatch):
    import theorytools.montecarlo.streams as streams

    real = streams.block_rng
    monkeypatch.setattr(streams, "block_rng", lambda seed, index: real(seed, index % 2))
    monkeypatch.setattr(CM.MC, "block_rng", lambda seed, index: real(seed, index % 2))
    status = _status(run_checks("quick", only="stderr_calibration,engine", seed=0))
    assert FAIL in status["quadratic.monte_carlo_stderr_calibration"]
    assert FAIL in status["montecarlo.engine_matches_numpy"]


def test_engine_check_catches_a_wrong_standard_error(monkeypatch):
    real = CM.MC.run_blocks
    monkeypatch.setattr(CM.MC, "run_blocks", lambda *a, **k: (lambda r: replace(r, stderr=r.std / np.sqrt(r.runs - 1)))(real(*a, **k)))
    assert "montecarlo.engine_matches_numpy" in _failed(run_checks("quick", only="engine", seed=0))


def test_gaussian_quadratic_form_cumulants_match_sampling():
    rng = np.random.default_rng(0)
    n = 3
    G = rng.standard_normal((n, n))
    H, V, m = G @ G.T + np.eye(n), np.cov(rng.standard_normal((n, 2 * n))), rng.standard_normal(n)
    kap = R.quadratic_form_cumulants(H, m, V, orders=(1, 2, 3))
    x = rng.multivariate_normal(m, V, size=400_000)
    h = 0.5 * np.einsum("ki,ij,kj->k", x, H, x)
    # standard errors of the sample mean, variance and third cumulant are ~0.2%, 0.5%, 2% here
    assert np.isclose(h.mean(), kap[1], rtol=0.01)
    assert np.isclose(h.var(), kap[2], rtol=0.02)
    assert np.isclose(stats.moment(h, 3), kap[3], rtol=0.08)


def test_cornish_fisher_calibrates_sample_variances_of_skewed_data():
    """Sample variances of chi^2(1) data with the exact standard error: the statistic is skewed
    (skewness 0.21 at n = 4096), so the plain upper tail beyond z = 3 has 2.1x its nominal 0.135%
    and the lower tail 0.3x; the Cornish-Fisher-corrected tails are at the nominal rate.  20000
    repetitions: the binomial standard error of a 0.135% rate is 0.026%, the margins below are 2 of them."""
    rng = np.random.default_rng(1)
    n, reps = 4096, 20000
    k2, k3, k4, k6 = 2.0, 8.0, 48.0, 3840.0  # cumulants of chi^2(1): 2^(r-1) (r-1)!
    var_y = k4 + 2 * k2 * k2
    g_y = (k6 + 12 * k4 * k2 + 10 * k3 * k3 + 8 * k2**3) / var_y**1.5
    s2 = np.concatenate([rng.chisquare(1, size=(2000, n)).var(axis=1, ddof=1) for _ in range(reps // 2000)])
    se = np.full(reps, np.sqrt(var_y / n))
    z = (s2 - k2) / se
    tail = stats.norm.sf(3.0)
    assert np.mean(z > 3) > 1.6 * tail and np.mean(z < -3) < 0.5 * tail
    zs = [Verdict.statistical([v], [e], [k2], n, skewness=[g_y], studentized=False).details["max_abs_z"]
          for v, e in zip(s2[:3000], se[:3000])]
    zc = z - g_y * (z * z - 1) / (6 * np.sqrt(n))
    assert np.allclose(zs, np.abs(zc[:3000]))
    assert abs(np.mean(zc > 3) - tail) < 0.0005 and abs(np.mean(zc < -3) - tail) < 0.0005


def test_chi_square_verdict():
    assert Verdict.chi_square([32.0], 32, "x").p_value > 0.5
    assert Verdict.chi_square([5.0], 32, "x").p_value < 1e-6  # standard errors ~2.5x too large
    assert Verdict.chi_square([120.0], 32, "x").p_value < 1e-6  # too small (correlated runs)
    v = Verdict.chi_square([np.nan], 32, "x")
    assert v.status == PENDING and v.p_value == 0.0


# -- 4. power of each statistical check -----------------------------------------------------------
def test_each_statistical_check_reports_its_power_or_has_a_deterministic_twin():
    load_all()
    results = run_checks("quick", only="monte_carlo,calibration,tango.pseudo,tango.simulated_mean,tango.lemma7,"
                                       "tango.preconditioned_velocity", seed=0)
    assert results
    for r in (r for r in results if r.verdict.kind == "statistical"):
        if "dof" in r.verdict.details:  # chi^2 on standard errors: the detectable factor is reported instead
            assert "detects standard errors" in r.verdict.message and CHECKS[r.check].twin in CHECKS
            continue
        detect = r.verdict.details["min_detectable_rel_error"]
        assert np.isfinite(detect) and "detects relative errors" in r.verdict.message
        twin = CHECKS[r.check].twin
        if detect > 0.01:
            assert twin in CHECKS and CHECKS[twin].kind == "deterministic", f"{r.check} detects only {detect:.1%} and has no twin"
    for c in CHECKS.values():  # a named twin must exist and be deterministic
        if c.twin:
            assert c.twin in CHECKS and CHECKS[c.twin].kind == "deterministic", f"{c.name}: twin {c.twin!r}"


# -- 5. the mutation-testing harness -----------------------------------------------------------------
@pytest.mark.parametrize("topic", ["quadratic", "tango", "deeplinear", "fisher"])
def test_every_mutant_still_applies_exactly_once(topic):
    mutants = load_mutants(topic)
    assert len(mutants) >= 40
    for m in mutants:
        assert (ROOT / m.file).read_text().count(m.old) == 1, f"stale mutant: {m.why}"


def test_mutant_apply_restore_and_rates(tmp_path):
    f = tmp_path / "a.py"
    f.write_text("x = 1 + 2\ny = 3\n")
    m = Mutant("a.py", "1 + 2", "1 - 2", "sign")
    original = m.apply(tmp_path)
    assert f.read_text() == "x = 1 - 2\ny = 3\n"
    m.restore(tmp_path, original)
    assert f.read_text() == original
    with pytest.raises(ValueError, match="occurs 0 times"):
        Mutant("a.py", "z = 4", "z = 5", "absent").apply(tmp_path)
    recs = [{"equivalent": "", "suite": {"killed": True}}, {"equivalent": "", "suite": {"killed": False}, "tests": {"killed": True}},
            {"equivalent": "same value", "suite": {"killed": False}}]
    r = rates(recs)
    assert r["mutants"] == 2 and r["suite_rate"] == 0.5 and r["suite_or_tests_rate"] == 1.0 and r["equivalent"] == 1


def test_an_independent_mutant_list_is_loaded_from_a_file(tmp_path):
    """``--list FILE``: the MUTANTS of a user's file replace the topic's own list (for an unbiased kill rate)."""
    f = tmp_path / "mine.py"
    f.write_text("from verification.mutation import Mutant as M\n"
                 "MUTANTS = [M('theorytools/tango/models.py', 'a', 'b', 'planted')]\n")
    (m,) = load_mutants("tango", f)
    assert m.why == "planted" and m.file == "theorytools/tango/models.py"
    assert load_mutants("tango", None) == load_mutants("tango")
