"""The deep linear network of Bernacchia, Lengyel & Hennequin (003_34787a2226c5cf0a.txt §3-4) and its exact
Fisher, gradient, natural gradient, Eq. 10 update and block-diagonal update.

Conventions.  Layers ``W_1 .. W_L`` with ``W_i`` of shape ``(n_i, n_{i-1})`` (eq. 1 without biases, phi = id);
the total map ``W = W_L ... W_1`` (eq. 9).  ``A_i = W_L ... W_{i+1}`` (``n_L x n_i``, ``A_L = I``) and
``B_i = W_{i-1} ... W_1`` (``n_{i-1} x n_0``, ``B_1 = I``), so that ``x_{i-1} = B_i x`` (eq. 11) and the
back-propagated error is ``e_i = A_i^T St^-1 (y - W x)`` (eq. 12; ``St`` is Sigma-tilde).  Parameters are the
column-major ``vec`` of each ``W_i``, concatenated ``W_1 .. W_L`` (so ``vec(A X B) = (B^T kron A) vec(X)``).

Data enter through second moments only: ``Sigma = <x x^T>``, ``Cyx = <y x^T>`` (and, optionally, ``Cyy``),
so every quantity here is exact (no sampling).
"""

from __future__ import annotations

from functools import cached_property, lru_cache

import numpy as np
from scipy.linalg import cho_solve, get_lapack_funcs, solve_triangular

from theorytools.linalg import as_array, as_int, as_symmetric, check_allocation, check_definite, check_finite

EPS = np.finfo(float).eps


_GEQP3, _ORGQR = get_lapack_funcs(("geqp3", "orgqr"), (np.zeros((1, 1)),))


@lru_cache(maxsize=256)
def _qr_lworks(m: int, n: int) -> tuple:
    """The optimal workspaces of ``dgeqp3`` and ``dorgqr`` for an ``m x n`` matrix (LAPACK's workspace queries)."""
    a = np.zeros((m, n), order="F")
    return int(_GEQP3(a, lwork=-1)[-2][0]), int(_ORGQR(a, np.zeros(min(m, n)), lwork=-1)[-2][0])


def _pivoted_q(M: np.ndarray) -> np.ndarray:
    """``Q`` of the column-pivoted Householder QR of the float64 array ``M`` (``m >= n``), economic:
    ``scipy.linalg.qr(M, mode="economic", pivoting=True)[0]``, computed the same way (LAPACK ``dgeqp3`` and ``dorgqr``,
    each with its optimal workspace) without scipy's per-call checks and queries, which cost ten times the factorization
    at the sizes the flows of :mod:`theorytools.deeplinear.dynamics` call it with, thousands of times per path.  ``M``
    may be overwritten."""
    lw_qr, lw_q = _qr_lworks(*M.shape)
    f, _, tau, _, info = _GEQP3(M, lwork=lw_qr, overwrite_a=1)
    if info == 0:
        Q, _, info = _ORGQR(f, tau, lwork=lw_q, overwrite_a=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"LAPACK QR failed (info = {info})")
    return Q


def _pinv_apply(X: np.ndarray, Y, moore_penrose: bool = True) -> np.ndarray:
    """``X^+ Y`` (Moore-Penrose) with the rank of ``X`` decided on its column-equilibrated form ``X D^-1`` (``D`` the
    column norms), so that rescaling columns of ``X`` -- a change of units of the parameters, the net's own symmetry
    ``W_i -> c W_i, W_{i+1} -> W_{i+1} / c`` -- does not move the decision.  With ``moore_penrose=False``, the
    least-squares solution of least norm in the equilibrated coordinates, ``D^-1 (X D^-1)^+ Y``, which follows any
    rescaling of the columns exactly.  ``Y = None`` stands for the identity (``X^+`` itself).

    Singular values of ``X D^-1`` at or below ``max(X.shape) eps s_max`` are zero: deciding on the factor keeps the
    rank decision at eps resolution (on ``X^T X`` their squares would be decided at sqrt(eps)).  With ``X D^-1 =
    U S V^T`` truncated to the kept ``k``, ``G = D^-1 V_k S_k^-1 U_k^T`` is a generalized inverse of ``X`` and the
    Moore-Penrose one is its projection onto the row space ``D span(V_k)`` of ``X`` (``X^+ = (X^+ X) G (X X^+)``, and
    ``X G`` is already the orthogonal projector ``U_k U_k^T``).  A zero column is a null direction exactly."""
    d = np.sqrt(np.add.reduce(X * X, axis=0))  # np.linalg.norm(X, axis=0), without its set-up
    every = bool(d.all())  # no zero column: the common case, without boolean indexing
    if every:
        live, dlive = None, d
    else:
        live = d > 0
        if not live.any():
            return np.zeros((X.shape[1], X.shape[0]) if Y is None else (X.shape[1],) + Y.shape[1:])
        dlive = d[live]
    U, s, Vt = np.linalg.svd(X / d if every else X[:, live] / dlive, full_matrices=False)
    keep = s > max(X.shape) * EPS * s[0]
    Vk = Vt[keep].T
    Uk = U[:, keep].T
    one = Y is not None and Y.ndim == 1
    dl = dlive if one else dlive[:, None]
    x = (Vk @ ((Uk if Y is None else Uk @ Y) / (s[keep] if one else s[keep][:, None]))) / dl
    if moore_penrose and Vk.shape[1] < Vk.shape[0]:  # X has a null space: remove x's component in it
        # Householder QR of a matrix with rows of very different norms (the columns of X rescaled) is row-wise stable
        # only with its rows sorted by decreasing norm and column pivoting (Cox & Higham 1998)
        M = Vk * dlive[:, None]
        order = np.argsort(-np.sqrt(np.add.reduce(M * M, axis=1)), kind="stable")
        Q = _pivoted_q(M[order])
        x[order] = Q @ (Q.T @ x[order])
    if every:
        return x
    out = np.zeros((X.shape[1],) + x.shape[1:])
    out[live] = x
    return out


def psd_pinv(X) -> np.ndarray:
    """Moore-Penrose pseudo-inverse of ``X X^T`` from its factor ``X``: ``(X X^T)^+ = A A^T`` with ``A = (X^T)^+``.

    Used for the pseudo-inverses of the covariances ``Lambda_i``, ``Lambda~_i`` of Eq. 10 where they are singular
    (003_34787a2226c5cf0a.txt §3, text after eq. 10).

    The rank is decided on the factor (eps resolution: a rank-deficient product of layers has singular values
    ~eps * s_max, whose squares would be indistinguishable from small true eigenvalues of ``X X^T``) after
    equilibrating its rows (see :func:`_pinv_apply`), so that rescaling coordinates of ``X X^T`` (hidden units, or
    input features for ``Lambda_1 = Sigma``) does not change which directions count as zero.

    Parameters
    ----------
    X : array_like, shape (n, m)
        A factor of the positive semidefinite matrix ``X X^T``.

    Returns
    -------
    ndarray, shape (n, n)
        ``(X X^T)^+``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.deeplinear import psd_pinv
    >>> np.round(psd_pinv([[1.0], [1.0]]), 6).tolist()      # (1 1^T)^+ = 1 1^T / |1|^4
    [[0.25, 0.25], [0.25, 0.25]]
    """
    return _psd_pinv(as_array("X", X, ndim=2))


def _psd_pinv(X: np.ndarray) -> np.ndarray:
    """:func:`psd_pinv` of a validated ``X``."""
    A = _pinv_apply(X.T, None)
    return A @ A.T


def _kron(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.kron`` of two 2-D arrays (the same products, without its generic n-D set-up)."""
    return (a[:, None, :, None] * b[None, :, None, :]).reshape(a.shape[0] * b.shape[0], a.shape[1] * b.shape[1])


def _chain(mats, n: int) -> np.ndarray:
    """``mats[-1] @ ... @ mats[0]`` (identity of size ``n`` for an empty list; a copy of ``mats[0]`` for one)."""
    if not mats:
        return np.eye(n)
    out = mats[0].copy()
    for M in mats[1:]:
        out = M @ out
    return out


def as_layers(name: str, weights) -> list:
    """``weights`` = ``[W_1, ..., W_L]`` validated (a non-empty list of finite real 2-D matrices, each ``W_i`` of shape
    ``n_i x n_{i-1}``) and copied as float64 arrays; errors name ``name``, the layer and the property."""
    if not isinstance(weights, (list, tuple)):
        raise TypeError(f"{name} must be a non-empty list of matrices [W_1, ..., W_L], got {type(weights).__name__}")
    if not weights:
        raise ValueError(f"{name} must be a non-empty list of matrices [W_1, ..., W_L], got an empty {type(weights).__name__}")
    Ws: list = []
    for i, W in enumerate(weights, 1):
        W = as_array(f"{name}: layer {i}: W_{i}", W, ndim=2)
        if Ws and W.shape[1] != Ws[-1].shape[0]:
            raise ValueError(f"{name}: layer {i}: W_{i} has {W.shape[1]} columns but layer {i - 1} has "
                             f"{Ws[-1].shape[0]} outputs (W_{i} must be n_{i} x n_{i - 1})")
        Ws.append(np.array(W, dtype=float))
    return Ws


def _matching(name: str, A, n: int, what: str) -> np.ndarray:
    """A symmetric ``n x n`` matrix whose size is fixed by the widths of ``weights`` (``what`` says which)."""
    A = as_symmetric(name, A)
    if A.shape[0] != n:
        raise ValueError(f"{name} must be {n} x {n} to match weights ({what}), got shape {A.shape}")
    return A


#: What :meth:`DeepLinearNet.with_weights` shares: the data, their factors and the memo of the pseudo-inverses that
#: depend on them only
_SHARED = ("Sigma_x", "Sigma_out", "Cyx", "Cyy", "_chol_x", "_chol_out", "_inv_chol_out", "W_star", "_pinv_memo")


class DeepLinearNet:
    """``x_L = W_L ... W_1 x`` with Gaussian output ``N(x_L, Sigma_out)`` (003_34787a2226c5cf0a.txt eqs 1, 6, 9).

    ``weights``: ``[W_1, ..., W_L]``; ``Sigma_x = <x x^T>`` (SPD); ``Sigma_out`` = Sigma-tilde (SPD);
    ``Cyx = <y x^T>`` (``n_L x n_0``); ``Cyy = <y y^T>`` (optional: only the absolute loss needs it).

    Every inverse of ``Sigma_x`` or ``Sigma_out`` goes through their Cholesky factors (``Sigma_x = C C^T``,
    ``Sigma_out^-1 = R R^T``), which follow a change of units of the features or the targets exactly
    (``chol(S Sigma S) = S chol(Sigma)`` for a positive diagonal ``S``).

    Parameters
    ----------
    weights : list of array_like
        ``[W_1, ..., W_L]``, ``W_i`` of shape ``(n_i, n_{i-1})``.
    Sigma_x : array_like, shape (n_0, n_0)
        The input covariance ``<x x^T>``, symmetric positive definite.
    Sigma_out : array_like, shape (n_L, n_L)
        The output noise covariance Sigma-tilde, symmetric positive definite.
    Cyx : array_like, shape (n_L, n_0)
        The cross-covariance ``<y x^T>``.
    Cyy : array_like, shape (n_L, n_L), optional
        ``<y y^T>``; only the absolute loss needs it.

    Examples
    --------
    A 1-1-1 net with ``W = w_2 w_1 = 2`` and ``W* = Cyx Sigma_x^-1 = 4``:

    >>> import numpy as np
    >>> from theorytools.deeplinear import DeepLinearNet
    >>> net = DeepLinearNet([[[1.0]], [[2.0]]], np.eye(1), np.eye(1), [[4.0]])
    >>> float(net.W[0, 0]), float(net.W_star[0, 0]), round(net.excess_loss(), 6)    # (W - W*)^2 / 2 = 2
    (2.0, 4.0, 2.0)
    >>> np.round(net.natural_gradient(), 6).tolist()     # J^+ (W* - W) with J = (w_2, w_1): (2, 1) x 2 / 5
    [0.8, 0.4]
    """

    def __init__(self, weights, Sigma_x, Sigma_out, Cyx, Cyy=None):
        self._set_weights(weights)
        n0, nL = self.widths[0], self.widths[-1]
        self.Sigma_x = _matching("Sigma_x", Sigma_x, n0, f"W_1 has n_0 = {n0} columns")
        check_definite("Sigma_x", self.Sigma_x)
        self.Sigma_out = _matching("Sigma_out", Sigma_out, nL, f"W_{self.L} has n_L = {nL} rows")
        check_definite("Sigma_out", self.Sigma_out)
        self.Cyx = as_array("Cyx", Cyx, ndim=2)
        if self.Cyx.shape != (nL, n0):
            raise ValueError(f"Cyx = <y x^T> must be n_L x n_0 = {nL} x {n0} to match weights, got shape {self.Cyx.shape}")
        self.Cyy = None
        if Cyy is not None:
            self.Cyy = _matching("Cyy", Cyy, nL, f"W_{self.L} has n_L = {nL} rows")
            # <(y - W* x)(y - W* x)^T> = Cyy - Cyx Sigma^-1 Cxy must be PSD for (x, y) to have these moments.  Its
            # rounding is relative to Cyy (noise-free targets make it ~0), so the slack is too, not relative to itself.
            Z = self.W_star @ self._chol_x
            lo = float(np.linalg.eigvalsh(self.Cyy - Z @ Z.T)[0])
            if lo < -nL * 1e-10 * max(float(np.max(np.diag(self.Cyy))), np.finfo(float).tiny):
                raise ValueError(f"Cyy must exceed Cyx Sigma_x^-1 Cyx^T: Cyy - Cyx Sigma_x^-1 Cyx^T (the residual "
                                 f"covariance) is not positive semidefinite: smallest eigenvalue {lo:.3e}")

    def _set_weights(self, weights) -> None:
        Ws = as_layers("weights", weights)
        widths = (Ws[0].shape[1],) + tuple(W.shape[0] for W in Ws)
        if getattr(self, "widths", widths) != widths:
            raise ValueError(f"weights must keep the widths {self.widths}, got {widths}")
        self.weights = Ws
        self.widths = widths

    # -- structure -----------------------------------------------------------------------------
    @property
    def L(self) -> int:
        return len(self.weights)

    @property
    def P(self) -> int:
        """Number of parameters, ``sum_i n_i n_{i-1}``."""
        return sum(W.size for W in self.weights)

    @property
    def rank_bound(self) -> int:
        """``r = min_i n_i``: the largest rank the total map can have."""
        return min(self.widths)

    @property
    def generic_fisher_rank(self) -> int:
        """``r (n_0 + n_L - r)``: the dimension of the manifold of rank-``r`` ``n_L x n_0`` matrices, which is the
        rank of the Fisher wherever ``rank W = r`` (the paper's bound ``n_L n_0`` when ``r = min(n_0, n_L)``)."""
        r, n0, nL = self.rank_bound, self.widths[0], self.widths[-1]
        return r * (n0 + nL - r)

    def with_weights(self, weights) -> "DeepLinearNet":
        """The same data (Sigma_x, Sigma_out, Cyx, Cyy, already validated) with other weights of the same widths."""
        new = object.__new__(DeepLinearNet)
        new.widths = self.widths
        for name in _SHARED:
            setattr(new, name, getattr(self, name))
        new._set_weights(weights)
        return new

    def _with_flat(self, theta: np.ndarray) -> "DeepLinearNet":
        """``with_weights(unflatten(theta))`` for the inner loops of the integrators: ``theta`` a finite ``(P,)`` float64
        vector (checked by the caller), copied once; the layers are views of the copy."""
        new = object.__new__(DeepLinearNet)
        for name in _SHARED:
            setattr(new, name, getattr(self, name))
        theta = np.array(theta, dtype=float)
        out, start = [], 0
        for W in self.weights:
            out.append(theta[start:start + W.size].reshape(W.shape, order="F"))
            start += W.size
        new.weights, new.widths = out, self.widths
        new._sized = self.__dict__.get("_sized", False)
        return new

    def _check_layers(self, name: str, layers) -> list:
        """``layers`` = ``[U_1, ..., U_L]`` with ``U_i`` of ``W_i``'s shape (a velocity, an update, a direction)."""
        if not isinstance(layers, (list, tuple)):
            raise TypeError(f"{name} must be a list of {self.L} layer arrays, got {type(layers).__name__}")
        if len(layers) != self.L:
            raise ValueError(f"{name} must hold L = {self.L} layer arrays (one per layer of weights), got {len(layers)}")
        return [as_array(f"{name}: layer {i}", U, shape=W.shape) for i, (U, W) in enumerate(zip(layers, self.weights), 1)]

    def flatten(self, layers) -> np.ndarray:
        """``[U_1, ..., U_L]`` -> the ``(P,)`` column-major parameter vector."""
        return np.concatenate([U.reshape(-1, order="F") for U in self._check_layers("layers", layers)])

    def unflatten(self, theta) -> list:
        """The ``(P,)`` parameter vector -> ``[U_1, ..., U_L]``."""
        theta = as_array("theta", theta, shape=(self.P,))
        out, start = [], 0
        for W in self.weights:
            out.append(theta[start:start + W.size].reshape(W.shape, order="F"))
            start += W.size
        return out

    def _layers(self, name: str, u) -> list:
        """A list of layer arrays, or a ``(P,)`` vector unflattened."""
        if isinstance(u, (list, tuple)):
            return self._check_layers(name, u)
        return self.unflatten(as_array(name, u, shape=(self.P,)))

    # -- products (eqs 9, 11, 12) ----------------------------------------------------------------
    @cached_property
    def W(self) -> np.ndarray:
        """The total map ``W_L ... W_1`` (eq. 9)."""
        return _chain(self.weights, self.widths[0])

    @cached_property
    def A(self) -> list:
        """``A_i = W_L ... W_{i+1}`` for ``i = 1..L`` (list index ``i - 1``)."""
        return [_chain(self.weights[i:], self.widths[i]) for i in range(1, self.L + 1)]

    @cached_property
    def B(self) -> list:
        """``B_i = W_{i-1} ... W_1`` for ``i = 1..L`` (list index ``i - 1``)."""
        return [_chain(self.weights[:i - 1], self.widths[0]) for i in range(1, self.L + 1)]

    @cached_property
    def _chol_x(self) -> np.ndarray:
        return np.linalg.cholesky(self.Sigma_x)

    @cached_property
    def _chol_out(self) -> np.ndarray:
        return np.linalg.cholesky(self.Sigma_out)

    @cached_property
    def _inv_chol_out(self) -> np.ndarray:
        """``R`` with ``R R^T = Sigma_out^-1`` (``R = C^-T`` for ``Sigma_out = C C^T``)."""
        return solve_triangular(self._chol_out, np.eye(self.widths[-1]), lower=True).T

    def _solve_out(self, X) -> np.ndarray:
        """``Sigma_out^-1 X = R (R^T X)``."""
        R = self._inv_chol_out
        return R @ (R.T @ X)

    @cached_property
    def W_star(self) -> np.ndarray:
        """The least-squares map ``<y x^T> Sigma^-1`` (text after eq. 18)."""
        return cho_solve((self._chol_x, True), self.Cyx.T).T

    def whiten(self, W=None) -> np.ndarray:
        """``R^T W C`` (``Sigma_x = C C^T``, ``Sigma_out^-1 = R R^T``) for the net's total map or an ``n_L x n_0`` map
        ``W``: the map in units of the input and output noise.  It has the singular values of ``St^-1/2 W Sigma^1/2``
        and the sign of ``det W``, and it does not change when the features or the targets are rescaled
        (``W -> T W S^-1``, ``Sigma_x -> S Sigma_x S``, ``Sigma_out -> T Sigma_out T``, ``S, T`` positive diagonal)
        or a layer is traded against the next (``W_i -> c W_i, W_{i+1} -> W_{i+1} / c``)."""
        W = self.W if W is None else as_array("W", W, shape=self.W.shape)
        return self._inv_chol_out.T @ W @ self._chol_x

    # -- loss and gradient (eqs 6, 13) -----------------------------------------------------------------
    def excess_loss(self, W=None) -> float:
        """``L(W) - L(W*) = 1/2 tr(St^-1 (W - W*) Sigma (W - W*)^T)`` (eq. 6 expanded in second moments), at the net's
        total map or at the ``n_L x n_0`` map ``W``."""
        D = (self.W if W is None else as_array("W", W, shape=self.W.shape)) - self.W_star
        Z = self.whiten(D)
        return 0.5 * float(np.sum(Z * Z))

    @property
    def min_loss(self) -> float:
        """``L(W*) = 1/2 tr(St^-1 (Cyy - Cyx Sigma^-1 Cxy))`` (eq. 6 without its constant); needs ``Cyy``."""
        if self.Cyy is None:
            raise ValueError("min_loss needs Cyy = <y y^T>; pass Cyy to DeepLinearNet")
        R = self.Cyy - self.Cyx @ self.W_star.T
        return 0.5 * float(np.trace(self._solve_out(R)))

    def loss(self) -> float:
        """Eq. 6 without its theta-independent constant: ``min_loss + excess_loss`` (needs ``Cyy``)."""
        return self.min_loss + self.excess_loss()

    @cached_property
    def _G_W(self) -> np.ndarray:
        """``dL/dW = St^-1 (W Sigma - Cyx)`` (the gradient with respect to the total map)."""
        return self._solve_out(self.W @ self.Sigma_x - self.Cyx)

    def gradient_layers(self) -> list:
        """``dL/dW_i = -<e_i x_{i-1}^T> = A_i^T St^-1 (W Sigma - Cyx) B_i^T`` (eq. 13)."""
        return [A.T @ self._G_W @ B.T for A, B in zip(self.A, self.B)]

    def gradient(self) -> np.ndarray:
        """Eq. 13 as a ``(P,)`` vector."""
        return self.flatten(self.gradient_layers())

    # -- covariances (eqs 14, 15) and the Fisher (eq. 22) --------------------------------------------------
    def _index(self, name: str, i) -> int:
        return as_int(name, i, low=1, high=self.L) - 1

    def Lambda(self, i: int) -> np.ndarray:
        """``Lambda_i = <x_{i-1} x_{i-1}^T>_{p_theta} = B_i Sigma B_i^T`` (eq. 15), layer ``i = 1..L``."""
        B = self.B[self._index("i", i)]
        return B @ self.Sigma_x @ B.T

    def Lambda_tilde(self, i: int) -> np.ndarray:
        """``Lambda~_i = <e_i e_i^T>_{p_theta} = A_i^T St^-1 A_i`` (eq. 14), layer ``i = 1..L``."""
        A = self.A[self._index("i", i)]
        return A.T @ self._solve_out(A)

    def fisher_block(self, i: int, j: int) -> np.ndarray:
        """``F_ij = <x_{i-1} x_{j-1}^T> kron <e_i e_j^T> = (B_i Sigma B_j^T) kron (A_i^T St^-1 A_j)``
        (003_34787a2226c5cf0a.txt eq. 22; column-major vec)."""
        a, b = self._index("i", i), self._index("j", j)
        check_allocation(f"the Fisher block F_{a + 1}{b + 1}", (self.weights[a].size, self.weights[b].size),
                         cheaper="its Kronecker factors Lambda(i), Lambda_tilde(i) (eqs 14-15)")
        return np.kron(self.B[a] @ self.Sigma_x @ self.B[b].T, self.A[a].T @ self._solve_out(self.A[b]))

    def fisher(self) -> np.ndarray:
        """The exact ``P x P`` Fisher (eq. 5) assembled from the blocks of eq. 22."""
        check_allocation("the P x P Fisher", (self.P, self.P), copies=2,
                         cheaper="natural_gradient() never forms it (a solve on the n_L n_0 x P whitened Jacobian), "
                                 "eq10_update() uses the Kronecker-factored blocks")
        return np.block([[self.fisher_block(i, j) for j in range(1, self.L + 1)] for i in range(1, self.L + 1)])

    def jacobian(self) -> np.ndarray:
        """``J = d vec(W) / d theta`` (``n_L n_0 x P``): blocks ``B_i^T kron A_i`` (eq. 17: ``dW = sum_i A_i dW_i B_i``).
        The Fisher is ``J^T (Sigma kron St^-1) J`` (the Fisher of the Gaussian regression ``y ~ N(W x, St)``)."""
        check_allocation("the n_L n_0 x P Jacobian", (self.W.size, self.P),
                         cheaper="total_map_velocity(u) applies it without forming it (eq. 17)")
        return np.hstack([np.kron(B.T, A) for A, B in zip(self.A, self.B)])

    @cached_property
    def _whitened(self) -> tuple:
        """``(X, y)`` with ``F = X^T X`` and ``grad = X^T y``: ``X = K J``, ``K vec(E) = vec(R^T E C)``, ``y = K vec(W - W*)``."""
        # X, its SVD factor of the same size and the projection basis are held at once (checked once for the nets of
        # _with_flat: they have their parent's size)
        if not self.__dict__.get("_sized", False):
            check_allocation("the n_L n_0 x P whitened Jacobian of natural_gradient", (self.W.size, self.P), copies=3,
                             cheaper="eq10_update() (Kronecker-factored, O(sum n_i^3); the exact natural gradient "
                                     "wherever every hidden width is >= max(n_0, n_L))")
            self._sized = True
        C, R = self._chol_x, self._inv_chol_out
        X = np.hstack([_kron((B @ C).T, R.T @ A) for A, B in zip(self.A, self.B)])
        y = (R.T @ (self.W - self.W_star) @ C).reshape(-1, order="F")
        return X, y

    def natural_gradient(self) -> np.ndarray:
        """``-F^+ grad`` (eq. 4 with the Moore-Penrose inverse; the unit-rate velocity of the natural-gradient flow).

        Computed without forming F: with ``F = X^T X`` and ``grad = X^T y`` (see ``_whitened``),
        ``F^+ grad = X^+ y``, a minimum-norm least-squares solve on ``X`` (condition ``kappa(X)``, not ``kappa(X)^2``)
        whose rank is decided on the column-equilibrated ``X`` (:func:`_pinv_apply`): rescaling features, targets or
        parameters (``W_i -> c W_i, W_{i+1} -> W_{i+1} / c``) rescales columns of ``X`` only, so the decision, and
        hence the total-map velocity, do not depend on units.
        """
        X, y = self._whitened
        sol = _pinv_apply(X, y)
        return check_finite("natural_gradient", -sol)

    def _equilibrated_natural_gradient(self) -> np.ndarray:
        """``-G grad`` with ``G = D^-1 (D^-1 F D^-1)^+ D^-1`` (``D^2 = diag(F)``): a generalized inverse of ``F``, so the
        total-map velocity is the natural gradient's (claim (a)), and one that follows any rescaling of the parameters
        exactly.  :func:`natural_gradient_flow` integrates it: the Moore-Penrose velocity's null-space part is
        ill-conditioned when the parameters have very different scales (a relative change of 1e-14 in the weights moved
        it by 2% of a small parameter's scale at a 1e8 ratio of feature units), which stalls an adaptive solver."""
        X, y = self._whitened
        return check_finite("natural_gradient", -_pinv_apply(X, y, moore_penrose=False))

    # -- Eq. 10, the block-diagonal update, projections (eqs 10, 19, 20, 22-23) -------------------------
    def _pinv_Lambdas(self) -> list:
        """``(Lambda~_i^+, Lambda_i^+)`` from the factors ``A_i^T R`` and ``B_i C`` (see :func:`psd_pinv`).  ``A_L = I``
        and ``B_1 = I``: those two factors are the covariances' own, and their pseudo-inverses are computed once for
        every net of :meth:`with_weights` (:meth:`_psd_pinv_of`)."""
        C, R = self._chol_x, self._inv_chol_out
        last = self.L - 1
        return [(self._psd_pinv_of(A.T @ R, i == last), self._psd_pinv_of(B @ C, i == 0))
                for i, (A, B) in enumerate(zip(self.A, self.B))]

    @cached_property
    def _pinv_memo(self) -> dict:
        return {}

    def _psd_pinv_of(self, X: np.ndarray, constant: bool) -> np.ndarray:
        """:func:`psd_pinv` of ``X``; where ``constant`` (a factor that depends on the data only), remembered by its
        entries in the memo that :meth:`with_weights` shares, read-only."""
        if not constant:
            return _psd_pinv(X)
        key = (X.shape, X.tobytes())
        out = self._pinv_memo.get(key)
        if out is None:
            out = _psd_pinv(X)
            out.setflags(write=False)
            self._pinv_memo[key] = out
        return out

    def blockdiag_update(self) -> list:
        """``-F_ii^+ grad_i`` for each layer: only the diagonal Fisher blocks inverted (text around eqs 22-23).
        ``F_ii = Lambda_i kron Lambda~_i`` so ``F_ii^+ vec(G) = vec(Lambda~_i^+ G Lambda_i^+)``."""
        return [-(Lt @ G @ La) for (Lt, La), G in zip(self._pinv_Lambdas(), self.gradient_layers())]

    def eq10_update(self) -> list:
        """The velocity of Eq. 10 with its printed ``1/L``: ``(1/L) Lambda~_i^+ <e_i x_{i-1}^T> Lambda_i^+``,
        Moore-Penrose inverses where the covariances are singular (text after eq. 10).

        Correction to §3 (derived here and verified by ``deeplinear.claim_b_eq10``): this solves ``F d = -grad``, i.e. is
        a natural gradient, only where every ``A_i`` has full row rank and every ``B_i`` full column rank (generically:
        every hidden width >= max(n_0, n_L)).  In expanding, contracting and bottleneck nets it is not ``-G grad`` for
        any generalized inverse ``G`` (grad lies in the range of F); its total-map velocity is Eq. 19, not Eq. 18."""
        return [U / self.L for U in self.blockdiag_update()]

    def total_map_velocity(self, u) -> np.ndarray:
        """``dW = sum_i A_i dW_i B_i`` (eq. 17) for ``u`` a list of layer arrays or a ``(P,)`` vector."""
        layers = self._layers("u", u)
        return sum(A @ U @ B for A, U, B in zip(self.A, layers, self.B))

    def projections(self) -> list:
        """``(P_i^a, P_i^b)`` of eq. 19: ``P_i^a = A_i Lambda~_i^+ A_i^T St^-1`` (onto range A_i, St^-1-orthogonal) and
        ``P_i^b = Sigma B_i^T Lambda_i^+ B_i`` (onto the row space of B_i, Sigma-orthogonal, acting on the right).
        Derived here (the supplement is not included): Eq. 10 gives ``dW = -(1/L) sum_i P_i^a (W - W*) P_i^b``,
        which is eq. 19 because ``P_i^a W P_i^b = W``."""
        So_inv = self._inv_chol_out @ self._inv_chol_out.T
        return [(A @ Lt @ A.T @ So_inv, self.Sigma_x @ B.T @ La @ B)
                for (Lt, La), A, B in zip(self._pinv_Lambdas(), self.A, self.B)]

    def eq19_velocity(self) -> np.ndarray:
        """Eq. 19 (unit rate): ``-W + (1/L) sum_i P_i^a <y x^T> Sigma^-1 P_i^b``."""
        return -self.W + sum(Pa @ self.W_star @ Pb for Pa, Pb in self.projections()) / self.L

    def eq18_velocity(self) -> np.ndarray:
        """Eq. 18 (unit rate): ``-W + <y x^T> Sigma^-1``."""
        return self.W_star - self.W

    def best_reachable_map(self) -> np.ndarray:
        """The minimizer of eq. 6 over maps of rank <= ``r = min_i n_i``: the truncated SVD in the whitened
        coordinates ``Z = St^-1/2 W Sigma^1/2`` (Eckart-Young), mapped back (the truncation is at the structural rank
        ``r``, no tolerance)."""
        U, s, Vt = np.linalg.svd(self.whiten(self.W_star))
        r = self.rank_bound
        Zr = (U[:, :r] * s[:r]) @ Vt[:r]
        # Z = R^T W C with R^T = chol(Sigma_out)^-1: W = chol(Sigma_out) Z C^-1
        return solve_triangular(self._chol_x, (self._chol_out @ Zr).T, lower=True, trans="T").T

    def whitened_singular_values(self) -> np.ndarray:
        """Singular values of ``St^-1/2 W* Sigma^1/2`` (the rate of the bottleneck flow depends on their gaps)."""
        return np.linalg.svd(self.whiten(self.W_star), compute_uv=False)

    def min_reachable_excess_loss(self) -> float:
        """``L(W_r) - L(W*) = 1/2 sum_{k > r} s_k^2`` with ``s`` the whitened singular values."""
        s = self.whitened_singular_values()
        return 0.5 * float(np.sum(s[self.rank_bound:] ** 2))
