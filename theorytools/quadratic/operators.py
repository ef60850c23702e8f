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
  without the eigendecomposition -- the brute-force cross-check for small n.

Example, reading as the paper writes ``Z = (Xi - I)^{-1} Psi_1(U)`` (Lemma 13)::

    ops = operators(p)
    Z = (ops.Xi - ops.I).inv()(ops.Psi(1.0)(p.U))
"""

from __future__ import annotations

from functools import cached_property
from typing import Callable

import numpy as np

from theorytools.linalg import real_array, sandwich_kron, unvec, vec


class Operator:
    """A linear map on n x n matrices from Martens' algebra; see the module docstring."""

    def __init__(self, problem, multiplier: Callable[[], np.ndarray], kron: Callable[[], np.ndarray], label: str):
        self.problem = problem
        self._multiplier = multiplier
        self._kron = kron
        self.label = label

    @cached_property
    def multiplier(self) -> np.ndarray:
        """``f(lam_i, lam_j)``: the operator's eigenvalues, indexed like ``Y = V^{-1} X V^{-T}``."""
        return self._multiplier()

    @cached_property
    def kron(self) -> np.ndarray:
        """The dense n^2 x n^2 matrix acting on ``vec(X)`` (column-major)."""
        return self._kron()

    # -- application ------------------------------------------------------------------
    def __call__(self, X) -> np.ndarray:
        """Apply in the eigenbasis: ``V (f o (V^{-1} X V^{-T})) V^T``."""
        eig = self.problem.eig
        return eig.from_eigenbasis(self.multiplier * eig.to_eigenbasis(real_array("X", X)))

    def apply_dense(self, X) -> np.ndarray:
        """Apply through the Kronecker matrix (slow, independent route)."""
        return unvec(self.kron @ vec(X), self.problem.n)

    # -- algebra ----------------------------------------------------------------------
    def _combine(self, other, fm, fk, label) -> "Operator":
        if isinstance(other, Operator):
            if other.problem is not self.problem:
                raise ValueError("operators belong to different problems and cannot be combined")
            return Operator(
                self.problem,
                lambda: fm(self.multiplier, other.multiplier),
                lambda: fk(self.kron, other.kron),
                label,
            )
        c = float(other)
        n2 = self.problem.n ** 2
        return Operator(
            self.problem, lambda: fm(self.multiplier, c), lambda: fk(self.kron, c * np.eye(n2)), label
        )

    def __add__(self, other):
        return self._combine(other, np.add, np.add, f"({self.label} + {_lab(other)})")

    __radd__ = __add__

    def __sub__(self, other):
        return self._combine(other, np.subtract, np.subtract, f"({self.label} - {_lab(other)})")

    def __rsub__(self, other):
        return (-self) + other

    def __neg__(self):
        return Operator(self.problem, lambda: -self.multiplier, lambda: -self.kron, f"-{self.label}")

    def __mul__(self, other):
        """Composition with another operator (the paper's notation), or scaling by a number."""
        if isinstance(other, Operator):
            return self._combine(other, np.multiply, np.matmul, f"{self.label} {other.label}")
        c = float(other)
        return Operator(self.problem, lambda: c * self.multiplier, lambda: c * self.kron, f"{c:g} {self.label}")

    __matmul__ = __mul__

    def __rmul__(self, c):
        return self * c

    def __pow__(self, k: int):
        if int(k) != k:
            raise ValueError(f"operator power k must be an integer, got {k!r}")
        k = int(k)
        base = self if k >= 0 else self.inv()
        m = abs(k)
        return Operator(
            self.problem,
            lambda: base.multiplier ** m,
            lambda: np.linalg.matrix_power(base.kron, m),
            f"{self.label}^{k}",
        )

    def inv(self) -> "Operator":
        """The inverse operator; a zero eigenvalue raises ``ValueError``."""

        def mult():
            f = self.multiplier
            small = np.abs(f) <= 1e-14 * max(1.0, float(np.max(np.abs(f))))
            if small.any():
                i, j = np.argwhere(small)[0]
                raise ValueError(f"operator {self.label} is singular: eigenvalue f(lam_{i}, lam_{j}) = {f[i, j]:.3e}")
            return 1.0 / f

        return Operator(self.problem, mult, lambda: np.linalg.inv(self.kron), f"{self.label}^-1")

    def __repr__(self) -> str:
        return f"Operator({self.label}, n={self.problem.n})"


def _lab(x):
    return x.label if isinstance(x, Operator) else f"{float(x):g} I"


class operators:
    """Factory of the operators of one problem: ``I``, ``Xi``, ``Omega``, ``Psi(beta)``, ``Lambda(alpha)``."""

    def __init__(self, p):
        self.p = p
        lam = p.lam
        A = p.BinvH
        eye = np.eye(p.n)
        self.I = Operator(p, lambda: np.ones((p.n, p.n)), lambda: np.eye(p.n**2), "I")
        self.Xi = Operator(
            p, lambda: lam[:, None] + lam[None, :], lambda: sandwich_kron(A, eye) + sandwich_kron(eye, A), "Xi"
        )
        self.Omega = Operator(p, lambda: np.outer(lam, lam), lambda: sandwich_kron(A), "Omega")

    def Psi(self, beta: float) -> Operator:
        """``Psi_beta(X) = (I - beta B^{-1}H) X (I - beta B^{-1}H)^T``, built directly (not from Xi, Omega)."""
        beta = float(beta)
        p = self.p
        r = 1.0 - beta * p.lam
        D = np.eye(p.n) - beta * p.BinvH
        return Operator(p, lambda: np.outer(r, r), lambda: sandwich_kron(D), f"Psi_{beta:g}")

    def Lambda(self, alpha: float) -> Operator:
        """``Lambda = Psi_alpha`` (Appendix B.1)."""
        return self.Psi(alpha)
