"""Per-layer damped NGD directions (002_add1c097d251ec63.txt eqs 39-43), measured side by side in one run: the explicit
damped block inverse, its Woodbury form (eq. 28, forms J) and TENGraD (eqs 41-43, never forms J), at batch m = 128.

Goal (issue: Fisher geometry, section 7): TENGraD and the explicit block give the same update (<= 1e-10 relative) and
TENGraD is >= 10x faster at layer width 256.  A 256 x 256 layer has P = 65536 parameters, and its explicit P x P block
(34 GB) does not fit in this machine's 24 GB, so the explicit route is timed on 256 x d_out layers with d_out = 4, 8, 16
(P up to 4096) and TENGraD and Woodbury also on the full 256 x 256 layer, where they are checked against each other.

Second part, Figure 5 of the paper (§4.4): seconds and peak traced memory of one update direction of exact NGD (eq. 36,
P x P), block-diagonal NGD (eq. 39, explicit blocks), TENGraD and SGD on nets of width-20 hidden layers as the depth
(hence P) grows, with the ratios to TENGraD measured in the same run.

Usage: python benchmarks/bench_fisher.py [--quick]
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import median_time, one_blas_thread

from theorytools.fisher import damped_block_direction, experiments


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    with one_blas_thread():
        run(args.quick)
        figure5(args.quick)


def run(quick: bool):
    d_in, m, beta = (64, 32, 1e-3) if quick else (256, 128, 1e-3)
    outs = (2, 4) if quick else (4, 8, 16)
    rng = np.random.default_rng(0)
    print(f"damped block direction (J^T J / m + beta I)^-1 u, d_in = {d_in}, m = {m}, beta = {beta:g}")
    print(f"{'d_out':>6} {'P':>7} {'explicit s':>11} {'woodbury s':>11} {'tengrad s':>10} {'explicit/tengrad':>17} "
          f"{'|tengrad - explicit|/|explicit|':>32}")
    for d_out in outs:
        I, G, u = rng.standard_normal((d_in, m)), rng.standard_normal((d_out, m)), rng.standard_normal(d_in * d_out)
        te, ex = median_time(lambda: damped_block_direction(I, G, u, beta, "explicit"), 1)
        tw, _ = median_time(lambda: damped_block_direction(I, G, u, beta, "woodbury"), 5)
        tt, tg = median_time(lambda: damped_block_direction(I, G, u, beta, "tengrad"), 9)
        rel = float(np.linalg.norm(tg - ex) / np.linalg.norm(ex))
        print(f"{d_out:6d} {d_in * d_out:7d} {te:11.4g} {tw:11.4g} {tt:10.4g} {te / tt:17.0f} {rel:32.2e}")
    d_out = d_in
    I, G, u = rng.standard_normal((d_in, m)), rng.standard_normal((d_out, m)), rng.standard_normal(d_in * d_out)
    tw, wb = median_time(lambda: damped_block_direction(I, G, u, beta, "woodbury"), 3)
    tt, tg = median_time(lambda: damped_block_direction(I, G, u, beta, "tengrad"), 5)
    print(f"\nfull {d_in} x {d_out} layer, P = {d_in * d_out}: explicit block needs {8 * (d_in * d_out) ** 2 / 1e9:.1f} GB "
          f"(not run); woodbury {tw:.4g} s, tengrad {tt:.4g} s ({tw / tt:.1f}x), |tengrad - woodbury|/|woodbury| = "
          f"{np.linalg.norm(tg - wb) / np.linalg.norm(wb):.2e}")



def figure5(quick: bool):
    res = experiments.scaling("quick" if quick else "full")
    tg = dict(zip(res["tengrad"]["P"], zip(res["tengrad"]["seconds"], res["tengrad"]["bytes"])))
    print("\nFigure 5: one update direction, batch 128, width-20 hidden layers (seconds, peak MB, ratio to TENGraD)")
    print(f"{'P':>6} " + " ".join(f"{m + ' s':>16} {'MB':>7} {'/tengrad':>8}" for m in experiments.SCALING_METHODS))
    for P, (t_ref, b_ref) in tg.items():
        cells = []
        for m in experiments.SCALING_METHODS:
            r = res[m]
            hit = np.flatnonzero(r["P"] == P)
            if hit.size:
                t, b = r["seconds"][hit[0]], r["bytes"][hit[0]]
                cells.append(f"{t:16.4g} {b / 1e6:7.2f} {t / t_ref:8.2f}")
            else:
                cells.append(f"{'(not run)':>16} {'':>7} {'':>8}")
        print(f"{P:6d} " + " ".join(cells))
    slopes = {m: np.polyfit(np.log(r["P"]), np.log(r["seconds"]), 1)[0] for m, r in res.items() if len(r["P"]) > 1}
    print("log-log slope of seconds in P: " + ", ".join(f"{m} {s:.2f}" for m, s in slopes.items()))


if __name__ == "__main__":
    main()
