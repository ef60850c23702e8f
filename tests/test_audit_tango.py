"""The proof audit of Ollivier's TANGO paper (verification/checks/audit_tango.py) and the certificates of the TANGO
errata: every audit check PASSes on its quick instances, and a planted wrong formula makes the audit FAIL at the
line of the step that uses it."""

from fractions import Fraction

import numpy as np
import pytest

import theorytools.tango as T
from verification import registry
from verification.audit import PROOFS
from verification.errata import CLASSES, passage_at
from verification.reference import tango as RT
from verification.runner import run_checks
from verification.verdict import FAIL, PASS

AUDIT = ("proof_proposition2", "proof_proposition4", "proof_theorem5", "proof_lemma11", "proof_lemma6", "proof_lemma7",
         "proof_corollary8", "proof_lemma9", "proof_lemma10", "proof_theorem3_from_theorem5", "proof_footnote2")
ERRATA = ("figure1_caption_geodesics", "theorem3_global_assumptions", "preconditioned_velocity_limit",
          "proof_proposition2", "proof_proposition4", "proof_footnote2")


def _run(names, seed=0):
    return run_checks("quick", ",".join(f"tango.{n}" for n in names), seed=seed)


def test_every_tango_proof_audit_passes_on_its_quick_instances():
    results = _run(AUDIT)
    assert {r.check for r in results} == {f"tango.{n}" for n in AUDIT}
    bad = [(r.check, r.verdict.message) for r in results if r.verdict.status != PASS]
    assert not bad, bad
    registry.load_all()
    audited = {p.statement for p in PROOFS.values() if p.check.startswith("tango.proof_")}
    assert all(s.startswith("Ollivier, ") for s in audited) and len(audited) == len(AUDIT)


def test_the_audit_records_the_findings_and_the_extra_hypotheses():
    registry.load_all()
    by_check = {p.check: p for p in PROOFS.values()}
    assert "F bounded (line 430)" in by_check["tango.proof_proposition4"].extra_hypotheses
    assert "theta^fast_0 = theta_0 (eq. 71 at k = 1)" in by_check["tango.proof_proposition2"].extra_hypotheses
    fn2 = by_check["tango.proof_footnote2"]
    assert [s.line for s in fn2.steps if not s.holds] == [321]


@pytest.mark.parametrize("name", ERRATA)
def test_each_tango_erratum_is_classed_quoted_at_its_line_and_certified(name):
    registry.load_all()
    e = registry.CHECKS[f"tango.{name}"].erratum
    assert e.category in CLASSES and passage_at(e.seed, e.line, e.passage), (e.seed, e.line, e.passage)
    cert = e.certified()
    assert cert["ok"] and cert["corrected_holds"], cert
    if e.category != "imprecise":
        assert not cert["printed_holds"]


def test_the_running_average_bias_is_the_exact_covariance_formula():
    from verification.checks.audit_tango import _fn2_iterates  # noqa: F401  (the module loads)
    from verification.checks.tango import _rms_stationary_mean
    # W = 1: E v = E g / J - gamma Cov(1/|g|, g) = 4 - (1/2)(1 - (4/7) 4) = 65/14; a fixed C gives E g / J exactly
    assert _rms_stationary_mean(1) == Fraction(65, 14)
    assert _rms_stationary_mean(2) == Fraction(4111, 868)
    assert _rms_stationary_mean(2, C=Fraction(1, 7)) == 4


def _failed_at(result, line):
    assert result.verdict.status == FAIL, result.verdict.message
    assert f"at line {line}" in result.verdict.message, result.verdict.message


def test_a_wrong_auxiliary_sequence_fails_proposition4_at_eq17(monkeypatch):
    right = T.auxiliary_sequence

    def wrong(thetas, vs, A, gamma, dt):  # gamma^-1 dropped from eq. 21
        return right(thetas, vs, A, 1.0, dt)

    monkeypatch.setattr(T, "auxiliary_sequence", wrong)
    (r,) = _run(["proof_proposition4"])
    _failed_at(r, 417)


def test_averaged_sgd_without_the_noise_of_eq73_fails_proposition2_at_eq68(monkeypatch):
    right = T.averaged_sgd_iterates
    monkeypatch.setattr(T, "averaged_sgd_iterates",
                        lambda model, theta0, gamma, dt, x, y, ytilde=None, xi=None: right(model, theta0, gamma, dt, x, y))
    for r in _run(["proof_proposition2"]):
        _failed_at(r, 1346)


def test_a_wrong_R2_fails_lemma6_at_the_variance_step(monkeypatch):
    def wrong(A, EA2):  # the smallest eigenvalue instead of the largest: E[A^2] <= R^2 A no longer holds
        w, V = np.linalg.eigh(A)
        S = V / np.sqrt(w)
        return float(np.linalg.eigvalsh(S.T @ EA2 @ S)[0])

    monkeypatch.setattr(RT, "R2_min", wrong)
    for r in _run(["proof_lemma6"]):
        _failed_at(r, 622)


def test_a_wrong_tango_step_fails_the_theorem3_reduction_at_line_479(monkeypatch):
    right = T.tango_step
    monkeypatch.setattr(T, "tango_step", lambda v, th, g, gt, gamma, dp, dc, *a, **k: right(v, th, g, gt, gamma, 0.0, dc))
    (r,) = _run(["proof_theorem3_from_theorem5"])
    _failed_at(r, 479)
