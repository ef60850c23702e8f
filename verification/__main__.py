"""``python -m verification`` / ``theorytools-verify``: run the verification suite and write a report."""

from __future__ import annotations

import argparse
import contextlib
import platform
import sys
import time
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="theorytools-verify", description=__doc__)
    prof = ap.add_mutually_exclusive_group()
    prof.add_argument("--quick", action="store_const", const="quick", dest="profile", help="CI profile (default)")
    prof.add_argument("--full", action="store_const", const="full", dest="profile", help="full-size instances")
    ap.add_argument("--only", metavar="PATTERN", help="run checks whose name matches (glob or substring)")
    ap.add_argument("--seed", type=int, default=0, help="seed of instances and Monte Carlo streams (default 0)")
    ap.add_argument("--out", type=Path, default=Path("verification-report"), help="output directory")
    ap.add_argument("--list", action="store_true", help="list the checks and exit")
    ap.add_argument("--alpha", type=float, default=None, help="family-wise false-failure rate (default 0.01)")
    ap.add_argument("--module", action="append", default=[], metavar="MODULE",
                    help="also load the @check functions of MODULE (an importable name or a .py file); repeatable")
    ap.add_argument("--resume", action="store_true",
                    help="reuse the verdicts stored in OUT/results.sqlite whose code and parameters still match")
    dist = ap.add_mutually_exclusive_group()
    dist.add_argument("--workers", type=int, metavar="N", help="run (check, instance) pairs on a Dask LocalCluster of N workers")
    dist.add_argument("--scheduler", metavar="ADDRESS", help="run them on an existing Dask cluster (e.g. tcp://host:8786)")
    ap.add_argument("--version", action="version", version=f"theorytools-verify {_version()}")
    args = ap.parse_args(argv)
    profile = args.profile or "quick"
    if args.workers is not None and args.workers < 1:
        ap.error(f"--workers must be >= 1, got {args.workers}")

    from verification.registry import load_modules, select
    from verification.report import summary_table, write_report
    from verification.runner import FAMILY_WISE_ALPHA, any_failed, run_checks, summary_counts
    from verification.store import ResultStore, StoreError

    try:
        load_modules(args.module)
    except ValueError as exc:
        ap.error(str(exc))
    checks = select(args.only)
    if args.list:
        for c in checks:
            print(f"{c.name:<48} {c.kind:<13} {c.source}\n{'':<48} rule: {c.rule}")
            if c.twin:
                print(f"{'':<48} deterministic twin: {c.twin}")
            if c.erratum:
                print(f"{'':<48} erratum: {c.erratum}")
        return 0
    if not checks:
        print(f"no check matches {args.only!r}; use --list", file=sys.stderr)
        return 2
    alpha = FAMILY_WISE_ALPHA if args.alpha is None else args.alpha
    if not 0 < alpha < 1:
        ap.error(f"--alpha must be in (0, 1), got {alpha}")

    reused = []

    def log(r, reused_=False):
        if reused_:
            reused.append(r)
            return
        print(f"  {r.verdict.status:<8} {r.check} [{r.instance}] ({r.seconds:.2f} s)", flush=True)

    try:
        store = ResultStore(args.out / "results.sqlite")
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    where = f" workers={args.workers}" if args.workers else (f" scheduler={args.scheduler}" if args.scheduler else "")
    print(f"theorytools verification: profile={profile} seed={args.seed} checks={len(checks)}{where}", flush=True)
    with _dask_client(args.workers, args.scheduler) as client:
        results = run_checks(profile, args.only, args.seed, alpha, log=lambda r, reused=False: log(r, reused),
                             store=store, resume=args.resume, client=client, modules=tuple(args.module))
    store.close()
    if args.resume:
        print(f"resumed: {len(reused)} verdicts reused from {args.out / 'results.sqlite'}", flush=True)
    elapsed = time.perf_counter() - t0
    meta = {"profile": profile, "seed": args.seed, "modules": list(args.module), "family_wise_alpha": alpha, "seconds": round(elapsed, 2),
            "python": platform.python_version(), "numpy": np.__version__}
    paths = write_report(results, args.out, meta)
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
    except ImportError as exc:
        raise SystemExit("--workers/--scheduler need dask.distributed: pip install 'theorytools[distributed]'") from exc
    if scheduler is not None:
        with Client(scheduler) as client:
            yield client
        return
    from theorytools.montecarlo.cluster import local_client

    with local_client(workers) as client:
        yield client


if __name__ == "__main__":
    sys.exit(main())
