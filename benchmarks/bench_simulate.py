"""Throughput and memory of the Monte Carlo simulator (issue: Monte Carlo simulators).

Prints, measured side by side in one run on this machine:
  1. coordinate-steps per second of ``simulate`` vs a straightforward per-run Python loop (goal >= 100x);
  2. the same vs the bare cost of drawing the same standard normals (the floor; goal >= 50%);
  3. peak memory for 1e5 runs, n = 100, moments at 50 log-spaced k (goal <= 2 GB) -- measured at two
     horizons to show it does not grow with the number of steps;
  4. thread oversubscription (issue: platform): n = 50, 4000 runs, dense Sigma_g, at default settings, with one
     thread, and with one thread and BLAS left at its default thread count (the behaviour before the engine limited
     BLAS to one thread), each as a fraction of the normal-drawing floor (goal >= 50% at default settings).

Usage: python benchmarks/bench_simulate.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np

from theorytools.montecarlo import BLOCK
from theorytools.quadratic import Constant, random_problem
from theorytools.quadratic.simulation import default_ks, simulate


def median_time(fn, repeats=3):
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def python_loop(p, alpha, runs, steps, seed):
    """The baseline a researcher would write: one run at a time, theta in the original coordinates."""
    rng = np.random.default_rng(seed)
    Binv = np.linalg.inv(p.B)
    L = np.linalg.cholesky(p.Sigma_g + 1e-300 * np.eye(p.n))
    out = np.empty(runs)
    for r in range(runs):
        th = p.theta0.copy()
        for _ in range(steps):
            g = p.H @ (th - p.theta_star) + L @ rng.standard_normal(p.n)
            th = th - alpha * (Binv @ g)
        d = th - p.theta_star
        out[r] = 0.5 * d @ p.H @ d
    return out.mean()


def bare_normals(runs, steps, r, seed):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        rng.standard_normal((min(runs, BLOCK), r))


def peak_memory_child(runs, n, steps):
    """Run one simulation in a fresh process and return its peak RSS in MB."""
    code = (
        "import resource, numpy as np\n"
        "from theorytools.quadratic import Constant, random_problem\n"
        "from theorytools.quadratic.simulation import default_ks, simulate\n"
        f"p = random_problem({n}, 100.0, 'I', 'random', seed=0)\n"
        f"ks = default_ks({steps}, 50)\n"
        f"simulate(p, Constant(0.5 / p.lambda_1), ks, runs={runs}, seed=0, workers=2, progress=False)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def oversubscription(quick: bool):
    import contextlib

    import theorytools.montecarlo.engine as engine

    p = random_problem(50, 100.0, "I", "random", seed=0)
    al, runs, steps = 0.5 / p.lambda_1, 4000, (200 if quick else 1000)
    t_floor = median_time(lambda: bare_normals(runs, steps * runs // min(runs, BLOCK), 50, 1))
    run = lambda **kw: simulate(p, Constant(al), [steps], runs=runs, seed=1, progress=False, **kw)  # noqa: E731
    t_default, t_one = median_time(run), median_time(lambda: run(workers=1))
    limits = engine.threadpool_limits
    engine.threadpool_limits = lambda n: contextlib.nullcontext()  # BLAS back at its default thread count
    try:
        t_before = median_time(lambda: run(workers=1))
    finally:
        engine.threadpool_limits = limits
    print(f"\nThread oversubscription: n = 50, {runs} runs, {steps} steps, dense Sigma_g (fraction of the floor)")
    print(f"  default settings ({min(os.cpu_count() or 1, 8)} threads, BLAS 1 thread): {t_floor / t_default:6.0%}")
    print(f"  workers = 1, BLAS 1 thread:                    {t_floor / t_one:6.0%}")
    print(f"  workers = 1, BLAS default threads (before):    {t_floor / t_before:6.0%}")
    print("  goal: >= 50% at default settings")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes, < 1 minute")
    args = ap.parse_args()
    print(f"numpy {np.__version__}, python {sys.version.split()[0]}")
    rows = []
    for n, sigma in ((10, "random"), (100, "random"), (100, "H")):
        p = random_problem(n, 100.0, "I" if sigma == "random" else "H", sigma, seed=0)
        al = 0.5 / p.lambda_1
        runs, steps = (2 * BLOCK, 200) if args.quick else (4 * BLOCK, 1000)
        loop_runs = 20 if args.quick else 50
        t_sim = median_time(lambda: simulate(p, Constant(al), [steps], runs=runs, seed=1, progress=False))
        t_loop = median_time(lambda: python_loop(p, al, loop_runs, steps, 1), repeats=1) * runs / loop_runs
        r = n if sigma == "random" else n  # standard normals per run-step (rank of Sigma_g, or n diagonal)
        t_norm = median_time(lambda: bare_normals(runs, steps * runs // min(runs, BLOCK), r, 1))
        cs = runs * steps * n
        rows.append((n, sigma, cs / t_sim, cs / t_loop, t_loop / t_sim, t_norm / t_sim))
    print("\nThroughput (coordinate-steps per second; Gaussian noise, constant step)")
    print(f"{'n':>4} {'Sigma_g':>8} {'simulate':>12} {'python loop':>12} {'speedup':>9} {'normals floor / sim':>20}")
    for n, sigma, a, b, c, d in rows:
        print(f"{n:>4} {sigma:>8} {a:>12.3e} {b:>12.3e} {c:>8.0f}x {d:>19.0%}")
    print("  goal: speedup >= 100x; simulate reaches >= 50% of the bare normal-drawing rate")

    oversubscription(args.quick)

    runs = 10_000 if args.quick else 100_000
    print(f"\nPeak memory, {runs} runs, n = 100, moments at 50 log-spaced k (fresh process each)")
    for steps in ((10, 50) if args.quick else (10, 100)):
        print(f"  horizon {steps:>6} steps: peak RSS {peak_memory_child(runs, 100, steps):8.1f} MB")
    print("  (independent of the horizon: nothing of size runs x steps is stored; the goal for 1e5 steps is <= 2 GB)")


if __name__ == "__main__":
    main()
