"""Speed of the vectorized TANGO simulator (issue: TANGO, section 8), measured side by side in one run.

Figure 1's Gaussian model (data N(10, 1), start N(0, 1)), gamma = 1e-2, dt = 1e-4:

  1. run-steps per second of ``simulate_tango`` against a per-run Python loop (one run at a time, one step
     at a time, scalar arithmetic: what a researcher would write), goal >= 50x;
  2. the same against the bare cost of drawing its random numbers (a data sample y and a pseudo-sample y~
     per run-step, drawn as one (2, runs) array per step: the floor), goal within 2x;
  3. both at the engine's default block of 1024 runs and at larger blocks (the per-step Python overhead
     is per block, so larger blocks amortize it).

Usage: python benchmarks/bench_tango.py [--quick | --full]   (default 1e4 runs x 1e4 steps; --full 1e4 x 1e5,
the issue's size, with a progress bar; --quick 2048 x 2000)
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np

from theorytools.tango import GaussianModel, simulate_tango


def per_run_loop(model, gamma, dt, steps, runs, seed):
    """TANGO eqs 2-4 for one run at a time with Python floats."""
    rng = np.random.default_rng(seed)
    m, sd = model.data_mean, model.data_std
    out = []
    for _ in range(runs):
        mu, ls, v0, v1 = 0.0, 0.0, 0.0, 0.0
        z = rng.standard_normal((steps, 2))
        for j in range(steps):
            inv = math.exp(-ls)
            r = (m + sd * z[j, 0] - mu) * inv
            g0, g1 = -r * inv, 1.0 - r * r
            t0, t1 = -z[j, 1] * inv, 1.0 - z[j, 1] ** 2
            coef = v0 * t0 + v1 * t1
            keep = 1.0 - dt
            v0 = keep * v0 + gamma * g0 - gamma * keep * coef * t0
            v1 = keep * v1 + gamma * g1 - gamma * keep * coef * t1
            mu -= dt * v0
            ls -= dt * v1
        out.append((mu, ls))
    return np.array(out)


def bare_draws(runs, steps, block, seed):
    rng = np.random.default_rng(seed)
    for b in range(-(-runs // block)):
        n = min(block, runs - b * block)
        for _ in range(steps):
            rng.standard_normal((2, n))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true")
    g.add_argument("--full", action="store_true")
    args = ap.parse_args(argv)
    runs, steps = (2048, 2000) if args.quick else ((10_000, 100_000) if args.full else (10_000, 10_000))
    model, gamma, dt = GaussianModel(10.0, 1.0), 1e-2, 1e-4
    warnings.simplefilter("ignore")  # gamma |g~|^2 > 2 at the first steps of Figure 1's setting (sigma = 1, y ~ 10)

    loop_runs, loop_steps = 4, min(steps, 5000)
    t0 = time.perf_counter()
    per_run_loop(model, gamma, dt, loop_steps, loop_runs, 0)
    loop_rate = loop_runs * loop_steps / (time.perf_counter() - t0)
    print(f"TANGO, Gaussian model (Figure 1), {runs} runs x {steps} steps; per-run loop measured on {loop_runs} x {loop_steps}")
    print(f"{'block':>6} {'simulate (run-steps/s)':>24} {'vs per-run loop':>16} {'draws alone (run-steps/s)':>27} {'simulate / draws time':>22}")
    for block in (1024, 4096, 8192):
        t0 = time.perf_counter()
        res = simulate_tango(model, [0.0, 0.0], gamma, dt, steps, runs=runs, seed=1, k=[steps], block_size=block,
                             progress=args.full)
        t_sim = time.perf_counter() - t0
        t0 = time.perf_counter()
        bare_draws(runs, steps, block, 1)
        t_draw = time.perf_counter() - t0
        rate = runs * steps / t_sim
        print(f"{block:>6} {rate:>24.3e} {rate / loop_rate:>15.0f}x {runs * steps / t_draw:>27.3e} {t_sim / t_draw:>21.2f}x")
    print(f"final mean (mu, sigma) = ({res.theta_mean[0, 0]:.4f}, {np.exp(res.theta_mean[0, 1]):.4f}) at t = {steps * dt:g}")


if __name__ == "__main__":
    main()
