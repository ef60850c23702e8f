"""Trace identities that avoid solving for a matrix (001_7d31b3ff3a2f0401.txt Appendix B, via Lemma 17).

Each is a one-line formula; the tests compare it with the explicit operator solve (eigenbasis
multiplier, Kronecker matrix) and with scipy's Lyapunov solver.
"""

from __future__ import annotations

import numpy as np

from theorytools.linalg import as_matrix, positive, spd_solve, trace_solve
from theorytools.quadratic.problem import as_problem


def below_two(p, alpha, where: str) -> float:
    """``alpha`` validated for the formulas that solve with ``B - alpha/2 H``: positive definite iff
    ``alpha lambda_1(B^-1 H) < 2`` (otherwise the iteration has no stationary variance)."""
    alpha = positive("alpha", alpha)
    if not alpha * p.lambda_1 < 2.0:
        raise ValueError(f"alpha must satisfy alpha lambda_1(B^-1 H) < 2 for {where} (B - alpha/2 H positive "
                         f"definite), got alpha lambda_1 = {alpha * p.lambda_1:.6g}")
    return alpha


def proposition10_trace(p, alpha: float, X) -> float:
    """``tr(H (I - Lambda)^{-1}(X)) = 1/(2 alpha) tr((B - alpha/2 H)^{-1} B X B)`` (Proposition 10).

    Needs ``B - alpha/2 H`` positive definite (``alpha lambda_1(B^-1 H) < 2``).
    001_7d31b3ff3a2f0401.txt Appendix B.1, Proposition 10.

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    alpha : float
        The constant step size, ``0 < alpha lambda_1(B^-1 H) < 2``.
    X : array_like, shape (n, n)
        The matrix.

    Returns
    -------
    float
        ``tr(H (I - Lambda)^{-1}(X))``.

    Examples
    --------
    The same number from the operator algebra (:class:`~theorytools.quadratic.operators`):

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, operators, proposition10_trace
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> ops, X = operators(p), np.array([[1.0, 0.5], [0.5, 2.0]])
    >>> bool(np.isclose(proposition10_trace(p, 0.5, X), np.trace(p.H @ (ops.I - ops.Lambda(0.5)).inv()(X))))
    True
    """
    p = as_problem(p)
    alpha = below_two(p, alpha, "Proposition 10")
    X = as_matrix("X", X, p.n)
    return trace_solve(p.B - 0.5 * alpha * p.H, p.B @ X @ p.B) / (2.0 * alpha)


def proposition14_trace(p, X) -> float:
    """``tr(H (Xi - I)^{-1}(X)) = 1/2 tr((B^{-1} - 1/2 H^{-1})^{-1} X)`` (Proposition 14).

    Needs ``lambda_n(B^-1 H) > 1/2``.  001_7d31b3ff3a2f0401.txt Appendix B.2, Proposition 14.

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    X : array_like, shape (n, n)
        The matrix.

    Returns
    -------
    float
        ``tr(H (Xi - I)^{-1}(X))``.

    Examples
    --------
    The same number from the operator algebra; at ``X = U = I`` it is ``1/2 (4/3 + 2) = 5/3``:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, operators, proposition14_trace
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> ops, X = operators(p), np.array([[1.0, 0.5], [0.5, 2.0]])
    >>> bool(np.isclose(proposition14_trace(p, X), np.trace(p.H @ (ops.Xi - ops.I).inv()(X))))
    True
    >>> print(f"{proposition14_trace(p, p.U):.6f}")
    1.666667
    """
    p = as_problem(p)
    X = as_matrix("X", X, p.n)
    if not p.lambda_n > 0.5:
        raise ValueError(f"p must have lambda_n(B^-1 H) > 1/2 for Proposition 14, got {p.lambda_n:.6g}")
    return 0.5 * trace_solve(_Binv_minus_half_Hinv(p), X)


def _Binv_minus_half_Hinv(p) -> np.ndarray:
    """``B^-1 - H^-1/2`` from Cholesky solves (accurate in any units), exactly symmetric."""
    eye = np.eye(p.n)
    M = spd_solve(p.B, eye) - 0.5 * spd_solve(p.H, eye)
    return 0.5 * (M + M.T)


def eq29_trace(p, alpha: float) -> float:
    """``tr(H V_inf) = alpha/2 tr((B - alpha/2 H)^{-1} Sigma_g)`` (eqn. 29); needs ``alpha lambda_1(B^-1 H) < 2``.

    001_7d31b3ff3a2f0401.txt Appendix B.1 (from Lemma 9 and Proposition 10).

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    alpha : float
        The constant step size, ``0 < alpha lambda_1(B^-1 H) < 2``.

    Returns
    -------
    float
        ``tr(H V_inf)``.

    Examples
    --------
    ``1/4 (2 + 4/3) = 5/6``, also ``tr(H V_inf)`` with :func:`~theorytools.quadratic.V_infinity`:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, V_infinity, eq29_trace
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> print(f"{eq29_trace(p, 0.5):.6f}", bool(np.isclose(eq29_trace(p, 0.5), np.trace(p.H @ V_infinity(p, 0.5)))))
    0.833333 True
    """
    p = as_problem(p)
    alpha = below_two(p, alpha, "eqn. 29")
    return 0.5 * alpha * trace_solve(p.B - 0.5 * alpha * p.H, p.Sigma_g)


def eq45_trace(p) -> float:
    """``tr((B/alpha - H/2) V_inf) = 1/2 tr(H^{-1} Sigma_g)``, independent of alpha (eqn. 45).

    001_7d31b3ff3a2f0401.txt Appendix B.3 (proof of Theorem 6).

    Parameters
    ----------
    p : QuadraticProblem
        The problem.

    Returns
    -------
    float
        ``1/2 tr(H^{-1} Sigma_g)``.

    Examples
    --------
    ``1/2 (1/2 + 1) = 3/4``, and the left side at two step sizes:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, V_infinity, eq45_trace
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> [round(float(np.trace((p.B / a - p.H / 2) @ V_infinity(p, a))), 6) for a in (0.1, 0.5)], round(eq45_trace(p), 6)
    ([0.75, 0.75], 0.75)
    """
    p = as_problem(p)
    return 0.5 * trace_solve(p.H, p.Sigma_g)
