"""Trace identities that avoid solving for a matrix (001_7d31b3ff3a2f0401.txt Appendix B, via Lemma 17).

Each is a one-line formula; the tests compare it with the explicit operator solve (eigenbasis
multiplier, Kronecker matrix) and with scipy's Lyapunov solver.
"""

from __future__ import annotations

import numpy as np

from theorytools.linalg import real_array, trace_solve



def proposition10_trace(p, alpha: float, X) -> float:
    """``tr(H (I - Lambda)^{-1}(X)) = 1/(2 alpha) tr((B - alpha/2 H)^{-1} B X B)`` (Proposition 10).

    Needs ``B - alpha/2 H`` positive definite (``alpha lambda_1(B^-1 H) < 2``).
    """
    X = real_array("X", X)
    return trace_solve(p.B - 0.5 * alpha * p.H, p.B @ X @ p.B) / (2.0 * alpha)


def proposition14_trace(p, X) -> float:
    """``tr(H (Xi - I)^{-1}(X)) = 1/2 tr((B^{-1} - 1/2 H^{-1})^{-1} X)`` (Proposition 14).

    Needs ``lambda_n(B^-1 H) > 1/2``.
    """
    return 0.5 * trace_solve(_Binv_minus_half_Hinv(p), real_array("X", X))


def _Binv_minus_half_Hinv(p) -> np.ndarray:
    return np.linalg.inv(p.B) - 0.5 * np.linalg.inv(p.H)


def eq29_trace(p, alpha: float) -> float:
    """``tr(H V_inf) = alpha/2 tr((B - alpha/2 H)^{-1} Sigma_g)`` (eqn. 29)."""
    return 0.5 * alpha * trace_solve(p.B - 0.5 * alpha * p.H, p.Sigma_g)


def eq45_trace(p) -> float:
    """``tr((B/alpha - H/2) V_inf) = 1/2 tr(H^{-1} Sigma_g)``, independent of alpha (eqn. 45)."""
    return 0.5 * trace_solve(p.H, p.Sigma_g)
