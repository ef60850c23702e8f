"""The Monte Carlo engine: simulate runs block by block, reduce to moments, report CIs.

``run_blocks`` cuts the runs into blocks with their own random streams
(:mod:`theorytools.montecarlo.streams`), hands chunks of blocks to workers, summarises
each block's output as soon as it is simulated and merges the summaries in block order
(:mod:`theorytools.montecarlo.moments`).  Raw per-run values never outlive their block,
and the result for a seed is bit-identical whatever ``chunk_size`` and ``workers``.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from itertools import islice

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from theorytools.linalg.memory import check_allocation
from theorytools.linalg.validation import as_bool, as_callable, as_choice, real_array
from theorytools.montecarlo.intervals import (
    ConfidenceInterval,
    METHODS,
    bootstrap_interval,
    mom_interval,
    normal_interval,
)
from theorytools.montecarlo.moments import StreamingMoments
from theorytools.montecarlo.streams import (
    BLOCK,
    Block,
    _as_count,
    block_count,
    iter_blocks,
    resolve_chunk_size,
)


@dataclass(frozen=True, eq=False)
class MonteCarloResult:
    """Moments of the recorded quantities over all runs, and their confidence intervals.

    Returned by :func:`run_blocks`; the arguments are stored as (read-only) attributes of the same names.

    Parameters
    ----------
    mean : numpy.ndarray, shape (m,)
        Sample mean of each quantity.
    std : numpy.ndarray, shape (m,)
        Sample standard deviation (unbiased variance, ``ddof=1``).
    stderr : numpy.ndarray, shape (m,)
        Standard error of the mean, ``std / sqrt(runs)``.
    runs : int
        Number of runs.
    block_means : numpy.ndarray, shape (nblocks, m)
        Mean of each block of runs, in block order.
    block_counts : numpy.ndarray, shape (nblocks,)
        Number of runs in each block.
    seed : int or numpy.random.SeedSequence
        The seed the runs were drawn with.
    skewness : numpy.ndarray, shape (m,), optional
        Sample skewness of each quantity (for skew-corrected tests of the mean).

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.montecarlo import run_blocks
    >>> res = run_blocks(lambda rng, n: np.ones((n, 1)), runs=3000, seed=0, progress=False)
    >>> res.runs, res.block_counts.tolist()              # blocks of 1024 runs
    (3000, [1024, 1024, 952])
    >>> res.mean.tolist(), res.std.tolist(), res.stderr.tolist()
    ([1.0], [0.0], [0.0])
    """

    mean: np.ndarray
    std: np.ndarray
    stderr: np.ndarray
    runs: int
    block_means: np.ndarray
    block_counts: np.ndarray
    seed: object
    skewness: np.ndarray | None = None

    def ci(self, level: float = 0.99, method: str = "normal") -> ConfidenceInterval:
        """Confidence interval for the mean of each quantity.

        Parameters
        ----------
        level : float, optional
            Nominal coverage, in ``(0, 1)`` (default 0.99).
        method : {"normal", "mom", "bootstrap"}, optional
            ``"normal"``: CLT interval (:func:`normal_interval`); ``"mom"``: median of
            means with a conservative heavy-tail-robust half-width (:func:`mom_interval`);
            ``"bootstrap"``: percentile bootstrap over the block means
            (:func:`bootstrap_interval`, default resamples and seed).

        Returns
        -------
        ConfidenceInterval
            Unpacks as ``lo, hi``.
        """
        method = as_choice("method", method, METHODS)
        if method == "normal":
            return normal_interval(self.mean, self.stderr, self.runs, level)
        if method == "mom":
            return mom_interval(self.block_means, self.block_counts, self.std, level)
        return bootstrap_interval(self.block_means, self.block_counts, level)


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def _simulate_chunk(simulate_block: Callable, blocks: list[Block]) -> list[StreamingMoments]:
    """Simulate each block of a chunk and summarise it at once, so its runs can be freed."""
    summaries = []
    for block in blocks:
        values = real_array(f"simulate_block output for block {block.index}", simulate_block(block.rng, block.nruns))
        if values.ndim != 2 or values.shape[0] != block.nruns:
            raise ValueError(
                f"simulate_block(rng, {block.nruns}) must return an array of shape "
                f"({block.nruns}, m), got shape {values.shape} for block {block.index}"
            )
        name = f"simulate_block output for block {block.index}"
        summaries.append(StreamingMoments.from_batch(values, name=name))
    return summaries


def _chunks(blocks: Iterator[Block], per_chunk: int) -> Iterator[list[Block]]:
    """Group consecutive blocks into lists of ``per_chunk`` (the last may be shorter)."""
    while chunk := list(islice(blocks, per_chunk)):
        yield chunk


def _one_blas_thread(fn: Callable, *args):
    """``fn(*args)`` with BLAS on one thread (on a Dask worker: the worker's threads are the parallelism)."""
    with threadpool_limits(1):
        return fn(*args)


def _map_in_order(fn: Callable, items: Iterable, workers: int, client=None) -> Iterator:
    """``map(fn, items)``, run on ``workers`` threads (or as tasks of a Dask ``client``), results yielded in input
    order.

    At most ``2 * workers`` items (2 per Dask worker thread) are in flight, which bounds memory while keeping every
    worker busy; results that finish early wait for their predecessors.
    """
    if client is not None:
        workers = max(1, sum(client.nthreads().values()))
        submit = partial(client.submit, _one_blas_thread, fn, pure=False)
    elif workers == 1:
        yield from map(fn, items)
        return
    else:
        pool = ThreadPoolExecutor(max_workers=workers)
        submit = partial(pool.submit, fn)
    pending: deque = deque()
    try:
        for item in items:
            pending.append(submit(item))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        # On an error (or an abandoned generator) do not simulate what nobody will read.
        for future in pending:
            future.cancel()
        if client is None:
            pool.shutdown(wait=True)


def _check_block_means(nblocks: int, m: int) -> None:
    """The result keeps each block's mean vector (for the median-of-means and bootstrap intervals): ``m`` floats
    plus ~20 words of object overhead (a numpy array in a list) per block.  Refuse what cannot fit up front."""
    check_allocation("the per-block means kept for the confidence intervals", (nblocks, m + 20),
                     cheaper="fewer runs, or a larger block_size (fewer blocks)")


def _show_progress(progress: bool | None) -> bool:
    if progress is not None:
        return as_bool("progress", progress)
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def run_blocks(
    simulate_block: Callable[[np.random.Generator, int], np.ndarray],
    runs: int,
    seed,
    *,
    chunk_size: int | None = None,
    workers: int | None = None,
    progress: bool | None = None,
    desc: str | None = None,
    block_size: int = BLOCK,
    client=None,
) -> MonteCarloResult:
    """Run ``runs`` independent simulations and return the moments of what they record.

    Parameters
    ----------
    simulate_block : callable ``(rng, nruns) -> ndarray of shape (nruns, m)``
        Simulates ``nruns <= block_size`` independent runs drawing only from ``rng`` and
        returns ``m`` recorded quantities per run (e.g. a loss at ``m`` iteration counts).
        With ``workers > 1`` it is called from several threads at once, so it must not
        mutate shared state.
    runs : int
        Number of runs, ``>= 2`` (a standard error needs two).
    seed : int or numpy.random.SeedSequence
        Seed of the block streams (:func:`~theorytools.montecarlo.streams.iter_blocks`).
    chunk_size : int, optional
        Runs handed to a worker at a time, rounded up to a multiple of ``block_size``
        (default ``DEFAULT_CHUNK_BLOCKS * block_size``).  It sets the scheduling grain and
        the memory in flight (per-block summaries of ``2 * workers`` chunks, plus one
        block's output per worker); it never changes the result.
    workers : int, optional
        Number of threads (default: the machine's cores, at most 8; 1 means no thread pool).
        numpy releases the GIL in its kernels, so threads give real parallelism for vectorized
        simulators.  BLAS runs on one thread meanwhile: small matrix products in many threads
        at once oversubscribe the cores (measured in ``benchmarks/bench_simulate.py``).
        Never changes the result.
    progress : bool, optional
        Show a tqdm progress bar on stderr; by default only when stderr is a terminal.
    desc : str, optional
        Label of the progress bar.
    block_size : int, optional
        Runs per random stream (default :data:`~theorytools.montecarlo.streams.BLOCK`).
        Part of what a seed means: changing it changes the random numbers.
    client : dask.distributed.Client, optional
        Simulate the chunks as tasks on a Dask cluster instead of local threads
        (``simulate_block`` must then be picklable by cloudpickle, as closures over numpy
        data are).  Never changes the result.

    Returns
    -------
    MonteCarloResult
        Mean, standard deviation, standard error and skewness of each quantity, and the block means behind
        its confidence intervals (:meth:`MonteCarloResult.ci`).

    Raises
    ------
    ValueError
        On an invalid argument, or if ``simulate_block`` returns the wrong shape.
    theorytools.errors.NonFiniteError
        If ``simulate_block`` returns NaN or inf; the message names the block, which
        :func:`~theorytools.montecarlo.streams.block_rng` replays.

    Examples
    --------
    >>> from theorytools.montecarlo import run_blocks
    >>> def simulate(rng, nruns):
    ...     return rng.standard_normal((nruns, 1)) ** 2    # E = 1
    >>> res = run_blocks(simulate, 10_000, seed=1, progress=False)
    >>> lo, hi = res.ci(0.99)
    >>> res.runs, bool(lo[0] < 1.0 < hi[0])
    (10000, True)
    """
    as_callable("simulate_block", simulate_block)
    runs = _as_count("runs", runs, 2)
    workers = _as_count("workers", min(os.cpu_count() or 1, 8) if workers is None else workers, 1)
    chunk_size = resolve_chunk_size(chunk_size, block_size)
    if desc is not None and not isinstance(desc, str):
        raise TypeError(f"desc must be a string, got {desc!r}")
    if client is not None and not hasattr(client, "submit"):
        raise TypeError(f"client must be a dask.distributed.Client, got {client!r}")
    nblocks = block_count(runs, block_size)
    _check_block_means(nblocks, 1)  # refuse an impossible runs before simulating anything
    blocks = iter_blocks(seed, runs, block_size)
    total = StreamingMoments()
    with tqdm(
        total=runs, desc=desc, unit="run", file=sys.stderr, disable=not _show_progress(progress)
    ) as bar, threadpool_limits(1):
        chunks = _chunks(blocks, chunk_size // block_size)
        for summaries in _map_in_order(partial(_simulate_chunk, simulate_block), chunks, workers, client):
            if total.count == 0:
                _check_block_means(nblocks, summaries[0].mean.size)
            # Merging block by block, in block order, on this thread is what makes the
            # floating-point result independent of chunking and thread scheduling.
            for summary in summaries:
                total.merge(summary)
            bar.update(sum(s.count for s in summaries))
    return MonteCarloResult(
        mean=_readonly(total.mean),
        std=_readonly(total.std),
        stderr=_readonly(total.stderr),
        runs=total.count,
        block_means=_readonly(total.block_means),
        block_counts=_readonly(total.block_counts),
        seed=seed,
        skewness=_readonly(total.skewness),
    )
