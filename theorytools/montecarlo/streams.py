"""Reproducible random streams: one generator per fixed-size block of runs.

Runs ``0 .. runs-1`` are cut into consecutive *blocks* of ``block_size`` runs (the last
block may be smaller).  Block ``b`` draws from its own generator
``Generator(PCG64(SeedSequence(seed, spawn_key=(b,))))``, the ``b``-th child of
``SeedSequence(seed).spawn(nblocks)``.  The random numbers a run sees therefore depend
only on the seed, the block size and the run's index -- never on how blocks are grouped
into chunks or handed to workers -- which is what makes Monte Carlo results bit-identical
across ``chunk_size`` and ``workers`` (see ``DESIGN.md``, "Reproducible randomness").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from theorytools.linalg.validation import as_int

#: Default number of runs per block, i.e. per independent random stream.
BLOCK = 1024

#: Default chunk, in blocks, when the caller gives no ``chunk_size``: large enough that
#: the per-chunk scheduling overhead is negligible next to simulating 16 * 1024 runs.
DEFAULT_CHUNK_BLOCKS = 16


class Block(NamedTuple):
    """One block of runs with its own random stream.

    Yielded by :func:`iter_blocks`; a named tuple ``(index, nruns, rng)`` whose fields are the arguments.

    Parameters
    ----------
    index : int
        Position of the block in the run order (block ``index`` holds runs
        ``index * block_size`` to ``index * block_size + nruns - 1``).
    nruns : int
        Number of runs in the block (``block_size``, except possibly for the last block).
    rng : numpy.random.Generator
        The block's generator; see :func:`block_rng`.

    Examples
    --------
    >>> from theorytools.montecarlo import block_rng, iter_blocks
    >>> block = next(iter_blocks(seed=0, runs=3, block_size=2))
    >>> block.index, block.nruns
    (0, 2)
    >>> bool(block.rng.random() == block_rng(0, 0).random())
    True
    """

    index: int
    nruns: int
    rng: np.random.Generator


def _as_count(name: str, value, minimum: int) -> int:
    """Return ``value`` as a Python int ``>= minimum``; the error names the argument."""
    return as_int(name, value, low=minimum)


def _root_seed(seed) -> np.random.SeedSequence:
    """Return the root ``SeedSequence`` for ``seed`` (a non-negative int or a SeedSequence)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    return np.random.SeedSequence(as_int("seed", seed, low=0))


def block_rng(seed, index: int) -> np.random.Generator:
    """Return the generator of block ``index`` for ``seed``.

    Useful on its own to replay one block, e.g. the one named by a
    :class:`~theorytools.errors.NonFiniteError` raised by the engine.

    Parameters
    ----------
    seed : int or numpy.random.SeedSequence
        Non-negative integer seed, or a root ``SeedSequence``.  A ``SeedSequence``'s own
        spawn counter is neither used nor advanced, so the same object always gives the
        same streams.
    index : int
        Block index, ``>= 0``.

    Returns
    -------
    numpy.random.Generator
        ``Generator(PCG64(child))`` with ``child`` the ``index``-th element of
        ``SeedSequence(seed).spawn(index + 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.montecarlo import block_rng
    >>> child = np.random.SeedSequence(7).spawn(3)[2]
    >>> bool(block_rng(7, 2).random() == np.random.default_rng(child).random())
    True
    """
    root = _root_seed(seed)
    index = _as_count("index", index, 0)
    # Built directly from the spawn key rather than through root.spawn(): identical
    # children, but no need to create (or keep) the ``index`` children before it.
    child = np.random.SeedSequence(
        root.entropy, spawn_key=tuple(root.spawn_key) + (index,), pool_size=root.pool_size
    )
    return np.random.Generator(np.random.PCG64(child))


def block_count(runs: int, block_size: int = BLOCK) -> int:
    """Return the number of blocks, ``ceil(runs / block_size)``.

    Parameters
    ----------
    runs : int
        Total number of runs, ``>= 1``.
    block_size : int, optional
        Runs per block (default :data:`BLOCK`, 1024).

    Returns
    -------
    int
        The number of blocks.

    Examples
    --------
    >>> from theorytools.montecarlo import block_count
    >>> block_count(2500), block_count(2048), block_count(5, block_size=2)
    (3, 2, 3)
    """
    runs = _as_count("runs", runs, 1)
    block_size = _as_count("block_size", block_size, 1)
    return -(-runs // block_size)


def iter_blocks(seed, runs: int, block_size: int = BLOCK) -> Iterator[Block]:
    """Yield the blocks of ``runs`` runs, in order, each with its own generator.

    Generators are created lazily, one block at a time, so that a run of ``10**9``
    runs does not hold a million generators at once.

    Parameters
    ----------
    seed : int or numpy.random.SeedSequence
        See :func:`block_rng`.
    runs : int
        Total number of runs, ``>= 1``.
    block_size : int, optional
        Runs per block (default :data:`BLOCK`).  Changing it changes the streams, hence
        the results; it is part of what a seed means.

    Returns
    -------
    Iterator[Block]
        ``(index, nruns, rng)`` for ``index = 0 .. ceil(runs / block_size) - 1``.

    Examples
    --------
    >>> from theorytools.montecarlo import iter_blocks
    >>> [(b.index, b.nruns) for b in iter_blocks(seed=0, runs=5, block_size=2)]
    [(0, 2), (1, 2), (2, 1)]
    """
    # Validate eagerly (a generator function would only raise at the first next()) and
    # build the root SeedSequence once rather than once per block.
    nblocks = block_count(runs, block_size)
    root = _root_seed(seed)
    return (
        Block(b, min(block_size, runs - b * block_size), block_rng(root, b)) for b in range(nblocks)
    )


def resolve_chunk_size(chunk_size: int | None, block_size: int = BLOCK) -> int:
    """Return the chunk size in runs: a positive multiple of ``block_size``.

    Parameters
    ----------
    chunk_size : int or None
        Requested runs per chunk; ``None`` gives ``DEFAULT_CHUNK_BLOCKS * block_size``.
        Other values are rounded *up* to a multiple of ``block_size``, since a block
        (one random stream) is never split between chunks.
    block_size : int, optional
        Runs per block (default :data:`BLOCK`).

    Returns
    -------
    int
        The chunk size in runs.

    Examples
    --------
    >>> from theorytools.montecarlo import resolve_chunk_size
    >>> resolve_chunk_size(None), resolve_chunk_size(1500), resolve_chunk_size(5, block_size=2)
    (16384, 2048, 6)
    """
    block_size = _as_count("block_size", block_size, 1)
    if chunk_size is None:
        return DEFAULT_CHUNK_BLOCKS * block_size
    chunk_size = _as_count("chunk_size", chunk_size, 1)
    return -(-chunk_size // block_size) * block_size
