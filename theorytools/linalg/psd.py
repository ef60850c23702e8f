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

Accuracy.  For a non-singular ``F`` the result is accurate to rounding in every diagonal rescaling (it is the
equilibrated solve).  For a singular ``F`` the Moore-Penrose solution itself is not invariant: it is the
minimum-*Euclidean*-norm solution, and removing the null-space component mixes coordinates of different units.
Its rounding error grows like ``eps`` times the spread of the scales ``max D / min D`` (measured: residual
``|F x - b| / |b|`` of 3e-16 at a spread of 1e8, O(1) at 1e16 on a rank-2 4 x 4 example).  The part of the
solution that a model sees (``F x``, the change of the predictions) is what invariance tests should compare.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from theorytools.linalg.validation import as_array, as_float, check_finite, check_semidefinite

#: Eigenvalues of the equilibrated matrix (unit diagonal, so its largest eigenvalue is between 1 and n) at or below
#: ``n * RANK_RTOL`` times the largest are zero.  An exactly singular Fisher built in floating point has such
#: eigenvalues at ~n eps; a correlation matrix of condition 1e12 keeps all of its rank.
RANK_RTOL = 64 * np.finfo(float).eps
#: A matrix whose equilibrated form has an eigenvalue below ``-n * PSD_SLACK`` times its largest is refused as not
#: PSD (rounding leaves a PSD matrix built in floating point at ~ -n eps; a wider slack than the validators' 1e-12,
#: for running estimates such as online covariances, which accumulate more rounding).
PSD_SLACK = 1e-8


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
    """The numerical rank of a symmetric PSD matrix, decided on its equilibrated form.

    The decision is made on ``D A D`` with ``D = diag(A)^-1/2``, so it is invariant under diagonal rescaling
    (a change of units).

    Parameters
    ----------
    A : numpy.ndarray, shape (n, n)
        Symmetric positive semidefinite matrix.
    rtol : float, optional
        Relative cut on the equilibrated eigenvalues, in ``[0, 1]`` (default ``RANK_RTOL``, 64 eps; the cut is
        ``n * rtol`` times the largest).

    Returns
    -------
    int
        The number of equilibrated eigenvalues above the cut.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.linalg import psd_rank
    >>> psd_rank(np.diag([1e-20, 1.0, 1e20]))
    3
    >>> psd_rank(np.array([[1e8, 1.0], [1.0, 1e-8]]))
    1
    """
    return int(np.count_nonzero(psd_eigh(_as_psd(A), _as_rtol(rtol))[4]))


def psd_solve(A: np.ndarray, b: np.ndarray, rtol: float = RANK_RTOL) -> np.ndarray:
    """``A^+ b`` for a symmetric PSD ``A`` (``b`` a vector or a matrix of columns), with a scale-invariant rank.

    Parameters
    ----------
    A : numpy.ndarray, shape (n, n)
        Symmetric positive semidefinite matrix.
    b : numpy.ndarray, shape (n,) or (n, k)
        Right-hand side(s).
    rtol : float, optional
        Relative rank cut, as for :func:`psd_rank` (default ``RANK_RTOL``).

    Returns
    -------
    numpy.ndarray, shape of ``b``
        The Moore-Penrose solution ``A^+ b``.

    Raises
    ------
    ValueError
        If ``A`` is not symmetric PSD or ``b`` has the wrong number of rows.
    theorytools.errors.NonFiniteError
        If the solution overflows.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.linalg import psd_solve
    >>> A = np.diag([4e-30, 2.0])                   # the (mu, ln sigma) Fisher at sigma = e^15 ... and beyond
    >>> np.round(psd_solve(A, np.array([4e-30, 2.0])), 6).tolist()
    [1.0, 1.0]
    >>> np.round(psd_solve(np.ones((2, 2)), np.array([2.0, 2.0])), 6).tolist()   # rank 1: the minimum-norm solution
    [1.0, 1.0]
    """
    A = _as_psd(A)
    b = as_array("b", b)
    if b.ndim not in (1, 2) or b.shape[0] != A.shape[0]:
        raise ValueError(f"b must be a vector of length {A.shape[0]} or a matrix of {A.shape[0]} rows to match A, "
                         f"got shape {b.shape}")
    return _solve(A, b, _as_rtol(rtol))


def _solve(A: np.ndarray, b: np.ndarray, rtol: float) -> np.ndarray:
    """:func:`psd_solve` on validated arguments."""
    w, V, scale, live, keep = psd_eigh(A, rtol)
    col = (lambda v: v[:, None]) if b.ndim == 2 else (lambda v: v)
    bl = b[live]
    if not keep.all():
        # D times the null vectors of D A D span A's null space on the live coordinates (D is invertible there).
        # A^+ b = A^+ P b with P the projector on the range (the orthogonal complement of the null space), and the
        # minimum-norm solution has no null-space component: project before and after the equilibrated solve.
        # Householder QR of a matrix whose rows differ in norm by the spread of the scales is row-wise stable only
        # with its rows sorted by decreasing norm and column pivoting (Cox & Higham 1998)
        N = scale[:, None] * V[:, ~keep]
        order = np.argsort(-np.linalg.norm(N, axis=1), kind="stable")
        Q = np.empty_like(N)
        Q[order] = scipy.linalg.qr(N[order], mode="economic", pivoting=True)[0]
        project = lambda v: v - Q @ (Q.T @ v)  # noqa: E731
    else:
        project = lambda v: v  # noqa: E731
    Vk = V[:, keep]
    with np.errstate(over="ignore", invalid="ignore"):  # a pseudo-inverse beyond the float range (A_ii ~ 1e-310)
        y = project(col(scale) * (Vk @ ((Vk.T @ (col(scale) * project(bl))) / col(w[keep]))))
    check_finite("psd_solve (the pseudo-inverse applied to b overflows)", y)
    x = np.zeros_like(b)
    x[live] = y
    return x


def psd_pinv(A: np.ndarray, rtol: float = RANK_RTOL) -> np.ndarray:
    """The Moore-Penrose pseudo-inverse of a symmetric PSD matrix, with a scale-invariant rank decision.

    Parameters
    ----------
    A : numpy.ndarray, shape (n, n)
        Symmetric positive semidefinite matrix.
    rtol : float, optional
        Relative rank cut, as for :func:`psd_rank` (default ``RANK_RTOL``).

    Returns
    -------
    numpy.ndarray, shape (n, n)
        ``A^+``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.linalg import psd_pinv
    >>> bool(np.allclose(psd_pinv(np.diag([1e-20, 0.0])), np.diag([1e20, 0.0])))
    True
    >>> np.round(psd_pinv(np.ones((2, 2))), 6).tolist()       # (1 1^T)^+ = 1 1^T / 4
    [[0.25, 0.25], [0.25, 0.25]]
    """
    A = _as_psd(A)
    return _solve(A, np.eye(A.shape[0]), _as_rtol(rtol))


def _as_psd(A) -> np.ndarray:
    return check_semidefinite("A", A, slack=PSD_SLACK)


def _as_rtol(rtol) -> float:
    return as_float("rtol", rtol, low=0.0, high=1.0)
