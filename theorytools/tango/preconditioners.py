"""Preconditioners C of preconditioned TANGO (000_3b01ec78f4f92394.txt eqs 6-7: "TANGO on the variable C^{-1/2} theta").

Each has ``init(runs, d) -> state`` and ``apply(state, theta, g, gt) -> (state, C g, C g~)`` on arrays with a
leading axis over runs.

For a C that is fixed, or a function of theta alone (:class:`ExactDiagonalFisher`), the fixed point of eq. 6 in
expectation is ``C E g = C J v``, i.e. ``v = J^-1 E g``: the natural-gradient limit is kept, and C only changes
the conditioning of ``C J`` (hence the admissible gamma).  The running-average preconditioners
(:class:`RMSProp`, :class:`DiagonalFisher`) are not of that kind: C_k depends on past samples, so
``A_k = E_{k-1}[C_k g~ g~^T]`` is not a function of theta_{k-1} (Theorem 5's eq. 30 fails) and C_k is correlated
with v_{k-1}.  Measured at a fixed theta (linear regression, dt = 0, ``verification`` check
``tango.preconditioned_velocity_limit``): the mean velocity misses J^-1 E g by -20% with a 0.9 running mean of
g~^2, -4% with 0.99, +1.2% for RMSProp(0.9).  They build C_k from the squares of steps 1..k-1 only (folding in
the current sample first, as RMSProp is usually written, makes the bias worse: -31% measured).
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
    """``C_k = diag(1 / (f(m_k) + eps))`` with ``m_k`` a bias-corrected exponential mean of the squares of g
    (``of_pseudo_samples=False``) or of g~ over the previous steps, and ``f = sqrt`` (``root``) or the identity."""

    of_pseudo_samples = False
    root = False

    def __init__(self, beta: float, eps: float):
        if not 0.0 <= beta < 1.0 or not eps > 0:
            raise ValueError(f"beta must be in [0, 1) and eps > 0, got beta={beta}, eps={eps}")
        self.beta, self.eps = float(beta), float(eps)

    def __repr__(self):
        return f"{type(self).__name__}(beta={self.beta:g}, eps={self.eps:g})"

    def init(self, runs, d):
        return (0, np.zeros((runs, d)))

    def apply(self, state, theta, g, gt):
        k, m = state  # k squares folded in so far
        # C_k from steps 1..k-1 (C_1 = I: nothing seen yet), then fold in this step's square for C_{k+1}
        if k:
            mhat = m / (1.0 - self.beta**k)
            c = 1.0 / ((np.sqrt(mhat) if self.root else mhat) + self.eps)
        else:
            c = np.ones_like(g)
        sq = gt * gt if self.of_pseudo_samples else g * g
        m = self.beta * m + (1.0 - self.beta) * sq
        return (k + 1, m), c * g, c * gt


class RMSProp(_RunningDiagonal):
    """RMSProp-style ``C_k = diag(1 / (sqrt(mean g^2) + eps))`` from the gradients of the previous steps."""

    root = True

    def __init__(self, beta: float = 0.9, eps: float = 1e-8):
        super().__init__(beta, eps)


class DiagonalFisher(_RunningDiagonal):
    """``C_k^-1 = diag(E g~^(.2))``, the diagonal Fisher estimated from the pseudo-sample gradients of the previous steps."""

    of_pseudo_samples = True

    def __init__(self, beta: float = 0.99, eps: float = 1e-8):
        super().__init__(beta, eps)


class ExactDiagonalFisher:
    """``C(theta)^-1 = diag(E g~^(.2)) = diag J(theta)``, the exact diagonal Fisher of the model at the current
    parameter (x averaged over the rows of the dataset): a function of theta alone, so the natural-gradient
    limit is kept (eq. 30 holds)."""

    def __init__(self, model, x=None):
        self.model, self.x = model, x

    def init(self, runs, d):
        return None

    def apply(self, state, theta, g, gt):
        c = 1.0 / self.model.fisher_diagonal(theta, self.x)
        return state, c * g, c * gt


def as_preconditioner(C, d: int):
    """None -> identity; a matrix -> :class:`FixedPreconditioner`; a preconditioner object as is."""
    if C is None:
        return Identity()
    if hasattr(C, "apply") and hasattr(C, "init"):
        return C
    return FixedPreconditioner(C)
