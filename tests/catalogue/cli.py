"""Catalogue entries of the ``verification`` package (see :mod:`catalogue`): the ``@check`` decorator, ``select``,
``run_checks``, ``holm``, the ``Verdict`` constructors, and the hunt's ``@bound``, ``hunt`` and parameter spaces."""

from __future__ import annotations

from catalogue import Entry
from catalogue.kinds import (CALLABLE, CHI2, CHOICE, COUNT, FAMILY, FLAG, FRACTION, LOG_ABSCISSA, MODULES, NONE, NONNEG,
                             NONNEG_ENTRIES, NUMBER, OBJECT, OBJECTS, OPTIONAL_TEXT, PATTERN, POSITIVE, PROBABILITIES,
                             PROBABILITY, REAL, S_COMPLEX, S_NAN, SEED, STRING, TEXT, UNIT, VECTOR, VECTOR_1D, Kind)

from verification import (Certificate, Erratum, Integer, LogInteger, LogReal, Reading, Real, Step, bound, holm, proof,
                          run_checks, select)
from verification.hunt import BOUNDS, hunt, hunt_all
from verification.registry import check
from verification.verdict import Verdict

RESULT = ("nan", "inf")
WHY_RESULT = ("NaN or inf in a compared value is the result under test, not bad input: the verdict FAILs and names "
              "the non-finite values (tests/test_verification.py::test_non_finite_values_never_pass)")


def _pending():
    return Verdict("PENDING", "statistical", "estimate vs exact", p_value=0.02)


ENTRIES = [
    Entry("verification.registry.check",
          lambda: (check, dict(source="a user's lemma", family="userfam", kind="deterministic", rule="|x| <= 1",
                               instances=lambda profile, seed: [], hypotheses="", name="bounded", twin="", erratum="")),
          {"source": TEXT, "family": FAMILY, "kind": CHOICE, "rule": TEXT, "instances": CALLABLE,
           "hypotheses": OPTIONAL_TEXT, "name": TEXT, "twin": OPTIONAL_TEXT, "erratum": OPTIONAL_TEXT},
          accepts={"name": ("none",)}, why="name=None means the decorated function's name"),
    Entry("verification.registry.select", lambda: (select, dict(only="fisher.tengrad")), {"only": PATTERN},
          accepts={"only": ("none",)}, why="only=None selects every check"),
    Entry("verification.runner.run_checks",
          lambda: (run_checks, dict(profile="quick", only="fisher.tengrad", seed=0, alpha=0.01,
                                    log=lambda r, reused=False: None, store=None, resume=False, client=None, modules=())),
          {"profile": CHOICE, "only": PATTERN, "seed": SEED, "alpha": UNIT, "log": CALLABLE, "store": OBJECT,
           "resume": FLAG, "client": OBJECT, "modules": MODULES},
          accepts={"only": ("none",), "store": ("none",), "client": ("none",)},
          why="only=None runs every check; store=None keeps no result store; client=None runs serially",
          names={"modules": "module"}),
    Entry("verification.runner.holm", lambda: (holm, dict(p_values=[0.01, 0.2, 0.04], alpha=0.05)),
          {"p_values": PROBABILITIES, "alpha": UNIT},
          accepts={"p_values": ("empty",)}, why="no p-value is a family of no test: nothing is rejected"),
    Entry("verification.verdict.Verdict",
          lambda: (Verdict, dict(status="PASS", kind="deterministic", message="agrees", details={}, series={},
                                 p_value=0.5)),
          {"status": CHOICE, "kind": CHOICE, "message": TEXT, "details": OBJECT, "series": OBJECT,
           "p_value": PROBABILITY},
          accepts={"p_value": ("none",)}, why="p_value=None: a verdict that is not statistical"),
    Entry("verification.verdict.Verdict.decided", lambda: (_pending().decided, dict(reject=False, adjusted_p=0.04)),
          {"reject": FLAG, "adjusted_p": PROBABILITY}),
    Entry("verification.verdict.Verdict.with_series",
          lambda: (Verdict.measured("m").with_series,
                   dict(k=[1.0, 2.0, 4.0], exact=[1.0, 0.5, 0.25], xlabel="k", paths={"a": ([0.0, 1.0], [1.0, 2.0])})),
          {"k": VECTOR_1D, "exact": VECTOR_1D, "xlabel": OPTIONAL_TEXT, "paths": OBJECT},
          accepts={"exact": ("nan", "inf")},
          why="a NaN or inf in a curve is drawn as a gap (non-positive values on a log axis become NaN too)"),
    Entry("verification.verdict.Verdict.within",
          lambda: (Verdict.within, dict(value=[1.0, 2.0, 3.0], lower=[0.5, 1.5, 2.5], upper=[1.5, 2.5, 3.5],
                                        rtol=1e-12, what="risk")),
          {"value": VECTOR, "lower": VECTOR, "upper": VECTOR, "rtol": NONNEG, "what": TEXT},
          accepts={"value": RESULT, "lower": RESULT, "upper": RESULT}, why=WHY_RESULT),
    Entry("verification.verdict.Verdict.close",
          lambda: (Verdict.close, dict(value=[1.0, 2.0], reference=[1.0, 2.0], rtol=1e-12, atol=0.0, what="risk")),
          {"value": VECTOR, "reference": VECTOR, "rtol": NONNEG, "atol": NONNEG, "what": TEXT},
          accepts={"value": RESULT, "reference": RESULT}, why=WHY_RESULT),
    Entry("verification.verdict.Verdict.all_of",
          lambda: (Verdict.all_of, dict(verdicts=[Verdict.close(1.0, 1.0, 1e-12)], summary="both routes")),
          {"verdicts": OBJECTS, "summary": TEXT}),
    Entry("verification.verdict.Verdict.skipped", lambda: (Verdict.skipped, dict(reason="B not SPD", kind="order")),
          {"reason": TEXT, "kind": CHOICE}),
    Entry("verification.verdict.Verdict.statistical",
          lambda: (Verdict.statistical, dict(estimate=[1.0, 2.0], stderr=[0.1, 0.1], exact=[1.05, 1.9], runs=100,
                                             what="mean", skewness=[0.1, 0.2], studentized=True)),
          {"estimate": VECTOR, "stderr": NONNEG_ENTRIES, "exact": VECTOR, "runs": COUNT, "what": TEXT,
           "skewness": VECTOR, "studentized": FLAG},
          accepts={"estimate": RESULT, "stderr": RESULT, "exact": RESULT, "skewness": RESULT + ("none",)},
          why=WHY_RESULT + "; skewness=None: no skew correction"),
    Entry("verification.verdict.Verdict.at_most",
          lambda: (Verdict.at_most, dict(estimate=[1.0, 2.0], stderr=[0.1, 0.1], bound=[1.5, 2.5], runs=100,
                                         what="E|v|^2")),
          {"estimate": VECTOR, "stderr": NONNEG_ENTRIES, "bound": VECTOR, "runs": COUNT, "what": TEXT},
          accepts={"estimate": RESULT, "stderr": RESULT, "bound": RESULT}, why=WHY_RESULT),
    Entry("verification.verdict.Verdict.chi_square",
          lambda: (Verdict.chi_square, dict(statistic=[9.5, 11.0], dof=10, what="spread")),
          {"statistic": CHI2, "dof": COUNT, "what": TEXT},
          accepts={"statistic": RESULT}, why=WHY_RESULT),
    Entry("verification.verdict.Verdict.measured", lambda: (Verdict.measured, dict(message="loss 0.43")),
          {"message": TEXT}),
    Entry("verification.verdict.Verdict.order",
          lambda: (Verdict.order, dict(x=[0.1, 0.05, 0.025, 0.0125], y=[0.01, 0.0025, 0.000625, 0.00015625],
                                       predicted=2.0, level=0.99, tol=0.05, what="slope", at_least=False)),
          {"x": LOG_ABSCISSA, "y": VECTOR_1D, "predicted": REAL, "level": UNIT, "tol": NONNEG, "what": TEXT,
           "at_least": FLAG},
          accepts={"y": RESULT}, why=WHY_RESULT),
]
EXEMPT = []

_CERT = dict(instance="a = b = 1, k = 3000", printed=False, corrected=True, arithmetic="exact rationals (sympy)",
             detail="1/2 > 1/3")
_ERRATUM = dict(category="false", finding="the printed inequality is false", seed="001_7d31b3ff3a2f0401.txt",
                line=1835, passage="Proposition 23.", evidence="a = b = 1, k = 3000",
                certify=lambda: Certificate(**_CERT))
_READING = dict(seed="003_34787a2226c5cf0a.txt", line=625, passage="We generated Σ", followed="i = 0..n_0 - 1",
                others="i = 1..n_0", consequence="Sigma scales by a constant")
_STEP = dict(claim="x^2 >= 0", line=1835, checked=True, holds=True, how="")
ENTRIES += [
    Entry("verification.errata.Certificate", lambda: (Certificate, dict(_CERT)),
          {"instance": TEXT, "printed": FLAG, "corrected": FLAG, "arithmetic": TEXT, "detail": OPTIONAL_TEXT}),
    Entry("verification.errata.Erratum", lambda: (Erratum, dict(_ERRATUM)),
          {"category": CHOICE, "finding": TEXT, "seed": TEXT, "line": COUNT, "passage": TEXT, "evidence": TEXT,
           "certify": CALLABLE}),
    Entry("verification.errata.Reading", lambda: (Reading, dict(_READING)),
          {"seed": TEXT, "line": COUNT, "passage": TEXT, "followed": TEXT, "others": TEXT, "consequence": TEXT}),
    Entry("verification.errata.Erratum.coerce", lambda: (Erratum.coerce, dict(erratum="a user's finding")),
          {"erratum": OPTIONAL_TEXT}),
    Entry("verification.audit.Step", lambda: (Step, dict(_STEP)),
          {"claim": TEXT, "line": COUNT, "checked": FLAG, "holds": FLAG, "how": OPTIONAL_TEXT}),
    Entry("verification.audit.proof",
          lambda: (proof, dict(statement="Lemma 1", seed="001_7d31b3ff3a2f0401.txt", line=1835, stated=["x real"],
                               used=["x real"], steps=[Step(**_STEP)], result="sound", family="userfam",
                               instances=lambda profile, seed: [], source="a user's paper", name="lemma1", erratum="")),
          {"statement": TEXT, "seed": TEXT, "line": COUNT, "stated": OBJECTS, "used": OBJECTS, "steps": OBJECTS,
           "result": TEXT, "family": FAMILY, "instances": CALLABLE, "source": TEXT, "name": TEXT,
           "erratum": OPTIONAL_TEXT},
          accepts={"name": ("none",), "stated": ("empty",), "used": ("empty",)},
          why="name=None means the decorated function's name; a statement may state, and its proof use, no "
              "hypothesis"),
]


#: an integer of either sign (an end of an Integer range)
INTEGER = Kind("integer", (FRACTION, S_NAN, STRING, NONE, S_COMPLEX))
#: a bound's parameter space: a non-empty dict of parameter name -> Real, LogReal, Integer or LogInteger
SPACE = Kind("space", (STRING, NONE, NUMBER, ("empty", lambda v, d: {}), ("wrong_value", lambda v, d: {"k": 3}),
                       ("bad_key", lambda v, d: {"1k": Integer(1, 3)})))


#: registered bound names: a bare string (read letter by letter) and a name no bound has
NAMES = Kind("names", (STRING, NONE, NUMBER, ("empty", lambda v, d: []), ("unknown", lambda v, d: ["no.such_bound"])))


def _tiny_bound():
    """A registered-then-removed bound (so that no --hunt run sees it): k/(k+1) <= 1 on k = 1..10."""
    bound(source="catalogue", space={"k": Integer(1, 10)}, family="catalogue")(_ratio)
    return BOUNDS.pop("catalogue._ratio")


def _ratio(k):
    return k / (k + 1), 1.0


ENTRIES += [
    Entry("verification.hunt.Real", lambda: (Real, dict(low=0.0, high=1.0)), {"low": REAL, "high": REAL}),
    Entry("verification.hunt.LogReal", lambda: (LogReal, dict(low=1e-3, high=1e3)),
          {"low": POSITIVE, "high": POSITIVE}),
    Entry("verification.hunt.Integer", lambda: (Integer, dict(low=-3, high=3)), {"low": INTEGER, "high": INTEGER}),
    Entry("verification.hunt.LogInteger", lambda: (LogInteger, dict(low=1, high=10**6)), {"low": COUNT, "high": COUNT}),
    Entry("verification.hunt.bound",
          lambda: (bound, dict(source="a user's lemma", hypotheses="", space={"k": Integer(1, 3)},
                               certify=lambda k: (0, 1), erratum="", name="tight", family="userfam", vectorized=False,
                               rate=50.0)),
          {"source": TEXT, "hypotheses": OPTIONAL_TEXT, "space": SPACE, "certify": CALLABLE, "erratum": OPTIONAL_TEXT,
           "name": TEXT, "family": FAMILY, "vectorized": FLAG, "rate": POSITIVE},
          accepts={"name": ("none",), "rate": ("none",)},
          why="name=None means the decorated function's name; rate=None the default EVALUATIONS_PER_SECOND"),
    Entry("verification.hunt.hunt", lambda: (hunt, dict(bound=_tiny_bound(), budget=0.5, seed=0, workers=1,
                                                        trace=False)),
          {"bound": OBJECT, "budget": POSITIVE, "seed": SEED, "workers": COUNT, "trace": FLAG}),
    Entry("verification.hunt.hunt_all",
          lambda: (hunt_all, dict(names=["quadratic.proposition22"], budget=0.05, seed=0, client=None, modules=(),
                                  log=None, trace=False)),
          {"names": NAMES, "budget": POSITIVE, "seed": SEED, "client": OBJECT, "modules": MODULES, "log": CALLABLE,
           "trace": FLAG},
          accepts={"names": ("empty",), "client": ("none",)},
          why="no names hunt nothing; client=None hunts here, one bound after another; log=None prints nothing",
          names={"modules": "module"}),
]
