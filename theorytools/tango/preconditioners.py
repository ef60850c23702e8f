"""Preconditioners C of preconditioned TANGO (000_3b01ec78f4f92394.txt eqs 6-7: "TANGO on the variable C^{-1/2} theta").

Each has ``init(runs, d) -> state`` and ``apply(state, theta, g, gt) -> (state, C g, C g~)`` on arrays with a
leading axis over runs.  The public ``init``/``apply`` validate their arguments; the iterations call the unchecked
``_init``/``_apply`` (any other object with ``init`` and ``apply`` is used through those).

For a C that is fixed, or a function of theta alone (:class:`ExactDiagonalFisher`), the fixed point of eq. 6 in
expectation is ``C E g = C J v``, i.e. ``v = J^-1 E g``: the natural-gradient limit is kept, and C only changes
the conditioning of ``C J`` (hence the admissible gamma).  The running-average preconditioners
(:class:`RMSProp`, :class:`DiagonalFisher`) are not of that kind: C_k depends on past samples, so ``A_k =
E_{k-1}[C_k g~ g~^T]`` is not a function of theta_{k-1} (Theorem 5's eq. 30 fails) and C_k is correlated with
v_{k-1}. Measured at a fixed theta (linear regression, dt = 0, ``verification`` check
``tango.preconditioned_velocity_limit``): the mean velocity misses J^-1 E g by -20% to -43% (per coordinate and
profile; -32% and -43% in the quick profile, seed 0, +- 4% and 6%) with a 0.9 running mean of g~^2, -4% with 0.99,
+1.2% for RMSProp(0.9). They build C_k from the squares of steps 1..k-1 only (folding in the current sample first,
as RMSProp is usually written, makes the bias worse: -31% measured).

Warm-up (issue 16 §4b).  C_k^-1 = diag(E g~^2) is an expectation (eqs 6-7); its running estimate from n squares is,
per coordinate, a weighted mean of n squares of a (near-)Gaussian g~_i, whose law near 0 is that of chi^2_n / n:
``P(m_hat < e E g~_i^2) ~ e^(n/2)``, so ``E[C_ii^q] < inf`` only for n > 2q (but for the floor eps, which caps C at
1/eps and leaves E[C^2] of order eps^(n/2 - 2)).  The velocity takes ``gamma C g`` at once, with C independent of g,
so E|v|^2 is bounded only if E[C^2] is: n >= 5 squares for DiagonalFisher (C ~ 1/m_hat), n >= 3 for RMSProp
(C ~ 1/sqrt(m_hat)).  Built from a single g~_1^2, as it was (C_2), E|v_2|^2 ~ eps^-1.5: ``linear_regression(2,
60, 0.5)`` at gamma = 0.02 measured mean ``|v|^2`` = 6e11 at k = 5 over 4096 runs, against a steady value 0.89 (RMSProp:
56 against 0.94).  Both therefore keep C = I (plain TANGO, as at step 1) until ``warmup`` squares have been seen,
default 10: for chi^2_n / n, ``E[(E g~^2 / m_hat)^2] = n^2 / ((n - 2)(n - 4))`` is 8.3 at n = 5 and 2.1 at n = 10
(RMSProp's E[1/m_hat] ratio: 1.25), and the measured maximum of mean ``|v|^2`` over k <= 1000 is then its steady value
(0.89 and 0.94; 3.3 with warmup 5).  The same argument bounds the forgetting factor: the bias-corrected mean has an
effective sample size tending to (1 + beta) / (1 - beta), which must exceed 4 (beta > 0.6) for DiagonalFisher's
E[C^2] to stay finite in the long run (the defaults 0.99 and 0.9 give 199 and 19).  ``warmup=1`` is the former rule.
During the warm-up TANGO is plain (C = I), so gamma must suit plain TANGO there too (``gamma |g~|^2 <= 2``).

Units: ``C^-1 = diag J`` (:class:`ExactDiagonalFisher`) transforms like the Fisher under a rescaling of the
parameters, so TANGO preconditioned by it is invariant under every diagonal rescaling.  The ``eps`` of the running
preconditioners is an absolute floor in the units of g^2 (DiagonalFisher) or ``|g|`` (RMSProp): they are invariant only
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
    """A fixed symmetric positive definite ``C``.

    Preconditioned TANGO, 000_3b01ec78f4f92394.txt eqs 6-7 ("TANGO on the variable C^{-1/2} theta").

    Parameters
    ----------
    C : array_like, shape (d, d)
        Symmetric positive definite.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.tango import FixedPreconditioner
    >>> P = FixedPreconditioner(np.diag([2.0, 0.5]))
    >>> _, Cg, Cgt = P.apply(P.init(1, 2), np.zeros((1, 2)), np.ones((1, 2)), np.ones((1, 2)))
    >>> Cg.tolist(), Cgt.tolist()
    ([[2.0, 0.5]], [[2.0, 0.5]])
    """

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
    (``of_pseudo_samples=False``) or of g~ over the previous steps, and ``f = sqrt`` (``root``) or the identity;
    ``C_k = I`` while fewer than ``warmup`` squares have been seen (the module docstring: a mean of fewer squares has
    an inverse of infinite variance)."""

    of_pseudo_samples = False
    root = False

    def __init__(self, beta: float, eps: float, warmup: int = 10):
        self.beta = as_float("beta", beta, low=0.0, high=1.0, high_open=True)
        self.eps = positive("eps", eps)
        self.warmup = as_int("warmup", warmup, low=1)

    def __repr__(self):
        return f"{type(self).__name__}(beta={self.beta:g}, eps={self.eps:g}, warmup={self.warmup})"

    def _init(self, runs, d):
        return (0, np.zeros((runs, d)))

    def _apply(self, state, theta, g, gt):
        k, m = state  # k squares folded in so far
        # C_k from steps 1..k-1 once they are at least `warmup` (before: C = I, as C_1 with nothing seen), then fold
        # in this step's square for C_{k+1}
        if k >= self.warmup:
            mhat = m / (1.0 - self.beta**k)
            c = 1.0 / ((np.sqrt(mhat) if self.root else mhat) + self.eps)
        else:
            c = np.ones_like(g)
        sq = gt * gt if self.of_pseudo_samples else g * g
        m = self.beta * m + (1.0 - self.beta) * sq
        return (k + 1, m), c * g, c * gt


class RMSProp(_RunningDiagonal):
    """RMSProp-style ``C_k = diag(1 / (sqrt(mean g^2) + eps))`` from the gradients of the previous steps.

    000_3b01ec78f4f92394.txt, text after eqs 6-7 ("Choices of C may include RMSProp").  Used once
    ``warmup`` of them have been seen (C = I before; E[C^2] = E[1/mean g^2] needs at least 3, see the module docstring).

    Parameters
    ----------
    beta : float, default 0.9
        Forgetting factor of the running mean of ``g^2``, in [0, 1).
    eps : float, default 1e-8
        Floor added to ``sqrt(mean g^2)``, > 0.
    warmup : int, default 10
        Squares to see before C leaves the identity.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.tango import RMSProp
    >>> P, g = RMSProp(warmup=1), np.array([[2.0, 4.0]])
    >>> state, Cg, _ = P.apply(P.init(1, 2), np.zeros((1, 2)), g, g)     # step 1: C = I
    >>> state, Cg, _ = P.apply(state, np.zeros((1, 2)), g, g)             # step 2: C = diag(1 / (|g_1| + eps))
    >>> np.round(Cg, 6).tolist()
    [[1.0, 1.0]]
    """

    root = True

    def __init__(self, beta: float = 0.9, eps: float = 1e-8, warmup: int = 10):
        super().__init__(beta, eps, warmup)


class DiagonalFisher(_RunningDiagonal):
    """``C_k^-1 = diag(E g~^(.2))``, the diagonal Fisher estimated by a running mean of ``g~^2``.

    000_3b01ec78f4f92394.txt, text after eqs 6-7: the bias-corrected running mean of ``g~^2`` over the previous steps,
    once ``warmup`` of them have been seen; C = I before.

    Why a warm-up: the paper's C^-1 is an expectation, and an estimate of it from n squares has an inverse with finite
    second moment only for n >= 5 (module docstring).  Built from the first g~_1^2 alone (the former rule, ``warmup=1``)
    the first preconditioned step gives E|v|^2 = inf: ``linear_regression(2, 60, 0.5)`` at gamma = 0.02 measured mean
    ``|v|^2 ~ 1e9-1e12`` over the first steps.  With the default 10 the mean ``|v|^2`` never exceeds its steady value
    there.  Why not a prior or a floor instead: any prior value of E g~^2 or floor has units (those of g~^2) that the
    paper's C does not supply, whereas a warm-up uses only the samples; C = I during it is the rule already used at
    step 1, where nothing has been seen.

    Parameters
    ----------
    beta : float, default 0.99
        Forgetting factor of the running mean of ``g~^2``, in [0, 1).
    eps : float, default 1e-8
        Floor added to the mean of ``g~^2``, > 0.
    warmup : int, default 10
        Squares to see before C leaves the identity.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.tango import DiagonalFisher
    >>> P, g = DiagonalFisher(warmup=1), np.array([[2.0, 4.0]])
    >>> state, Cg, _ = P.apply(P.init(1, 2), np.zeros((1, 2)), g, g)     # step 1: C = I
    >>> state, Cg, _ = P.apply(state, np.zeros((1, 2)), g, g)             # step 2: C = diag(1 / (g~_1^2 + eps))
    >>> np.round(Cg, 6).tolist()
    [[0.5, 0.25]]
    """

    of_pseudo_samples = True

    def __init__(self, beta: float = 0.99, eps: float = 1e-8, warmup: int = 10):
        super().__init__(beta, eps, warmup)


class ExactDiagonalFisher(Preconditioner):
    """``C(theta)^-1 = diag(E g~^(.2)) = diag J(theta)``, the exact diagonal Fisher at the current parameter.

    000_3b01ec78f4f92394.txt, text after eqs 6-7 (``C^-1 = diag(E g~^(.2))``), with x averaged over the rows of the
    dataset: a function of theta alone, so the natural-gradient limit is kept (eq. 30 holds).  A coordinate with no
    Fisher information (``J_ii = 0``: a zero input column) gets ``C_ii = 0``, the pseudo-inverse's choice: it does not
    move.

    Parameters
    ----------
    model : Model
        The model whose Fisher diagonal is used.
    x : None or array_like, shape (N, p)
        The dataset's inputs (None for the Gaussian model).

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.tango import ExactDiagonalFisher, GaussianModel
    >>> P = ExactDiagonalFisher(GaussianModel())
    >>> _, Cg, _ = P.apply(P.init(1, 2), [[0.0, np.log(2.0)]], [[1.0, 1.0]], [[1.0, 1.0]])
    >>> np.round(Cg, 6).tolist()                    # diag J = (1/sigma^2, 2) = (1/4, 2) at sigma = 2
    [[4.0, 0.5]]
    """

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
