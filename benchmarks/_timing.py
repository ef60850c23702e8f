"""Shared by the benchmark scripts: the median of repeated timings, and BLAS on one thread (threadpoolctl when
installed: on a shared 2-core machine multithreaded BLAS spin-waits and distorts ratios)."""

from __future__ import annotations

import contextlib
import time

import numpy as np


def median_time(f, repeats: int):
    """``(median seconds, last result)`` of ``repeats`` calls of ``f``."""
    ts, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = f()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts)), out


def one_blas_thread():
    """A context limiting BLAS to one thread (a no-op context without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1)
