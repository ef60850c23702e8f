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
          "max_evaluations", "stopped", "first_seen_evaluations", "first_seen_seconds", "seconds", "known_erratum"}


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
    strip = [{k: v for k, v in r.items() if not k.endswith("seconds") and k != "bound"} for r in runs]
    assert strip[0] == strip[1] == strip[2]


def test_the_budget_is_evaluations_so_a_slower_machine_gives_the_same_result():
    import time

    def slow(kappa, k):
        time.sleep(2e-4)  # a machine several times slower per evaluation
        return _tightened(kappa, k)

    fast = hunt(_declare(planted, space=SPACE, certify=_certify), budget=1, seed=5)
    slowed = hunt(_declare(slow, space=SPACE, certify=_certify), budget=1, seed=5)
    assert fast["stopped"] == "evaluations" and fast["max_evaluations"] == 200  # cut by the budget, not converged
    assert fast["evaluations"] <= fast["max_evaluations"] + 2 * 15  # one generation of 15 x 2 at most over
    assert {k: v for k, v in fast.items() if not k.endswith("seconds") and k != "bound"} == \
        {k: v for k, v in slowed.items() if not k.endswith("seconds") and k != "bound"}


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
    assert "trace" not in row and (out / row["figure"]).stat().st_size > 0  # the Tightness figure, linked
    md = (out / "report.md").read_text()
    assert f"[score]({row['figure']})" in md
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
    assert {k: v for k, v in serial.items() if not k.endswith("seconds")} == \
        {k: v for k, v in pooled.items() if not k.endswith("seconds")}


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
    assert ce["k"] == 1 and ce["kappa"] == 3  # the smallest integer kappa above 2.7421


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


def _feasible_points(b, count, seed=0, tries=200):
    """Up to ``count`` seeded random points of ``b``'s space inside its hypotheses (integers in their lowest decades,
    so that an O(k) certify route stays fast)."""
    from verification.hunt import _Objective

    rng, obj, out = np.random.default_rng(seed), _Objective(b), []
    for _ in range(tries):
        point = {}
        for name, dim in b.space.items():
            u = rng.uniform()
            point[name] = dim(u * 0.3).item() if dim.integer else dim(u).item()
        if obj.sides(point) is not None:
            out.append(point)
        if len(out) == count:
            break
    return out


def test_every_toolkit_bound_agrees_with_its_certify_route():
    toolkit = [b for b in select(None) if b.func.__module__.startswith("verification.")]
    assert set(_POINTS) <= {b.name for b in toolkit}
    for b in toolkit:
        if b.certify is None:
            continue
        points = ([_POINTS[b.name]] if b.name in _POINTS else []) + _feasible_points(b, 3)
        assert points, f"{b.name}: no point of its space meets its hypotheses"
        for point in points:
            args = {k: np.array([v]) for k, v in point.items()} if b.vectorized else point
            sides = [float(np.asarray(v).reshape(-1)[0]) for v in b.func(**args)]
            exact = [float(v) for v in b.certify(**point)]
            np.testing.assert_allclose(sides, exact, rtol=1e-9, atol=1e-14, err_msg=f"{b.name} at {point}")


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


def test_cli_hunt_on_dask_workers_gives_the_serial_report(tmp_path):
    pytest.importorskip("dask.distributed")
    only = "quadratic.proposition23_sum_printed,quadratic.theorem5_constant_lower"
    rows = []
    for extra, out in (([], tmp_path / "serial"), (["--workers", "2"], tmp_path / "dask")):
        assert main(["--hunt", "--only", only, "--budget", "1", "--out", str(out), *extra]) == 0
        rows.append([{k: v for k, v in r.items() if not k.endswith("seconds")}
                     for r in json.loads((out / "report.json").read_text())["hunt"]])
    assert rows[0] == rows[1] and [r["bound"] for r in rows[0]] == only.split(",")
    assert rows[0][0]["status"] == "violated" and rows[0][1]["status"] == "holds"


# -- Martens' Theorem 6, its consequences and Appendix D's inequalities (verification/checks/bounds_martens_*.py) -----
def _averaging_point(k, x, s, h):
    return {"k": k, **{f"x{i + 1}": v for i, v in enumerate(x)}, **{f"s{i + 1}": v for i, v in enumerate(s)},
            **{f"h{i + 1}": v for i, v in enumerate(h)}}


@pytest.mark.parametrize("k,x", [(1, (0.5, 1e-3, 0.9)), (37, (1e-6, 0.25, 0.999)), (10**9, (3e-8, 1e-4, 0.5))])
def test_theorem6_bounds_sides_are_the_library_s(k, x):
    """The vectorized transcription (alpha = 1, B = I, H = diag(x)) against the library's averaged_excess_risk,
    theorem6_bound, theorem6_BI_bound and flammarion_bach_bound on the dense problem."""
    import theorytools.quadratic as Q

    s, h = np.array([0.25, 1.0, 0.5]), np.array([0.75, 0.125, 1.0])
    x = np.array(x)
    p = Q.QuadraticProblem(np.diag(x), np.eye(3), np.diag(s), np.zeros(3), np.sqrt(2 * h / x))
    point = {key: np.array([v]) for key, v in _averaging_point(k, x, s, h).items()}
    exact = float(np.ravel(Q.averaged_excess_risk(p, 1.0, k))[0])
    for name, rhs in (("theorem6", Q.theorem6_bound(p, 1.0, k)),
                      ("theorem6_B_identity", Q.consequences.theorem6_BI_bound(p, k, alpha=1.0)),
                      ("flammarion_bach", Q.consequences.flammarion_bach_bound(p, 1.0, k))):
        lhs, r = BOUNDS[f"quadratic.{name}"].func(**point)
        np.testing.assert_allclose([lhs[0], r[0]], [exact, rhs], rtol=1e-12, err_msg=name)


def test_theorem6_with_B_hessian_and_harmonic_B_hessian_are_the_library_s():
    import theorytools.quadratic as Q

    H = np.diag([4.0, 0.5])
    p = Q.QuadraticProblem(H, H, np.diag([0.25, 0.75]), np.zeros(2), [0.5, -1.0])  # B = H
    s, h0 = float(np.trace(np.linalg.solve(H, p.Sigma_g))), p.h0
    for alpha, k in ((0.5, 7), (1e-3, 10**6)):
        lhs, rhs = BOUNDS["quadratic.theorem6_B_hessian"].func(np.array([k]), np.array([alpha]), np.array([alpha * s]),
                                                                np.array([h0]))
        exact = float(np.ravel(Q.averaged_excess_risk(p, alpha, k))[0])
        np.testing.assert_allclose([lhs[0], rhs[0]], [exact, Q.consequences.theorem6_BH_bound(p, k, alpha=alpha)],
                                   rtol=1e-12)
    a, k = 3.0, 50
    q = Q.QuadraticProblem(H, H, H, np.zeros(2), [0.5, -1.0])  # Sigma_g = H: tr(H^-1 Sigma_g) = 2
    lhs, rhs = BOUNDS["quadratic.harmonic_B_hessian"].func(k, a, q.h0 / 2)  # per unit of tr(H^-1 Sigma_g)
    first = 1.0 / (2.0 * (k + a))
    np.testing.assert_allclose([2 * (lhs + first), 2 * (rhs + first)],
                               [float(Q.excess_risk(q, Q.Harmonic(a), k)), Q.consequences.harmonic_BH_bound(q, a, k)],
                               rtol=1e-12)


_HOLD = ["quadratic.theorem6", "quadratic.theorem6_B_identity", "quadratic.theorem6_B_hessian",
         "quadratic.flammarion_bach", "quadratic.harmonic_B_hessian", "quadratic.lemma18_lower", "quadratic.lemma18_upper",
         "quadratic.corollary19_lower", "quadratic.corollary19_upper", "quadratic.lemma20", "quadratic.proposition22",
         "quadratic.proposition23_product"]


@pytest.mark.parametrize("name", _HOLD)
def test_martens_true_bounds_hold_and_are_tight_where_they_have_equality(name):
    r = hunt(name, budget=1, seed=0)
    assert r["status"] == "holds" and r["worst_ratio"] <= 1.0 + 1e-10, r


def test_flammarion_bach_is_loose_by_its_factor_8_in_the_noise_term():
    """Its noise term 4 alpha tr(Sigma_g) is at least 8x Theorem 6's floor alpha/4 tr((I - alpha H/2)^-1 Sigma_g), and
    its start term 2x eqn. 49's: the hunt's worst ratio stays far below 1 (about 0.2)."""
    r = hunt("quadratic.flammarion_bach", budget=2, seed=1)
    assert r["status"] == "holds" and r["worst_ratio"] < 0.5


# -- the accuracy hunt (verification/checks/bounds_accuracy.py) -------------------------------------------------------
@pytest.mark.parametrize("name,budget", [("accuracy.averaged_excess_risk", 2), ("accuracy.theorem5_constant_bounds", 2),
                                         ("accuracy.categorical_fisher_pinv", 1), ("accuracy.excess_risk_harmonic", 1)])
def test_closed_forms_are_as_accurate_as_documented(name, budget):
    r = hunt(name, budget=budget, seed=0)
    assert r["status"] == "holds" and r["worst_ratio"] < 1.0, r


def test_the_accuracy_hunt_finds_one_minus_q_formed_by_subtraction(monkeypatch):
    """The planted old form of Theorem 5's 1 - (1-eps)^2k (subtraction: eps_mach/(2k eps) relative at k eps small) is
    found, certified and shrunk to k = 1 with an eigenvalue near the space's 1e-12 end."""
    from theorytools.quadratic import theorem5

    right = theorem5._pow2k

    def subtracted(eps, k):
        q, _ = right(eps, k)
        return q, 1.0 - q

    monkeypatch.setattr(theorem5, "_pow2k", subtracted)
    r = hunt("accuracy.theorem5_constant_bounds", budget=5, seed=0)
    assert r["status"] == "violated" and r["certified"] and not r["known_erratum"]
    assert r["counterexample"]["k"] == 1 and min(r["counterexample"]["x1"], r["counterexample"]["x2"]) < 1e-6


def test_theorem5_constant_step_keeps_its_digits_at_tiny_alpha_lambda():
    """The accuracy hunt's counterexample to the old 1 - q: k = 1, alpha lambda = (1.1e-12, 1), Sigma_g = diag(0, 1),
    h(theta_0) on the second coordinate: l(1) = (1 - (1 - 1.1e-12)^2) / 2 to 1e-15 (was 1e-4 off)."""
    import theorytools.quadratic as Q

    x = 1.1e-12
    p = Q.QuadraticProblem(np.diag([x, 1.0]), np.eye(2), np.diag([0.0, 1.0]), np.zeros(2), [0.0, np.sqrt(2.0)])
    lower, _ = Q.theorem5_bounds(p, 1.0, 1)
    with mp.workdps(50):
        want = (1 - (1 - mp.mpf(x)) ** 2) / 2
    assert abs(lower - float(want)) <= 1e-15 * float(want)


def test_shrinking_writes_tiny_reals_in_few_digits():
    from verification.hunt import _roundings

    assert Fraction("1.1e-12") in _roundings(1.0754830904380532e-12)[:12]
    assert _roundings(0.5100012).index(Fraction(51, 100)) < _roundings(0.5100012).index(Fraction("0.510001"))


def test_trace_records_every_evaluation_and_the_figure_picks_the_parameters_that_matter():
    from verification.hunt_figure import influential

    def with_a_dummy(kappa, k, dummy):
        return _tightened(kappa, k)

    space = {"dummy": Real(0.0, 1.0), **SPACE}
    r = hunt(_declare(with_a_dummy, space=space, certify=lambda kappa, k, dummy: _certify(kappa, k)), budget=2,
             seed=0, trace=True)
    t = r["trace"]
    assert t["names"] == ["dummy", "kappa", "k"] and t["values"].shape == (r["evaluations"], 3)
    assert np.nanmax(t["score"]) == pytest.approx(r["score"])  # the reported worst point is among those evaluated
    assert sorted(influential(t)) == [1, 2]  # kappa and k, not the dummy


def test_scores_rank_every_sign_on_one_scale():
    """Ratios of positive sides, of negative sides (|rhs|/|lhs|), and sides of different signs (beyond every ratio):
    an exact 0 on the left ranks below any positive ratio, so a search is not drawn to it."""
    from verification.hunt import _ratio, _scores

    s = _scores([1.0, 2.0, -1.0, -2.0, 0.0, 1.0, 0.0, 0.0, 1e-300], [2.0, 1.0, -2.0, -1.0, 1.0, 0.0, -1.0, 0.0, 1e300])
    np.testing.assert_allclose(s[:4], [-np.log(2), np.log(2), np.log(2), -np.log(2)])
    assert s[4] < s[8] < s[0]  # lhs = 0 ranks below even a ratio of 1e-600
    assert s[5] > 1e3 and s[6] > 1e3 and s[7] == 0  # violated with rhs <= 0 < lhs or lhs = 0 > rhs; 0 <= 0 is tight
    assert _ratio(-1.0, -2.0) == pytest.approx(2.0) and _ratio(0.0, 1.0) == -1.0 and _ratio(1.0, 0.0) == 1.0


def test_proposition23_product_keeps_its_digits_at_long_horizons_and_small_b():
    """The hunt's uncertified 'violation' of Proposition 23's product (i = 751, k = 751 + 997975816, a = 669.888,
    b = 1.1e-3): the log formed by a shift of m = 1e9 lost 1e-5 of the product to cancellation; by the shift of b it
    keeps 1e-12 (against rising factorials at 50 digits)."""
    from theorytools.quadratic import lemmas

    i, m, a, b = 751, 997975816, 669.888, 7.823e-07 * (751 + 669.888 + 1)
    with mp.workdps(50):
        c = i + mp.mpf(a) + 1
        want = mp.rf(c - mp.mpf(b), m) / mp.rf(c, m)
    assert abs(lemmas.proposition23_product(i, i + m, a, b) - want) <= 1e-12 * want


def test_the_accuracy_hunt_finds_the_product_by_a_shift_of_m(monkeypatch):
    from theorytools.linalg import log_gamma_ratio
    from theorytools.quadratic import lemmas

    def shift_by_m(i, k, a, b):
        m, c = float(k - i), i + a + 1.0
        return log_gamma_ratio(c - b, m) - log_gamma_ratio(c, m)

    monkeypatch.setattr(lemmas, "_proposition23_log_product", shift_by_m)
    r = hunt("accuracy.proposition23_product", budget=5, seed=0)
    assert r["status"] == "violated" and r["certified"] and r["counterexample"]["m"] > 10**4


def test_mpf_exact_takes_the_stored_value_and_refuses_bad_input_by_name():
    from verification.hunt import mpf_exact

    with mp.workdps(40):
        assert mpf_exact(0.1) == mp.mpf(Fraction(0.1).numerator) / Fraction(0.1).denominator != mp.mpf("0.1")
        assert mpf_exact(Fraction(10**400, 3)) * 3 == mp.mpf(10) ** 400
    with pytest.raises(TypeError, match="x must be an int, a Fraction or a float"):
        mpf_exact("0.1")
    with pytest.raises(ValueError, match="x must be finite"):
        mpf_exact(float("inf"))
