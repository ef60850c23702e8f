"""Speed of the hunt (issue 18, item 6), measured side by side in one run.

1. Theorem 5's constant-step bounds (001_7d31b3ff3a2f0401.txt §14.2; the registered bound
   ``quadratic.theorem5_constant_upper``, n = 3): evaluations per second of the sides for a whole differential-evolution
   population at once (150 points: popsize 15 x 10 parameters, the vectorized call the hunt makes) against the same
   bound one point at a time and against the library's route one point at a time (``QuadraticProblem`` +
   ``excess_risk`` + ``theorem5_bounds``, what a non-vectorized bound would do).  The sides agree to 1e-12.
2. The time to each known violation: every registered bound with an erratum, hunted from its statement's whole
   region with ``--budget`` (default 120 s, the issue's) for each of ``--seeds`` seeds: when the violation was first
   seen in floating point (evaluations, seconds), and the whole hunt with its certification and shrinking.

Usage: python benchmarks/bench_hunt.py [--quick] [--budget SECONDS] [--seeds N]
       (--quick: section 1 with fewer repeats, section 2 at budget 5 with 2 seeds)
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _timing import median_time, one_blas_thread

import theorytools.quadratic as Q
from verification.hunt import BOUNDS, describe, hunt, select


def _population(rng, size):
    b = BOUNDS["quadratic.theorem5_constant_upper"]
    return {name: (dim(rng.uniform(size=size) * 0.5) if dim.integer else dim(rng.uniform(size=size)))
            for name, dim in b.space.items()}


def _library(point):
    """Both sides by the library, for one point (B = I, alpha = 1, H = diag(x), Sigma_g = diag(s), h_i = d_i)."""
    x = np.array([point[f"x{i}"] for i in (1, 2, 3)])
    s = np.array([point[f"s{i}"] for i in (1, 2, 3)])
    d = np.array([point[f"d{i}"] for i in (1, 2, 3)])
    p = Q.QuadraticProblem(np.diag(x), np.eye(3), np.diag(s), np.zeros(3), np.sqrt(2.0 * d / x))
    k = int(point["k"])
    return float(Q.excess_risk(p, 1.0, k)), Q.theorem5_bounds(p, 1.0, k)[1]


def bench_vectorized(repeats):
    b = BOUNDS["quadratic.theorem5_constant_upper"]
    pop = _population(np.random.default_rng(0), 150)
    points = [{k: v[i] for k, v in pop.items()} for i in range(150)]
    t_vec, (lhs, rhs) = median_time(lambda: b.func(**pop), repeats)
    t_one, _ = median_time(lambda: [b.func(**{k: np.array([v]) for k, v in pt.items()}) for pt in points],
                           max(1, repeats // 10))
    t_lib, lib = median_time(lambda: [_library(pt) for pt in points], max(1, repeats // 10))
    gap = max(np.max(np.abs(lhs - [v[0] for v in lib]) / np.abs(lhs)),
              np.max(np.abs(rhs - [v[1] for v in lib]) / np.abs(rhs)))
    print("\n1. Theorem 5 (constant step, n = 3): evaluations per second, one population of 150 points")
    print(f"   {'route':<46}{'evaluations/s':>15}{'ratio':>10}")
    for name, t in (("vectorized over the population (the hunt)", t_vec), ("the same bound, one point at a time", t_one),
                    ("the library, one point at a time", t_lib)):
        print(f"   {name:<46}{150 / t:>15.4g}{t / t_vec:>10.1f}")
    print(f"   largest relative disagreement with the library: {gap:.2e} (goal <= 1e-12)")


def bench_known_violations(budget, seeds):
    known = [b for b in select(None) if b.erratum is not None]
    print(f"\n2. Known violations rediscovered from the whole region, budget {budget:g} s, seeds 0..{seeds - 1}")
    print(f"   {'bound':<48}{'seed':>5}{'status':>12}{'first seen':>22}{'whole hunt':>12}  counterexample")
    for b in known:
        for seed in range(seeds):
            t0 = time.perf_counter()
            r = hunt(b, budget=budget, seed=seed)
            whole = time.perf_counter() - t0
            first = ("never" if r["first_seen_evaluations"] is None else
                     f"{r['first_seen_evaluations']} ev, {r['first_seen_seconds']:.2f} s")
            print(f"   {b.name:<48}{seed:>5}{r['status']:>12}{first:>22}{whole:>10.1f} s  "
                  f"{describe(r['counterexample'])}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--budget", type=float, default=None)
    ap.add_argument("--seeds", type=int, default=None)
    args = ap.parse_args()
    budget = args.budget or (5.0 if args.quick else 120.0)
    seeds = args.seeds or (2 if args.quick else 5)
    select(None)  # load the registered bounds
    with one_blas_thread():
        bench_vectorized(20 if args.quick else 200)
        bench_known_violations(budget, seeds)


if __name__ == "__main__":
    main()
