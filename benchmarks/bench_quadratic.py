#!/usr/bin/env python
"""Speed and accuracy of the exact quadratic-model curves (``theorytools.quadratic``) against brute force.

Run from the repository root::

    python benchmarks/bench_quadratic.py            # full run, a few minutes
    python benchmarks/bench_quadratic.py --quick    # reduced sizes, < 30 s (smoke test)

Everything is measured side by side in one run, because the machine is shared and noisy:
each time is the median of interleaved repeats (the column ``n`` says how many; slow items are
capped by a per-item time budget, so a few get fewer repeats), and every ratio divides two
medians taken in the same run.  Nothing here is a pass/fail test; the ``goal`` columns only
compare against the targets of the design (DESIGN.md, "Speed targets live in benchmarks/").

Sections (section 2 runs first, in a child process, see ``maxrss_bytes``)
-------------------------------------------------------------------------
1. Exact risk curves for k = 0..K against the dense O(n^3)-per-step recursion
   ``V_{k+1} = D_k V_k D_k^T + alpha_k^2 U``, ``m_{k+1} = D_k m_k``, ``D_k = I - alpha_k B^-1 H``
   (001_7d31b3ff3a2f0401.txt eqn. 20: ``1/2 tr(H V_k) + 1/2 m_k^T H m_k``), for a constant step,
   a harmonic step and the Polyak average (eqn. 38 with the covariances of eqn. 39, summed by
   running sums).  Goals: speed-up >= 1000x, max relative disagreement <= 1e-10.
2. n = 2000, k = 0..1e5, constant step: construction of ``QuadraticProblem`` (validation,
   generalized eigensolve, projections) plus the curve, goal <= 5 s in total; peak memory
   (tracemalloc, ru_maxrss of a fresh child process); ``scipy.linalg.eigh(H, B)`` drivers.
3. Operators of Martens' algebra at n = 40: eigenbasis multiplier vs the n^2 x n^2 Kronecker matrix.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
import tracemalloc

_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _set_blas_threads(argv) -> str:
    """BLAS threads must be fixed before numpy is imported.  ``--threads N`` wins, then an already set
    OPENBLAS_NUM_THREADS / OMP_NUM_THREADS, else 1: on a shared, loaded machine a threaded BLAS
    spin-waits for descheduled threads (measured here: a 200x200 product 4.5x slower with 2 threads
    than with 1 at load average 4 on 2 cores), which would inflate the dense baselines."""
    val = None
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            val = argv[i + 1]
        elif a.startswith("--threads="):
            val = a.split("=", 1)[1]
    if val is None:
        preset = [os.environ[v] for v in _THREAD_VARS if v in os.environ]
        if preset:
            return f"{preset[0]} (from the environment)"
        val = "1"
    if val == "0":
        return "library default (--threads 0)"
    for v in _THREAD_VARS:
        os.environ[v] = val  # inherited by the section-2 child process
    return f"{val} (set by this script before importing numpy; --threads N to change, 0 = library default)"


_BLAS_THREADS = _set_blas_threads(sys.argv[1:])

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.linalg  # noqa: E402

from theorytools.linalg import as_symmetric, check_definite, generalized_eigh  # noqa: E402
from theorytools.quadratic import (  # noqa: E402
    Constant,
    Harmonic,
    QuadraticProblem,
    averaged_excess_risk,
    excess_risk,
    operators,
    random_problem,
)

FULL = dict(
    n1=200, K1=10_000, K_avg=1_000, n2=2000, K2=100_000, n3=40,
    repeats=3, fast_repeats=7, budget_s=40.0,
)
QUICK = dict(
    n1=40, K1=2_000, K_avg=300, n2=300, K2=10_000, n3=12,
    repeats=3, fast_repeats=5, budget_s=2.0,
)
KAPPA = 1e3
GOAL_SPEEDUP = 1000.0
GOAL_RTOL = 1e-10
GOAL_N2_TOTAL_S = 5.0


# ----------------------------------------------------------------------------------------------
# timing helpers
# ----------------------------------------------------------------------------------------------
class Timing:
    """Per-call seconds of several samples; ``number`` calls were averaged inside each sample."""

    def __init__(self, samples, number):
        self.samples = list(samples)
        self.number = number

    @property
    def median(self) -> float:
        return float(np.median(self.samples))

    @property
    def n(self) -> int:
        return len(self.samples)

    def cell(self) -> str:
        lo, hi = min(self.samples), max(self.samples)
        spread = f" [{fmt_t(lo)}..{fmt_t(hi)}]" if self.n > 1 and hi > 1.15 * lo else ""
        return f"{fmt_t(self.median)}{spread}"


def measure(fns: dict, repeats: int, budget_s: float, min_sample_s: float = 0.05):
    """Time several callables with interleaved repeats (A, B, A, B, ...).

    The first call of each is a warm-up (caches, page faults); its result is returned.  A call
    lasting more than 0.5 s counts as a sample itself.  Fast callables are looped so a sample lasts
    >= ``min_sample_s``.  Repeats stop early once ``budget_s`` has passed (at least one sample each).
    Returns ``({name: Timing}, {name: first result})``.
    """
    results, samples, number = {}, {}, {}
    t_start = time.perf_counter()
    for name, fn in fns.items():
        t0 = time.perf_counter()
        results[name] = fn()
        dt = time.perf_counter() - t0
        samples[name] = [dt] if dt > 0.5 else []
        number[name] = 1 if dt >= min_sample_s else max(1, math.ceil(min_sample_s / max(dt, 1e-7)))
    for _ in range(repeats):
        if all(len(s) >= repeats for s in samples.values()):
            break
        if all(samples.values()) and time.perf_counter() - t_start > budget_s:
            break
        for name, fn in fns.items():
            if len(samples[name]) >= repeats:
                continue
            m = number[name]
            t0 = time.perf_counter()
            for _ in range(m):
                fn()
            samples[name].append((time.perf_counter() - t0) / m)
    return {k: Timing(v, number[k]) for k, v in samples.items()}, results


def traced_peak(fn) -> int:
    """Peak bytes allocated (tracemalloc; numpy arrays are traced) during one call of ``fn``."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def maxrss_bytes() -> int:
    """``ru_maxrss`` of this process.  On Linux it survives fork/exec: a child starts from its parent's
    peak, which is why section 2 runs first, while the parent is still small."""
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r if sys.platform == "darwin" else r * 1024  # Linux reports KiB


def vm_hwm_bytes() -> int | None:
    """Peak resident set of this process's own address space (Linux ``VmHWM``; not inherited)."""
    try:
        with open("/proc/self/status") as fh:
            for ln in fh:
                if ln.startswith("VmHWM:"):
                    return int(ln.split()[1]) * 1024
    except OSError:
        pass
    return None


def fmt_t(s: float) -> str:
    if s >= 1.0:
        return f"{s:.3g} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    return f"{s * 1e6:.3g} us"


def fmt_b(b: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if b >= scale:
            return f"{b / scale:.3g} {unit}"
    return f"{b:.0f} B"


def fmt_x(r: float) -> str:
    return f"{r:.3g}x" if r < 1e4 else f"{r:.2e}x"


def max_rel(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), np.finfo(float).tiny)))


def table(header, rows) -> str:
    cols = list(zip(header, *rows))
    widths = [max(len(str(c)) for c in col) for col in cols]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


# ----------------------------------------------------------------------------------------------
# machine information
# ----------------------------------------------------------------------------------------------
def machine_info() -> list[str]:
    lines = [
        f"python {platform.python_version()}  numpy {np.__version__}  scipy {scipy.__version__}  "
        f"platform {platform.platform()}",
    ]
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as fh:
            for ln in fh:
                if ln.startswith("model name"):
                    cpu = ln.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    lines.append(f"cpu: {cpu}; os.cpu_count() = {os.cpu_count()}, usable by this process = {usable}; load avg {load}")
    lines.append(f"BLAS threads: {_BLAS_THREADS}")
    try:
        from threadpoolctl import threadpool_info

        for d in threadpool_info():
            lines.append(
                f"BLAS (threadpoolctl): {d.get('internal_api')} {d.get('version')} threads={d.get('num_threads')} "
                f"arch={d.get('architecture')} lib={os.path.basename(d.get('filepath', ''))}"
            )
    except ImportError:
        for mod in (np, scipy):
            try:
                deps = mod.show_config(mode="dicts")["Build Dependencies"]
                for kind in ("blas", "lapack"):
                    d = deps.get(kind, {})
                    lines.append(
                        f"{mod.__name__} {kind}: {d.get('name')} {d.get('version')} "
                        f"({d.get('openblas configuration', '').strip() or 'n/a'})  [threadpoolctl not installed]"
                    )
            except Exception as exc:  # show_config's layout varies across versions
                lines.append(f"{mod.__name__} BLAS: unavailable ({exc!r})")
    return lines


# ----------------------------------------------------------------------------------------------
# brute-force baselines (section 1): dense n x n recursions, no eigendecomposition
# ----------------------------------------------------------------------------------------------
def dense_risk_curve(p, alphas) -> np.ndarray:
    """``E[h(theta_k)] - h*`` for k = 0..len(alphas) by the dense recursion (eqn. 20).

    ``V_{k+1} = D_k V_k D_k^T + alpha_k^2 U``, ``m_{k+1} = D_k m_k`` with ``D_k = I - alpha_k B^-1 H``,
    ``V_0 = 0``, ``m_0 = theta_0 - theta*``; value ``1/2 tr(H V_k) + 1/2 m_k^T H m_k``.
    Two n x n BLAS products per step, written into preallocated buffers.
    """
    A, H, U = p.BinvH, p.H, p.U
    n, K = p.n, len(alphas)
    eye = np.eye(n)
    V = np.zeros((n, n))
    W = np.empty((n, n))
    D = np.empty((n, n))
    m = p.theta0 - p.theta_star
    out = np.empty(K + 1)
    out[0] = 0.5 * (m @ (H @ m))
    constant = K > 0 and bool(np.all(alphas == alphas[0]))
    if constant:
        np.subtract(eye, alphas[0] * A, out=D)
        aaU = alphas[0] ** 2 * U
    for k in range(K):
        if not constant:
            np.subtract(eye, alphas[k] * A, out=D)
            aaU = alphas[k] ** 2 * U
        np.matmul(D, V, out=W)
        np.matmul(W, D.T, out=V)
        V += aaU
        m = D @ m
        out[k + 1] = 0.5 * (np.vdot(H, V) + m @ (H @ m))  # vdot(H, V) = tr(H V), both symmetric
    return out


def dense_averaged_risk_curve(p, alpha: float, K: int) -> np.ndarray:
    """``E[h(theta_bar_k)] - h*`` for k = 0..K, ``theta_bar_k = mean(theta_0..theta_k)``, constant step.

    eqn. 38 with ``bar V_k = (k+1)^-2 sum_{i,j<=k} Cov(theta_i, theta_j)`` and eqn. 39
    ``Cov(theta_i, theta_j) = V_i D^{(j-i)T}`` (j >= i), ``D = I - alpha B^-1 H``.  The double sum is
    kept as running sums: with ``C_k = sum_{i<=k} D^{k-i} V_i`` (so ``D C_k = sum_{i<=k} Cov(theta_{k+1}, theta_i)``),

        S_{k+1} = S_k + V_{k+1} + D C_k + (D C_k)^T,      C_{k+1} = D C_k + V_{k+1},

    of which only ``tr(H S_k)`` is kept.  Three n x n products per step.
    """
    A, H, U = p.BinvH, p.H, p.U
    n = p.n
    D = np.eye(n) - alpha * A
    aaU = alpha**2 * U
    V = np.zeros((n, n))
    C = np.zeros((n, n))
    W = np.empty((n, n))
    G = np.empty((n, n))
    trHS = 0.0
    m = p.theta0 - p.theta_star
    msum = m.copy()
    out = np.empty(K + 1)
    out[0] = 0.5 * (m @ (H @ m))
    for k in range(K):
        np.matmul(D, C, out=G)  # sum_{i<=k} Cov(theta_{k+1}, theta_i)
        np.matmul(D, V, out=W)
        np.matmul(W, D.T, out=V)  # V_{k+1} = D V_k D^T + alpha^2 U
        V += aaU
        trHS += np.vdot(H, V) + 2.0 * np.vdot(H, G)  # tr(H (G + G^T)) = 2 tr(H G)
        np.add(G, V, out=C)
        m = D @ m
        msum += m
        mbar = msum / (k + 2)
        out[k + 1] = 0.5 * (trHS / (k + 2) ** 2 + mbar @ (H @ mbar))
    return out


def literal_averaged_risk_curve(p, alpha: float, K: int) -> np.ndarray:
    """eqn. 38/39 summed literally, O(K^2) matrix products: the check of the running sums above."""
    n = p.n
    D = np.eye(n) - alpha * p.BinvH
    Vs, Ds, ms = [np.zeros((n, n))], [np.eye(n)], [p.theta0 - p.theta_star]
    for _ in range(K):
        Vs.append(D @ Vs[-1] @ D.T + alpha**2 * p.U)
        Ds.append(D @ Ds[-1])
        ms.append(D @ ms[-1])
    out = np.empty(K + 1)
    for k in range(K + 1):
        S = sum(Vs[i] @ Ds[j - i].T if j >= i else Ds[i - j] @ Vs[j] for i in range(k + 1) for j in range(k + 1))
        mbar = sum(ms[: k + 1]) / (k + 1)
        out[k] = 0.5 * (np.trace(p.H @ S) / (k + 1) ** 2 + mbar @ p.H @ mbar)
    return out


# ----------------------------------------------------------------------------------------------
# section 1
# ----------------------------------------------------------------------------------------------
def section1(cfg) -> None:
    n, K, K_avg = cfg["n1"], cfg["K1"], cfg["K_avg"]
    p = random_problem(n, KAPPA, "random", "random", seed=0)
    p.BinvH, p.U  # noqa: B018 -- build the dense inputs of the baseline outside the timings
    alpha = 0.5 / p.lambda_1
    a = max(1.0, p.lambda_1 - 1.0)
    print(
        f"\n== 1. Exact risk curve vs dense recursion: n={n}, kappa(H)={KAPPA:g}, B and Sigma_g random (seed 0); "
        f"lambda_1(B^-1 H)={p.lambda_1:.4g}, lambda_n={p.lambda_n:.4g} =="
    )
    print(f"   constant alpha = 0.5/lambda_1 = {alpha:.4g}; harmonic a = max(1, lambda_1 - 1) = {a:.4g} "
          f"(lambda_1 <= a + 1: {p.lambda_1 <= a + 1.0})")

    # Self-check of the Polyak baseline's running sums against eqn. 39 summed literally.
    ps = random_problem(6, 10.0, "random", "random", seed=3)
    al_s = 0.5 / ps.lambda_1
    selfcheck = max_rel(dense_averaged_risk_curve(ps, al_s, 15), literal_averaged_risk_curve(ps, al_s, 15))
    print(f"   baseline self-check: running sums vs literal double sum of eqn. 39 (n=6, k<=15): "
          f"max rel diff {selfcheck:.1e}")

    cases = [
        (
            f"constant, k=0..{K}",
            lambda: excess_risk(p, Constant(alpha), np.arange(K + 1)),
            lambda: dense_risk_curve(p, Constant(alpha).alphas(np.arange(K))),
        ),
        (
            f"harmonic, k=0..{K}",
            lambda: excess_risk(p, Harmonic(a), np.arange(K + 1)),
            lambda: dense_risk_curve(p, Harmonic(a).alphas(np.arange(K))),
        ),
        (
            f"Polyak avg (const), k=0..{K_avg}",
            lambda: averaged_excess_risk(p, alpha, np.arange(K_avg + 1)),
            lambda: dense_averaged_risk_curve(p, alpha, K_avg),
        ),
    ]
    rows = []
    for label, closed, dense in cases:
        tm, res = measure({"closed": closed, "dense": dense}, cfg["repeats"], cfg["budget_s"])
        peak = traced_peak(closed)
        kcount = res["closed"].size
        speed = tm["dense"].median / tm["closed"].median
        err = max_rel(res["closed"], res["dense"])
        rows.append([
            label, tm["closed"].cell(), str(tm["closed"].n), fmt_t(tm["closed"].median / kcount),
            fmt_b(peak), tm["dense"].cell(), str(tm["dense"].n),
            fmt_x(speed), verdict(speed >= GOAL_SPEEDUP), f"{err:.1e}", verdict(err <= GOAL_RTOL),
        ])
    print(table(
        ["curve", "closed form", "n", "per k", "peak alloc", "dense baseline", "n",
         "speed-up", ">=1000x", "max rel diff", "<=1e-10"],
        rows,
    ))
    print("   closed form = the theorytools call on an already built problem (eigensolve excluded, see section 2);")
    print("   peak alloc = tracemalloc peak of one extra closed-form call; dense baseline = script's recursion.")


# ----------------------------------------------------------------------------------------------
# section 2 (runs in a fresh child process, so that ru_maxrss belongs to this workload alone)
# ----------------------------------------------------------------------------------------------
def _instance(n: int, seed: int = 0):
    """H with log-spaced spectrum in [1/kappa, 1], random SPD B and Sigma_g -- random_problem's recipe
    (instances.py), generated here so that the problem is not constructed twice."""
    rng = np.random.default_rng(seed)

    def orth(m):
        Q, R = np.linalg.qr(rng.standard_normal((m, m)))
        return Q * np.sign(np.diag(R))

    lam_H = np.logspace(0.0, -np.log10(KAPPA), n)
    Q = orth(n)
    H = (Q * lam_H) @ Q.T
    H = 0.5 * (H + H.T)
    Q = orth(n)
    B = (Q * (np.exp(rng.uniform(-1.0, 1.0, n)) * lam_H.mean())) @ Q.T
    B = 0.5 * (B + B.T)
    G = rng.standard_normal((n, n)) / np.sqrt(n)
    S = G @ G.T
    S = 0.5 * (S + S.T)
    return H, B, S, rng.standard_normal(n)


def section2_child(cfg) -> dict:
    n, K = cfg["n2"], cfg["K2"]
    H, B, S, theta0 = _instance(n)
    ks = np.arange(K + 1)
    res = {"n": n, "K": K, "rss_inputs": maxrss_bytes(), "hwm_inputs": vm_hwm_bytes()}

    def build():
        return QuadraticProblem(H, B, S, theta0)

    def validate():
        Hs, Bs, Ss = as_symmetric("H", H), as_symmetric("B", B, n), as_symmetric("Sigma_g", S, n)
        check_definite("H", Hs)
        check_definite("B", Bs)
        check_definite("Sigma_g", Ss, semi=True)

    p = build()  # the problem used by the curve timing
    alpha = 0.5 / p.lambda_1

    def curve():
        return excess_risk(p, Constant(alpha), ks)

    tm, _ = measure(
        {"build": build, "validate": validate, "eigensolve": lambda: generalized_eigh(H, B), "curve": curve},
        cfg["repeats"], 2 * cfg["budget_s"],
    )
    res["t"] = {k: [v.median, v.n, v.cell()] for k, v in tm.items()}
    res["rss_peak"] = maxrss_bytes()
    res["hwm_peak"] = vm_hwm_bytes()
    del p
    tracemalloc.start()
    q = QuadraticProblem(H, B, S, theta0)
    res["peak_build"] = tracemalloc.get_traced_memory()[1]
    held = tracemalloc.get_traced_memory()[0]  # what the problem object keeps
    tracemalloc.reset_peak()
    excess_risk(q, Constant(0.5 / q.lambda_1), ks)
    res["peak_curve"] = tracemalloc.get_traced_memory()[1] - held
    res["held_build"] = held
    tracemalloc.stop()
    V = q.eig.V
    del q

    # scipy drivers for H v = lambda B v (scipy >= 1.? uses 'gvd' by default for the full spectrum).
    tm, _ = measure(
        {
            "eigh default": lambda: scipy.linalg.eigh(H, B),
            "eigh driver='gvd'": lambda: scipy.linalg.eigh(H, B, driver="gvd"),
            "eigh driver='gv'": lambda: scipy.linalg.eigh(H, B, driver="gv"),
        },
        cfg["repeats"], 0.75 * cfg["budget_s"],
    )
    res["eigh"] = {k: [v.median, v.n, v.cell()] for k, v in tm.items()}

    # Diagnostics for the construction: the projection s_i = (V^T Sigma_g V)_ii and definiteness checks.
    tm, out = measure(
        {
            "einsum('ji,jk,ki->i', V, S, V)": lambda: np.einsum("ji,jk,ki->i", V, S, V),
            "einsum('ji,ji->i', V, S @ V)": lambda: np.einsum("ji,ji->i", V, S @ V),
            "np.linalg.eigvalsh(H)": lambda: np.linalg.eigvalsh(H),
            "np.linalg.cholesky(H)": lambda: np.linalg.cholesky(H),
        },
        cfg["repeats"], 0.5 * cfg["budget_s"],
    )
    res["diag"] = {k: [v.median, v.n, v.cell()] for k, v in tm.items()}
    vals = list(out.values())
    res["diag_s_rel"] = max_rel(vals[0], vals[1])
    return res


def section2(cfg, argv_cfg: str) -> None:
    print(f"\n== 2. Large problem: n={cfg['n2']}, all k=0..{cfg['K2']}, constant step 0.5/lambda_1 "
          f"(fresh child process) ==")
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--_section2-child", argv_cfg],
        capture_output=True, text=True,
    )
    if proc.returncode != 0:
        print(f"   child process failed (rc={proc.returncode}):\n{proc.stderr[-3000:]}")
        return
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    t = r["t"]
    other = t["build"][0] - t["validate"][0] - t["eigensolve"][0]
    total = t["build"][0] + t["curve"][0]
    rows = [
        ["construction QuadraticProblem(H, B, Sigma_g, theta0)", t["build"][2], t["build"][1], ""],
        ["  of which validation (as_symmetric x3, check_definite x3)", t["validate"][2], t["validate"][1], ""],
        ["  of which generalized eigensolve (generalized_eigh)", t["eigensolve"][2], t["eigensolve"][1], ""],
        ["  of which the rest (projections s, z0; by difference)", fmt_t(other), "", ""],
        [f"curve excess_risk(p, Constant, arange({r['K'] + 1}))", t["curve"][2], t["curve"][1], ""],
        ["total = construction + curve (sum of the medians)", fmt_t(total), "",
         f"<= {GOAL_N2_TOTAL_S:g} s: {verdict(total <= GOAL_N2_TOTAL_S)}"],
    ]
    print(table(["step", "median time", "n", "goal"], rows))
    hwm = (f"; VmHWM {fmt_b(r['hwm_peak'])} (inputs alone: {fmt_b(r['hwm_inputs'])})"
           if r["hwm_peak"] is not None else "")
    print(f"   peak memory (tracemalloc): construction {fmt_b(r['peak_build'])}, of which the problem object keeps "
          f"{fmt_b(r['held_build'])}; curve {fmt_b(r['peak_curve'])} on top of that")
    print(f"   peak memory (process): ru_maxrss {fmt_b(r['rss_peak'])} (after generating the inputs: "
          f"{fmt_b(r['rss_inputs'])}){hwm}")
    rows = [[k, v[2], v[1]] for k, v in r["eigh"].items()]
    e = r["eigh"]
    print(table([f"scipy.linalg.eigh(H, B), n={r['n']}", "median time", "n"], rows))
    gvd, gv, default = e["eigh driver='gvd'"][0], e["eigh driver='gv'"][0], e["eigh default"][0]
    print(f"   ratios in this run: default/gvd = {default / gvd:.3g}, gv/gvd = {gv / gvd:.3g}")
    rows = [[k, v[2], v[1]] for k, v in r["diag"].items()]
    print(table([f"diagnostics inside the construction, n={r['n']}", "median time", "n"], rows))
    print(f"   the two einsum forms agree to max rel diff {r['diag_s_rel']:.1e}")


# ----------------------------------------------------------------------------------------------
# section 3
# ----------------------------------------------------------------------------------------------
def section3(cfg) -> None:
    n = cfg["n3"]
    p = random_problem(n, KAPPA, "random", "random", seed=1)
    p.BinvH  # noqa: B018
    rng = np.random.default_rng(5)
    X = rng.standard_normal((n, n))
    X = X + X.T
    print(f"\n== 3. Operator application, n={n} (Kronecker matrices are {n * n} x {n * n}) ==")
    makers = {
        "Xi": lambda o: o.Xi,
        "Omega": lambda o: o.Omega,
        "(Xi - I)^-1": lambda o: (o.Xi - o.I).inv(),
    }
    rows = []
    for name, make in makers.items():
        op = make(operators(p))
        Y = p.eig.to_eigenbasis(X)
        f = op.multiplier
        op.kron  # noqa: B018 -- cached; the one-time cost is timed below on fresh objects
        tm, res = measure(
            {
                "eig": lambda: op(X),
                "dense": lambda: op.apply_dense(X),
                "mult": lambda: f * Y,
                "build_kron": lambda: make(operators(p)).kron,
                "build_mult": lambda: make(operators(p)).multiplier,
            },
            cfg["fast_repeats"], cfg["budget_s"],
        )
        err = float(np.max(np.abs(res["eig"] - res["dense"])) / np.max(np.abs(res["dense"])))
        rows.append([
            name, tm["eig"].cell(), tm["dense"].cell(), fmt_x(tm["dense"].median / tm["eig"].median),
            tm["mult"].cell(), tm["build_kron"].cell(), tm["build_mult"].cell(),
            fmt_x(tm["build_kron"].median / tm["build_mult"].median), f"{err:.1e}",
        ])
    print(table(
        ["operator", "op(X)", "op.apply_dense(X)", "dense/eig", "multiplier*Y", "build kron (+inv)",
         "build multiplier", "kron/mult build", "max rel diff"],
        rows,
    ))
    print("   op(X) = V (f o (V^-1 X V^-T)) V^T (four n x n products); multiplier*Y = the O(n^2) part alone;")
    print("   build = first .kron / .multiplier on a fresh operators(p) (for (Xi - I)^-1 the kron build includes")
    print("   Xi.kron, I.kron, the subtraction and np.linalg.inv of the n^2 x n^2 matrix).")


# ----------------------------------------------------------------------------------------------
def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="reduced sizes, < 30 s (smoke test)")
    ap.add_argument("--polyak-k", type=int, default=None,
                    help="horizon of the Polyak-average comparison (default 1000; the closed form's memory "
                         "grows like K^2 n -- about 19 GB at K=2000, n=200, see README)")
    ap.add_argument("--threads", type=int, default=None,
                    help="BLAS threads (default 1, or OPENBLAS_NUM_THREADS/OMP_NUM_THREADS if set; 0 = library default)")
    ap.add_argument("--_section2-child", dest="child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child is not None:
        print(json.dumps(section2_child(json.loads(args.child))))
        return
    cfg = dict(QUICK if args.quick else FULL)
    if args.polyak_k is not None:
        cfg["K_avg"] = args.polyak_k
    t0 = time.perf_counter()
    print(f"bench_quadratic ({'quick' if args.quick else 'full'} run), {time.strftime('%Y-%m-%d %H:%M:%S')}")
    for ln in machine_info():
        print("  " + ln)
    print(f"  timings: median of interleaved repeats (target {cfg['repeats']}, fast items {cfg['fast_repeats']}; "
          f"column n = samples taken, capped by a {cfg['budget_s']:g} s budget per item); [min..max] shown "
          "when the spread exceeds 15%")
    section2(cfg, json.dumps(cfg))  # first: the child inherits the parent's ru_maxrss (Linux)
    section1(cfg)
    section3(cfg)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    print(f"\ntotal wall time {fmt_t(time.perf_counter() - t0)}; load avg at the end {load}")


if __name__ == "__main__":
    main()
