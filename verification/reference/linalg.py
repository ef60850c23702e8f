"""Independent linear-algebra routes shared by the topics' references (no generalized-inverse formula of the library)."""

from __future__ import annotations

import numpy as np


def least_norm_solution(F, D, b) -> np.ndarray:
    """The solution ``u`` of ``F u = b`` of least ``D``-norm ``u^T D u``, by substitution: with ``D = C C^T``
    (Cholesky) and ``u = C^-T w`` the problem is the least Euclidean norm solution of ``(F C^-T) w = b``, which
    ``numpy.linalg.lstsq`` returns (SVD, no generalized-inverse formula)."""
    C = np.linalg.cholesky(D)
    FCt = np.linalg.solve(C, F.T).T  # F C^-T
    w = np.linalg.lstsq(FCt, b, rcond=None)[0]
    return np.linalg.solve(C.T, w)
