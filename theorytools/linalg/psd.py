"""Pseudo-inverses of positive semidefinite matrices whose rank decision does not depend on units.

A Fisher matrix ``F`` of parameters ``theta`` becomes ``S^-1 F S^-1`` when the parameters are rescaled to
``S theta`` (``S`` diagonal: a change of units).  A cut "eigenvalues below 1e-12 x the largest are zero" on ``F``
itself then depends on the units: rescaling one coordinate by 1e7 pushes the others' eigenvalues under the cut and
freezes them.  Here the decision is made on the Jacobi-equilibrated matrix ``D F D`` with ``D = diag(F)^-1/2``,
which is the same matrix (to rounding) in every diagonal rescaling; a coordinate with a zero diagonal is in the
null space exactly (a PSD matrix with ``F_ii = 0`` has a zero row and column).

The solution returned is the Moore-Penrose one, ``F^+ b``, computed as the equilibrated solution ``D (D F D)^+ D b``
with its component in the null space of ``F`` removed.  On the range of ``F`` the two agree, and the null space
(``D`` times the null space of ``D F D``) is decided scale-invariantly too.
"""

from __future__ import annotations

import numpy as np

#: Eigenvalues of the equilibrated matrix (unit diagonal, so its largest eigenvalue is between 1 and n) at or below
#: ``n * RANK_RTOL`` times the largest are zero.  An exactly singular Fisher built in floating point has such
#: eigenvalues at ~n eps; a correlation matrix of condition 1e12 keeps all of its rank.
RANK_RTOL = 64 * np.finfo(float).eps


def psd_eigh(A: np.ndarray, rtol: float = RANK_RTOL):
    """``(w, V, scale, live, keep)`` for a symmetric PSD ``A``: ``live`` indexes the coordinates with ``A_ii > 0`` (the
    others have a zero row and column), ``scale = A_ii^-1/2`` on them, ``D A D = V diag(w) V^T`` the eigendecomposition
    of the equilibrated live block (``D = diag(scale)``), and ``keep`` the mask of its eigenvalues above the
    scale-invariant cut."""
    A = np.asarray(A, dtype=float)
    diag = np.diag(A)
    live = np.flatnonzero(diag > 0)
    scale = 1.0 / np.sqrt(diag[live])
    B = scale[:, None] * A[np.ix_(live, live)] * scale[None, :]
    w, V = np.linalg.eigh(0.5 * (B + B.T))
    cut = A.shape[0] * rtol * (float(w[-1]) if w.size else 0.0)
    return w, V, scale, live, w > cut


def psd_rank(A: np.ndarray, rtol: float = RANK_RTOL) -> int:
    """The numerical rank of a symmetric PSD matrix, decided on its equilibrated form (so invariant under diagonal
    rescaling).

    Examples
    --------
    >>> psd_rank(np.diag([1e-20, 1.0, 1e20]))
    3
    >>> psd_rank(np.array([[1e8, 1.0], [1.0, 1e-8]]))
    1
    """
    return int(np.count_nonzero(psd_eigh(A, rtol)[4]))


def psd_solve(A: np.ndarray, b: np.ndarray, rtol: float = RANK_RTOL) -> np.ndarray:
    """``A^+ b`` for a symmetric PSD ``A`` (``b`` a vector or a matrix of columns), with a scale-invariant rank.

    Examples
    --------
    >>> A = np.diag([4e-30, 2.0])                   # the (mu, ln sigma) Fisher at sigma = e^15 ... and beyond
    >>> psd_solve(A, np.array([4e-30, 2.0]))
    array([1., 1.])
    """
    w, V, scale, live, keep = psd_eigh(A, rtol)
    b = np.asarray(b, dtype=float)
    col = (lambda v: v[:, None]) if b.ndim == 2 else (lambda v: v)
    bl = b[live]
    if not keep.all():
        # D times the null vectors of D A D span A's null space on the live coordinates (D is invertible there).
        # A^+ b = A^+ P b with P the projector on the range (the orthogonal complement of the null space), and the
        # minimum-norm solution has no null-space component: project before and after the equilibrated solve.
        Q = np.linalg.qr(scale[:, None] * V[:, ~keep])[0]
        project = lambda v: v - Q @ (Q.T @ v)  # noqa: E731
    else:
        project = lambda v: v  # noqa: E731
    Vk = V[:, keep]
    y = project(col(scale) * (Vk @ ((Vk.T @ (col(scale) * project(bl))) / col(w[keep]))))
    x = np.zeros_like(b)
    x[live] = y
    return x


def psd_pinv(A: np.ndarray, rtol: float = RANK_RTOL) -> np.ndarray:
    """The Moore-Penrose pseudo-inverse of a symmetric PSD matrix, with a scale-invariant rank decision.

    Examples
    --------
    >>> np.allclose(psd_pinv(np.diag([1e-20, 0.0])), np.diag([1e20, 0.0]))
    True
    """
    return psd_solve(A, np.eye(A.shape[0]), rtol)
