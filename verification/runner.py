"""Run checks, decide statistical verdicts with run-wide error control, collect results."""

from __future__ import annotations

import time
import traceback
import zlib
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from scipy import stats

from theorytools.errors import HypothesisError
from verification.registry import select
from verification.store import fingerprint
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


def evaluate(chk, inst, seed: int) -> Result:
    """One (check, instance) verdict, undecided (a statistical verdict stays PENDING).  BLAS runs on one thread, so the
    numbers do not depend on the thread count of whichever process evaluates it (serial run or Dask worker)."""
    from threadpoolctl import threadpool_limits

    t0 = time.perf_counter()
    try:
        with threadpool_limits(1):
            verdict = chk(inst, _rng_for(seed, chk.name, inst.name))
    except HypothesisError as exc:
        verdict = Verdict.skipped(f"hypotheses not met: {exc}", chk.kind)
    except Exception as exc:  # an erroring check must never read as a pass
        verdict = Verdict(FAIL, chk.kind, f"check raised {type(exc).__name__}: {exc}",
                          {"traceback": traceback.format_exc(limit=4)})
    return Result(chk.name, chk.family, chk.kind, chk.source, inst.name, verdict, time.perf_counter() - t0)


@lru_cache(maxsize=64)
def _instances(name: str, profile: str, seed: int) -> list:
    from verification.registry import CHECKS

    return CHECKS[name].instances(profile, seed)


def _evaluate_remote(name: str, profile: str, seed: int, index: int, modules: tuple) -> Result:
    """:func:`evaluate` on a Dask worker.  The worker imports the check modules (the toolkit's and ``modules``) once
    and rebuilds the check's instances from (profile, seed) -- they are seeded, hence the same as the client's -- so
    that nothing defined in a user's module has to be unpickled before that module is imported."""
    from verification.registry import CHECKS, load_all, load_modules

    load_all()
    load_modules(modules)
    return evaluate(CHECKS[name], _instances(name, profile, seed)[index], seed)


def run_checks(profile: str = "quick", only: str | None = None, seed: int = 0, alpha: float = FAMILY_WISE_ALPHA,
               log=None, *, store=None, resume: bool = False, client=None, modules=()) -> list[Result]:
    """Run every selected check on its instances for ``profile``; return decided results.

    ``store`` (a :class:`~verification.store.ResultStore`) receives each raw verdict as soon as it exists; with
    ``resume`` the stored verdicts whose fingerprint still matches are reused instead of recomputed.  ``client`` (a
    ``dask.distributed.Client``) evaluates the (check, instance) pairs as tasks; ``modules`` are the user check modules
    its workers must import.  Neither changes a verdict: the results are ordered, and decided, as in a serial run.
    """
    tasks = [(chk, inst, j) for chk in select(only) for j, inst in enumerate(chk.instances(profile, seed))]
    raw: list = [None] * len(tasks)
    keys = [(chk.name, inst.name, profile, seed) for chk, inst, _ in tasks]
    fps = [fingerprint(chk, inst) for chk, inst, _ in tasks] if store is not None else [None] * len(tasks)
    if store is not None and resume:
        for i, (key, fp) in enumerate(zip(keys, fps)):
            raw[i] = store.get(key, fp)
            if raw[i] is not None and log:
                log(raw[i], reused=True)

    def finished(i, res):
        raw[i] = res
        if store is not None:
            store.put(keys[i], fps[i], res)
        if log:
            log(res)

    todo = [i for i, r in enumerate(raw) if r is None]
    if client is None:
        for i in todo:
            finished(i, evaluate(tasks[i][0], tasks[i][1], seed))
    else:
        from dask.distributed import as_completed

        futures = {client.submit(_evaluate_remote, tasks[i][0].name, profile, seed, tasks[i][2], tuple(modules),
                                 pure=False): i for i in todo}
        for fut in as_completed(futures):
            finished(futures[fut], fut.result())
    return decide(_flag_all_skipped(raw), alpha)


def _flag_all_skipped(results: list[Result]) -> list[Result]:
    """After each check whose every instance was SKIPPED, a FAIL: instances are built to satisfy the hypotheses, so
    the check verified nothing -- most likely a hypothesis test that rejects wrongly."""
    out, by_check = [], {}
    for r in results:
        by_check.setdefault(r.check, []).append(r)
    for name, mine in by_check.items():
        out += mine
        if all(r.verdict.status == SKIPPED for r in mine):
            out.append(replace(mine[0], instance="(all instances)", seconds=0.0, verdict=Verdict(
                FAIL, mine[0].kind, f"every one of the {len(mine)} instances was SKIPPED: the check verified nothing")))
    return out


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


__all__ = ["Result", "run_checks", "evaluate", "decide", "holm", "summary_counts", "any_failed", "FAMILY_WISE_ALPHA", "SKIPPED"]
