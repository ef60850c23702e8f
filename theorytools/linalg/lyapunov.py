"""Traces of solutions of Lyapunov-type equations without solving them."""

from __future__ import annotations

import numpy as np
import scipy.linalg


def trace_solve(A: np.ndarray, X: np.ndarray) -> float:
    """``tr(A^{-1} X)`` by one linear solve (no explicit inverse)."""
    return float(np.trace(np.linalg.solve(A, X)))


def lyapunov_trace(P: np.ndarray, Q: np.ndarray) -> float:
    """``tr(A)`` for any ``A`` solving ``A^T P + P A + Q = 0``, P invertible.

    001_7d31b3ff3a2f0401.txt Appendix D, Lemma 17: ``tr(A) = -1/2 tr(P^{-1} Q)``.
    Only a linear solve with P is needed; :func:`solve_lyapunov_A` is the independent route.
    """
    return -0.5 * trace_solve(P, Q)


def solve_lyapunov_A(P: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """One solution ``A`` of ``A^T P + P A + Q = 0`` (the slow route for testing Lemma 17).

    The equation is linear in ``A``; it is vectorized with the commutation matrix and
    solved in the least-squares sense (the solution set is an affine space when the
    operator is singular, and Lemma 17 holds for every member of it).
    """
    n = P.shape[0]
    eye = np.eye(n)
    # vec(A^T P) = (P^T kron I) K vec(A), with K the commutation matrix; vec(P A) = (I kron P) vec(A).
    K = np.zeros((n * n, n * n))
    idx = np.arange(n * n).reshape(n, n, order="F")
    K[idx.T.reshape(-1, order="F"), idx.reshape(-1, order="F")] = 1.0
    M = np.kron(P.T, eye) @ K + np.kron(eye, P)
    a, *_ = scipy.linalg.lstsq(M, -Q.reshape(-1, order="F"))
    return a.reshape(n, n, order="F")
