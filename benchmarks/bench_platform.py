"""The verification platform at scale (issue: Dask runs, resumable store), measured side by side in one run:

  1. Monte Carlo of the iteration of 001_7d31b3ff3a2f0401.txt §14 (eq. 19's update on a quadratic, n = 20, constant
     step) with 1e6 runs (1e5 with --quick): one thread, the default threads, and a Dask LocalCluster of 2 and 4
     single-threaded workers; wall times, speed-ups, and that all results are bit-identical;
  2. the verification suite (quick profile by default, --full for the full one), serial against --workers 2 and 4;
  3. resume after SIGKILL: a run of the suite killed once half of its verdicts are stored, then resumed; the work
     redone (verdicts recomputed) and the time of the two parts against an uninterrupted run.

Usage: python benchmarks/bench_platform.py [--quick] [--full]
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from theorytools.quadratic import Constant, random_problem, simulate

ROOT = Path(__file__).resolve().parent.parent


def _timed(f):
    t0 = time.perf_counter()
    out = f()
    return time.perf_counter() - t0, out


def monte_carlo(runs: int):
    from theorytools.montecarlo.cluster import local_client

    p = random_problem(20, 100.0, "I", "random", seed=0)
    run = lambda **kw: simulate(p, Constant(0.5 / p.lambda_1), k=[0, 10, 100, 1000], runs=runs, seed=1,  # noqa: E731
                                progress=False, **kw)
    rows = [("1 thread", *_timed(lambda: run(workers=1)))]
    rows.append((f"{min(os.cpu_count() or 1, 8)} threads (default)", *_timed(run)))
    for n in (2, 4):
        with local_client(n) as client:
            rows.append((f"LocalCluster, {n} workers", *_timed(lambda: run(client=client))))
    base = rows[0][1]
    print(f"\n1. simulate: n = 20, {runs:.0e} runs, 1000 steps ({os.cpu_count()} cores)")
    for label, t, res in rows:
        same = np.array_equal(res.mean, rows[0][2].mean) and np.array_equal(res.stderr, rows[0][2].stderr)
        print(f"   {label:<28} {t:8.2f} s  speed-up {base / t:5.2f}x  bit-identical: {same}")


def _verify(*args):
    cmd = [sys.executable, "-m", "verification", *map(str, args)]
    t, out = _timed(lambda: subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True))
    if out.returncode not in (0, 1):
        raise SystemExit(out.stderr)
    return t, out


def suite(profile: str, tmp: Path):
    print(f"\n2. theorytools-verify --{profile}: serial against a LocalCluster (wall time, report writing included)")
    base = None
    for label, extra in (("serial", []), ("--workers 2", ["--workers", 2]), ("--workers 4", ["--workers", 4])):
        t, _ = _verify(f"--{profile}", "--out", tmp / label.replace(" ", ""), *extra)
        base = base or t
        print(f"   {label:<14} {t:8.1f} s  speed-up {base / t:5.2f}x")


def resume(profile: str, tmp: Path):
    out = tmp / "killed"
    cmd = [sys.executable, "-m", "verification", f"--{profile}", "--out", str(out)]
    t_whole, _ = _verify(f"--{profile}", "--out", tmp / "whole")
    rows = sqlite3.connect(tmp / "whole" / "results.sqlite").execute("SELECT COUNT(*) FROM results").fetchone()[0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stored = 0
    while stored < rows // 2 and proc.poll() is None:
        time.sleep(0.1)
        try:
            stored = sqlite3.connect(out / "results.sqlite").execute("SELECT COUNT(*) FROM results").fetchone()[0]
        except sqlite3.Error:
            pass
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    t_killed = time.perf_counter() - t0
    at_kill = sqlite3.connect(out / "results.sqlite").execute("SELECT COUNT(*) FROM results").fetchone()[0]
    t_resume, res = _verify(f"--{profile}", "--out", out, "--resume")
    redone = sum(1 for line in res.stdout.splitlines() if line.startswith("  ") and "[" in line)
    print(f"\n3. resume after SIGKILL ({profile} profile, {rows} verdicts)")
    print(f"   uninterrupted {t_whole:.1f} s; killed after {t_killed:.1f} s with {at_kill} verdicts stored; resumed in "
          f"{t_resume:.1f} s, recomputing {redone} verdicts ({redone - (rows - at_kill)} of them beyond those not yet "
          "stored at the kill)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="1e5 Monte Carlo runs")
    ap.add_argument("--full", action="store_true", help="time the full verification profile (long)")
    args = ap.parse_args()
    monte_carlo(100_000 if args.quick else 1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        profile = "full" if args.full else "quick"
        suite(profile, Path(tmp))
        resume(profile, Path(tmp))


if __name__ == "__main__":
    main()
