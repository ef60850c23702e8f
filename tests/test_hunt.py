"""The hunt (issue 18, verification/hunt.py): parameter spaces, search, certification, shrinking, the CLI's --hunt.

The planted bound is a true inequality, (1 - 1/kappa)^k <= exp(-k/kappa), whose right side is tightened by 1% where
kappa > 100 and 1000 <= k < 10^4: it fails only there (and only where k < ~0.02 kappa^2), by a relative 1%.
"""

from __future__ import annotations

import json
import textwrap
from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest

from verification.__main__ import main
from verification.hunt import BOUNDS, Integer, LogInteger, LogReal, Real, bound, hunt, select

SPACE = {"kappa": LogReal(1.0, 1e4), "k": LogInteger(1, 10**6)}
FIELDS = {"bound", "source", "status", "worst_ratio", "point", "certified", "counterexample", "evaluations",
          "max_evaluations", "stopped", "seconds", "known_erratum"}


def _tightened(kappa, k):
    window = (np.asarray(kappa) > 100) & (np.asarray(k) >= 1000) & (np.asarray(k) < 10**4)
    return (1 - 1 / kappa) ** k, np.exp(-k / kappa) * (1 - 0.01 * window)


def _certify(kappa, k):
    with mp.workdps(50):
        q = Fraction(kappa)
        kap = mp.mpf(q.numerator) / q.denominator
        window = kap > 100 and 1000 <= k < 10**4
        return (1 - 1 / kap) ** k, mp.exp(-k / kap) * (1 - mp.mpf(window) / 100)


def _declare(func, **kw):
    """A Bound made by @bound, left out of the registry (so that no other test's --hunt sees it)."""
    bound(source="planted in tests/test_hunt.py", family="testhunt", **kw)(func)
    return BOUNDS.pop(f"testhunt.{func.__name__}")


def planted(kappa, k):
    return _tightened(kappa, k)


# -- spaces ---------------------------------------------------------------------------------------------------------
def test_spaces_map_the_unit_interval():
    assert Real(-1.0, 3.0)(0.25) == pytest.approx(0.0)
    assert LogReal(1.0, 100.0)(0.5) == pytest.approx(10.0)
    assert Integer(1, 3)(0.5) == 2 and Integer(-5, 5)(0.0) == -5
    assert LogInteger(1, 100)(0.5) == 10 and LogInteger(1, 100)(1.0) == 100
    assert LogInteger(1, 10**6)(np.array([0.0, 1.0])).tolist() == [1, 10**6]


@pytest.mark.parametrize("make,exc,words", [
    (lambda: Real(1.0, 0.0), ValueError, ("high", "low", "1.0")),
    (lambda: Real(float("nan"), 1.0), ValueError, ("low", "finite")),
    (lambda: Real("0", 1.0), TypeError, ("low", "'0'")),
    (lambda: LogReal(0.0, 1.0), ValueError, ("low", "> 0", "0")),
    (lambda: LogReal(1.0, float("inf")), ValueError, ("high", "finite")),
    (lambda: Integer(0.5, 3), ValueError, ("low", "integer", "0.5")),
    (lambda: Integer(3, 3), ValueError, ("high", "> low")),
    (lambda: LogInteger(0, 10), ValueError, ("low", ">= 1", "0")),
    (lambda: LogInteger(1, None), TypeError, ("high", "None")),
])
def test_spaces_refuse_bad_input_by_name(make, exc, words):
    with pytest.raises(exc) as info:
        make()
    assert all(w in str(info.value) for w in words), str(info.value)


def test_bound_refuses_a_bad_space_or_certify():
    with pytest.raises(ValueError, match="space must name at least one parameter"):
        bound(source="s", space={})
    with pytest.raises(TypeError, match=r"space\['k'\] must be a Real, LogReal, Integer or LogInteger, got 3"):
        bound(source="s", space={"k": 3})
    with pytest.raises(TypeError, match="certify must be callable"):
        bound(source="s", space=SPACE, certify=3)
    with pytest.raises(TypeError, match="bound must be a Bound"):
        hunt(3)
    with pytest.raises(ValueError, match="budget must be > 0"):
        hunt(_declare(planted, space=SPACE), budget=0)


# -- the search -----------------------------------------------------------------------------------------------------
def test_planted_violation_is_found_certified_and_shrunk():
    r = hunt(_declare(planted, space=SPACE, certify=_certify), budget=15, seed=0)
    assert FIELDS <= set(r)
    assert r["status"] == "violated" and r["certified"] and not r["known_erratum"]
    assert r["worst_ratio"] == pytest.approx(1.0101, rel=1e-3)  # 1/0.99 at most
    ce = r["counterexample"]
    assert ce["k"] == 1000  # the smallest k of the window: bisection toward LogInteger's low end
    assert isinstance(ce["kappa"], Fraction) and ce["kappa"].denominator == 1 and ce["kappa"] > 100
    lhs, rhs = _certify(**ce)
    assert lhs > rhs * (1 + mp.mpf(10) ** -3)
    assert "mpmath 50 digits" in r["certificate"]


def test_without_certify_a_violation_is_only_uncertified():
    r = hunt(_declare(planted, space=SPACE), budget=15, seed=0)
    assert r["status"] == "uncertified" and not r["certified"] and r["counterexample"] is None
    assert r["worst_ratio"] > 1.0


def test_a_certify_that_disagrees_leaves_it_uncertified():
    def agrees_with_the_true_bound(kappa, k):
        with mp.workdps(50):
            kap = mp.mpf(Fraction(kappa).numerator) / Fraction(kappa).denominator
            return (1 - 1 / kap) ** k, mp.exp(-k / kap)

    r = hunt(_declare(planted, space=SPACE, certify=agrees_with_the_true_bound), budget=15, seed=0)
    assert r["status"] == "uncertified" and r["counterexample"] is None


def test_same_seed_same_result_and_vectorized_agrees():
    b = _declare(planted, space=SPACE, certify=_certify)
    runs = [hunt(b, budget=15, seed=3) for _ in range(2)]
    runs.append(hunt(_declare(planted, space=SPACE, certify=_certify, vectorized=True), budget=15, seed=3))
    strip = [{k: v for k, v in r.items() if k not in ("seconds", "bound")} for r in runs]
    assert strip[0] == strip[1] == strip[2]


def test_the_budget_is_evaluations_so_a_slower_machine_gives_the_same_result():
    import time

    def slow(kappa, k):
        time.sleep(2e-4)  # a machine several times slower per evaluation
        return _tightened(kappa, k)

    fast = hunt(_declare(planted, space=SPACE, certify=_certify), budget=2, seed=5)
    slowed = hunt(_declare(slow, space=SPACE, certify=_certify), budget=2, seed=5)
    assert fast["stopped"] == "evaluations" and fast["max_evaluations"] == 400  # cut by the budget, not converged
    assert fast["evaluations"] <= fast["max_evaluations"] + 2 * 15  # one generation of 15 x 2 at most over
    assert {k: v for k, v in fast.items() if k not in ("seconds", "bound")} == \
        {k: v for k, v in slowed.items() if k not in ("seconds", "bound")}


def test_the_wall_clock_cap_is_reported(monkeypatch):
    import verification.hunt as H

    monkeypatch.setattr(H, "TIME_CAP", 0.0)
    r = hunt(_declare(planted, space=SPACE), budget=15, seed=0)
    assert r["stopped"] == "time cap" and r["evaluations"] < r["max_evaluations"]


def test_true_bound_holds_and_outside_the_hypotheses_is_never_scored():
    seen = []

    def gated(kappa, k):
        if kappa < 10:  # "hypotheses": kappa >= 10, where the planted tightening is absent
            return None
        seen.append(kappa)
        return (1 - 1 / kappa) ** k, np.exp(-k / kappa)

    r = hunt(_declare(gated, space=SPACE), budget=15, seed=0)
    assert r["status"] == "holds" and r["worst_ratio"] <= 1.0 and r["point"]["kappa"] >= 10
    assert 0 < r["feasible"] < r["evaluations"] and min(seen) >= 10  # the rejected points are counted, never scored


# -- Martens' Proposition 23 ----------------------------------------------------------------------------------------
def test_proposition23_printed_is_rediscovered_certified_with_small_k():
    r = hunt("quadratic.proposition23_sum_printed", budget=20, seed=0)
    assert r["status"] == "violated" and r["certified"] and r["known_erratum"]
    ce = r["counterexample"]
    assert ce["k"] <= 5 and "exact rationals" in r["certificate"]
    from theorytools.quadratic.lemmas import proposition23_sum_exact
    a, b = Fraction(ce["a"]), Fraction(ce["b"])
    assert proposition23_sum_exact(ce["k"], a, b) > (a + 2) ** 3 / (a * (a + 1) ** 2) * ce["k"] / (ce["k"] + a) ** 3


def test_proposition23_corrected_holds():
    r = hunt("quadratic.proposition23_sum_corrected", budget=20, seed=0)
    assert r["status"] == "holds" and r["worst_ratio"] <= 1.0 and r["point"]["b"] >= 1.5


# -- the command line -----------------------------------------------------------------------------------------------
_MODULE = '''
from fractions import Fraction
import mpmath as mp
import numpy as np
from verification import LogInteger, LogReal, bound


def certify(kappa, k):
    with mp.workdps(50):
        q = Fraction(kappa)
        kap = mp.mpf(q.numerator) / q.denominator
        return (1 - 1 / kap) ** k, mp.exp(-k / kap) * (1 - mp.mpf(kap > 100 and 1000 <= k < 10**4) / 100)


@bound(source="a user's lemma", space={{"kappa": LogReal(1.0, 1e4), "k": LogInteger(1, 10**6)}}, certify=certify,
       family="{family}", erratum="{erratum}")
def tightened(kappa, k):
    window = (kappa > 100) & (1000 <= k < 10**4)
    return (1 - 1 / kappa) ** k, np.exp(-k / kappa) * (1 - 0.01 * window)
'''


@pytest.mark.parametrize("family,erratum,status", [("clinew", "", 1), ("cliknown", "known: tightened by 1%", 0)])
def test_cli_exit_status_and_report(tmp_path, family, erratum, status, capsys):
    path = tmp_path / f"{family}.py"
    path.write_text(textwrap.dedent(_MODULE.format(family=family, erratum=erratum)))
    out = tmp_path / "out"
    try:
        rc = main(["--hunt", "--module", str(path), "--only", family, "--budget", "10", "--out", str(out)])
    finally:
        BOUNDS.pop(f"{family}.tightened", None)
    assert rc == status
    printed = capsys.readouterr().out
    assert ("rediscovered" in printed) == bool(erratum)
    doc = json.loads((out / "report.json").read_text())
    (row,) = doc["hunt"]
    assert FIELDS <= set(row) and row["status"] == "violated" and row["certified"]
    assert row["counterexample"]["k"] == 1000
    md = (out / "report.md").read_text()
    assert "## Tightness" in md and f"`{family}.tightened`" in md
    assert ("NEW violation" in md) != bool(erratum)


def test_cli_hunt_usage_errors(tmp_path, capsys):
    assert main(["--hunt", "--only", "no-such-bound-anywhere", "--out", str(tmp_path)]) == 2
    assert "no bound matches" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--hunt", "--budget", "-1"])
    assert "budget must be > 0" in capsys.readouterr().err


def test_workers_give_the_serial_result():
    b = _declare(planted, space=SPACE, certify=_certify)
    serial, pooled = hunt(b, budget=15, seed=1), hunt(b, budget=15, seed=1, workers=2)
    assert {k: v for k, v in serial.items() if k != "seconds"} == {k: v for k, v in pooled.items() if k != "seconds"}


# -- Martens' Theorem 5, Lemma 15 and §14.2.1: rediscovered from the statements' whole regions (seed 0) ----------------
def _rediscovered(name, budget):
    from verification.hunt import BOUNDS

    r = hunt(name, budget=budget, seed=0)
    assert r["status"] == "violated" and r["certified"] and r["known_erratum"], r
    assert "mpmath 50 digits" in r["certificate"]
    b = BOUNDS[name]
    assert b.erratum is not None and b.erratum.category == "false"
    lhs, rhs = b.certify(**r["counterexample"])
    assert lhs > rhs
    return r["counterexample"]


@pytest.mark.parametrize("name", ["quadratic.theorem5_harmonic_upper_printed", "quadratic.lemma15_upper_printed"])
def test_theorem5_harmonic_u_and_lemma15_are_rediscovered_where_the_erratum_says(name):
    ce = _rediscovered(name, budget=5)
    a, b = float(ce["a"]), float(ce["b"])
    assert 1 < b < 1 + 1 / (2 * (a + 2) ** 3 / (a * (a + 1) ** 2)) and ce["k"] > 10**5  # b in (1, 1 + 1/(2 nu(a)))


def test_lambda_n_display_is_rediscovered_at_k_1_and_kappa_above_2_7421():
    ce = _rediscovered("quadratic.lambda_n_display_printed", budget=5)
    assert ce["k"] == 1 and ce["kappa"] > 2.7421


@pytest.mark.parametrize("name", ["quadratic.theorem5_harmonic_upper_corrected", "quadratic.lambda_n_display_corrected",
                                  "quadratic.theorem5_constant_upper", "quadratic.theorem5_constant_lower"])
def test_corrected_and_constant_step_bounds_hold(name):
    r = hunt(name, budget=3, seed=0)
    assert r["status"] == "holds" and r["worst_ratio"] <= 1.0 + 1e-10, r


# every toolkit bound's float sides against two other routes: its own certify (50 digits or exact rationals) and, for
# Theorem 5's constant-step bounds (transcribed again, vectorized), the library's theorem5_bounds and excess_risk
_POINTS = {
    "quadratic.proposition23_sum_printed": dict(k=7, a=0.5, b=1.25),
    "quadratic.proposition23_sum_theorem5_region": dict(k=40, a=2.0, b=0.75),
    "quadratic.proposition23_sum_corrected": dict(k=40, a=2.0, b=2.5),
    "quadratic.theorem5_harmonic_upper_printed": dict(k=300, a=3.0, b=1.25, h0=0.5),
    "quadratic.lemma15_upper_printed": dict(k=300, a=3.0, b=1.25),
    "quadratic.theorem5_harmonic_upper_corrected": dict(k=300, a=3.0, b=1.75, h0=0.5),
    "quadratic.lambda_n_display_printed": dict(k=20, kappa=5.0, t=0.5, s1=0.25, s2=0.5, s3=1.0),
    "quadratic.lambda_n_display_corrected": dict(k=20, kappa=5.0, t=0.5, s1=0.25, s2=0.5, s3=1.0),
    "quadratic.theorem5_constant_upper": dict(k=30, x1=0.5, x2=0.125, x3=1e-3, s1=0.25, s2=0.5, s3=1.0, d1=0.5,
                                              d2=0.25, d3=0.75),
    "quadratic.theorem5_constant_lower": dict(k=30, x1=0.5, x2=0.125, x3=1e-3, s1=0.25, s2=0.5, s3=1.0, d1=0.5,
                                              d2=0.25, d3=0.75),
}


def test_every_toolkit_bound_agrees_with_its_certify_route():
    toolkit = [b for b in select(None) if b.func.__module__.startswith("verification.")]
    assert {b.name for b in toolkit} == set(_POINTS)
    for b in toolkit:
        point = _POINTS[b.name]
        args = {k: np.array([v]) for k, v in point.items()} if b.vectorized else point
        sides = [float(np.asarray(v).reshape(-1)[0]) for v in b.func(**args)]
        exact = [float(v) for v in b.certify(**point)]
        np.testing.assert_allclose(sides, exact, rtol=1e-9, atol=1e-14, err_msg=b.name)


def test_theorem5_constant_step_bounds_are_the_library_s_theorem5_bounds():
    import theorytools.quadratic as Q

    point = _POINTS["quadratic.theorem5_constant_upper"]
    x, s, d = (np.array([point[f"{v}{i}"] for i in (1, 2, 3)]) for v in "xsd")
    # H = diag(x), B = I, alpha = 1; h(theta_0) - h* = sum d_i: z0_i = sqrt(2 d_i / x_i)
    p = Q.QuadraticProblem(np.diag(x), np.eye(3), np.diag(s), np.zeros(3), np.sqrt(2 * d / x))
    low, up = Q.theorem5_bounds(p, Q.Constant(1.0), point["k"])
    exact = Q.excess_risk(p, Q.Constant(1.0), point["k"])
    args = {k: np.array([v]) for k, v in point.items()}
    got_up = [float(v[0]) for v in BOUNDS["quadratic.theorem5_constant_upper"].func(**args)]
    got_low = [float(v[0]) for v in BOUNDS["quadratic.theorem5_constant_lower"].func(**args)]
    np.testing.assert_allclose(got_up, [exact, up], rtol=1e-12)
    np.testing.assert_allclose(got_low, [low, exact], rtol=1e-12)
