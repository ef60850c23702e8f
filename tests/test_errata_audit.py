"""Errata as data and the proof audit (issue 16 §2-3): the classes, quotes and certificates of every finding, and the
audit's step-by-step checks, for the toolkit's own checks and as an API for a user's module."""

import json

import numpy as np
import pytest

from verification import registry
from verification.audit import PROOFS, Step, proof, proofs_of
from verification.errata import CLASSES, Certificate, Erratum, Reading, passage_at, seeds_dir
from verification.report import write_report
from verification.runner import run_checks
from verification.verdict import FAIL, PASS, Verdict

MARTENS = "001_7d31b3ff3a2f0401.txt"


def _toolkit_errata():
    return [c for c in registry.select(None) if c.erratum is not None and c.func.__module__.startswith("verification.")]


def test_a_quote_is_found_at_its_line_across_line_breaks_and_nowhere_else():
    assert passage_at(MARTENS, 1835, "Proposition 23.")
    assert not passage_at(MARTENS, 1836, "Proposition 23.")  # the quote must start on the line given
    assert not passage_at(MARTENS, 1834, "Proposition 23.")
    assert not passage_at(MARTENS, 10**6, "Proposition 23.")
    lines = (seeds_dir() / MARTENS).read_text(encoding="utf-8").splitlines()
    tail, head = " ".join(lines[1834].split()[-2:]), " ".join(lines[1835].split()[:2])
    assert passage_at(MARTENS, 1835, f"{tail} {head}")  # a quote that spans a line break


def _certificate(printed, corrected):
    return lambda: Certificate("x = 1", printed, corrected, "exact rationals (sympy)", "1 > 1/2")


@pytest.mark.parametrize("category, printed, corrected, ok", [
    ("false", False, True, True), ("false", True, True, False), ("false", False, False, False),
    ("imprecise", True, True, True), ("misprint", True, True, False)])
def test_a_certificate_is_ok_only_when_the_printed_statement_fails_and_the_corrected_one_holds(category, printed,
                                                                                                corrected, ok):
    e = Erratum(category, "finding", MARTENS, 1835, "Proposition 23.", "evidence",
                _certificate(printed, corrected))
    assert e.certified()["ok"] is ok


def test_a_broken_certificate_is_reported_not_raised():
    def broken():
        raise ZeroDivisionError("planted")

    e = Erratum("false", "f", MARTENS, 1835, "Proposition 23.", "e", broken)
    assert e.certified() == {"ok": False, "error": "ZeroDivisionError: planted"}
    e = Erratum("false", "f", MARTENS, 1835, "Proposition 23.", "e", lambda: 1.0)
    assert e.certified()["ok"] is False and "must return a Certificate" in e.certified()["error"]


@pytest.mark.parametrize("kwargs, match", [
    ({"category": "wrong"}, "category must be one of"),
    ({"seed": "paper.txt"}, "seed must name a seed file"),
    ({"line": 0}, "line"),
    ({"passage": ""}, "passage"),
    ({"certify": None}, "certify must be given for a 'false' erratum")])
def test_an_erratum_without_class_quote_line_or_certificate_is_refused(kwargs, match):
    args = {"category": "false", "finding": "f", "seed": MARTENS, "line": 1835, "passage": "Proposition 23.",
            "evidence": "e", "certify": _certificate(False, True), **kwargs}
    with pytest.raises(ValueError, match=match):
        Erratum(**args)


def test_a_plain_string_erratum_from_a_user_module_is_unclassified():
    e = Erratum.coerce("my lemma's constant is off by 2")
    assert e.category == "unclassified" and str(e) == "my lemma's constant is off by 2"
    assert Erratum.coerce("") is None


def test_every_toolkit_erratum_is_classed_quoted_at_its_line_and_certified():
    errata = _toolkit_errata()
    assert len(errata) >= 18
    for c in errata:
        e = c.erratum
        assert e.category in CLASSES, f"{c.name}: unclassified erratum"
        assert passage_at(e.seed, e.line, e.passage), f"{c.name}: {e.passage!r} is not at {e.seed}:{e.line}"
        cert = e.certified()
        if e.category != "imprecise" or e.certify is not None:
            assert cert["ok"], f"{c.name}: certificate {cert}"


def _proof_family(tmp_name, holds, printed_wrong):
    """A planted audit: the step 'x^2 >= 0' (true) and the step '(x + 1)^2 <= x^2 + 1' (false for x > 0)."""
    steps = (Step("x^2 >= 0", 1835), Step("(x + 1)^2 <= x^2 + 1", 1836, holds=holds),
             Step("definition of x", 1835, checked=False, how="a definition"))

    @proof(statement=f"Planted {tmp_name}", seed=MARTENS, line=1835, stated=("x real",), used=("x real", "x > 0"),
           steps=steps, result="the second step is false for x > 0", family=tmp_name, source="planted",
           instances=lambda profile, seed: [type("I", (), {"name": "x=2"})()])
    def planted(instance, rng):
        x = 2.0
        second = Verdict.within(np.array([(x + 1) ** 2]), np.array([0.0]), np.array([x * x + 1]), rtol=0.0)
        if printed_wrong:  # the audit says the step is false: the check shows it failing
            second = Verdict(PASS if second.failed else FAIL, "deterministic", "step shown false" if second.failed
                             else "the step holds, though the audit says it is false")
        return [Verdict.within(np.array([x * x]), np.array([0.0]), np.array([2 * x * x]), rtol=0.0), second]

    return f"{tmp_name}.planted"


def test_a_proof_audit_passes_when_each_step_reproduces_and_fails_naming_the_line_when_one_does_not(tmp_path):
    good = _proof_family("auditgood", holds=False, printed_wrong=True)
    bad = _proof_family("auditbad", holds=True, printed_wrong=False)  # the audit claims the false step holds
    try:
        assert PROOFS["Planted auditgood"].extra_hypotheses == ("x > 0",)
        assert PROOFS["Planted auditgood"].checked == 2
        results = {r.check: r for r in run_checks("quick", f"{good},{bad}")}
        assert results[good].verdict.status == PASS and "1 of them false as printed" in results[good].verdict.message
        assert results[bad].verdict.status == FAIL and "line 1836" in results[bad].verdict.message
        write_report(list(results.values()), tmp_path, {"profile": "quick", "seed": 0, "modules": []})
        doc = json.loads((tmp_path / "report.json").read_text())
        rows = {r["statement"]: r for r in doc["proof_audit"]}
        assert rows["Planted auditgood"]["false_steps"] == [1836] and rows["Planted auditgood"]["checked"] == 2
        md = (tmp_path / "report.md").read_text()
        assert "## Proof audit" in md and "**x > 0**" in md and "2/3 (1 false: lines 1836)" in md
    finally:
        for name in (good, bad):
            registry.CHECKS.pop(name, None)
        for s in ("Planted auditgood", "Planted auditbad"):
            PROOFS.pop(s, None)


def test_a_proof_that_returns_the_wrong_number_of_verdicts_is_an_error():
    @proof(statement="Planted count", seed=MARTENS, line=1835, stated=(), used=(), steps=(Step("a", 1835),),
           result="sound", family="auditcount", source="planted",
           instances=lambda profile, seed: [type("I", (), {"name": "one"})()])
    def counted(instance, rng):
        return []

    try:
        (r,) = run_checks("quick", "auditcount.counted")
        assert r.verdict.status == FAIL and "one Verdict per checked step (1), got 0" in r.verdict.message
    finally:
        registry.CHECKS.pop("auditcount.counted", None)
        PROOFS.pop("Planted count", None)


def test_the_report_groups_the_errata_by_class_with_passage_and_certificate(tmp_path):
    names = [c.name for c in _toolkit_errata()]
    results = run_checks("quick", "fisher.section13,quadratic.proposition23")
    write_report(results, tmp_path, {"profile": "quick", "seed": 0, "modules": []})
    doc = json.loads((tmp_path / "report.json").read_text())
    assert {e["check"] for e in doc["errata"]} <= set(names)
    for e in doc["errata"]:
        assert e["class"] in CLASSES and e["line"] >= 1 and e["passage"]
    md = (tmp_path / "report.md").read_text()
    assert "## Errata" in md and "*Passage*" in md and "certified" in md
    classes = [e["class"] for e in doc["errata"]]
    assert classes == sorted(classes, key=CLASSES.index)


def test_every_audited_proof_cites_lines_of_its_seed():
    registry.load_all()
    for p in proofs_of():
        n = len((seeds_dir() / p.seed).read_text(encoding="utf-8").splitlines())
        assert 1 <= p.line <= n and all(1 <= s.line <= n for s in p.steps), p.statement


def test_every_reading_is_quoted_at_its_line_and_listed_in_the_report_with_its_checks(tmp_path):
    """Readings (issue 17): a passage the toolkit had to interpret is quoted at its line, and the report lists the
    reading followed, the others, and the checks resting on it."""
    readings = {r: c.name for c in registry.select(None) for r in c.readings if c.func.__module__.startswith("verification.")}
    assert {r.seed for r in readings} >= {"000_3b01ec78f4f92394.txt", "002_add1c097d251ec63.txt", "003_34787a2226c5cf0a.txt"}
    for r in readings:
        assert passage_at(r.seed, r.line, r.passage), (r.seed, r.line, r.passage)
    results = run_checks("quick", "tango.gamma_rules")
    write_report(results, tmp_path, {"profile": "quick", "seed": 0, "modules": []})
    doc = json.loads((tmp_path / "report.json").read_text())
    assert [e["checks"] for e in doc["readings"]] == [["tango.gamma_rules"]]
    assert doc["readings"][0]["line"] == 75 and doc["readings"][0]["followed"]
    md = (tmp_path / "report.md").read_text()
    assert "## Readings" in md and "*Not followed*" in md and "`tango.gamma_rules`" in md


def test_a_check_declares_readings_as_reading_objects():
    r = Reading("003_34787a2226c5cf0a.txt", 625, "We generated Σ", "i = 0..n_0 - 1", "i = 1..n_0", "a constant factor")
    with pytest.raises(TypeError, match="readings must be a Reading"):
        registry.check(source="s", family="userread", kind="deterministic", rule="r",
                       instances=lambda profile, seed: [], readings=["i starts at 0"])
    try:
        registry.check(source="s", family="userread", kind="deterministic", rule="r", instances=lambda profile, seed: [],
                       readings=r)(lambda case, rng: Verdict(PASS, "deterministic", "ok"))
        assert registry.CHECKS["userread.<lambda>"].readings == (r,)
    finally:
        registry.CHECKS.pop("userread.<lambda>", None)
    with pytest.raises(ValueError, match="seed must name a seed file"):
        Reading("paper.txt", 1, "p", "f", "o", "c")
