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

Undamped solves (``beta = 0``) decide the rank of ``F = J^T J / m`` on its Jacobi-equilibrated form
(:func:`theorytools.linalg.psd_rank`), so that rescaling parameters (input features, output units) by 1e-8..1e8 does
not change whether F counts as singular; the solve is :func:`theorytools.linalg.psd_solve`, whose equilibrated
eigensolve gives the same direction, mapped back, in every diagonal rescaling.  Every public function sizes the arrays
that grow faster than its input (J, ``J^T J``, the ``m x m`` Gram) first, with
:func:`theorytools.linalg.check_allocation`; the private ``_jacobian``, ``_gram``, ``_solve``, ... that the training
loop of :mod:`theorytools.fisher.ngd` calls at every step (after sizing once) do not.
"""

from __future__ import annotations

import numpy as np

from theorytools.errors import HypothesisError
from theorytools.linalg import as_array, as_choice, as_vector, check_allocation, nonnegative, psd_rank, psd_solve

METHODS = ("explicit", "woodbury", "tengrad", "pinv")
#: the forms of :func:`damped_jacobian_solve` (TENGraD works on the factors I, G, not on J)
JACOBIAN_METHODS = ("explicit", "woodbury", "pinv")


def _validate(I, G, names=("I", "G")):
    I, G = as_array(names[0], I, ndim=2), as_array(names[1], G, ndim=2)
    if I.shape[1] != G.shape[1]:
        raise ValueError(f"{names[0]} and {names[1]} must have the same number of examples (columns): {names[0]} has "
                         f"{I.shape[1]}, {names[1]} has {G.shape[1]}")
    return I, G


_NO_J = "damped_block_direction(..., method='tengrad') never forms J"


def _size_jacobian(m: int, P: int, cheaper: str = _NO_J) -> None:
    check_allocation(f"the per-example Jacobian J ({m} x {P})", (m, P), cheaper=cheaper)


def _size_solve(m: int, P: int, beta: float, method: str, cheaper: str = "") -> None:
    """Size the system that :func:`_solve` forms: m x m for Woodbury with beta > 0, else P x P."""
    if method == "woodbury" and beta > 0:
        check_allocation(f"the {m} x {m} Woodbury system", (m, m), copies=3, cheaper="use fewer examples per batch")
        return
    route = "method='woodbury' (an m x m system)" if beta > 0 else "beta > 0 with method='woodbury' (an m x m system)"
    check_allocation(f"the {P} x {P} matrix J^T J / m + beta I (beta = {beta:g})", (P, P), copies=3,
                     cheaper=f"use {route}{cheaper}")


def _jacobian(I, G) -> np.ndarray:
    return (I.T[:, :, None] * G.T[:, None, :]).reshape(I.shape[1], -1)


def per_example_jacobian(I, G) -> np.ndarray:
    """``J`` (``m x d_in d_out``) with rows ``kron(I[:, i], G[:, i])``: one layer's per-example Jacobian.

    002_add1c097d251ec63.txt eq. 34: the transposed column-wise Khatri-Rao product; row-major vec of the per-example
    gradients ``I[:, i] G[:, i]^T``.

    Parameters
    ----------
    I : array_like
        The layer inputs, ``d_in x m`` (one column per example).
    G : array_like
        The back-propagated output gradients, ``d_out x m``.

    Returns
    -------
    numpy.ndarray
        J, ``m x (d_in d_out)``.

    Examples
    --------
    >>> from theorytools.fisher import per_example_jacobian
    >>> per_example_jacobian([[1.0], [2.0]], [[3.0]]).tolist()  # kron((1, 2), (3,))
    [[3.0, 6.0]]
    """
    I, G = _validate(I, G)
    _size_jacobian(I.shape[1], I.shape[0] * G.shape[0],
                   cheaper="tengrad_gram, jacobian_vector and jacobian_transpose_vector work on I and G; " + _NO_J)
    return _jacobian(I, G)


def _gram(I, G) -> np.ndarray:
    return (I.T @ I) * (G.T @ G)


def tengrad_gram(I, G) -> np.ndarray:
    """``J J^T = (I^T I) o (G^T G)`` (002_add1c097d251ec63.txt eq. 41), ``m x m``, without forming J.

    Parameters
    ----------
    I : array_like
        The layer inputs, ``d_in x m`` (one column per example).
    G : array_like
        The back-propagated output gradients, ``d_out x m``.

    Returns
    -------
    numpy.ndarray
        The ``m x m`` Gram matrix ``J J^T``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.fisher import per_example_jacobian, tengrad_gram
    >>> I, G = np.array([[1.0, 0.0], [2.0, 1.0]]), np.array([[3.0, 1.0]])
    >>> J = per_example_jacobian(I, G)
    >>> tengrad_gram(I, G).tolist(), bool(np.allclose(tengrad_gram(I, G), J @ J.T))
    ([[45.0, 6.0], [6.0, 1.0]], True)
    """
    I, G = _validate(I, G)
    check_allocation("the m x m Gram matrix J J^T", (I.shape[1],) * 2, copies=3, cheaper="use fewer examples")
    return _gram(I, G)


def _jacobian_vector(I, G, g) -> np.ndarray:
    return np.sum((g.T @ I) * G, axis=0)


def _jacobian_transpose_vector(I, G, v) -> np.ndarray:
    return (I * v) @ G.T


def jacobian_vector(I, G, g) -> np.ndarray:
    """``J vec(g)`` for a ``d_in x d_out`` matrix g, without forming J: the column sums of ``(g^T I) o G``.

    002_add1c097d251ec63.txt eq. 42 corrected: the printed ``((g^T I) o G) 1`` sums the other way.

    Parameters
    ----------
    I : array_like
        The layer inputs, ``d_in x m`` (one column per example).
    G : array_like
        The back-propagated output gradients, ``d_out x m``.
    g : array_like
        A ``d_in x d_out`` matrix.

    Returns
    -------
    numpy.ndarray
        The m-vector ``J vec(g)``, ``[J vec(g)]_i = I[:, i]^T g G[:, i]``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.fisher import jacobian_vector, per_example_jacobian
    >>> I, G, g = np.array([[1.0, 0.0], [2.0, 1.0]]), np.array([[3.0, 1.0]]), np.ones((2, 1))
    >>> jacobian_vector(I, G, g).tolist(), (per_example_jacobian(I, G) @ g.reshape(-1)).tolist()
    ([9.0, 1.0], [9.0, 1.0])
    """
    I, G = _validate(I, G)
    return _jacobian_vector(I, G, as_array("g", g, shape=(I.shape[0], G.shape[0])))


def jacobian_transpose_vector(I, G, v) -> np.ndarray:
    """``J^T v`` as a ``d_in x d_out`` matrix, ``I (v 1^T o G^T) = I diag(v) G^T`` (002_add1c097d251ec63.txt eq. 43).

    Parameters
    ----------
    I : array_like
        The layer inputs, ``d_in x m`` (one column per example).
    G : array_like
        The back-propagated output gradients, ``d_out x m``.
    v : array_like
        An m-vector (one entry per example).

    Returns
    -------
    numpy.ndarray
        ``J^T v`` reshaped row-major to ``d_in x d_out``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.fisher import jacobian_transpose_vector, per_example_jacobian
    >>> I, G, v = np.array([[1.0, 0.0], [2.0, 1.0]]), np.array([[3.0, 1.0]]), np.array([1.0, -1.0])
    >>> jacobian_transpose_vector(I, G, v).tolist(), (per_example_jacobian(I, G).T @ v).tolist()
    ([[3.0], [5.0]], [3.0, 5.0])
    """
    I, G = _validate(I, G)
    return _jacobian_transpose_vector(I, G, as_vector("v", v, I.shape[1]))


def _undamped(J, u, pinv: bool) -> np.ndarray:
    """``F^+ u`` for ``F = J^T J / m``; without ``pinv``, a HypothesisError when F is singular.  The rank is known to be
    short when m < P; otherwise it is decided on the equilibrated F (scale-invariant)."""
    m, P = J.shape
    F = J.T @ J / m
    if not pinv:
        rank = m if m < P else psd_rank(F)  # m rows: rank <= m < P by construction
        if rank < P:
            at_most = "<= " if m < P else ""
            raise HypothesisError(f"beta = 0 but J^T J / m is singular (rank {at_most}{rank} < {P} parameters, m = {m}): "
                                  "pass beta > 0, or method='pinv' for the minimum-norm solution")
    return psd_solve(F, u)


def _solve(J, u, beta: float, method: str) -> np.ndarray:
    """:func:`damped_jacobian_solve` on validated (and sized) arguments."""
    m, P = J.shape
    if beta == 0:
        return _undamped(J, u, pinv=method == "pinv")
    if method == "woodbury":  # (J^T J/m + beta I)^-1 = (I - J^T (beta m I + J J^T)^-1 J) / beta   (eq. 28)
        return (u - J.T @ np.linalg.solve(beta * m * np.eye(m) + J @ J.T, J @ u)) / beta
    return np.linalg.solve(J.T @ J / m + beta * np.eye(P), u)


def damped_jacobian_solve(J, u, beta: float, method: str = "explicit") -> np.ndarray:
    """``(J^T J / m + beta I)^-1 u`` for a Jacobian ``J`` (``m x P``, one row per example) and ``u`` of length P.

    002_add1c097d251ec63.txt eq. 36 with the empirical Fisher of eq. 37 when J is the whole network's Jacobian,
    eq. 39 when it is one layer's.

    ``method``: ``"explicit"`` (form the P x P matrix and solve; P^3), ``"woodbury"`` (eq. 28: an m x m solve), or
    ``"pinv"`` (``(J^T J / m + beta I)^+ u``, the minimum-norm solution: with ``beta > 0`` the matrix is invertible and
    this is the explicit solve; with ``beta = 0`` it is ``F^+ u``, for a singular F).  ``beta = 0`` with a singular
    ``J^T J`` (m < P or rank-deficient J, decided scale-invariantly) raises :class:`HypothesisError` rather than return
    an arbitrary null-space component; ``beta = 0`` with ``"woodbury"`` (which divides by beta) is the explicit
    solve.

    Parameters
    ----------
    J : array_like
        The ``m x P`` Jacobian.
    u : array_like
        A vector of length P.
    beta : float
        The damping, >= 0.
    method : str, default "explicit"
        ``"explicit"``, ``"woodbury"`` or ``"pinv"``.

    Returns
    -------
    numpy.ndarray
        The P-vector ``(J^T J / m + beta I)^-1 u``.

    Examples
    --------
    With J = [[1, 0]] (m = 1) and beta = 1 the matrix is diag(2, 1):

    >>> from theorytools.fisher import damped_jacobian_solve
    >>> damped_jacobian_solve([[1.0, 0.0]], [1.0, 1.0], 1.0).tolist()
    [0.5, 1.0]
    >>> damped_jacobian_solve([[1.0, 0.0]], [1.0, 1.0], 1.0, method="woodbury").tolist()
    [0.5, 1.0]
    """
    J = as_array("J", J, ndim=2)
    u = as_array("u", u, ndim=1)
    if u.shape != (J.shape[1],):
        raise ValueError(f"u must have one entry per column of J ({J.shape[1]}), got shape {u.shape}")
    beta = nonnegative("beta", beta)
    method = as_choice("method", method, JACOBIAN_METHODS)
    _size_solve(*J.shape, beta, method)
    return _solve(J, u, beta, method)


def damped_block_direction(I, G, u, beta: float, method: str = "tengrad") -> np.ndarray:
    """``(J^T J / m + beta I)^-1 u`` for one layer (002_add1c097d251ec63.txt eq. 39: the damped block inverse on u).

    ``u`` is a ``(d_in d_out,)`` row-major vector or a ``d_in x d_out`` matrix (the result has the same shape).

    ``method``: ``"explicit"``, ``"woodbury"`` and ``"pinv"`` form J and call :func:`damped_jacobian_solve`;
    ``"tengrad"`` (eqs 40-43) never forms J.  ``beta = 0`` with a singular block raises :class:`HypothesisError`.

    Parameters
    ----------
    I : array_like
        The layer inputs, ``d_in x m`` (one column per example).
    G : array_like
        The back-propagated output gradients, ``d_out x m``.
    u : array_like
        ``d_in d_out`` numbers, as a row-major vector or a ``d_in x d_out`` matrix.
    beta : float
        The damping, >= 0.
    method : str, default "tengrad"
        ``"explicit"``, ``"woodbury"``, ``"tengrad"`` or ``"pinv"``.

    Returns
    -------
    numpy.ndarray
        The direction, in the shape of ``u``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.fisher import damped_block_direction
    >>> I, G, u = np.array([[1.0, 0.0], [2.0, 1.0]]), np.array([[3.0, 1.0]]), np.array([1.0, 1.0])
    >>> d = damped_block_direction(I, G, u, beta=0.5)  # TENGraD: an m x m solve
    >>> bool(np.allclose(d, damped_block_direction(I, G, u, beta=0.5, method="explicit"))), np.round(d, 6).tolist()
    (True, [0.714286, -0.285714])
    """
    I, G = _validate(I, G)
    method = as_choice("method", method, METHODS)
    beta = nonnegative("beta", beta)
    d_in, d_out, m = I.shape[0], G.shape[0], I.shape[1]
    u = as_array("u", u)
    shape = u.shape
    if shape not in ((d_in * d_out,), (d_in, d_out)):
        raise ValueError(f"u must have d_in * d_out = {d_in * d_out} entries, as a vector or a {d_in} x {d_out} matrix; "
                         f"got shape {shape}")
    if method == "tengrad" and beta > 0:
        check_allocation("the m x m TENGraD system", (m, m), copies=3, cheaper="use fewer examples")
    else:
        route = "method='tengrad' with beta > 0 (an m x m system, J never formed)"
        _size_jacobian(m, d_in * d_out, cheaper=route)
        _size_solve(m, d_in * d_out, beta, "explicit" if method == "tengrad" else method, cheaper=f", or {route}")
    return _block_direction(I, G, u, beta, method).reshape(shape)


def _block_direction(I, G, u, beta: float, method: str) -> np.ndarray:
    """:func:`damped_block_direction` on validated (and sized) arguments (``u`` of any shape with d_in d_out entries)."""
    if method != "tengrad" or beta == 0:
        return _solve(_jacobian(I, G), u.reshape(-1), beta, "explicit" if method == "tengrad" else method)
    m = I.shape[1]
    U = u.reshape(I.shape[0], G.shape[0])  # eqs 40-43
    v = np.linalg.solve(beta * m * np.eye(m) + _gram(I, G), _jacobian_vector(I, G, U))
    return (U - _jacobian_transpose_vector(I, G, v)) / beta
