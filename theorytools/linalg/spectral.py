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
    """Eigenvalues ``lam`` (ascending) and B-orthonormal eigenvectors ``V`` of (H, B).

    Built by :func:`generalized_eigh`; the arguments are stored as attributes of the same names.

    Parameters
    ----------
    lam : numpy.ndarray, shape (n,)
        Eigenvalues of ``B^{-1} H``, ascending.
    V : numpy.ndarray, shape (n, n)
        B-orthonormal eigenvectors (columns): ``V^T B V = I``, ``V^T H V = diag(lam)``.
    Vinv : numpy.ndarray, shape (n, n)
        The inverse of ``V``, ``V^T B``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.linalg import generalized_eigh
    >>> eig = generalized_eigh(np.diag([2.0, 6.0]), np.diag([1.0, 2.0]))     # B^-1 H = diag(2, 3)
    >>> np.round(eig.lam, 6).tolist(), round(eig.lambda_1, 6), round(eig.lambda_n, 6)
    ([2.0, 3.0], 3.0, 2.0)
    >>> X = np.array([[1.0, 2.0], [2.0, 5.0]])
    >>> bool(np.allclose(eig.from_eigenbasis(eig.to_eigenbasis(X)), X))
    True
    """

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
        """``Y = V^{-1} X V^{-T}``, so that ``X = V Y V^T``.

        Parameters
        ----------
        X : numpy.ndarray, shape (n, n)
            A matrix in the original coordinates.

        Returns
        -------
        numpy.ndarray, shape (n, n)
            ``Y``, the same matrix in the eigenbasis.
        """
        return self.Vinv @ as_matrix("X", X, self.V.shape[0]) @ self.Vinv.T

    def from_eigenbasis(self, Y: np.ndarray) -> np.ndarray:
        """``X = V Y V^T``, the inverse of :meth:`to_eigenbasis`.

        Parameters
        ----------
        Y : numpy.ndarray, shape (n, n)
            A matrix in the eigenbasis.

        Returns
        -------
        numpy.ndarray, shape (n, n)
            ``X``, the same matrix in the original coordinates.
        """
        return self.V @ as_matrix("Y", Y, self.V.shape[0]) @ self.V.T


def generalized_eigh(H: np.ndarray, B: np.ndarray) -> GeneralizedEigen:
    """Solve ``H v = lambda B v`` for symmetric H and SPD B.

    Uses LAPACK's divide-and-conquer driver (``gvd``), several times faster than the
    default at n in the thousands.  B's definiteness is settled by the Cholesky factorization inside the solver
    (scale-invariant: ``S B S`` for a positive diagonal ``S`` factors exactly when ``B`` does).

    Parameters
    ----------
    H : numpy.ndarray, shape (n, n)
        Symmetric matrix.
    B : numpy.ndarray, shape (n, n)
        Symmetric positive definite matrix.

    Returns
    -------
    GeneralizedEigen
        Ascending eigenvalues ``lam`` and B-orthonormal eigenvectors ``V`` (each with a units-free sign).

    Raises
    ------
    ValueError
        If ``H`` or ``B`` is not symmetric, ``B`` is not positive definite, or the eigensolve fails.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.linalg import generalized_eigh
    >>> H, B = np.array([[2.0, 1.0], [1.0, 2.0]]), np.eye(2)
    >>> eig = generalized_eigh(H, B)
    >>> np.round(eig.lam, 6).tolist()
    [1.0, 3.0]
    >>> bool(np.allclose(eig.V.T @ B @ eig.V, np.eye(2)) and np.allclose(H @ eig.V, B @ eig.V * eig.lam))
    True
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
