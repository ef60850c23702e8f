"""Preconditioners C of preconditioned TANGO (000_3b01ec78f4f92394.txt eqs 6-7: "TANGO on the variable C^{-1/2} theta").

Each has ``init(runs, d) -> state`` and ``apply(state, theta, g, gt) -> (state, C g, C g~)`` on arrays with a
leading axis over runs.  In expectation the fixed point of eq. 6 is ``C E g = C J v``, i.e. ``v = J^-1 E g``
whatever the positive definite C: every choice keeps the natural-gradient limit; C changes the
conditioning of ``C J`` and hence the admissible gamma.
"""

from __future__ import annotations

import numpy as np

from theorytools.linalg import as_symmetric, check_definite


class Identity:
    """Plain TANGO (C = I)."""

    def init(self, runs, d):
        return None

    def apply(self, state, theta, g, gt):
        return state, None, None


class FixedPreconditioner:
    """A fixed symmetric positive definite ``C``."""

    def __init__(self, C):
        self.C = as_symmetric("C", C)
        check_definite("C", self.C)

    def init(self, runs, d):
        if self.C.shape != (d, d):
            raise ValueError(f"C must be a ({d}, {d}) matrix for this parameter, got shape {self.C.shape}")
        return None

    def apply(self, state, theta, g, gt):
        return state, g @ self.C, gt @ self.C


class _RunningDiagonal:
    """``C = diag(1 / (f(m_k) + eps))`` with ``m_k`` a bias-corrected exponential average of squares."""

    def __init__(self, beta: float, eps: float):
        if not 0.0 <= beta < 1.0 or not eps > 0:
            raise ValueError(f"beta must be in [0, 1) and eps > 0, got beta={beta}, eps={eps}")
        self.beta, self.eps = float(beta), float(eps)

    def init(self, runs, d):
        return (0, np.zeros((runs, d)))

    def _scale(self, m):
        raise NotImplementedError

    def _square(self, g, gt):
        raise NotImplementedError

    def apply(self, state, theta, g, gt):
        k, m = state
        k += 1
        m = self.beta * m + (1.0 - self.beta) * self._square(g, gt)
        c = 1.0 / (self._scale(m / (1.0 - self.beta**k)) + self.eps)
        return (k, m), c * g, c * gt


class RMSProp(_RunningDiagonal):
    """RMSProp-style ``C = diag(1 / (sqrt(mean g^2) + eps))`` from the gradients g seen so far."""

    def __init__(self, beta: float = 0.9, eps: float = 1e-8):
        super().__init__(beta, eps)

    def _square(self, g, gt):
        return g * g

    def _scale(self, m):
        return np.sqrt(m)


class DiagonalFisher(_RunningDiagonal):
    """``C^-1 = diag(E g~^(.2))``, the diagonal Fisher estimated from the pseudo-sample gradients seen so far."""

    def __init__(self, beta: float = 0.99, eps: float = 1e-8):
        super().__init__(beta, eps)

    def _square(self, g, gt):
        return gt * gt

    def _scale(self, m):
        return m


def as_preconditioner(C, d: int):
    """None -> identity; a matrix -> :class:`FixedPreconditioner`; a preconditioner object as is."""
    if C is None:
        return Identity()
    if hasattr(C, "apply") and hasattr(C, "init"):
        return C
    return FixedPreconditioner(C)
