"""Dense Kronecker (n^2 x n^2) representation of linear maps on n x n matrices.

Convention: ``vec`` stacks columns (Fortran order), so ``vec(A X C^T) = (C kron A) vec(X)``.
This is the slow, independent route against which the eigenbasis multipliers are tested
(001_7d31b3ff3a2f0401.txt §14.2, footnote 20: operators "can be represented as n^2 x n^2
matrices if we vectorize their n x n matrix arguments").  It needs n^4 numbers (65 GB at n = 300), so every
builder checks the allocation first (:func:`theorytools.linalg.check_allocation`).
"""

from __future__ import annotations

import numpy as np

from theorytools.linalg.memory import check_allocation
from theorytools.linalg.validation import as_array, as_int, as_matrix

#: What to use instead of an n^2 x n^2 matrix that does not fit.
KRON_CHEAPER = ("apply the map as A X C^T directly, or through the eigenbasis multipliers of "
                "theorytools.quadratic.operators (O(n^2) numbers)")


def vec(X: np.ndarray) -> np.ndarray:
    """Column-stacking vectorization of a matrix.

    Parameters
    ----------
    X : numpy.ndarray, shape (m, n)
        The matrix to vectorize.

    Returns
    -------
    numpy.ndarray, shape (m * n,)
        The columns of ``X`` stacked in order (Fortran order), so that
        ``vec(A X C^T) = (C kron A) vec(X)``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.linalg import vec
    >>> vec(np.array([[1.0, 2.0], [3.0, 4.0]])).tolist()
    [1.0, 3.0, 2.0, 4.0]
    """
    return as_array("X", X, ndim=2).reshape(-1, order="F")


def unvec(x: np.ndarray, n: int) -> np.ndarray:
    """Inverse of :func:`vec` for an n x n matrix.

    Parameters
    ----------
    x : numpy.ndarray, shape (n * n,)
        A column-stacked matrix.
    n : int
        The size of the matrix, ``>= 1``.

    Returns
    -------
    numpy.ndarray, shape (n, n)
        The matrix ``X`` with ``vec(X) = x``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.linalg import unvec, vec
    >>> unvec(np.array([1.0, 3.0, 2.0, 4.0]), 2).tolist()
    [[1.0, 2.0], [3.0, 4.0]]
    >>> X = np.arange(9.0).reshape(3, 3)
    >>> bool(np.array_equal(unvec(vec(X), 3), X))
    True
    """
    n = as_int("n", n, low=1)
    x = as_array("x", x, ndim=1)
    if x.size != n * n:
        raise ValueError(f"x must have n * n = {n * n} entries (n = {n}), got {x.size}")
    return x.reshape(n, n, order="F")


def sandwich_kron(A: np.ndarray, C: np.ndarray | None = None) -> np.ndarray:
    """Matrix of the map ``X -> A X C^T`` on n x n matrices (``C`` defaults to ``A``).

    Parameters
    ----------
    A : numpy.ndarray, shape (n, n)
        The left factor.
    C : numpy.ndarray, shape (n, n), optional
        The right factor (default ``A``).

    Returns
    -------
    numpy.ndarray, shape (n * n, n * n)
        ``C kron A``, so that ``vec(A X C^T) = sandwich_kron(A, C) @ vec(X)``.

    Raises
    ------
    theorytools.errors.SizeError
        If the n^2 x n^2 matrix does not fit in the memory limit.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.linalg import sandwich_kron, vec
    >>> A, C, X = np.array([[1.0, 2.0], [0.0, 3.0]]), np.eye(2) + 1.0, np.array([[1.0, -1.0], [2.0, 0.5]])
    >>> sandwich_kron(A, C).shape
    (4, 4)
    >>> bool(np.allclose(sandwich_kron(A, C) @ vec(X), vec(A @ X @ C.T)))
    True
    """
    A = as_matrix("A", A)
    C = A if C is None else as_matrix("C", C, A.shape[0])
    n = A.shape[0]
    check_allocation("the n^2 x n^2 Kronecker matrix", (n * n, n * n), cheaper=KRON_CHEAPER)
    return np.kron(C, A)
