"""Run checks, decide statistical verdicts with run-wide error control, collect results."""

from __future__ import annotations

import reprlib
import time
import traceback
import zlib
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from scipy import stats

from theorytools.errors import HypothesisError
from theorytools.linalg import as_array, as_bool, as_callable, as_choice, as_float, as_instance, as_int
from verification.registry import PROFILES, CheckModuleError, defined_at, load_modules, select
from verification.store import ResultStore, fingerprint
from verification.verdict import FAIL, PENDING, SKIPPED, Verdict

#: The largest seed: the result store keeps it as a SQLite INTEGER (64-bit signed).
MAX_SEED = 2**63 - 1

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
    """Holm's step-down procedure (Holm 1979, Scand. J. Statist. 6:65): ``(reject, adjusted_p)`` for each p-value.

    The family-wise error rate is at most alpha.  The adjusted p-value of the j-th smallest p (j = 0, 1, ...) is
    ``max_{i <= j} min(1, (m - i) p_(i))``.

    Parameters
    ----------
    p_values : array_like
        A vector of m p-values in [0, 1].
    alpha : float
        The family-wise error rate, in (0, 1).

    Returns
    -------
    reject : numpy.ndarray
        Booleans: ``adjusted_p <= alpha``.
    adjusted_p : numpy.ndarray
        The adjusted p-values, in the order of ``p_values``.

    Examples
    --------
    Sorted, the p-values 0.01, 0.03, 0.04 are multiplied by 3, 2, 1 and made non-decreasing: 0.03, 0.06, 0.06.

    >>> import numpy as np
    >>> from verification import holm
    >>> reject, adjusted = holm([0.01, 0.04, 0.03], alpha=0.05)
    >>> reject.tolist(), np.round(adjusted, 6).tolist()
    ([True, False, False], [0.03, 0.06, 0.06])
    """
    p = as_array("p_values", p_values, ndim=1, nonempty=False)
    if np.any((p < 0) | (p > 1)):
        i = int(np.argmax((p < 0) | (p > 1)))
        raise ValueError(f"p_values must be probabilities in [0, 1], entry {i} is {p[i]:g}")
    alpha = as_float("alpha", alpha, low=0.0, high=1.0, low_open=True, high_open=True)
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(p.size)
    adjusted[order] = np.maximum.accumulate(np.minimum(1.0, (p.size - np.arange(p.size)) * p[order]))
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
        verdict = _raised(chk, "check", exc)
    if not isinstance(verdict, Verdict):  # a bug of the check's code (e.g. a missing return), not a verdict
        raise CheckModuleError(f"{defined_at(chk.func)}: check {chk.name!r} returned {reprlib.repr(verdict)} on "
                               f"instance {inst.name!r}, not a Verdict")
    return Result(chk.name, chk.family, chk.kind, chk.source, inst.name, verdict, time.perf_counter() - t0)


def _raised(chk, what: str, exc: Exception) -> Verdict:
    return Verdict(FAIL, chk.kind, f"{what} raised {type(exc).__name__}: {exc}",
                   {"traceback": traceback.format_exc(limit=4)})


def _instances_of(chk, profile: str, seed: int) -> list:
    """The check's instances for (profile, seed), or a FAIL :class:`Result` if building them raised (like a check
    that raises: the check verified nothing).  Instances that are not a list of objects with distinct string names
    are a bug of the check's module: :class:`CheckModuleError` naming its instances function."""
    try:
        insts = chk.instances(profile, seed)
    except Exception as exc:  # noqa: BLE001 - reported as the check's FAIL, like an exception inside the check
        return Result(chk.name, chk.family, chk.kind, chk.source, "(instances)", _raised(chk, "instances", exc), 0.0)
    where = f"{defined_at(chk.instances)}: the instances of check {chk.name!r}"
    if isinstance(insts, (str, bytes, dict)) or not hasattr(insts, "__iter__"):
        raise CheckModuleError(f"{where} must be a list, got {reprlib.repr(insts)}")
    insts = list(insts)
    names = [getattr(i, "name", None) for i in insts]
    for i, name in zip(insts, names):
        if not isinstance(name, str) or not name:
            raise CheckModuleError(f"{where} must each have a non-empty string attribute `name`, got {reprlib.repr(i)}")
    twice = [n for n, c in Counter(names).items() if c > 1]
    if twice:
        raise CheckModuleError(f"{where} must have distinct names (they key the result store and the report), "
                               f"{twice[0]!r} is used more than once")
    return insts


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
    its workers must import (they are loaded here too).  Neither changes a verdict: the results are ordered, and
    decided, as in a serial run.

    Parameters
    ----------
    profile : str, default "quick"
        ``"quick"`` or ``"full"``: which instances the checks build.
    only : str, optional
        Patterns selecting checks (see :func:`~verification.select`); all checks when None.
    seed : int, default 0
        The run's seed; each (check, instance) gets its own stream from it.
    alpha : float, default 0.01
        The family-wise probability of a false FAIL among the statistical checks (Holm).
    log : callable, optional
        Called with each result as it is computed (and ``reused=True`` for results taken from the store).
    store : ResultStore, optional
        Keyword-only: where each raw verdict is saved.
    resume : bool, default False
        Keyword-only: reuse the stored verdicts whose fingerprint matches.
    client : dask.distributed.Client, optional
        Keyword-only: evaluate on a Dask cluster.
    modules : sequence of str, default ()
        Keyword-only: user check modules (importable names or ``.py`` paths) to load.

    Returns
    -------
    list of Result
        One result per (check, instance), statistical verdicts decided.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from verification import CHECKS, Verdict, check, run_checks
    >>> @check(source="arithmetic", family="example", kind="deterministic", rule="n + n == 2 n",
    ...        instances=lambda profile, seed: [SimpleNamespace(name=f"n={n}", n=n) for n in (1, 2)])
    ... def doubling(instance, rng):
    ...     return Verdict.close(instance.n + instance.n, 2 * instance.n, rtol=0.0)
    >>> [(r.instance, r.verdict.status) for r in run_checks(only="example.doubling")]
    [('n=1', 'PASS'), ('n=2', 'PASS')]
    >>> del CHECKS["example.doubling"]  # leave the registry as it was
    """
    profile = as_choice("profile", profile, PROFILES)
    seed = as_int("seed", seed, low=0, high=MAX_SEED)
    alpha = as_float("alpha", alpha, low=0.0, high=1.0, low_open=True, high_open=True)
    if log is not None:
        as_callable("log", log)
    if store is not None:
        as_instance("store", store, ResultStore)
    if as_bool("resume", resume) and store is None:
        raise ValueError("resume=True needs a store to reuse verdicts from, got store=None")
    if client is not None and not callable(getattr(client, "submit", None)):
        raise TypeError(f"client must be a dask.distributed.Client, got {reprlib.repr(client)}")
    load_modules(modules)
    entries = []  # (check, instance, index among the check's instances), or a finished Result
    for chk in select(only):
        insts = _instances_of(chk, profile, seed)
        entries += [insts] if isinstance(insts, Result) else [(chk, inst, j) for j, inst in enumerate(insts)]
    raw: list = [e if isinstance(e, Result) else None for e in entries]
    for r in raw:
        if r is not None and log:
            log(r)
    tasks = {i: e for i, e in enumerate(entries) if raw[i] is None}
    keys = {i: (chk.name, inst.name, profile, seed) for i, (chk, inst, _) in tasks.items()}
    fps = {i: fingerprint(chk, inst) if store is not None else None for i, (chk, inst, _) in tasks.items()}
    if store is not None and resume:
        for i in tasks:
            raw[i] = store.get(keys[i], fps[i])
            if raw[i] is not None and log:
                log(raw[i], reused=True)

    def finished(i, res):
        raw[i] = res
        if store is not None:
            store.put(keys[i], fps[i], res)
        if log:
            log(res)

    todo = [i for i in tasks if raw[i] is None]
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
