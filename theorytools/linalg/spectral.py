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

from theorytools.linalg.validation import as_matrix, as_symmetric


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
        return self.Vinv @ as_matrix("X", X, self.V.shape[0]) @ self.Vinv.T

    def from_eigenbasis(self, Y: np.ndarray) -> np.ndarray:
        """``X = V Y V^T``."""
        return self.V @ as_matrix("Y", Y, self.V.shape[0]) @ self.V.T


def generalized_eigh(H: np.ndarray, B: np.ndarray) -> GeneralizedEigen:
    """Solve ``H v = lambda B v`` for symmetric H and SPD B.

    Uses LAPACK's divide-and-conquer driver (``gvd``), several times faster than the
    default at n in the thousands.  B's definiteness is settled by the Cholesky factorization inside the solver
    (scale-invariant: ``S B S`` for a positive diagonal ``S`` factors exactly when ``B`` does).
    """
    H = as_symmetric("H", H)
    B = as_symmetric("B", B, H.shape[0])
    n = H.shape[0]
    driver = "gvd" if n > 1 else None
    try:
        lam, V = scipy.linalg.eigh(H, B, driver=driver, check_finite=False)
    except np.linalg.LinAlgError as exc:
        if "minor" in str(exc):  # LAPACK's Cholesky of B failed
            raise ValueError(f"B must be positive definite ({exc})") from None
        raise ValueError(f"the eigensolve of (H, B) failed, H or B too ill-conditioned: {exc}") from None
    Vinv = V.T @ B
    # Each eigenvector's sign is arbitrary (LAPACK's choice varies with rounding).  Fix it in a units-free way: the
    # products w_i = V_ij (V^-1)_ji (summing to 1 over i) are unchanged by a change of units H -> S H S, B -> S B S
    # (S positive diagonal, V -> S^-1 V), so "V_ij > 0 at the largest |w_i|" picks the same sign in every units --
    # what makes a seeded simulation reproducible, to rounding, after rescaling the parameters.
    top = np.argmax(np.abs(V * Vinv.T), axis=0)
    sign = np.where(V[top, np.arange(n)] < 0, -1.0, 1.0)
    return GeneralizedEigen(lam=lam, V=V * sign, Vinv=Vinv * sign[:, None])
