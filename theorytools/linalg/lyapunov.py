"""Traces of solutions of Lyapunov-type equations without solving them."""

from __future__ import annotations

import numpy as np
import scipy.linalg

from theorytools.linalg.memory import check_allocation
from theorytools.linalg.validation import as_array, as_matrix, as_symmetric


def _solve(A: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``A^{-1} X`` for validated arrays: by Cholesky when ``A`` is symmetric positive definite, else by LU.

    Cholesky's backward error is componentwise relative to ``sqrt(A_ii A_jj)``, so a change of units ``S A S``
    (S positive diagonal) loses no digits; LU with partial pivoting has a normwise backward error, and on a
    matrix whose rows span units 1e8 apart loses ~8 digits in the small ones (measured: 3e-8 relative error in
    ``B^-1 Sigma_g B^-1`` for a 5 x 5 B of condition 1 rescaled by factors 1e-2..1e7).  Raises
    ``numpy.linalg.LinAlgError`` for a singular ``A``.
    """
    if A.shape[0] and np.all(np.diag(A) > 0) and np.array_equal(A, A.T):
        try:
            return scipy.linalg.cho_solve(scipy.linalg.cho_factor(A, check_finite=False), X, check_finite=False)
        except np.linalg.LinAlgError:  # symmetric but indefinite
            pass
    return np.linalg.solve(A, X)


def spd_solve(A: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``A^{-1} X`` for a symmetric positive definite ``A``, by Cholesky.

    ``X`` is a vector or a matrix of columns.  The result is accurate in any units (Cholesky's backward error is
    componentwise relative to ``sqrt(A_ii A_jj)``, see the private helper ``_solve`` of this module).  A matrix that
    is not positive definite is a ValueError naming it.

    Parameters
    ----------
    A : numpy.ndarray, shape (n, n)
        Symmetric positive definite matrix.
    X : numpy.ndarray, shape (n,) or (n, k)
        Right-hand side(s).

    Returns
    -------
    numpy.ndarray, shape of ``X``
        The solution ``A^{-1} X``.

    Raises
    ------
    ValueError
        If ``A`` is not symmetric positive definite or ``X`` has the wrong number of rows.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.linalg import spd_solve
    >>> A = np.array([[2.0, 1.0], [1.0, 2.0]])
    >>> np.round(spd_solve(A, np.array([3.0, 3.0])), 6).tolist()
    [1.0, 1.0]
    """
    A = as_symmetric("A", A)
    X = as_array("X", X)
    if X.ndim not in (1, 2) or X.shape[0] != A.shape[0]:
        raise ValueError(f"X must have {A.shape[0]} rows to match A, got shape {X.shape}")
    try:
        return scipy.linalg.cho_solve(scipy.linalg.cho_factor(A, check_finite=False), X, check_finite=False)
    except np.linalg.LinAlgError:
        raise ValueError(f"A must be positive definite, got a {A.shape[0]}x{A.shape[0]} matrix whose Cholesky "
                         "factorization fails") from None


def trace_solve(A: np.ndarray, X: np.ndarray) -> float:
    """``tr(A^{-1} X)`` by one linear solve.

    No explicit inverse is formed; Cholesky is used for a symmetric positive definite ``A`` (accurate in any units),
    LU otherwise.  A singular ``A`` is a ValueError naming it.

    Parameters
    ----------
    A : numpy.ndarray, shape (n, n)
        Invertible matrix.
    X : numpy.ndarray, shape (n, n)
        Square matrix.

    Returns
    -------
    float
        ``tr(A^{-1} X)``.

    Raises
    ------
    ValueError
        If ``A`` is singular or the shapes do not match.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.linalg import trace_solve
    >>> round(trace_solve(np.diag([2.0, 4.0]), np.eye(2)), 6)      # 1/2 + 1/4
    0.75
    """
    return _trace_solve(A, X, "A", "X")


def _trace_solve(A, X, name_A: str, name_X: str) -> float:
    A = as_matrix(name_A, A)
    X = as_matrix(name_X, X, A.shape[0])
    try:
        return float(np.trace(_solve(A, X)))
    except np.linalg.LinAlgError:
        raise ValueError(f"{name_A} must be invertible, got a singular {A.shape[0]}x{A.shape[0]} matrix") from None


def lyapunov_trace(P: np.ndarray, Q: np.ndarray) -> float:
    """``tr(A)`` for any ``A`` solving ``A^T P + P A + Q = 0``, P invertible.

    001_7d31b3ff3a2f0401.txt Appendix D, Lemma 17: ``tr(A) = -1/2 tr(P^{-1} Q)``.
    Only a linear solve with P is needed; :func:`solve_lyapunov_A` is the independent route.

    Parameters
    ----------
    P : numpy.ndarray, shape (n, n)
        Invertible matrix.
    Q : numpy.ndarray, shape (n, n)
        Square matrix.

    Returns
    -------
    float
        ``-1/2 tr(P^{-1} Q)``, the trace of every solution ``A``.

    Raises
    ------
    ValueError
        If ``P`` is singular or the shapes do not match.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.linalg import lyapunov_trace, solve_lyapunov_A
    >>> lyapunov_trace(np.eye(2), 2.0 * np.eye(2))        # A^T + A + 2 I = 0 gives tr(A) = -2
    -2.0
    >>> P, Q = np.array([[2.0, 1.0], [1.0, 3.0]]), np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> bool(np.isclose(lyapunov_trace(P, Q), np.trace(solve_lyapunov_A(P, Q))))
    True
    """
    return -0.5 * _trace_solve(P, Q, "P", "Q")


def solve_lyapunov_A(P: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """One solution ``A`` of ``A^T P + P A + Q = 0`` (the slow route for testing Lemma 17).

    The equation is linear in ``A``; it is vectorized with the commutation matrix and
    solved in the least-squares sense (the solution set is an affine space when the
    operator is singular, and Lemma 17 holds for every member of it).  It holds four
    n^2 x n^2 matrices at once: the size is checked first.

    Parameters
    ----------
    P : numpy.ndarray, shape (n, n)
        Square matrix.
    Q : numpy.ndarray, shape (n, n)
        Square matrix.

    Returns
    -------
    numpy.ndarray, shape (n, n)
        The least-squares solution ``A``.

    Raises
    ------
    theorytools.errors.SizeError
        If the four n^2 x n^2 matrices do not fit in the memory limit.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.linalg import solve_lyapunov_A
    >>> P, Q = np.array([[2.0, 1.0], [1.0, 3.0]]), np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> A = solve_lyapunov_A(P, Q)
    >>> bool(np.allclose(A.T @ P + P @ A + Q, 0.0))
    True
    """
    P = as_matrix("P", P)
    Q = as_matrix("Q", Q, P.shape[0])
    n = P.shape[0]
    check_allocation("the n^2 x n^2 Lyapunov operator", (n * n, n * n), copies=4,
                     cheaper="lyapunov_trace (Lemma 17) gives tr(A) with one n x n solve")
    eye = np.eye(n)
    # vec(A^T P) = (P^T kron I) K vec(A), with K the commutation matrix; vec(P A) = (I kron P) vec(A).
    K = np.zeros((n * n, n * n))
    idx = np.arange(n * n).reshape(n, n, order="F")
    K[idx.T.reshape(-1, order="F"), idx.reshape(-1, order="F")] = 1.0
    M = np.kron(P.T, eye) @ K + np.kron(eye, P)
    a, *_ = scipy.linalg.lstsq(M, -Q.reshape(-1, order="F"))
    return a.reshape(n, n, order="F")
