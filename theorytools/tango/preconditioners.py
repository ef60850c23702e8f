"""Preconditioners C of preconditioned TANGO (000_3b01ec78f4f92394.txt eqs 6-7: "TANGO on the variable C^{-1/2} theta").

Each has ``init(runs, d) -> state`` and ``apply(state, theta, g, gt) -> (state, C g, C g~)`` on arrays with a
leading axis over runs.  The public ``init``/``apply`` validate their arguments; the iterations call the unchecked
``_init``/``_apply`` (any other object with ``init`` and ``apply`` is used through those).

For a C that is fixed, or a function of theta alone (:class:`ExactDiagonalFisher`), the fixed point of eq. 6 in
expectation is ``C E g = C J v``, i.e. ``v = J^-1 E g``: the natural-gradient limit is kept, and C only changes
the conditioning of ``C J`` (hence the admissible gamma).  The running-average preconditioners
(:class:`RMSProp`, :class:`DiagonalFisher`) are not of that kind: C_k depends on past samples, so
``A_k = E_{k-1}[C_k g~ g~^T]`` is not a function of theta_{k-1} (Theorem 5's eq. 30 fails) and C_k is correlated
with v_{k-1}.  Measured at a fixed theta (linear regression, dt = 0, ``verification`` check
``tango.preconditioned_velocity_limit``): the mean velocity misses J^-1 E g by -20% with a 0.9 running mean of
g~^2, -4% with 0.99, +1.2% for RMSProp(0.9).  They build C_k from the squares of steps 1..k-1 only (folding in
the current sample first, as RMSProp is usually written, makes the bias worse: -31% measured).

Units: ``C^-1 = diag J`` (:class:`ExactDiagonalFisher`) transforms like the Fisher under a rescaling of the
parameters, so TANGO preconditioned by it is invariant under every diagonal rescaling.  The ``eps`` of the running
preconditioners is an absolute floor in the units of g^2 (DiagonalFisher) or |g| (RMSProp): they are invariant only
while ``eps`` is negligible, and RMSProp's ``C ~ 1/|g|`` is not (it scales like one power of the units, not two).
"""

from __future__ import annotations

import numpy as np

from theorytools.linalg import as_array, as_float, as_instance, as_int, as_symmetric, check_allocation, check_definite, positive
from theorytools.tango.models import Model


class Preconditioner:
    """A preconditioner of eqs 6-7: ``init(runs, d)`` and ``apply(state, theta, g, gt)`` validate, then call the
    ``_init``/``_apply`` of the subclass (which the iterations call directly)."""

    def init(self, runs, d):
        """The initial state for ``runs`` runs of ``d`` parameters."""
        return self._init(as_int("runs", runs, low=1), as_int("d", d, low=1))

    def apply(self, state, theta, g, gt):
        """``(state, C g, C g~)`` for arrays ``theta``, ``g``, ``gt`` of shape (runs, d)."""
        theta = as_array("theta", theta, ndim=2)
        g, gt = as_array("g", g, shape=theta.shape), as_array("gt", gt, shape=theta.shape)
        return self._apply(state, theta, g, gt)

    def _init(self, runs, d):
        return None


class Identity(Preconditioner):
    """Plain TANGO (C = I)."""

    def _apply(self, state, theta, g, gt):
        return state, None, None


class _Foreign(Preconditioner):
    """A user's object with ``init`` and ``apply``, called as it is."""

    def __init__(self, obj):
        self.obj = obj

    def _init(self, runs, d):
        return self.obj.init(runs, d)

    def _apply(self, state, theta, g, gt):
        return self.obj.apply(state, theta, g, gt)


class FixedPreconditioner(Preconditioner):
    """A fixed symmetric positive definite ``C``."""

    def __init__(self, C):
        self.C = as_symmetric("C", C)
        check_definite("C", self.C)

    def _init(self, runs, d):
        if self.C.shape != (d, d):
            raise ValueError(f"C must be a ({d}, {d}) matrix for this parameter, got shape {self.C.shape}")
        return None

    def _apply(self, state, theta, g, gt):
        return state, g @ self.C, gt @ self.C


class _RunningDiagonal(Preconditioner):
    """``C_k = diag(1 / (f(m_k) + eps))`` with ``m_k`` a bias-corrected exponential mean of the squares of g
    (``of_pseudo_samples=False``) or of g~ over the previous steps, and ``f = sqrt`` (``root``) or the identity."""

    of_pseudo_samples = False
    root = False

    def __init__(self, beta: float, eps: float):
        self.beta = as_float("beta", beta, low=0.0, high=1.0, high_open=True)
        self.eps = positive("eps", eps)

    def __repr__(self):
        return f"{type(self).__name__}(beta={self.beta:g}, eps={self.eps:g})"

    def _init(self, runs, d):
        return (0, np.zeros((runs, d)))

    def _apply(self, state, theta, g, gt):
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


class ExactDiagonalFisher(Preconditioner):
    """``C(theta)^-1 = diag(E g~^(.2)) = diag J(theta)``, the exact diagonal Fisher of the model at the current
    parameter (x averaged over the rows of the dataset): a function of theta alone, so the natural-gradient
    limit is kept (eq. 30 holds).  A coordinate with no Fisher information (``J_ii = 0``: a zero input column) gets
    ``C_ii = 0``, the pseudo-inverse's choice: it does not move."""

    def __init__(self, model, x=None):
        self.model = as_instance("model", model, Model, "a model of theorytools.tango (GaussianModel, ...)")
        self.x = self.model._inputs(x, rows=True)

    def __repr__(self):
        return f"ExactDiagonalFisher({self.model!r})"

    def _init(self, runs, d):
        want = self.model._dim(None if self.x is None else self.x.shape[1])
        if d != want:
            raise ValueError(f"C = {self!r} was built for x of shape {None if self.x is None else self.x.shape}, which "
                             f"gives {want} parameters, but theta0 has d = {d}")
        check_allocation("the model's probabilities at every row of x for every run (runs x rows of x [x classes])",
                         self.model._fisher_diagonal_work((runs,), 1 if self.x is None else self.x.shape[0]),
                         cheaper="fewer runs per block (block_size), or a subsample of the rows of x")
        return None

    def _apply(self, state, theta, g, gt):
        diag = self.model._fisher_diagonal(theta, self.x)
        c = np.divide(1.0, diag, out=np.zeros_like(diag), where=diag > 0)
        return state, c * g, c * gt


def as_preconditioner(C):
    """None -> identity; a matrix -> :class:`FixedPreconditioner`; a preconditioner object as is."""
    if C is None:
        return Identity()
    if isinstance(C, Preconditioner):
        return C
    if isinstance(C, type):
        raise TypeError(f"C must be a preconditioner object such as {C.__name__}(), got the class {C.__name__}")
    if hasattr(C, "apply") and hasattr(C, "init"):
        return _Foreign(C)
    return FixedPreconditioner(C)
