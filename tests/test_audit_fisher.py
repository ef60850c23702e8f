"""The proof audit of the Fisher-geometry part of the papers (verification/checks/audit_fisher.py): every audited step
reproduces on the quick instances, a planted wrong formula makes the audit FAIL naming the step's line, and the
findings (errata) are classed, quoted at their lines and certified."""

import numpy as np
import pytest

import theorytools.fisher as FI
from verification import registry
from verification.audit import PROOFS
from verification.errata import passage_at
from verification.runner import run_checks
from verification.verdict import FAIL, PASS

NAMES = ("theorem1_proof", "corollary2_proof", "section12_1_proof", "section9_proof", "section11_proof",
         "section13_proof", "shrestha_a123_proof", "shrestha_a45_proof")
CHECKS = ",".join(f"fisher.{n}" for n in NAMES)


def _results(only):
    return run_checks("quick", only, seed=0)


def test_every_audited_fisher_proof_reproduces_on_its_quick_instances():
    results = _results(CHECKS)
    assert {r.check for r in results} == {f"fisher.{n}" for n in NAMES}
    for r in results:
        assert r.verdict.status == PASS, f"{r.check} [{r.instance}]: {r.verdict.message}"


def test_the_audit_records_its_findings_as_false_steps_and_extra_hypotheses():
    registry.load_all()
    by_check = {p.check: p for p in PROOFS.values()}
    t1 = by_check["fisher.theorem1_proof"]
    assert sorted(s.line for s in t1.steps if not s.holds) == [593, 607, 627]
    assert any("Euclidean" in h for h in t1.extra_hypotheses)
    c2 = by_check["fisher.corollary2_proof"]
    assert [s.line for s in c2.steps if not s.holds] == [1899] and any("Lipschitz" in h for h in c2.extra_hypotheses)
    assert [s.line for s in by_check["fisher.section13_proof"].steps if not s.holds] == [694]
    assert [s.line for s in by_check["fisher.shrestha_a45_proof"].steps if not s.holds] == [406]


@pytest.mark.parametrize("name, category, line", [("theorem1_proof", "missing hypothesis", 593),
                                                  ("corollary2_proof", "missing hypothesis", 1899),
                                                  ("section12_1_proof", "misprint", 680)])
def test_the_audit_findings_are_quoted_at_their_lines_and_certified(name, category, line):
    registry.load_all()
    e = registry.CHECKS[f"fisher.{name}"].erratum
    assert e.category == category and e.line == line and passage_at(e.seed, e.line, e.passage)
    cert = e.certified()
    assert cert["ok"] and cert["printed_holds"] is False and cert["corrected_holds"] is True, cert


def _fails_at(check, line):
    (r,) = [r for r in _results(f"fisher.{check}")][:1]
    assert r.verdict.status == FAIL, r.verdict.message
    assert f"at line {line}" in r.verdict.message, r.verdict.message


def test_a_transposed_reparameterization_jacobian_fails_theorem1_at_the_chain_rule(monkeypatch):
    original = FI.invariance.GaussianFitProblem.zeta_jacobian
    monkeypatch.setattr(FI.invariance.GaussianFitProblem, "zeta_jacobian", lambda self, g: original(self, g).T)
    _fails_at("theorem1_proof", 623)


def test_the_printed_sign_of_the_distance_form_fails_section13_at_its_line(monkeypatch):
    original = FI.quadratic_model.quadratic_model_as_distances
    monkeypatch.setattr(FI.quadratic_model, "quadratic_model_as_distances", lambda P, th, d: original(P, th, -np.asarray(d)))
    _fails_at("section13_proof", 694)


def test_the_printed_middle_expression_of_section_11_1_fails_at_its_line(monkeypatch):
    def middle(theta0, alpha, steps, xi):  # theta - alpha (theta^2)^xi theta, the misprint, as a library bug
        th = [float(theta0)]
        for a in np.broadcast_to(np.asarray(alpha, dtype=float), (steps,)):
            th.append(th[-1] - a * (th[-1] ** 2) ** xi * th[-1])
        return np.array(th)

    monkeypatch.setattr(FI, "empirical_fisher_iterates", middle)
    _fails_at("section11_proof", 535)


def test_a_halved_damping_in_the_tengrad_direction_fails_eq40(monkeypatch):
    original = FI.damped_block_direction
    monkeypatch.setattr(FI, "damped_block_direction", lambda I, G, u, beta, method="tengrad": original(I, G, u, beta / 2, method))
    _fails_at("shrestha_a45_proof", 398)


def test_a_loss_hessian_without_the_half_fails_the_section9_derivation(monkeypatch):
    def wrong(y, mu, gamma):
        r = y - mu
        return np.exp(-gamma) * np.array([[1.0, r], [r, r * r]])

    monkeypatch.setattr(FI, "gaussian_mu_logvar_hessian", wrong)
    _fails_at("section9_proof", 470)
