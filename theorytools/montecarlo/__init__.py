"""The shared Monte Carlo engine: reproducible block streams, streaming moments,
confidence intervals and a chunked, optionally threaded runner.

Typical use by a topic's simulator::

    res = run_blocks(simulate_block, runs=100_000, seed=7)
    lo, hi = res.ci(0.99)                  # CLT interval
    res.ci(0.99, method="mom")             # heavy-tail-robust, conservative

    with local_client(4) as client:        # a Dask LocalCluster (the `distributed` extra)
        res = run_blocks(simulate_block, runs=10**6, seed=7, client=client)   # the same numbers
"""

from theorytools.montecarlo.cluster import local_client
from theorytools.montecarlo.engine import MonteCarloResult, run_blocks
from theorytools.montecarlo.intervals import (
    METHODS,
    MIN_BOOTSTRAP_BLOCKS,
    ConfidenceInterval,
    bootstrap_interval,
    mom_interval,
    normal_interval,
)
from theorytools.montecarlo.moments import StreamingMoments
from theorytools.montecarlo.streams import (
    BLOCK,
    DEFAULT_CHUNK_BLOCKS,
    Block,
    block_count,
    block_rng,
    iter_blocks,
    resolve_chunk_size,
)

__all__ = [
    "local_client",
    "run_blocks", "MonteCarloResult", "StreamingMoments", "ConfidenceInterval",
    "normal_interval", "mom_interval", "bootstrap_interval", "METHODS", "MIN_BOOTSTRAP_BLOCKS",
    "BLOCK", "DEFAULT_CHUNK_BLOCKS", "Block", "block_count", "block_rng", "iter_blocks",
    "resolve_chunk_size",
]
