"""Generalized inverses of the (singular) Fisher: any ``G`` with ``F G F = F`` (003_34787a2226c5cf0a.txt §3:
"there exist an infinite number of generalized inverses"; the paper's own choice is eq. 23).

The Fisher of a deep linear net is ``F = J^T M J`` with ``M`` positive definite, so for every generalized
inverse ``J G F = J`` and the total-map velocity ``-J G grad`` is the same for all of them (claim (a)),
while the parameter velocities ``-G grad`` differ by null-space components of ``F``.
"""

from __future__ import annotations

import numpy as np

from theorytools.errors import HypothesisError


def moore_penrose(F: np.ndarray) -> np.ndarray:
    """``F^+`` of a symmetric PSD ``F`` (eigenvalues below ``P eps lambda_max`` treated as zero)."""
    return np.linalg.pinv(F, rtol=F.shape[0] * np.finfo(float).eps, hermitian=True)


def perturbed(F: np.ndarray, U: np.ndarray, V: np.ndarray) -> np.ndarray:
    """``F^+ + (I - F^+ F) U + V (I - F F^+)``: the general solution of ``F G F = F`` (Penrose, 1955), for any ``U, V``."""
    Fp = moore_penrose(F)
    Q = np.eye(F.shape[0]) - Fp @ F
    return Fp + Q @ U + V @ Q.T


def metric(F: np.ndarray, D: np.ndarray) -> np.ndarray:
    """``D^-1 F (F D^-1 F)^+`` for a positive-definite ``D``: the inverse giving the velocity of least ``D``-norm."""
    DinvF = np.linalg.solve(D, F)
    return DinvF @ moore_penrose(F @ DinvF)


def eq23(net) -> np.ndarray:
    """The paper's generalized inverse (eq. 23): ``(F^g)_ij = (1/L^2) <x_{j-1} x_{i-1}^T>^-1 kron <e_j e_i^T>^-1``.

    Defined only when every cross-covariance block is invertible (square, invertible layers); then
    ``F^g = (1/L^2) K M^-1 K^T`` with ``K_i = J_i^-1``, and ``F F^g F = F`` follows from ``J K = L I``.
    """
    n = set(net.widths)
    if len(n) != 1:
        raise HypothesisError(f"eq. 23 needs square layers (all widths equal), got widths {net.widths}")
    L, Sx, Si = net.L, net.Sigma_x, np.linalg.inv(net.Sigma_out)
    rows = []
    for i in range(L):
        row = []
        for j in range(L):
            Cx = net.B[j] @ Sx @ net.B[i].T
            Ce = net.A[j].T @ Si @ net.A[i]
            if min(np.linalg.cond(Cx), np.linalg.cond(Ce)) > 1.0 / (1e3 * np.finfo(float).eps):
                raise HypothesisError(f"eq. 23 needs invertible layers: block ({i + 1}, {j + 1}) is singular")
            row.append(np.kron(np.linalg.inv(Cx), np.linalg.inv(Ce)) / L**2)
        rows.append(row)
    return np.block(rows)


def residual(F: np.ndarray, G: np.ndarray) -> float:
    """``|F G F - F|_max / |F|_max``: how far ``G`` is from being a generalized inverse of ``F``."""
    return float(np.max(np.abs(F @ G @ F - F)) / np.max(np.abs(F)))
