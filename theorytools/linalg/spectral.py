"""The generalized symmetric eigenproblem ``H v = lambda B v`` behind the spectral form.

With ``V`` B-orthonormal (``V^T B V = I``) we have ``V^T H V = diag(lam)``,
``B^{-1} H = V diag(lam) V^{-1}`` and ``V^{-1} = V^T B``.  Every operator of
Martens' algebra (001_7d31b3ff3a2f0401.txt §14.2, Appendix B) is then diagonal on
``X = V Y V^T``; see :mod:`theorytools.quadratic.operators`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg


@dataclass(frozen=True)
class GeneralizedEigen:
    """Eigenvalues ``lam`` (ascending) and B-orthonormal eigenvectors ``V`` of (H, B)."""

    lam: np.ndarray
    V: np.ndarray
    Vinv: np.ndarray  # = V^T B

    @property
    def lambda_1(self) -> float:
        """Largest eigenvalue of ``B^{-1} H`` (the paper's ``lambda_1``)."""
        return float(self.lam[-1])

    @property
    def lambda_n(self) -> float:
        """Smallest eigenvalue of ``B^{-1} H`` (the paper's ``lambda_n``, called ``b``)."""
        return float(self.lam[0])

    def to_eigenbasis(self, X: np.ndarray) -> np.ndarray:
        """``Y = V^{-1} X V^{-T}``, so that ``X = V Y V^T``."""
        return self.Vinv @ X @ self.Vinv.T

    def from_eigenbasis(self, Y: np.ndarray) -> np.ndarray:
        """``X = V Y V^T``."""
        return self.V @ Y @ self.V.T


def generalized_eigh(H: np.ndarray, B: np.ndarray) -> GeneralizedEigen:
    """Solve ``H v = lambda B v`` for symmetric H and SPD B.

    Uses LAPACK's divide-and-conquer driver (``gvd``), several times faster than the
    default at n in the thousands.
    """
    n = H.shape[0]
    driver = "gvd" if n > 1 else None
    lam, V = scipy.linalg.eigh(H, B, driver=driver, check_finite=False)
    return GeneralizedEigen(lam=lam, V=V, Vinv=V.T @ B)
