"""Streaming count / mean / M2 over runs, for a vector of ``m`` recorded quantities.

Each batch of runs (one block, in the engine) is summarised by the corrected two-pass
algorithm, and summaries are combined with Chan, Golub & LeVeque's pairwise update.
Neither step forms ``sum(x**2) - n * mean**2``, whose cancellation would destroy the
variance of e.g. ``1e8 + noise``.  The summaries of the batches are merged strictly in
the order they are given, so the floating-point result depends on the batches and their
order only -- the engine feeds blocks in block order, whatever the chunking or workers.

References
----------
T. F. Chan, G. H. Golub, R. J. LeVeque, "Algorithms for computing the sample variance:
analysis and recommendations", The American Statistician 37(3), 242-247 (1983).
"""

from __future__ import annotations

import numpy as np

from theorytools.errors import NonFiniteError
from theorytools.linalg import check_finite, real_array


class StreamingMoments:
    """Accumulator of ``count``, ``mean`` and ``M2 = sum (x - mean)**2`` over runs.

    Every call to :meth:`update` (or every accumulator merged in) records one *block*:
    its mean and size are kept, in order, for median-of-means and bootstrap intervals.

    The constructor takes no arguments: it starts empty.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.montecarlo import StreamingMoments
    >>> acc = StreamingMoments().update(np.array([[1.0, 10.0], [3.0, 30.0]]))
    >>> acc = acc.update(np.array([[5.0, 50.0]]))
    >>> acc
    <StreamingMoments count=3 m=2 blocks=2>
    >>> acc.mean.tolist(), acc.variance.tolist()
    ([3.0, 30.0], [4.0, 400.0])
    """

    def __init__(self):
        self._count = 0
        self._mean: np.ndarray | None = None
        self._m2: np.ndarray | None = None
        self._m3: np.ndarray | None = None  # sum of cubed deviations, for the skewness
        self._block_means: list[np.ndarray] = []
        self._block_counts: list[int] = []

    def __repr__(self) -> str:
        m = None if self._mean is None else self._mean.shape[0]
        return f"<StreamingMoments count={self._count} m={m} blocks={len(self._block_counts)}>"

    @classmethod
    def from_batch(cls, batch, *, name: str = "batch") -> StreamingMoments:
        """Summarise one batch of runs as a one-block accumulator.

        Parameters
        ----------
        batch : array_like, shape (runs, m)
            One row per run, one column per recorded quantity; ``runs >= 1``, ``m >= 1``.
        name : str, optional
            How error messages refer to ``batch`` (the engine names the block).

        Returns
        -------
        StreamingMoments

        Raises
        ------
        ValueError
            If ``batch`` is not a non-empty 2-D array.
        theorytools.errors.NonFiniteError
            If ``batch`` holds NaN or inf, or its moments overflow.
        """
        x = real_array("batch", batch)
        if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
            raise ValueError(
                f"{name} must be a 2-D array of shape (runs, m) with runs >= 1 and m >= 1, "
                f"got shape {x.shape}"
            )
        finite = np.isfinite(x)
        if not finite.all():
            i, j = np.argwhere(~finite)[0]
            raise NonFiniteError(
                f"{name}: {x.size - np.count_nonzero(finite)} non-finite value(s); "
                f"first at run {i}, quantity {j}: {x[i, j]}"
            )
        n = x.shape[0]
        # Overflow (values near 1e308) is reported by check_finite below, not as a warning.
        with np.errstate(over="ignore", invalid="ignore"):
            # Corrected two-pass algorithm (Chan, Golub & LeVeque 1983): the sum of the
            # deviations from the first-pass mean is zero in exact arithmetic, so it
            # measures and removes that mean's rounding error, both in the mean and in M2.
            mean0 = x.sum(axis=0) / n
            dev = x - mean0
            correction = dev.sum(axis=0)
            mean = mean0 + correction / n
            # Rounding can leave M2 a few ulps below zero for (nearly) constant data.
            m2 = np.maximum(np.einsum("ij,ij->j", dev, dev) - correction * correction / n, 0.0)
            dev -= correction / n
            m3 = np.einsum("ij,ij,ij->j", dev, dev, dev)
        check_finite(f"moments of {name}", m2)
        acc = cls()
        acc._count, acc._mean, acc._m2, acc._m3 = n, mean, m2, m3
        acc._block_means.append(mean)
        acc._block_counts.append(n)
        return acc

    def update(self, batch) -> StreamingMoments:
        """Add a batch of runs, shape ``(runs, m)``, as a new block; return ``self``.

        Equivalent to ``self.merge(StreamingMoments.from_batch(batch))``.

        Parameters
        ----------
        batch : array_like, shape (runs, m)
            One row per run, one column per recorded quantity.

        Returns
        -------
        StreamingMoments
            ``self``.
        """
        return self.merge(StreamingMoments.from_batch(batch))

    def merge(self, other: StreamingMoments) -> StreamingMoments:
        """Append the runs summarised by ``other`` (after those of ``self``); return ``self``.

        Uses the pairwise update of Chan, Golub & LeVeque (1983)::

            delta = mean_b - mean_a
            mean  = mean_a + delta * n_b / n
            M2    = M2_a + M2_b + delta**2 * n_a * n_b / n

        ``other``'s blocks are appended after ``self``'s.  ``other`` is not modified.

        Parameters
        ----------
        other : StreamingMoments
            The runs to append (with the same number of quantities).

        Returns
        -------
        StreamingMoments
            ``self``.
        """
        if not isinstance(other, StreamingMoments):
            raise TypeError(f"other must be a StreamingMoments, got {type(other).__name__}")
        if other._count == 0:
            return self
        if self._count == 0:
            # Copy rather than run the update with n_a = 0: ``0 + mb * nb / nb`` need not
            # round back to ``mb``, and the first block must not depend on the path taken.
            self._count, self._mean, self._m2 = other._count, other._mean.copy(), other._m2.copy()
            self._m3 = other._m3.copy()
        else:
            if other._mean.shape != self._mean.shape:
                raise ValueError(
                    f"other has {other._mean.shape[0]} quantities per run, but the runs "
                    f"accumulated so far have {self._mean.shape[0]}"
                )
            na, nb = self._count, other._count
            n = na + nb
            with np.errstate(over="ignore", invalid="ignore"):
                delta = other._mean - self._mean
                self._mean = self._mean + delta * (nb / n)
                # Pairwise update of the third central sum (Pebay 2008, eq. 2.1 with p = 3).
                self._m3 = (self._m3 + other._m3 + delta**3 * (na * nb * (na - nb) / (n * n))
                            + 3.0 * delta * (na * other._m2 - nb * self._m2) / n)
                self._m2 = self._m2 + other._m2 + delta * delta * (na * nb / n)
            self._count = n
            check_finite("merged moments", self._m2)
        self._block_means.extend(other._block_means)
        self._block_counts.extend(other._block_counts)
        return self

    def _require(self, minimum: int, what: str) -> None:
        if self._count < minimum:
            raise ValueError(f"{what} needs at least {minimum} run(s), got count={self._count}")

    @property
    def count(self) -> int:
        """Number of runs accumulated."""
        return self._count

    @property
    def mean(self) -> np.ndarray:
        """Sample mean of each quantity, shape ``(m,)``."""
        self._require(1, "mean")
        return self._mean.copy()

    @property
    def m2(self) -> np.ndarray:
        """Sum of squared deviations from the mean, shape ``(m,)``."""
        self._require(1, "m2")
        return self._m2.copy()

    @property
    def variance(self) -> np.ndarray:
        """Unbiased sample variance ``M2 / (count - 1)``, shape ``(m,)``; needs ``count >= 2``."""
        self._require(2, "variance")
        return self._m2 / (self._count - 1)

    @property
    def std(self) -> np.ndarray:
        """Sample standard deviation ``sqrt(variance)``, shape ``(m,)``."""
        return np.sqrt(self.variance)

    @property
    def skewness(self) -> np.ndarray:
        """Sample skewness ``(M3/n) / (M2/n)^{3/2}`` (0 where the variance is 0)."""
        self._require(2, "skewness")
        with np.errstate(divide="ignore", invalid="ignore"):
            g = (self._m3 / self._count) / (self._m2 / self._count) ** 1.5
        return np.where(self._m2 > 0, g, 0.0)

    @property
    def stderr(self) -> np.ndarray:
        """Standard error of the mean ``sqrt(variance / count)``, shape ``(m,)``."""
        return np.sqrt(self.variance / self._count)

    @property
    def block_means(self) -> np.ndarray:
        """Mean of each block, in block order, shape ``(nblocks, m)``."""
        self._require(1, "block_means")
        return np.array(self._block_means)

    @property
    def block_counts(self) -> np.ndarray:
        """Number of runs in each block, in block order, shape ``(nblocks,)``."""
        return np.array(self._block_counts, dtype=np.int64)
