"""Run checks, decide statistical verdicts with run-wide error control, collect results."""

from __future__ import annotations

import time
import traceback
import zlib
from dataclasses import dataclass, replace

import numpy as np

from theorytools.errors import HypothesisError
from verification.registry import select
from scipy import stats

from verification.verdict import FAIL, PENDING, SKIPPED, Verdict

#: Family-wise probability that a correct toolkit FAILs some statistical check in one run.
FAMILY_WISE_ALPHA = 0.01


@dataclass(frozen=True)
class Result:
    check: str
    family: str
    kind: str
    source: str
    instance: str
    verdict: Verdict
    seconds: float


def holm(p_values, alpha: float):
    """Holm's step-down procedure: ``(reject, adjusted_p)`` for each p-value; FWER <= alpha."""
    p = np.asarray(p_values, dtype=float)
    m = p.size
    order = np.argsort(p)
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted <= alpha, adjusted


def _rng_for(seed: int, check: str, instance: str) -> np.random.Generator:
    """An independent, reproducible stream per (seed, check, instance)."""
    key = [seed, zlib.crc32(check.encode()), zlib.crc32(instance.encode())]
    return np.random.default_rng(np.random.SeedSequence(key))


def run_checks(profile: str = "quick", only: str | None = None, seed: int = 0, alpha: float = FAMILY_WISE_ALPHA,
               log=None) -> list[Result]:
    """Run every selected check on its instances for ``profile``; return decided results."""
    results = []
    for chk in select(only):
        start = len(results)
        for inst in chk.instances(profile, seed):
            t0 = time.perf_counter()
            try:
                verdict = chk(inst, _rng_for(seed, chk.name, inst.name))
            except HypothesisError as exc:
                verdict = Verdict.skipped(f"hypotheses not met: {exc}", chk.kind)
            except Exception as exc:  # an erroring check must never read as a pass
                verdict = Verdict(FAIL, chk.kind, f"check raised {type(exc).__name__}: {exc}",
                                  {"traceback": traceback.format_exc(limit=4)})
            res = Result(chk.name, chk.family, chk.kind, chk.source, inst.name, verdict, time.perf_counter() - t0)
            results.append(res)
            if log:
                log(res)
        mine = results[start:]
        if mine and all(r.verdict.status == SKIPPED for r in mine):
            # Instances are built to satisfy the hypotheses; if none does, the check verified
            # nothing -- most likely a hypothesis test that rejects wrongly.
            results.append(replace(mine[0], instance="(all instances)", seconds=0.0, verdict=Verdict(
                FAIL, chk.kind, f"every one of the {len(mine)} instances was SKIPPED: the check verified nothing")))
    return decide(results, alpha)


def decide(results: list[Result], alpha: float = FAMILY_WISE_ALPHA) -> list[Result]:
    """Turn PENDING statistical verdicts into PASS/FAIL with Holm–Bonferroni over the whole run."""
    idx = [i for i, r in enumerate(results) if r.verdict.status == PENDING]
    if not idx:
        return results
    reject, adjusted = holm([results[i].verdict.p_value for i in idx], alpha)
    out = list(results)
    for j, i in enumerate(idx):
        v = out[i].verdict.decided(bool(reject[j]), float(adjusted[j]))
        out[i] = replace(out[i], verdict=_with_power(v, len(idx), alpha))
    return out


def _with_power(v: Verdict, tests: int, alpha: float) -> Verdict:
    """Add the smallest relative error of the mean the check is sure to detect: a bias of that size
    gives |z| above the strictest Holm threshold (Bonferroni over the run's tests and the check's points)."""
    level = alpha / (2.0 * tests * max(v.details.get("points", 1), 1))
    if "dof" in v.details:  # chi^2 on reported standard errors: the factor by which they must be off to be seen
        dof = v.details["dof"]
        large, small = np.sqrt(dof / stats.chi2.ppf(level, dof)), np.sqrt(stats.chi2.isf(level, dof) / dof)
        return replace(v, message=f"{v.message}; detects standard errors >= {large:.2f}x too large or {small:.2f}x too small",
                       details={**v.details, "detectable_stderr_factor": [float(large), float(small)]})
    rel_se = v.details.get("rel_stderr")
    if rel_se is None:
        return v
    z_star = float(stats.norm.isf(level))
    detect = z_star * rel_se
    return replace(v, message=f"{v.message}; detects relative errors >= {detect:.1%}",
                   details={**v.details, "min_detectable_rel_error": detect, "z_threshold": z_star})


def summary_counts(results: list[Result]) -> dict:
    counts: dict = {}
    for r in results:
        counts[r.verdict.status] = counts.get(r.verdict.status, 0) + 1
    return counts


def any_failed(results: list[Result]) -> bool:
    return any(r.verdict.status == FAIL for r in results)


__all__ = ["Result", "run_checks", "decide", "holm", "summary_counts", "any_failed", "FAMILY_WISE_ALPHA", "SKIPPED"]
