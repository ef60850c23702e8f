"""Confidence intervals for Monte Carlo means: CLT, median-of-means, block bootstrap.

All three are computed per quantity (vectorized over the ``m`` recorded quantities) and
return a :class:`ConfidenceInterval` that records the number of runs behind it.

* ``"normal"`` -- ``mean +- z_{(1+level)/2} * stderr``; exact as ``runs -> oo`` for any
  distribution with finite variance, the default.
* ``"mom"`` -- median of means with a Chebyshev + binomial-tail half-width: conservative,
  and robust to heavy tails (finite variance is all it assumes).
* ``"bootstrap"`` -- percentile bootstrap over the block means, with a fixed seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import special, stats

from theorytools.linalg.memory import check_allocation
from theorytools.linalg.validation import as_array, as_float, as_seed, real_array
from theorytools.montecarlo.streams import _as_count

#: Interval methods understood by :meth:`MonteCarloResult.ci`.
METHODS = ("normal", "mom", "bootstrap")

#: Fewest block means the bootstrap accepts: with B block means the percentile interval is
#: narrower than the CLT one by about sqrt((B-1)/B) and its bootstrap distribution takes few
#: distinct values, so below ~10 blocks it under-covers visibly (99% -> ~98.5% at B = 10).
MIN_BOOTSTRAP_BLOCKS = 10

# Bootstrap resamples are drawn in batches of at most this many (resample x block) entries,
# so that memory stays bounded (a few 8 MiB arrays) however many blocks there are.
_BOOTSTRAP_BATCH_ENTRIES = 1 << 20


@dataclass(frozen=True, eq=False)
class ConfidenceInterval:
    """A confidence interval ``[lo, hi]`` for the mean of each recorded quantity.

    Unpacks as ``lo, hi = ci``.  Built by :func:`normal_interval`, :func:`mom_interval` and
    :func:`bootstrap_interval`; the arguments are stored as attributes of the same names.

    Parameters
    ----------
    lo, hi : numpy.ndarray, shape (m,)
        Lower and upper ends.
    estimate : numpy.ndarray, shape (m,)
        The point estimate the interval is built around (the mean, or the median of means).
    level : float
        Nominal coverage probability, in ``(0, 1)``.
    method : str
        One of :data:`METHODS`.
    runs : int
        Number of Monte Carlo runs the interval is based on.

    Examples
    --------
    >>> from theorytools.montecarlo import normal_interval
    >>> ci = normal_interval([1.0, 2.0], [0.1, 0.1], runs=100, level=0.95)
    >>> lo, hi = ci
    >>> print(f"{lo[0]:.6f} {hi[0]:.6f}", ci.method, ci.runs)          # 1 -+ 1.959964 * 0.1
    0.804004 1.195996 normal 100
    >>> ci.contains(1.1).tolist()
    [True, False]
    """

    lo: np.ndarray
    hi: np.ndarray
    estimate: np.ndarray
    level: float
    method: str
    runs: int

    def __iter__(self):
        return iter((self.lo, self.hi))

    def __getitem__(self, i):
        """``ci[0]`` is ``lo`` and ``ci[1]`` is ``hi``, as for the pair ``lo, hi = ci``."""
        return (self.lo, self.hi)[i]

    def contains(self, value) -> np.ndarray:
        """Return, per quantity, whether ``lo <= value <= hi``.

        Parameters
        ----------
        value : float or array_like, shape (m,)
            One number, or one per quantity.

        Returns
        -------
        numpy.ndarray of bool, shape (m,)
            Whether each quantity's interval contains ``value``.
        """
        value = as_array("value", value)
        if value.ndim > 1 or value.size not in (1, self.lo.size):
            raise ValueError(f"value must be a number or a vector of {self.lo.size} (one per quantity), "
                             f"got shape {value.shape}")
        return (self.lo <= value) & (value <= self.hi)


def _as_level(level) -> float:
    """Return ``level`` as a float in the open interval (0, 1); the error names it."""
    return as_float("level", level, low=0.0, high=1.0, low_open=True, high_open=True)


def _as_blocks(block_means, block_counts) -> tuple[np.ndarray, np.ndarray]:
    """Validate block means ``(nblocks, m)`` and their positive run counts ``(nblocks,)``."""
    means = as_array("block_means", block_means, ndim=2)
    counts = real_array("block_counts", block_counts)
    if counts.shape != (means.shape[0],):
        raise ValueError(
            f"block_counts must have shape ({means.shape[0]},) to match block_means, "
            f"got shape {counts.shape}"
        )
    if not (np.all(np.isfinite(counts)) and np.all(counts == np.round(counts)) and np.all(counts >= 1)):
        raise ValueError(f"block_counts must be positive integers, got {counts!r}")
    return means, counts.astype(np.int64)


def normal_interval(mean, stderr, runs: int, level: float = 0.99) -> ConfidenceInterval:
    """CLT interval ``mean +- z * stderr`` with ``z = Phi^{-1}((1 + level) / 2)``.

    Parameters
    ----------
    mean, stderr : array_like, shape (m,)
        Sample means and their standard errors (``stderr >= 0``).
    runs : int
        Number of runs behind ``mean``, recorded in the result.
    level : float, optional
        Nominal coverage, in ``(0, 1)`` (default 0.99).

    Returns
    -------
    ConfidenceInterval
        ``estimate`` is ``mean``.

    Examples
    --------
    >>> from theorytools.montecarlo import normal_interval
    >>> ci = normal_interval([1.0], [0.1], runs=100, level=0.95)
    >>> print(f"{ci.lo[0]:.6f} {ci.hi[0]:.6f}")          # 1 -+ 1.959964 * 0.1
    0.804004 1.195996
    """
    level = _as_level(level)
    mean = as_array("mean", mean, ndim=1)
    stderr = as_array("stderr", stderr, ndim=1)
    if stderr.shape != mean.shape or (stderr < 0).any():
        raise ValueError(
            f"stderr must be non-negative with the shape {mean.shape} of mean, got {stderr!r}"
        )
    z = stats.norm.ppf(0.5 * (1.0 + level))
    runs = _as_count("runs", runs, 1)
    return ConfidenceInterval(mean - z * stderr, mean + z * stderr, mean, level, "normal", runs)


@lru_cache(maxsize=256)
def mom_tail_probability(groups: int, delta: float) -> float:
    """Largest per-group failure probability ``p`` with ``P(Bin(groups, p) >= ceil(groups/2)) <= delta``.

    ``P(Bin(G, p) >= k) = I_p(k, G - k + 1)`` (regularized incomplete beta), so ``p`` is
    the inverse of that function at ``delta``.
    """
    k = -(-groups // 2)
    return float(special.betaincinv(k, groups - k + 1, delta))


@lru_cache(maxsize=256)
def mom_groups(nblocks: int, delta: float) -> int:
    """Number of groups ``G`` that minimises the median-of-means half-width.

    With ``nblocks`` equal blocks split into ``G`` groups, the smallest group holds
    ``nblocks // G`` blocks and the half-width is proportional to
    ``1 / sqrt(score(G))``, ``score(G) = (nblocks // G) * p*(G)`` (see
    :func:`mom_interval`).  The search stops at ``4 G0``, ``G0 = ceil(8 ln(1/delta))``,
    which loses nothing: for ``delta < 1/2``, ``p*(G) < 1/2`` (as
    ``P(Bin(G, 1/2) >= ceil(G/2)) >= 1/2``) while Hoeffding gives ``p*(G0) >= 1/4``, so
    every ``G > 4 G0`` has ``score(G) < nblocks / (8 G0) <= score(G0)``; for
    ``delta >= 1/2``, ``G = 1`` (``score = nblocks * delta``) is optimal.
    """
    cap = min(nblocks, 4 * math.ceil(8.0 * math.log(1.0 / delta)))
    g = np.arange(1, cap + 1)
    k = (g + 1) // 2
    scores = (nblocks // g) * special.betaincinv(k, g - k + 1, delta)
    # argmax takes the first maximum: the fewest groups among equally narrow choices.
    return int(np.argmax(scores)) + 1


def mom_interval(block_means, block_counts, std, level: float = 0.99) -> ConfidenceInterval:
    r"""Median-of-means estimate with a conservative, heavy-tail-robust interval.

    The blocks of the common (largest) size ``b`` are used -- the engine's last,
    partial block is left out -- split in order into ``G`` groups of ``nblocks // G`` or
    ``nblocks // G + 1`` blocks.  The estimate is the median of the ``G`` group means.

    **Half-width.**  A group mean of at least ``n_min = (nblocks // G) * b`` runs has
    variance at most ``sigma^2 / n_min``, so by Chebyshev
    ``P(|group mean - mu| > t) <= sigma^2 / (n_min t^2) =: p``.  The median is more than
    ``t`` away from ``mu`` only if at least ``ceil(G/2)`` of the independent group means
    are, hence

    .. math:: P(|\mathrm{MoM} - \mu| > t) \le P(\mathrm{Bin}(G, p) \ge \lceil G/2 \rceil).

    Setting the right-hand side to ``delta = 1 - level`` gives ``p = p*(G)``
    (:func:`mom_tail_probability`) and the half-width ``t = sigma / sqrt(n_min p*(G))``.
    ``G`` is chosen to minimise ``t`` (:func:`mom_groups`); it depends on ``level`` and the
    number of blocks only, never on the data.  With ``G = ceil(8 ln(1/delta))`` groups
    and Hoeffding's bound on the binomial tail (``p = 1/4``) this is the classical
    ``t = sigma sqrt(32 ln(1/delta) / n)`` (Lugosi & Mendelson 2019, Theorem 2; Devroye
    et al. 2016); the exact binomial tail and the choice of ``G`` only narrow it, e.g. at
    ``level = 0.99``: ``G = 5`` and ``t = 6.88 sigma / sqrt(n)`` instead of
    ``12.1 sigma / sqrt(n)`` (the CLT interval has ``2.58 sigma / sqrt(n)``).  Below
    ``level ~ 0.96`` the optimum is ``G = 1``: the plain mean with Chebyshev's interval.

    The bound holds for the true ``sigma``; the sample standard deviation ``std`` is
    plugged in.  Chebyshev's slack (over twice the CLT width at 99%) absorbs the error of
    that estimate in practice, but the interval is no longer distribution-free.

    Parameters
    ----------
    block_means : array_like, shape (nblocks, m)
        Mean of each block of runs, in block order.
    block_counts : array_like of int, shape (nblocks,)
        Number of runs in each block.
    std : array_like, shape (m,)
        Sample standard deviation of the runs (over all blocks).
    level : float, optional
        Nominal coverage, in ``(0, 1)`` (default 0.99).

    Returns
    -------
    ConfidenceInterval
        ``estimate`` is the median of means; ``runs`` counts the runs in the used blocks.

    References
    ----------
    G. Lugosi, S. Mendelson, "Mean estimation and regression under heavy-tailed
    distributions: a survey", Found. Comput. Math. 19, 1145-1190 (2019).
    L. Devroye, M. Lerasle, G. Lugosi, R. I. Oliveira, "Sub-Gaussian mean estimators",
    Ann. Statist. 44(6), 2695-2725 (2016).

    Examples
    --------
    Five blocks of 10 runs at ``level = 0.99``: ``G = 5`` groups of one block, the median of
    the block means, and the half-width ``6.88 sigma / sqrt(n)`` quoted above.

    >>> import numpy as np
    >>> from theorytools.montecarlo import mom_interval
    >>> ci = mom_interval([[1.0], [2.0], [3.0], [4.0], [5.0]], [10] * 5, std=[1.0], level=0.99)
    >>> float(ci.estimate[0]), ci.runs
    (3.0, 50)
    >>> print(f"{(ci.hi[0] - ci.estimate[0]) * np.sqrt(ci.runs):.2f}")
    6.88
    """
    level = _as_level(level)
    means, counts = _as_blocks(block_means, block_counts)
    std = as_array("std", std, ndim=1)
    if std.shape != means.shape[1:] or (std < 0).any():
        raise ValueError(
            f"std must be non-negative with shape {means.shape[1:]} to match block_means, got {std!r}"
        )
    size = int(counts.max())
    full = means[counts == size]
    delta = 1.0 - level
    groups = mom_groups(full.shape[0], delta)
    group_means = np.array([g.mean(axis=0) for g in np.array_split(full, groups)])
    estimate = np.median(group_means, axis=0)
    n_min = (full.shape[0] // groups) * size
    half = std / math.sqrt(n_min * mom_tail_probability(groups, delta))
    return ConfidenceInterval(estimate - half, estimate + half, estimate, level, "mom", full.shape[0] * size)


def bootstrap_interval(
    block_means, block_counts, level: float = 0.99, *, resamples: int = 5000, seed: int = 0
) -> ConfidenceInterval:
    """Percentile bootstrap interval over block means.

    Blocks are resampled with replacement (they are independent, each with its own
    random stream); each resample's estimate is the run-weighted mean of its blocks.
    The interval is formed by the ``(1 - level)/2`` and ``(1 + level)/2`` quantiles of
    the ``resamples`` estimates.  A fixed ``seed`` makes it reproducible.

    Parameters
    ----------
    block_means : array_like, shape (nblocks, m)
        Mean of each block, ``nblocks >= MIN_BOOTSTRAP_BLOCKS``.
    block_counts : array_like of int, shape (nblocks,)
        Number of runs in each block.
    level : float, optional
        Nominal coverage, in ``(0, 1)`` (default 0.99).
    resamples : int, optional
        Number of bootstrap resamples (default 5000, so that a 99% interval's ends rest
        on 25 resamples each).
    seed : int, optional
        Seed of the resampling generator (default 0).

    Returns
    -------
    ConfidenceInterval
        ``estimate`` is the run-weighted mean of the blocks.

    Raises
    ------
    ValueError
        If there are fewer than ``MIN_BOOTSTRAP_BLOCKS`` blocks, or on another invalid argument.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.montecarlo import bootstrap_interval
    >>> ci = bootstrap_interval(np.arange(10.0)[:, None], [1] * 10, level=0.9)   # 10 blocks of one run
    >>> float(ci.estimate[0]), bool(ci.lo[0] < 4.5 < ci.hi[0])
    (4.5, True)
    """
    level = _as_level(level)
    means, counts = _as_blocks(block_means, block_counts)
    nblocks = means.shape[0]
    if nblocks < MIN_BOOTSTRAP_BLOCKS:
        raise ValueError(
            f"block_means must hold at least {MIN_BOOTSTRAP_BLOCKS} blocks for a bootstrap "
            f"interval, got {nblocks}; use more runs or a smaller block size"
        )
    resamples = _as_count("resamples", resamples, 2)
    check_allocation("the bootstrap estimates", (resamples, means.shape[1]), cheaper="fewer resamples")
    rng = np.random.default_rng(as_seed("seed", seed))
    weights = counts.astype(float)
    estimates = np.empty((resamples, means.shape[1]))
    step = max(1, _BOOTSTRAP_BATCH_ENTRIES // nblocks)
    for start in range(0, resamples, step):
        r = min(resamples, start + step) - start
        # Multiplicity of each block in each resample (one bincount over row-offset
        # indices: several times faster than rng.multinomial's per-row loop), times its
        # run count, so that a resample's estimate is the mean of the runs it holds.
        picks = rng.integers(nblocks, size=(r, nblocks)) + nblocks * np.arange(r)[:, None]
        w = np.bincount(picks.ravel(), minlength=r * nblocks).reshape(r, nblocks) * weights
        estimates[start : start + r] = (w @ means) / w.sum(axis=1, keepdims=True)
    lo, hi = np.quantile(estimates, [0.5 * (1.0 - level), 0.5 * (1.0 + level)], axis=0)
    estimate = weights @ means / weights.sum()
    return ConfidenceInterval(lo, hi, estimate, level, "bootstrap", int(counts.sum()))
