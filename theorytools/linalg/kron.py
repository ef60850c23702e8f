"""Dense Kronecker (n^2 x n^2) representation of linear maps on n x n matrices.

Convention: ``vec`` stacks columns (Fortran order), so ``vec(A X C^T) = (C kron A) vec(X)``.
This is the slow, independent route against which the eigenbasis multipliers are tested
(001_7d31b3ff3a2f0401.txt §14.2, footnote 20: operators "can be represented as n^2 x n^2
matrices if we vectorize their n x n matrix arguments").
"""

from __future__ import annotations

import numpy as np


def vec(X: np.ndarray) -> np.ndarray:
    """Column-stacking vectorization of an n x n matrix."""
    return np.asarray(X).reshape(-1, order="F")


def unvec(x: np.ndarray, n: int) -> np.ndarray:
    """Inverse of :func:`vec`."""
    return np.asarray(x).reshape(n, n, order="F")


def sandwich_kron(A: np.ndarray, C: np.ndarray | None = None) -> np.ndarray:
    """Matrix of the map ``X -> A X C^T`` (``C`` defaults to ``A``)."""
    C = A if C is None else C
    return np.kron(C, A)
