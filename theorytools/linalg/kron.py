"""Dense Kronecker (n^2 x n^2) representation of linear maps on n x n matrices.

Convention: ``vec`` stacks columns (Fortran order), so ``vec(A X C^T) = (C kron A) vec(X)``.
This is the slow, independent route against which the eigenbasis multipliers are tested
(001_7d31b3ff3a2f0401.txt §14.2, footnote 20: operators "can be represented as n^2 x n^2
matrices if we vectorize their n x n matrix arguments").  It needs n^4 numbers (65 GB at n = 300), so every
builder checks the allocation first (:func:`theorytools.linalg.check_allocation`).
"""

from __future__ import annotations

import numpy as np

from theorytools.linalg.memory import check_allocation
from theorytools.linalg.validation import as_array, as_int, as_matrix

#: What to use instead of an n^2 x n^2 matrix that does not fit.
KRON_CHEAPER = ("apply the map as A X C^T directly, or through the eigenbasis multipliers of "
                "theorytools.quadratic.operators (O(n^2) numbers)")


def vec(X: np.ndarray) -> np.ndarray:
    """Column-stacking vectorization of a matrix."""
    return as_array("X", X, ndim=2).reshape(-1, order="F")


def unvec(x: np.ndarray, n: int) -> np.ndarray:
    """Inverse of :func:`vec` for an n x n matrix."""
    n = as_int("n", n, low=1)
    x = as_array("x", x, ndim=1)
    if x.size != n * n:
        raise ValueError(f"x must have n * n = {n * n} entries (n = {n}), got {x.size}")
    return x.reshape(n, n, order="F")


def sandwich_kron(A: np.ndarray, C: np.ndarray | None = None) -> np.ndarray:
    """Matrix of the map ``X -> A X C^T`` on n x n matrices (``C`` defaults to ``A``)."""
    A = as_matrix("A", A)
    C = A if C is None else as_matrix("C", C, A.shape[0])
    n = A.shape[0]
    check_allocation("the n^2 x n^2 Kronecker matrix", (n * n, n * n), cheaper=KRON_CHEAPER)
    return np.kron(C, A)
