"""Per-layer NGD with damping for a batch of m examples: the explicit damped inverse (002_add1c097d251ec63.txt eq. 39),
its Woodbury form (A.4, eqs 27-28 and 40) and TENGraD (A.5, eqs 41-43), which never forms the m x (d_in d_out)
per-example Jacobian J.

Conventions (as in A.5): the layer is ``O = W^T I`` with ``W`` of shape ``d_in x d_out``, inputs ``I`` (``d_in x m``)
and back-propagated output gradients ``G`` (``d_out x m``, per example, without 1/m).  The per-example gradient is
``I[:, i] G[:, i]^T`` and vec is **row-major** (``W.reshape(-1)``), so ``J[i] = kron(I[:, i], G[:, i])`` and
``J^T v = vec(I diag(v) G^T)``.  With that convention:

* eq. 41 holds as printed: ``J J^T = (I^T I) o (G^T G)``;
* eq. 43 holds as printed: ``J^T v = I (v 1^T o G^T)`` (a ``d_in x d_out`` matrix);
* eq. 42 as printed, ``J vec(g) = ((g^T I) o G) 1``, has the ones on the wrong side: ``(g^T I) o G`` is ``d_out x m``
  and right-multiplying by 1 sums over the m examples, giving a d_out-vector.  The m-vector ``J vec(g)`` is
  ``1^T ((g^T I) o G)`` = the column sums (``[J vec(g)]_i = I[:, i]^T g G[:, i]``).  The text also calls this "the C
  part" of eq. 40, which is B (C is vec(g) itself).
"""

from __future__ import annotations

import numpy as np

from theorytools.errors import HypothesisError

METHODS = ("explicit", "woodbury", "tengrad", "pinv")


def _validate(I, G):
    I, G = np.asarray(I), np.asarray(G)
    for name, A in (("I", I), ("G", G)):
        if np.iscomplexobj(A):
            raise ValueError(f"{name} must be real")
        if A.ndim != 2 or 0 in A.shape:
            raise ValueError(f"{name} must be a non-empty 2-D array (features x examples), got shape {A.shape}")
        if not np.all(np.isfinite(A)):
            raise ValueError(f"{name} must be finite")
    if I.shape[1] != G.shape[1]:
        raise ValueError(f"I and G must have the same number of examples (columns): {I.shape[1]} vs {G.shape[1]}")
    return I.astype(float), G.astype(float)


def per_example_jacobian(I, G) -> np.ndarray:
    """``J`` (``m x d_in d_out``) with rows ``kron(I[:, i], G[:, i])`` (eq. 34: the transposed column-wise Khatri-Rao
    product; row-major vec of the per-example gradients ``I[:, i] G[:, i]^T``)."""
    I, G = _validate(I, G)
    return (I.T[:, :, None] * G.T[:, None, :]).reshape(I.shape[1], -1)


def tengrad_gram(I, G) -> np.ndarray:
    """``J J^T = (I^T I) o (G^T G)`` (eq. 41), ``m x m``, without forming J."""
    I, G = _validate(I, G)
    return (I.T @ I) * (G.T @ G)


def jacobian_vector(I, G, g) -> np.ndarray:
    """``J vec(g)`` for a ``d_in x d_out`` matrix g, without forming J: the column sums of ``(g^T I) o G`` (eq. 42
    corrected: the printed ``((g^T I) o G) 1`` sums the other way)."""
    return np.sum((g.T @ I) * G, axis=0)


def jacobian_transpose_vector(I, G, v) -> np.ndarray:
    """``J^T v`` as a ``d_in x d_out`` matrix, ``I (v 1^T o G^T) = I diag(v) G^T`` (eq. 43)."""
    return (I * v) @ G.T


def damped_jacobian_solve(J, u, beta: float, method: str = "explicit") -> np.ndarray:
    """``(J^T J / m + beta I)^-1 u`` for a Jacobian ``J`` (``m x P``, one row per example) and ``u`` of length P: eq. 36
    with the empirical Fisher of eq. 37 when J is the whole network's Jacobian, eq. 39 when it is one layer's.

    ``method``: ``"explicit"`` (form the P x P matrix and solve; P^3), ``"woodbury"`` (eq. 28: an m x m solve), or
    ``"pinv"`` (``(J^T J / m)^+ u``, the minimum-norm solution, for ``beta = 0`` on a singular F).  ``beta = 0`` with a
    singular ``J^T J`` (m < P or rank-deficient J) raises :class:`HypothesisError` rather than return an arbitrary
    null-space component.
    """
    m, P = J.shape
    if method == "pinv":
        return np.linalg.pinv(J.T @ J / m, hermitian=True) @ u
    if beta == 0:
        rank = np.linalg.matrix_rank(J)
        if rank < P:
            raise HypothesisError(f"beta = 0 but J^T J / m is singular (rank {rank} < {P} parameters, m = {m}): "
                                  "pass beta > 0, or method='pinv' for the minimum-norm solution")
        return np.linalg.solve(J.T @ J / m, u)
    if method == "explicit":
        return np.linalg.solve(J.T @ J / m + beta * np.eye(P), u)
    if method == "woodbury":  # (J^T J/m + beta I)^-1 = (I - J^T (beta m I + J J^T)^-1 J) / beta   (eq. 28)
        return (u - J.T @ np.linalg.solve(beta * m * np.eye(m) + J @ J.T, J @ u)) / beta
    raise ValueError(f"method must be one of ('explicit', 'woodbury', 'pinv'), got {method!r}")


def damped_block_direction(I, G, u, beta: float, method: str = "tengrad") -> np.ndarray:
    """``(J^T J / m + beta I)^-1 u`` for one layer (eq. 39's damped block inverse applied to u), where ``u`` is a
    ``(d_in d_out,)`` row-major vector or a ``d_in x d_out`` matrix (the result has the same shape).

    ``method``: ``"explicit"``, ``"woodbury"`` and ``"pinv"`` form J and call :func:`damped_jacobian_solve`;
    ``"tengrad"`` (eqs 40-43) never forms J.  ``beta = 0`` with a singular block raises :class:`HypothesisError`.
    """
    I, G = _validate(I, G)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    beta = float(beta)
    if not (np.isfinite(beta) and beta >= 0):
        raise ValueError(f"beta must be finite and >= 0, got {beta}")
    d_in, d_out, m = I.shape[0], G.shape[0], I.shape[1]
    u = np.asarray(u, dtype=float)
    shape = u.shape
    if u.size != d_in * d_out or u.ndim not in (1, 2) or (u.ndim == 2 and shape != (d_in, d_out)):
        raise ValueError(f"u must have d_in * d_out = {d_in * d_out} entries, as a vector or a {d_in} x {d_out} matrix; "
                         f"got shape {shape}")
    if not np.all(np.isfinite(u)):
        raise ValueError("u must be finite")
    if method != "tengrad" or beta == 0:
        return damped_jacobian_solve(per_example_jacobian(I, G), u.reshape(-1), beta,
                                     "explicit" if method == "tengrad" else method).reshape(shape)
    U = u.reshape(d_in, d_out)  # eqs 40-43
    v = np.linalg.solve(beta * m * np.eye(m) + tengrad_gram(I, G), jacobian_vector(I, G, U))
    return ((U - jacobian_transpose_vector(I, G, v)) / beta).reshape(shape)
