"""``python -m verification`` / ``theorytools-verify``: run the verification suite and write a report."""

from __future__ import annotations

import argparse
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
    args = ap.parse_args(argv)
    profile = args.profile or "quick"

    from verification.registry import select
    from verification.report import summary_table, write_report
    from verification.runner import FAMILY_WISE_ALPHA, any_failed, run_checks, summary_counts

    checks = select(args.only)
    if args.list:
        for c in checks:
            print(f"{c.name:<48} {c.kind:<13} {c.source}\n{'':<48} rule: {c.rule}")
            if c.twin:
                print(f"{'':<48} deterministic twin: {c.twin}")
        return 0
    if not checks:
        print(f"no check matches {args.only!r}; use --list", file=sys.stderr)
        return 2
    alpha = FAMILY_WISE_ALPHA if args.alpha is None else args.alpha
    if not 0 < alpha < 1:
        ap.error(f"--alpha must be in (0, 1), got {alpha}")

    def log(r):
        print(f"  {r.verdict.status:<8} {r.check} [{r.instance}] ({r.seconds:.2f} s)", flush=True)

    t0 = time.perf_counter()
    print(f"theorytools verification: profile={profile} seed={args.seed} checks={len(checks)}", flush=True)
    results = run_checks(profile, args.only, args.seed, alpha, log=log)
    elapsed = time.perf_counter() - t0
    meta = {"profile": profile, "seed": args.seed, "family_wise_alpha": alpha, "seconds": round(elapsed, 2),
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


if __name__ == "__main__":
    sys.exit(main())
