"""Speed of the deep-linear natural gradient (issue: deep linear networks, section 9), measured side by side in one run.

1. Eq. 10 (two n x n pseudo-inverses per layer) against the exact Fisher pseudo-inverse, ``-pinv(F) grad`` with
   ``F`` the P x P matrix of eq. 22, on 16 layers of width 20 (P = 6400) where claim (b) holds; also against the
   library's ``natural_gradient`` (a minimum-norm least-squares solve on the whitened Jacobian, n^2 x P).
   Goals: total-map velocities agree to <= 1e-8 relative; Eq. 10 >= 1000x faster than the Fisher pseudo-inverse.
   The layers are random orthogonal matrices times diag(U[0.8, 1.25]) so that the 16-fold product, and F, stay
   well conditioned (Gaussian layers give kappa(W) ~ 1e8 and F's pseudo-inverse then loses every digit).
2. Per-step cost of online NGD (Eq. 20) with Sherman-Morrison inverse estimates against SGD's, same minibatch (M = 20),
   at width 100 (8 layers).  Goal: within 3x.  NGD with damped eigendecomposition inverses (``pinv``; damping kept
   >= 1e-2 because M = 20 < n makes the minibatch covariances singular) for reference.  The NGD runs use s2 = 1 so
   that one damping suits both covariances (the cost does not depend on s2).
3. One online NGD step's linear algebra with OpenBLAS's default threads against one thread (``online._run`` pins one).

Usage: python benchmarks/bench_deeplinear.py [--quick]   (--quick: 8 layers of width 12, P = 1152, for a smoke test)
BLAS runs on one thread (threadpoolctl when installed, else the environment variables must be set before start).
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import median_time, one_blas_thread

from theorytools.deeplinear import DeepLinearNet, instances, online


def _orthogonalish(n, rng):
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return (Q * np.sign(np.diag(R))) * rng.uniform(0.8, 1.25, n)


def bench_eq10(L, n, repeats):
    rng = np.random.default_rng(0)
    Sx, So = instances.spd(n, rng), instances.spd(n, rng)
    net = DeepLinearNet([_orthogonalish(n, rng) for _ in range(L)], Sx, So, rng.standard_normal((n, n)) @ Sx)
    print(f"\n1. Eq. 10 vs the exact Fisher pseudo-inverse: L = {L}, width {n}, P = {net.P}, kappa(W) = {np.linalg.cond(net.W):.3g}")

    def eq10():
        fresh = net.with_weights(net.weights)  # no cached products
        return fresh.total_map_velocity(fresh.eq10_update())

    def lstsq():
        fresh = net.with_weights(net.weights)
        return fresh.total_map_velocity(fresh.natural_gradient())

    def fisher_pinv():
        fresh = net.with_weights(net.weights)
        F = fresh.fisher()
        return fresh.total_map_velocity(-np.linalg.pinv(F, rtol=F.shape[0] * np.finfo(float).eps, hermitian=True)
                                        @ fresh.gradient())

    t10, dW10 = median_time(eq10, repeats)
    tls, dWls = median_time(lstsq, max(1, repeats // 5))
    tF, dWF = median_time(fisher_pinv, 1)
    rel = lambda a, b: float(np.linalg.norm(a - b) / np.linalg.norm(b))  # noqa: E731
    print(f"   {'route':44s} {'seconds':>10s} {'ratio to Eq. 10':>16s} {'|dW - dW(pinv F)| / |dW|':>26s}")
    for name, t, dW in (("Eq. 10 (two n x n pseudo-inverses per layer)", t10, dW10),
                        ("natural_gradient (lstsq on whitened J)", tls, dWls),
                        ("-pinv(F) grad (P x P eigendecomposition)", tF, dWF)):
        print(f"   {name:44s} {t:10.4g} {t / t10:16.1f} {rel(dW, dWF):26.2e}")
    print(f"   goals: agreement <= 1e-8: {'met' if rel(dW10, dWF) <= 1e-8 else 'NOT met'}; "
          f"speed-up >= 1000x: {'met' if tF / t10 >= 1000 else 'NOT met'} ({tF / t10:.0f}x)")


def bench_online(n, L, M, steps):
    rng = np.random.default_rng(1)
    widths = (n,) * (L + 1)
    data, start = online_data(widths, rng, M * steps)
    print(f"\n2. per-step cost at width {n}, {L} layers, minibatch M = {M}, {steps} steps")
    rows = {}
    for name, run in (
        ("SGD", lambda net: online.train_sgd(net, data, 1e-3, M=M, examples=M * steps, eval_every=M * steps)),
        ("NGD, Sherman-Morrison", lambda net: online.train_ngd(net, data, 1.0, alpha=0.1, M=M, examples=M * steps,
                                                                eval_every=M * steps, inverse="sherman_morrison", eta=0.1)),
        ("NGD, damped eigh inverses", lambda net: online.train_ngd(net, data, 1.0, alpha=0.1, M=M, examples=M * steps,
                                                                    eval_every=M * steps, lam0=1.0, lam_min=1e-2)),
    ):
        rows[name] = run(online.MLP([W.copy() for W in start])).seconds[-1] / steps
    print(f"   {'method':28s} {'ms / step':>10s} {'ratio to SGD':>13s}")
    for name, t in rows.items():
        print(f"   {name:28s} {1e3 * t:10.3f} {t / rows['SGD']:13.2f}")
    r = rows["NGD, Sherman-Morrison"] / rows["SGD"]
    print(f"   goal: Sherman-Morrison NGD within 3x of SGD per step: {'met' if r <= 3 else 'NOT met'} ({r:.2f}x)")


def online_data(widths, rng, n_train):
    X = rng.standard_normal((n_train, widths[0]))
    WT = np.linalg.multi_dot(instances.random_layers(widths, rng)[::-1] + [np.eye(widths[0])])
    Y = X @ WT.T + 1e-3 * rng.standard_normal((n_train, widths[-1]))
    return (X, Y, X[:100], Y[:100]), instances.random_layers(widths, rng)


def bench_threads(width, M, repeats):
    """The linear algebra of one online NGD step (a layer's minibatch covariances, their damped inverses, the
    direction) with OpenBLAS's default threads against one thread: why ``online._run`` pins BLAS to one thread."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(3)
    H, E, G = rng.standard_normal((M, width)), rng.standard_normal((M, width)), rng.standard_normal((width, width))

    def step():
        inv_in = online._damped_inverse(H.T @ H / M, 0.1)
        inv_err = online._damped_inverse(E.T @ E / M, 0.1)
        return inv_err @ G @ inv_in

    with threadpool_limits(None):
        t_all, _ = median_time(step, repeats)
    with threadpool_limits(1):
        t_one, _ = median_time(step, repeats)
    print(f"\n3. One NGD step's linear algebra, width {width}, M = {M}: default BLAS threads {t_all * 1e3:.3f} ms, "
          f"one thread {t_one * 1e3:.3f} ms (ratio {t_all / t_one:.2f})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    with one_blas_thread():
        run(args.quick)
    for width in (20, 100):  # section 3 sets the threads itself
        bench_threads(width, 500, 50 if args.quick else 200)


def run(quick: bool):
    if quick:
        bench_eq10(8, 12, 5)
        bench_online(30, 4, 20, 100)
    else:
        bench_eq10(16, 20, 9)
        bench_online(100, 8, 20, 300)


if __name__ == "__main__":
    main()
