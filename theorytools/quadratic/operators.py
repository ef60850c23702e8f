"""Martens' operator algebra on n x n matrices (001_7d31b3ff3a2f0401.txt §14.2 and Appendix B).

    Xi(X)      = B^{-1}H X + X H B^{-1}
    Omega(X)   = B^{-1}H X H B^{-1}
    Psi_beta(X)= (I - beta B^{-1}H) X (I - beta B^{-1}H)^T = (I - beta Xi + beta^2 Omega)(X)
    Lambda     = Psi_alpha (constant step), Lambda_k = Psi_{alpha_k}

Each operator carries two independent representations:

* the *multiplier*: with ``X = V Y V^T`` (V the B-orthonormal eigenvectors of (H, B)), every
  operator of the algebra maps ``Y_ij -> f(lam_i, lam_j) Y_ij``; sums, products, powers and
  inverses act on ``f`` elementwise (O(n^2) per application in the eigenbasis);
* the *Kronecker matrix* (n^2 x n^2, column-major vec), built from the dense ``B^{-1} H``
  without the eigendecomposition -- the brute-force cross-check for small n (its size is checked before it is
  built: 65 GB at n = 300).

Beside its multiplier each operator carries a *magnitude*, a bound on the sizes of the terms the multiplier was
summed from (``|lam_i| + |lam_j|`` for Xi, ``|c| + ...`` after adding ``c I``, products for products ...).  An
eigenvalue of an operator is zero *to rounding* when it is below ``SINGULAR_RTOL`` times its own magnitude: a
decision made in the operator's own units, so ``alpha Xi - alpha^2 Omega`` at ``alpha lam = 1e-15`` is not
mistaken for singular (a cut relative to 1, or to the largest eigenvalue, would depend on the units of H and B).

Example, reading as the paper writes ``Z = (Xi - I)^{-1} Psi_1(U)`` (Lemma 13)::

    ops = operators(p)
    Z = (ops.Xi - ops.I).inv()(ops.Psi(1.0)(p.U))
"""

from __future__ import annotations

from functools import cached_property
from typing import Callable

import numpy as np

from theorytools.linalg import (
    as_callable,
    as_float,
    as_int,
    as_matrix,
    check_allocation,
    check_finite,
    nonnegative,
    sandwich_kron,
    unvec,
    vec,
)
from theorytools.linalg.kron import KRON_CHEAPER
from theorytools.quadratic.problem import as_problem

#: An operator's eigenvalue ``f(lam_i, lam_j)`` at or below this times its magnitude is zero to rounding (a few
#: roundings of the terms it is summed from).
SINGULAR_RTOL = 1e-14


class Operator:
    """A linear map on n x n matrices from Martens' algebra; see the module docstring.

    ``multiplier``, ``kron`` and ``magnitude`` are functions of no argument returning the eigenvalue table
    ``f(lam_i, lam_j)``, the n^2 x n^2 matrix and the table of term sizes (default ``|f|``: no cancellation).
    001_7d31b3ff3a2f0401.txt §14.2 and Appendix B.

    Parameters
    ----------
    problem : QuadraticProblem
        The problem whose eigenbasis ``V`` the multiplier refers to.
    multiplier : callable
        ``() -> ndarray (n, n)``, the eigenvalues ``f(lam_i, lam_j)``.
    kron : callable
        ``() -> ndarray (n^2, n^2)``, the matrix acting on the column-major ``vec(X)``.
    label : str
        Name used in ``repr`` and in error messages.
    magnitude : callable, optional
        ``() -> ndarray (n, n)``, the term sizes (default ``|f|``).

    Examples
    --------
    Operators are usually built by :class:`operators` and combined; both routes agree
    (``Psi_beta = I - beta Xi + beta^2 Omega``, Appendix B):

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, operators
    >>> ops = operators(QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0]))
    >>> X = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> bool(np.allclose(ops.Psi(0.25)(X), (ops.I - 0.25 * ops.Xi + 0.0625 * ops.Omega).apply_dense(X)))
    True
    >>> np.round(ops.Psi(0.25).multiplier, 6).tolist()  # (1 - lam_i / 4)(1 - lam_j / 4), lam = (1, 2)
    [[0.5625, 0.375], [0.375, 0.25]]
    """

    def __init__(self, problem, multiplier: Callable[[], np.ndarray], kron: Callable[[], np.ndarray], label: str,
                 magnitude: Callable[[], np.ndarray] | None = None):
        self.problem = as_problem(problem, "problem")
        self._multiplier = as_callable("multiplier", multiplier)
        self._kron = as_callable("kron", kron)
        self._magnitude = (lambda: np.abs(self.multiplier)) if magnitude is None else as_callable("magnitude",
                                                                                                 magnitude)
        if not isinstance(label, str):
            raise TypeError(f"label must be a string, got {label!r}")
        self.label = label

    @cached_property
    def multiplier(self) -> np.ndarray:
        """``f(lam_i, lam_j)``: the operator's eigenvalues, indexed like ``Y = V^{-1} X V^{-T}``."""
        return self._multiplier()

    @cached_property
    def magnitude(self) -> np.ndarray:
        """Sizes of the terms each ``f(lam_i, lam_j)`` is summed from: the scale of its rounding error."""
        return self._magnitude()

    @cached_property
    def kron(self) -> np.ndarray:
        """The dense n^2 x n^2 matrix acting on ``vec(X)`` (column-major)."""
        return self._kron()

    # -- application ------------------------------------------------------------------
    def __call__(self, X) -> np.ndarray:
        """Apply in the eigenbasis: ``V (f o (V^{-1} X V^{-T})) V^T``."""
        eig = self.problem.eig
        return eig.from_eigenbasis(self.multiplier * eig.to_eigenbasis(as_matrix("X", X, self.problem.n)))

    def apply_dense(self, X) -> np.ndarray:
        """Apply through the Kronecker matrix (slow, independent route)."""
        X = as_matrix("X", X, self.problem.n)
        return unvec(self.kron @ vec(X), self.problem.n)

    # -- algebra ----------------------------------------------------------------------
    def _combine(self, other, fm, fk, fmag, label) -> "Operator":
        if isinstance(other, Operator):
            if other.problem is not self.problem:
                raise ValueError("operators belong to different problems and cannot be combined")
            return Operator(
                self.problem,
                lambda: fm(self.multiplier, other.multiplier),
                lambda: fk(self.kron, other.kron),
                label,
                lambda: fmag(self.magnitude, other.magnitude),
            )
        c = as_float("c", other)
        n2 = self.problem.n ** 2
        return Operator(
            self.problem, lambda: fm(self.multiplier, c), lambda: fk(self.kron, c * _eye(n2)), label,
            lambda: fmag(self.magnitude, abs(c)),
        )

    def __add__(self, other):
        return self._combine(other, np.add, np.add, np.add, f"({self.label} + {_lab(other)})")

    __radd__ = __add__

    def __sub__(self, other):
        return self._combine(other, np.subtract, np.subtract, np.add, f"({self.label} - {_lab(other)})")

    def __rsub__(self, other):
        return (-self) + other

    def __neg__(self):
        return Operator(self.problem, lambda: -self.multiplier, lambda: -self.kron, f"-{self.label}",
                        lambda: self.magnitude)

    def __mul__(self, other):
        """Composition with another operator (the paper's notation), or scaling by a number."""
        if isinstance(other, Operator):
            return self._combine(other, np.multiply, np.matmul, np.multiply, f"{self.label} {other.label}")
        c = as_float("c", other)
        return Operator(self.problem, lambda: c * self.multiplier, lambda: c * self.kron, f"{c:g} {self.label}",
                        lambda: abs(c) * self.magnitude)

    __matmul__ = __mul__

    def __rmul__(self, c):
        return self * c

    def __pow__(self, k: int):
        k = as_int("k", k, low=None)
        base = self if k >= 0 else self.inv()
        m = abs(k)
        return Operator(
            self.problem,
            lambda: base.multiplier ** m,
            lambda: np.linalg.matrix_power(base.kron, m),
            f"{self.label}^{k}",
            lambda: base.magnitude ** m,
        )

    def inv(self) -> "Operator":
        """The inverse operator; an eigenvalue that is zero to rounding (below ``SINGULAR_RTOL`` times its
        magnitude) raises ``ValueError``."""

        def mult():
            f = self.multiplier
            check_finite(f"the eigenvalues of operator {self.label}", f)  # 1/inf would be a silent 0
            small = np.abs(f) <= SINGULAR_RTOL * self.magnitude
            if small.any():
                i, j = np.argwhere(small)[0]
                raise ValueError(f"operator {self.label} is singular: eigenvalue f(lam_{i}, lam_{j}) = {f[i, j]:.3e}")
            return 1.0 / f

        # 1/f inherits the relative rounding error of f: magnitude/|f| relative, i.e. magnitude/f^2 absolute.
        return Operator(self.problem, mult, lambda: np.linalg.inv(self.kron), f"{self.label}^-1",
                        lambda: self.magnitude / self.multiplier**2)

    def __repr__(self) -> str:
        return f"Operator({self.label}, n={self.problem.n})"


def _eye(n: int) -> np.ndarray:
    """An n x n identity for the Kronecker route, its size checked first (n = problem.n^2)."""
    check_allocation("the n^2 x n^2 identity", (n, n), cheaper=KRON_CHEAPER)
    return np.eye(n)


def _lab(x):
    return x.label if isinstance(x, Operator) else f"{float(x):g} I"


class operators:
    """Factory of the operators of one problem: ``I``, ``Xi``, ``Omega``, ``Psi(beta)``, ``Lambda(alpha)``.

    001_7d31b3ff3a2f0401.txt §14.2 and Appendix B; ``Xi(X) = B^{-1}H X + X H B^{-1}``,
    ``Omega(X) = B^{-1}H X H B^{-1}``.

    Parameters
    ----------
    p : QuadraticProblem
        The problem.

    Examples
    --------
    With ``B = I``, ``H = diag(2, 1)``: ``Xi(X) = H X + X H`` and ``Omega(X) = H X H``:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, operators
    >>> ops = operators(QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0]))
    >>> X = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> print(np.round(ops.Xi(X), 6).tolist(), np.round(ops.Omega(X), 6).tolist())
    [[4.0, 6.0], [9.0, 8.0]] [[4.0, 4.0], [6.0, 4.0]]
    """

    def __init__(self, p):
        self.p = p = as_problem(p)
        lam = p.lam
        A = p.BinvH
        eye = np.eye(p.n)
        absl = np.abs(lam)
        self.I = Operator(p, lambda: np.ones((p.n, p.n)), lambda: _eye(p.n**2), "I")
        self.Xi = Operator(
            p, lambda: lam[:, None] + lam[None, :], lambda: sandwich_kron(A, eye) + sandwich_kron(eye, A), "Xi",
            lambda: absl[:, None] + absl[None, :],
        )
        self.Omega = Operator(p, lambda: np.outer(lam, lam), lambda: sandwich_kron(A), "Omega")

    def Psi(self, beta: float) -> Operator:
        """``Psi_beta(X) = (I - beta B^{-1}H) X (I - beta B^{-1}H)^T``, built directly (not from Xi, Omega).

        Parameters
        ----------
        beta : float
            The step in ``I - beta B^{-1}H``.

        Returns
        -------
        Operator
            ``Psi_beta``.
        """
        beta = as_float("beta", beta)
        p = self.p
        r = 1.0 - beta * p.lam
        D = np.eye(p.n) - beta * p.BinvH
        mag = 1.0 + np.abs(beta * p.lam)  # r_i = 1 - beta lam_i is rounded relative to 1 + |beta lam_i|
        return Operator(p, lambda: np.outer(r, r), lambda: sandwich_kron(D), f"Psi_{beta:g}", lambda: np.outer(mag, mag))

    def Lambda(self, alpha: float) -> Operator:
        """``Lambda = Psi_alpha`` (Appendix B.1).

        Parameters
        ----------
        alpha : float
            The constant step size, >= 0.

        Returns
        -------
        Operator
            ``Psi_alpha``.
        """
        return self.Psi(nonnegative("alpha", alpha))
