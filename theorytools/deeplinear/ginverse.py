"""Generalized inverses of the (singular) Fisher: any ``G`` with ``F G F = F`` (003_34787a2226c5cf0a.txt §3:
"there exist an infinite number of generalized inverses"; the paper's own choice is eq. 23).

The Fisher of a deep linear net is ``F = J^T M J`` with ``M`` positive definite, so for every generalized
inverse ``J G F = J`` and the total-map velocity ``-J G grad`` is the same for all of them (claim (a)),
while the parameter velocities ``-G grad`` differ by null-space components of ``F``.

Examples
--------
The Moore-Penrose inverse is one generalized inverse of a 1-1-1 net's (singular) Fisher:

>>> import numpy as np
>>> from theorytools.deeplinear import DeepLinearNet, ginverse
>>> net = DeepLinearNet([[[1.0]], [[2.0]]], np.eye(1), np.eye(1), [[4.0]])
>>> F = net.fisher()
>>> bool(np.allclose(F @ ginverse.moore_penrose(F) @ F, F))
True
"""

from __future__ import annotations

import numpy as np

from theorytools.deeplinear.network import DeepLinearNet
from theorytools.errors import HypothesisError
from theorytools.linalg import as_array, as_instance, as_symmetric, check_allocation, check_definite, psd_pinv

#: A factor of the cross-covariances of eq. 23 counts as singular above this condition number (after equilibrating
#: its rows): 1/(1e3 eps) leaves three digits in the inverse.
SINGULAR_COND = 1.0 / (1e3 * np.finfo(float).eps)


def _psd(name: str, F) -> np.ndarray:
    F = as_symmetric(name, F)
    check_definite(name, F, semi=True)
    return F


def moore_penrose(F) -> np.ndarray:
    """``F^+`` of a symmetric PSD ``F``, its rank decided on the Jacobi-equilibrated ``D F D``.

    One of the generalized inverses of the singular Fisher (003_34787a2226c5cf0a.txt §3).  ``D = diag(F)^-1/2``
    (:func:`theorytools.linalg.psd_pinv`): rescaling the parameters (``F -> S F S``, ``S``
    diagonal) does not move it.

    Parameters
    ----------
    F : array_like, shape (P, P)
        Symmetric positive semidefinite.

    Returns
    -------
    ndarray, shape (P, P)
        ``F^+``.

    Examples
    --------
    The Fisher of the 1-1-1 net with ``(w_1, w_2) = (1, 2)`` is ``j j^T`` with ``j = (2, 1)``, so ``F^+ = F / 25``:

    >>> import numpy as np
    >>> from theorytools.deeplinear import DeepLinearNet, ginverse
    >>> net = DeepLinearNet([[[1.0]], [[2.0]]], np.eye(1), np.eye(1), [[4.0]])
    >>> np.round(ginverse.moore_penrose(net.fisher()), 6).tolist()
    [[0.16, 0.08], [0.08, 0.04]]
    """
    return psd_pinv(_psd("F", F))


def perturbed(F, U, V) -> np.ndarray:
    """``F^+ + (I - F^+ F) U + V (I - F F^+)``: the general solution of ``F G F = F`` (Penrose, 1955), for any ``U, V``.

    003_34787a2226c5cf0a.txt §3: "there exist an infinite number of generalized inverses".

    Parameters
    ----------
    F : array_like, shape (P, P)
        Symmetric positive semidefinite.
    U : array_like, shape (P, P)
        Any matrix.
    V : array_like, shape (P, P)
        Any matrix.

    Returns
    -------
    ndarray, shape (P, P)
        A generalized inverse of ``F``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.deeplinear import ginverse
    >>> F, U, V = np.array([[4.0, 2.0], [2.0, 1.0]]), np.ones((2, 2)), np.eye(2)
    >>> bool(ginverse.residual(F, ginverse.perturbed(F, U, V)) < 1e-12)      # F G F = F
    True
    """
    F = _psd("F", F)
    U = as_array("U", U, shape=F.shape)
    V = as_array("V", V, shape=F.shape)
    Fp = psd_pinv(F)
    Q = np.eye(F.shape[0]) - Fp @ F
    return Fp + Q @ U + V @ Q.T


def metric(F, D) -> np.ndarray:
    """``D^-1 F (F D^-1 F)^+`` for a positive-definite ``D``: the inverse giving the velocity of least ``D``-norm.

    A generalized inverse of the Fisher (003_34787a2226c5cf0a.txt §3); ``D = I`` gives the Moore-Penrose inverse.

    Parameters
    ----------
    F : array_like, shape (P, P)
        Symmetric positive semidefinite.
    D : array_like, shape (P, P)
        Symmetric positive definite metric.

    Returns
    -------
    ndarray, shape (P, P)
        The generalized inverse.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.deeplinear import ginverse
    >>> F = np.array([[4.0, 2.0], [2.0, 1.0]])
    >>> G = ginverse.metric(F, np.diag([1.0, 4.0]))
    >>> bool(ginverse.residual(F, G) < 1e-12), bool(np.allclose(ginverse.metric(F, np.eye(2)), ginverse.moore_penrose(F)))
    (True, True)
    """
    F = _psd("F", F)
    D = as_symmetric("D", D)
    if D.shape != F.shape:
        raise ValueError(f"D must have the shape of F, {F.shape}, got shape {D.shape}")
    check_definite("D", D)
    DinvF = np.linalg.solve(D, F)
    return DinvF @ psd_pinv(F @ DinvF)


def eq23(net) -> np.ndarray:
    """The paper's generalized inverse (eq. 23): ``(F^g)_ij = (1/L^2) <x_{j-1} x_{i-1}^T>^-1 kron <e_j e_i^T>^-1``.

    003_34787a2226c5cf0a.txt eq. 23.  Defined only when every cross-covariance block is invertible (square, invertible
    layers); then ``F^g = (1/L^2) K M^-1 K^T`` with ``K_i = J_i^-1``, and ``F F^g F = F`` follows from ``J K = L I``.

    The blocks factor as ``<x_{j-1} x_{i-1}^T> = (B_j C)(B_i C)^T`` and ``<e_j e_i^T> = (R^T A_j)^T (R^T A_i)``
    (``Sigma_x = C C^T``, ``Sigma_out^-1 = R R^T``), so they are inverted through the whitened factors ``B_i C`` and
    ``R^T A_i``: these do not change when the features or the targets are rescaled, and the invertibility test (their
    condition number after equilibrating rows, which also absorbs a rescaled hidden unit) does not depend on units.

    Parameters
    ----------
    net : DeepLinearNet
        A net with square, invertible layers.

    Returns
    -------
    ndarray, shape (P, P)
        ``F^g``.

    Examples
    --------
    ``-F^g grad`` is Eq. 10's update:

    >>> import numpy as np
    >>> from theorytools.deeplinear import DeepLinearNet, ginverse
    >>> net = DeepLinearNet([[[1.0]], [[2.0]]], np.eye(1), np.eye(1), [[4.0]])
    >>> Fg = ginverse.eq23(net)
    >>> bool(ginverse.residual(net.fisher(), Fg) < 1e-12), np.round(-Fg @ net.gradient(), 6).tolist()
    (True, [0.5, 1.0])
    >>> bool(np.allclose(-Fg @ net.gradient(), net.flatten(net.eq10_update())))
    True
    """
    net = as_instance("net", net, DeepLinearNet)
    if len(set(net.widths)) != 1:
        raise HypothesisError(f"eq. 23 needs square layers (all widths equal), got widths {net.widths}")
    check_allocation("eq. 23's P x P generalized inverse", (net.P, net.P), copies=2,
                     cheaper="eq10_update(), which is -F^g grad without forming F^g")
    L, C, R = net.L, net._chol_x, net._inv_chol_out
    inv_x, inv_e = [], []  # (B_i C)^-1 and (R^T A_i)^-1
    for i, (A, B) in enumerate(zip(net.A, net.B), 1):
        for what, factor, out in (("B", B @ C, inv_x), ("A", R.T @ A, inv_e)):
            rows = np.linalg.norm(factor, axis=1, keepdims=True)
            if not np.all(rows > 0) or np.linalg.cond(factor / rows) > SINGULAR_COND:
                raise HypothesisError(f"eq. 23 needs invertible layers: {what}_{i} is singular (a layer of net is)")
            out.append(np.linalg.inv(factor))
    blocks = []
    for i in range(L):
        row = []
        for j in range(L):
            Cx_inv = inv_x[i].T @ inv_x[j]  # <x_{j-1} x_{i-1}^T>^-1 = (B_i C)^-T (B_j C)^-1
            Ce_inv = inv_e[i] @ inv_e[j].T  # <e_j e_i^T>^-1 = (R^T A_i)^-1 (R^T A_j)^-T
            row.append(np.kron(Cx_inv, Ce_inv) / L**2)
        blocks.append(row)
    return np.block(blocks)


def residual(F, G) -> float:
    """``|F G F - F|_max / |F|_max``: how far ``G`` is from being a generalized inverse of ``F`` (0 for ``F = 0``).

    The defining property ``F G F = F`` of a generalized inverse (003_34787a2226c5cf0a.txt §3).

    Parameters
    ----------
    F : array_like, shape (P, P)
        A square matrix.
    G : array_like, shape (P, P)
        The candidate inverse.

    Returns
    -------
    float
        The relative residual.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.deeplinear import ginverse
    >>> F = np.array([[4.0, 2.0], [2.0, 1.0]])
    >>> ginverse.residual(F, np.zeros((2, 2))), bool(ginverse.residual(F, F / 25.0) < 1e-12)
    (1.0, True)
    """
    F = as_array("F", F, ndim=2)
    if F.shape[0] != F.shape[1]:
        raise ValueError(f"F must be a square matrix, got shape {F.shape}")
    G = as_array("G", G, shape=F.shape[::-1])
    scale = float(np.max(np.abs(F)))
    err = float(np.max(np.abs(F @ G @ F - F)))
    return err / scale if scale > 0 else err
