"""A Dask ``LocalCluster`` suited to the toolkit's numpy simulators (the optional ``distributed`` extra)."""

from __future__ import annotations

import contextlib
import os

from theorytools.linalg.validation import as_int

#: Worker processes per core above which a local cluster is refused: the simulators are CPU-bound, so more
#: processes than cores only add memory and scheduling (and 10**12 of them would never start).
MAX_WORKERS_PER_CORE = 4


@contextlib.contextmanager
def local_client(n_workers: int):
    """A ``dask.distributed.Client`` on a fresh ``LocalCluster`` of ``n_workers`` single-threaded worker processes.

    Dask starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536`` (to return memory to the OS sooner).  Setting it
    switches off glibc's dynamic mmap threshold, so every temporary above 64 KiB -- a block of 1024 runs of a
    20-dimensional iterate is 160 KiB -- becomes an mmap and a munmap: ``simulate`` then runs 2.7x slower (measured:
    9.6 s against 26.2 s for 50 000 runs of n = 20 over 1000 steps).  The workers here keep glibc's default.

    Typical use (it starts worker processes, which takes seconds)::

        with local_client(4) as client:
            res = run_blocks(simulate_block, runs=10**6, seed=7, client=client)

    Parameters
    ----------
    n_workers : int
        Number of worker processes, from 1 to ``MAX_WORKERS_PER_CORE`` (4) times the number of cores.

    Yields
    ------
    dask.distributed.Client
        A client of the cluster; the cluster is shut down when the ``with`` block exits.

    Raises
    ------
    ValueError
        If ``n_workers`` is out of range (raised on entering the ``with`` block).
    ImportError
        If ``dask.distributed`` is not installed.

    Examples
    --------
    >>> from theorytools.montecarlo import local_client
    >>> with local_client(0):
    ...     pass
    Traceback (most recent call last):
    ...
    ValueError: n_workers must be >= 1, got 0
    """
    n_workers = as_int("n_workers", n_workers, low=1, high=MAX_WORKERS_PER_CORE * (os.cpu_count() or 1))
    try:
        import dask
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise ImportError("a Dask cluster needs dask.distributed: pip install 'theorytools[distributed]'") from exc
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}), \
            LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        yield client
