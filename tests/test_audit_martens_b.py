"""Proof audit of Martens (001_7d31b3ff3a2f0401.txt) Appendices A and B (verification/checks/audit_martens_b.py):
every audited step reproduces on the quick instances, each finding is classed, quoted at its line and certified, and
a planted wrong formula in a step makes the audit FAIL naming that step's line."""

import pytest

import theorytools.quadratic as Q
from verification import registry
from verification.audit import PROOFS
from verification.errata import passage_at
from verification.runner import run_checks
from verification.verdict import FAIL, PASS

NAMES = ["proof_proposition7", "proof_theorem3_preamble", "proof_corollary8", "proof_lemma9", "proof_proposition10",
         "proof_lemma11", "proof_corollary12", "proof_lemma13", "proof_proposition14", "proof_lemma15",
         "proof_theorem3_error_rate", "proof_lemma16", "proof_theorem6_variance", "proof_theorem6_start"]
CHECKS = [f"quadratic.{n}" for n in NAMES]


def _run(names):
    return list(run_checks("quick", ",".join(names), seed=0))


def test_every_audited_step_reproduces_on_the_quick_instances():
    results = _run(CHECKS)
    assert {r.check for r in results} == set(CHECKS)
    bad = [(r.check, r.verdict.message) for r in results if r.verdict.status != PASS]
    assert not bad, bad


def test_the_audit_covers_appendix_a_and_b_with_martens_prefixed_statements():
    mine = [p for p in PROOFS.values() if p.check in CHECKS]
    assert len(mine) == len(CHECKS)
    assert all(p.statement.startswith("Martens, ") for p in mine)
    assert all(p.checked >= 3 for p in mine)
    false_lines = {p.check: [s.line for s in p.steps if not s.holds] for p in mine}
    assert false_lines["quadratic.proof_lemma15"] == [1451, 1463]  # Proposition 23's second inequality
    assert false_lines["quadratic.proof_theorem6_variance"] == [1612, 1640]
    assert false_lines["quadratic.proof_theorem6_start"] == [1682]


def test_each_finding_is_classed_quoted_at_its_line_and_certified():
    errata = {c.name: c.erratum for c in registry.select(None) if c.name in CHECKS and c.erratum is not None}
    assert set(errata) == {f"quadratic.{n}" for n in ("proof_theorem3_preamble", "proof_proposition10",
                                                      "proof_corollary12", "proof_proposition14",
                                                      "proof_theorem3_error_rate", "proof_theorem6_variance",
                                                      "proof_theorem6_start")}
    for key, e in errata.items():
        assert passage_at(e.seed, e.line, e.passage), key
        cert = e.certified()
        assert cert["ok"], (key, cert)
    assert errata["quadratic.proof_theorem3_error_rate"].category == "false"
    assert errata["quadratic.proof_theorem6_variance"].category == "false"
    assert errata["quadratic.proof_proposition10"].category == "misprint"


@pytest.mark.parametrize("name, target, wrong, line", [
    # Proposition 14's 1/2 read as 1/4
    ("proof_proposition14", "proposition14_trace", lambda orig: (lambda p, X: 0.5 * orig(p, X)), 1389),
    # Lemma 9: V_k = (I - Lambda^(k+1))(V_inf), an off-by-one power
    ("proof_lemma9", "variance_lemma9",
     lambda orig: (lambda p, alpha, k: orig(p, alpha, k + 1)), 1175),
    # eqn. 45 with tr(H^-1 Sigma_g) instead of 1/2 tr(H^-1 Sigma_g)
    ("proof_theorem6_start", "eq45_trace", lambda orig: (lambda p: 2.0 * orig(p)), 1682),
])
def test_a_planted_wrong_formula_fails_the_audit_at_its_step(monkeypatch, name, target, wrong, line):
    monkeypatch.setattr(Q, target, wrong(getattr(Q, target)))
    results = _run([f"quadratic.{name}"])
    failed = [r for r in results if r.verdict.status == FAIL]
    assert failed, f"{name} still passes with a wrong {target}"
    assert all(f"line {line}" in r.verdict.message for r in failed), [r.verdict.message for r in failed]


def test_the_false_step_stops_reproducing_when_it_is_made_true(monkeypatch):
    """Lemma 15 says 'applying Proposition 23' fails; if Proposition 23's left side were as small as printed (here:
    the sum planted to 0) the step would not be shown false, and the audit FAILs at line 1449 or 1451."""
    monkeypatch.setattr(Q.lemmas, "proposition23_sum", lambda k, a, b: 0.0)
    results = _run(["quadratic.proof_lemma15"])
    assert all(r.verdict.status == FAIL for r in results)
    assert all(("line 1449" in r.verdict.message) or ("line 1451" in r.verdict.message) for r in results)
