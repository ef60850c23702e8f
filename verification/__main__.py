"""``python -m verification`` / ``theorytools-verify``: run the verification suite and write a report.

With ``--hunt`` it searches each registered bound for its worst case instead (:mod:`verification.hunt`): exit status
1 when a certified violation of a bound without a known erratum is found (a new finding), else 0.

Exit status: 0 when no check FAILed, 1 when one did, 2 for a usage error (a bad option, a check module that does not
import or defines a check wrongly, an output folder that cannot be written, a damaged result store), reported on one
line of stderr and before anything is written; 130 when interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

PROG = "theorytools-verify"
#: The most --workers per CPU: more processes only slow the run down and multiply its memory.
WORKERS_PER_CPU = 4


class UsageError(Exception):
    """A problem of the command line, the check modules or the output folder: one line, exit status 2."""


def main(argv=None) -> int:
    try:
        return _run(argv)
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # before the run started (the run reports where its verdicts are)
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout closed early (``--list | head``): stop quietly, as other command-line tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so that the exit flush does not fail again
        return 1


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    prof = ap.add_mutually_exclusive_group()
    prof.add_argument("--quick", action="store_const", const="quick", dest="profile", help="CI profile (default)")
    prof.add_argument("--full", action="store_const", const="full", dest="profile", help="full-size instances")
    ap.add_argument("--only", metavar="PATTERN",
                    help="run checks whose name matches (comma-separated globs or substrings)")
    ap.add_argument("--seed", type=_seed, default=0, help="seed of instances and Monte Carlo streams (default 0)")
    ap.add_argument("--out", type=Path, default=Path("verification-report"), help="output directory")
    ap.add_argument("--list", action="store_true", help="list the checks and exit")
    ap.add_argument("--alpha", type=_alpha, default=None,
                    help="family-wise false-failure rate in (0, 1) (default 0.01)")
    ap.add_argument("--module", action="append", default=[], metavar="MODULE",
                    help="also load the @check functions of MODULE (an importable name or a .py file); repeatable")
    ap.add_argument("--resume", action="store_true",
                    help="reuse the verdicts stored in OUT/results.sqlite whose code and parameters still match")
    dist = ap.add_mutually_exclusive_group()
    dist.add_argument("--workers", type=_workers, metavar="N",
                      help="run (check, instance) pairs on a Dask LocalCluster of N workers")
    dist.add_argument("--scheduler", type=_address, metavar="ADDRESS",
                      help="run them on an existing Dask cluster (e.g. tcp://host:8786)")
    ap.add_argument("--hunt", action="store_true",
                    help="search the registered bounds (@bound) for violations instead of running the checks")
    ap.add_argument("--budget", type=_budget, default=60.0, metavar="SECONDS",
                    help="with --hunt: search per bound, in nominal seconds of 200 evaluations each (the same seed gives the "
                         "same result on any machine; the wall clock stops a search at 5x; default 60)")
    ap.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    return ap


def _typed(parse):
    """An argparse ``type``: ``parse(text)`` with the validation layer's message (argparse prints it, exit 2)."""
    def convert(text):
        try:
            return parse(text)
        except (TypeError, ValueError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return convert


def _integer(name, text, **bounds):
    from theorytools.linalg import as_int

    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {text!r}") from None
    return as_int(name, value, **bounds)


@_typed
def _seed(text):
    from verification.runner import MAX_SEED

    return _integer("seed", text, low=0, high=MAX_SEED)


@_typed
def _workers(text):
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    n = _integer("workers", text, low=1)
    if n > WORKERS_PER_CPU * cpus:
        raise ValueError(f"workers must be <= {WORKERS_PER_CPU * cpus} ({WORKERS_PER_CPU} per CPU, {cpus} CPUs here: "
                         f"each worker is a process), got {n}; use --scheduler for a larger cluster")
    return n


def _number(name: str, text: str, what: str = "a number") -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name} must be {what}, got {text!r}") from None


@_typed
def _alpha(text):
    from theorytools.linalg import as_float

    return as_float("alpha", _number("alpha", text), low=0.0, high=1.0, low_open=True, high_open=True)


@_typed
def _budget(text):
    from theorytools.linalg import positive

    return positive("budget", _number("budget", text, "a number of seconds"))


@_typed
def _address(text):
    if not text.strip():
        raise ValueError("the scheduler address must not be empty (e.g. tcp://host:8786)")
    return text


def _run(argv) -> int:
    ap = _parser()
    args = ap.parse_args(argv)
    profile = args.profile or "quick"

    from verification.registry import CheckModuleError, load_modules, select
    from verification.report import summary_table, write_report
    from verification.runner import FAMILY_WISE_ALPHA, any_failed, run_checks, summary_counts
    from verification.store import ResultStore, StoreError

    try:
        load_modules(args.module)
    except ValueError as exc:  # CheckModuleError, or an empty --module
        raise UsageError(exc) from None
    if args.hunt:
        return _hunt(args)
    try:
        checks = select(args.only)
    except CheckModuleError as exc:  # an installed package's check module (entry point) that fails to load
        raise UsageError(exc) from None
    except ValueError as exc:  # only='...': no check matches ...
        raise UsageError(f"--{exc}; use --list") from None
    if args.list:
        for c in checks:
            print(f"{c.name:<48} {c.kind:<13} {c.source}\n{'':<48} rule: {c.rule}")
            if c.twin:
                print(f"{'':<48} deterministic twin: {c.twin}")
            if c.erratum:
                print(f"{'':<48} erratum ({c.erratum.category}): {c.erratum.finding}")
        return 0
    alpha = FAMILY_WISE_ALPHA if args.alpha is None else args.alpha

    reused = []

    def log(r, reused_=False):
        if reused_:
            reused.append(r)
            return
        print(f"  {r.verdict.status:<8} {r.check} [{r.instance}] ({r.seconds:.2f} s)", flush=True)

    _check_out(args.out)
    t0 = time.perf_counter()
    with _dask_client(args.workers, args.scheduler) as client:  # connected before anything is written
        try:
            store = ResultStore(args.out / "results.sqlite")
        except StoreError as exc:
            raise UsageError(exc) from None
        where = f" workers={args.workers}" if args.workers else (f" scheduler={args.scheduler}" if args.scheduler else "")
        print(f"theorytools verification: profile={profile} seed={args.seed} checks={len(checks)}{where}", flush=True)
        try:
            results = run_checks(profile, args.only, args.seed, alpha, log=lambda r, reused=False: log(r, reused),
                                 store=store, resume=args.resume, client=client, modules=tuple(args.module))
        except (StoreError, CheckModuleError) as exc:  # a damaged stored verdict, a check that returns no Verdict ...
            raise UsageError(exc) from None
        except KeyboardInterrupt:
            print(f"{PROG}: interrupted; the verdicts finished so far are kept in {store.path} (--resume reuses them)",
                  file=sys.stderr)
            return 130
        finally:
            store.close()
    if args.resume:
        print(f"resumed: {len(reused)} verdicts reused from {args.out / 'results.sqlite'}", flush=True)
    elapsed = time.perf_counter() - t0
    meta = {"profile": profile, "seed": args.seed, "modules": list(args.module), "family_wise_alpha": alpha, "seconds": round(elapsed, 2),
            "python": platform.python_version(), "numpy": np.__version__}
    try:
        paths = write_report(results, args.out, meta)
    except OSError as exc:
        raise UsageError(f"cannot write the report to {args.out}: {exc} (the verdicts are kept in "
                         f"{args.out / 'results.sqlite'}: rerun with --resume and another --out)") from None
    print()
    print(summary_table(results))
    counts = summary_counts(results)
    print("\n" + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) + f"  ({elapsed:.1f} s)")
    print(f"report: {paths['md']}  {paths['json']}  figures: {len(paths['figures'])} in {args.out}")
    failed = any_failed(results)
    if failed:
        for r in results:
            if r.verdict.status == "FAIL":
                print(f"FAIL {r.check} [{r.instance}]: {r.verdict.message}", file=sys.stderr)
    return 1 if failed else 0


def _hunt(args) -> int:
    """``--hunt``: each selected bound searched for ``--budget`` seconds; the report's "Tightness" section."""
    from verification.hunt import describe, hunt_all, select
    from verification.registry import CheckModuleError
    from verification.report import hunt_label, write_report

    try:
        bounds = select(args.only)
    except CheckModuleError as exc:
        raise UsageError(exc) from None
    except ValueError as exc:  # only='...': no bound matches ...
        raise UsageError(f"--{exc}; use --hunt --list") from None
    if args.list:
        for b in bounds:
            print(f"{b.name:<48} {b.source}\n{'':<48} hypotheses: {b.hypotheses or 'none'}; space: "
                  + ", ".join(f"{k} in {v!r}" for k, v in b.space.items()))
        return 0
    _check_out(args.out)
    where = f" workers={args.workers}" if args.workers else (f" scheduler={args.scheduler}" if args.scheduler else "")
    print(f"theorytools hunt: seed={args.seed} budget={args.budget:g} s bounds={len(bounds)}{where}", flush=True)
    t0 = time.perf_counter()

    def log(r):
        ratio = "" if r["worst_ratio"] is None else f"worst ratio {r['worst_ratio']:.6g} at {describe(r['point'])}"
        found = f"; counterexample {describe(r['counterexample'])}" if r["counterexample"] else ""
        print(f"  {hunt_label(r):<30} {r['bound']} {ratio}{found} ({r['seconds']:.1f} s)", flush=True)

    with _dask_client(args.workers, args.scheduler) as client:
        rows = hunt_all([b.name for b in bounds], args.budget, args.seed, client=client,
                        modules=tuple(args.module), log=log, trace=True)
    meta = {"mode": "hunt", "seed": args.seed, "budget_per_bound": args.budget, "modules": list(args.module),
            "seconds": round(time.perf_counter() - t0, 2), "python": platform.python_version(),
            "numpy": np.__version__}
    try:
        paths = write_report([], args.out, meta, hunt=rows)
    except OSError as exc:
        raise UsageError(f"cannot write the report to {args.out}: {exc}") from None
    print(f"report: {paths['md']}  {paths['json']}")
    new = [r for r in rows if r["status"] == "violated" and not r["known_erratum"]]
    for r in new:
        print(f"NEW VIOLATION {r['bound']}: {describe(r['counterexample'])}: {r['certificate']}", file=sys.stderr)
    return 1 if new else 0


def _check_out(out: Path) -> None:
    """Refuse an --out that cannot hold the report and the result store, before anything is written: a file, a path
    through a file, a read-only folder (the nearest existing one when OUT is still to be created), read-only files of
    an earlier run."""
    existing = out.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"--out {out}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: the folder {existing} is read-only; choose another --out")
    for name in ("results.sqlite", "report.json", "report.md"):
        f = out / name
        if f.exists() and not os.access(f, os.W_OK):
            raise UsageError(f"--out {out}: {f} is read-only; choose another --out or make it writable")


def _version() -> str:
    from theorytools import __version__

    return __version__


@contextlib.contextmanager
def _dask_client(workers, scheduler):
    """A ``dask.distributed`` client for ``--workers``/``--scheduler``, else None (and no Dask import)."""
    if workers is None and scheduler is None:
        yield None
        return
    try:
        from dask.distributed import Client
    except ImportError:
        raise UsageError("--workers/--scheduler need dask.distributed: pip install 'theorytools[distributed]'") \
            from None
    if scheduler is not None:
        try:
            client = Client(scheduler)
        except (OSError, ValueError, TypeError) as exc:  # a malformed address, nothing listening, a timeout
            raise UsageError(f"--scheduler {scheduler!r}: cannot connect ({' '.join(str(exc).split())})") from None
        with client:
            yield client
        return
    from theorytools.montecarlo.cluster import local_client

    with local_client(workers) as client:
        yield client


if __name__ == "__main__":
    sys.exit(main())
