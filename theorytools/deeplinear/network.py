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

from functools import cached_property

import numpy as np

from theorytools.linalg import as_symmetric, check_definite, check_finite


def psd_pinv(X: np.ndarray) -> np.ndarray:
    """Moore-Penrose pseudo-inverse of ``X X^T`` from its factor ``X``.

    Singular values of ``X`` at or below ``max(X.shape) * eps * s_max`` are treated as zero: thresholding
    the factor's singular values rather than the eigenvalues of ``X X^T`` keeps the rank decision at
    ``eps`` resolution instead of ``sqrt(eps)`` (a rank-deficient product of layers has singular values
    ~eps * s_max, whose squares would be indistinguishable from small true eigenvalues).
    """
    U, s, _ = np.linalg.svd(X, full_matrices=False)
    keep = s > max(X.shape) * np.finfo(float).eps * (s[0] if s.size else 0.0)
    Uk = U[:, keep] / s[keep]
    return Uk @ Uk.T


def _real(name: str, a):
    """Complex input would be cast to its real part with only a NumPy warning: reject it."""
    if np.iscomplexobj(a):
        raise ValueError(f"{name} must be real, got a complex array")
    return a


def _chain(mats, n: int) -> np.ndarray:
    """``mats[-1] @ ... @ mats[0]`` (identity of size ``n`` for an empty list)."""
    out = np.eye(n)
    for M in mats:
        out = M @ out
    return out


class DeepLinearNet:
    """``x_L = W_L ... W_1 x`` with Gaussian output ``N(x_L, Sigma_out)`` (003_34787a2226c5cf0a.txt eqs 1, 6, 9).

    ``weights``: ``[W_1, ..., W_L]``; ``Sigma_x = <x x^T>`` (SPD); ``Sigma_out`` = Sigma-tilde (SPD);
    ``Cyx = <y x^T>`` (``n_L x n_0``); ``Cyy = <y y^T>`` (optional: only the absolute loss needs it).
    """

    def __init__(self, weights, Sigma_x, Sigma_out, Cyx, Cyy=None):
        self._set_weights(weights)
        n0, nL = self.widths[0], self.widths[-1]
        self.Sigma_x = as_symmetric("Sigma_x", _real("Sigma_x", Sigma_x), n0)
        check_definite("Sigma_x", self.Sigma_x)
        self.Sigma_out = as_symmetric("Sigma_out", _real("Sigma_out", Sigma_out), nL)
        check_definite("Sigma_out", self.Sigma_out)
        Cyx = np.asarray(_real("Cyx", Cyx), dtype=float)
        if Cyx.shape != (nL, n0):
            raise ValueError(f"Cyx = <y x^T> must be n_L x n_0 = {nL} x {n0}, got shape {Cyx.shape}")
        if not np.all(np.isfinite(Cyx)):
            raise ValueError("Cyx must be finite")
        self.Cyx = Cyx
        self.Cyy = None
        if Cyy is not None:
            self.Cyy = as_symmetric("Cyy", _real("Cyy", Cyy), nL)
            # <(y - W* x)(y - W* x)^T> = Cyy - Cyx Sigma^-1 Cxy must be PSD for (x, y) to have these moments
            check_definite("Cyy - Cyx Sigma_x^-1 Cyx^T (the residual covariance)",
                           self.Cyy - self.Cyx @ np.linalg.solve(self.Sigma_x, self.Cyx.T), semi=True)

    def _set_weights(self, weights) -> None:
        Ws = [np.asarray(W) for W in weights] if isinstance(weights, (list, tuple)) else None
        if not Ws:
            raise ValueError(f"weights must be a non-empty list of matrices [W_1, ..., W_L], got {type(weights).__name__}")
        for i, W in enumerate(Ws, 1):
            _real(f"layer {i}: W_{i}", W)
            if W.ndim != 2 or 0 in W.shape:
                raise ValueError(f"layer {i}: W_{i} must be a non-empty 2-D matrix, got shape {W.shape}")
            bad = ~np.isfinite(W)
            if bad.any():
                r, c = np.argwhere(bad)[0]
                raise ValueError(f"layer {i}: W_{i} must be finite, entry ({r}, {c}) is {W[r, c]}")
            if i > 1 and W.shape[1] != Ws[i - 2].shape[0]:
                raise ValueError(f"layer {i}: W_{i} has {W.shape[1]} columns but layer {i - 1} has "
                                 f"{Ws[i - 2].shape[0]} outputs (W_{i} must be n_{i} x n_{i - 1})")
        widths = (Ws[0].shape[1],) + tuple(W.shape[0] for W in Ws)
        if getattr(self, "widths", widths) != widths:
            raise ValueError(f"weights must keep the widths {self.widths}, got {widths}")
        self.weights = [W.astype(float) for W in Ws]
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
        for name in ("Sigma_x", "Sigma_out", "Cyx", "Cyy", "_chol_x", "_inv_chol_out", "W_star"):
            setattr(new, name, getattr(self, name))
        new._set_weights(weights)
        return new

    def flatten(self, layers) -> np.ndarray:
        """``[U_1, ..., U_L]`` -> the ``(P,)`` column-major parameter vector."""
        if len(layers) != self.L:
            raise ValueError(f"expected {self.L} layer arrays, got {len(layers)}")
        for i, (U, W) in enumerate(zip(layers, self.weights), 1):
            if np.shape(U) != W.shape:
                raise ValueError(f"layer {i}: expected shape {W.shape}, got {np.shape(U)}")
        return np.concatenate([np.asarray(U, dtype=float).reshape(-1, order="F") for U in layers])

    def unflatten(self, theta) -> list:
        """The ``(P,)`` parameter vector -> ``[U_1, ..., U_L]``."""
        theta = np.asarray(theta, dtype=float)
        if theta.shape != (self.P,):
            raise ValueError(f"expected a parameter vector of length P = {self.P}, got shape {theta.shape}")
        out, start = [], 0
        for W in self.weights:
            out.append(theta[start:start + W.size].reshape(W.shape, order="F"))
            start += W.size
        return out

    def _layers(self, u) -> list:
        return self.unflatten(u) if isinstance(u, np.ndarray) and u.ndim == 1 else [np.asarray(U, float) for U in u]

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
    def _inv_chol_out(self) -> np.ndarray:
        """``R`` with ``R R^T = Sigma_out^-1`` (``R = C^-T`` for ``Sigma_out = C C^T``)."""
        return np.linalg.inv(np.linalg.cholesky(self.Sigma_out)).T

    @cached_property
    def W_star(self) -> np.ndarray:
        """The least-squares map ``<y x^T> Sigma^-1`` (text after eq. 18)."""
        return np.linalg.solve(self.Sigma_x, self.Cyx.T).T

    # -- loss and gradient (eqs 6, 13) -----------------------------------------------------------------
    def excess_loss(self, W=None) -> float:
        """``L(W) - L(W*) = 1/2 tr(St^-1 (W - W*) Sigma (W - W*)^T)`` (eq. 6 expanded in second moments)."""
        D = (self.W if W is None else W) - self.W_star
        Z = self._inv_chol_out.T @ D @ self._chol_x
        return 0.5 * float(np.sum(Z * Z))

    @property
    def min_loss(self) -> float:
        """``L(W*) = 1/2 tr(St^-1 (Cyy - Cyx Sigma^-1 Cxy))`` (eq. 6 without its constant); needs ``Cyy``."""
        if self.Cyy is None:
            raise ValueError("min_loss needs Cyy = <y y^T>; pass Cyy to DeepLinearNet")
        R = self.Cyy - self.Cyx @ self.W_star.T
        return 0.5 * float(np.trace(np.linalg.solve(self.Sigma_out, R)))

    def loss(self) -> float:
        """Eq. 6 without its theta-independent constant: ``min_loss + excess_loss`` (needs ``Cyy``)."""
        return self.min_loss + self.excess_loss()

    @cached_property
    def _G_W(self) -> np.ndarray:
        """``dL/dW = St^-1 (W Sigma - Cyx)`` (the gradient with respect to the total map)."""
        return np.linalg.solve(self.Sigma_out, self.W @ self.Sigma_x - self.Cyx)

    def gradient_layers(self) -> list:
        """``dL/dW_i = -<e_i x_{i-1}^T> = A_i^T St^-1 (W Sigma - Cyx) B_i^T`` (eq. 13)."""
        return [A.T @ self._G_W @ B.T for A, B in zip(self.A, self.B)]

    def gradient(self) -> np.ndarray:
        """Eq. 13 as a ``(P,)`` vector."""
        return self.flatten(self.gradient_layers())

    # -- covariances (eqs 14, 15) and the Fisher (eq. 22) --------------------------------------------------
    def Lambda(self, i: int) -> np.ndarray:
        """``Lambda_i = <x_{i-1} x_{i-1}^T>_{p_theta} = B_i Sigma B_i^T`` (eq. 15), layer ``i = 1..L``."""
        B = self.B[self._index(i)]
        return B @ self.Sigma_x @ B.T

    def Lambda_tilde(self, i: int) -> np.ndarray:
        """``Lambda~_i = <e_i e_i^T>_{p_theta} = A_i^T St^-1 A_i`` (eq. 14), layer ``i = 1..L``."""
        A = self.A[self._index(i)]
        return A.T @ np.linalg.solve(self.Sigma_out, A)

    def _index(self, i: int) -> int:
        if not (isinstance(i, (int, np.integer)) and 1 <= i <= self.L):
            raise ValueError(f"layer index must be an integer in 1..{self.L}, got {i!r}")
        return int(i) - 1

    def fisher_block(self, i: int, j: int) -> np.ndarray:
        """``F_ij = <x_{i-1} x_{j-1}^T> kron <e_i e_j^T> = (B_i Sigma B_j^T) kron (A_i^T St^-1 A_j)``
        (003_34787a2226c5cf0a.txt eq. 22; column-major vec)."""
        a, b = self._index(i), self._index(j)
        return np.kron(self.B[a] @ self.Sigma_x @ self.B[b].T, self.A[a].T @ np.linalg.solve(self.Sigma_out, self.A[b]))

    def fisher(self) -> np.ndarray:
        """The exact ``P x P`` Fisher (eq. 5) assembled from the blocks of eq. 22."""
        return np.block([[self.fisher_block(i, j) for j in range(1, self.L + 1)] for i in range(1, self.L + 1)])

    def jacobian(self) -> np.ndarray:
        """``J = d vec(W) / d theta`` (``n_L n_0 x P``): blocks ``B_i^T kron A_i`` (eq. 17: ``dW = sum_i A_i dW_i B_i``).
        The Fisher is ``J^T (Sigma kron St^-1) J`` (the Fisher of the Gaussian regression ``y ~ N(W x, St)``)."""
        return np.hstack([np.kron(B.T, A) for A, B in zip(self.A, self.B)])

    @cached_property
    def _whitened(self) -> tuple:
        """``(X, y)`` with ``F = X^T X`` and ``grad = X^T y``: ``X = K J``, ``K vec(E) = vec(R^T E C)``, ``y = K vec(W - W*)``."""
        C, R = self._chol_x, self._inv_chol_out
        X = np.hstack([np.kron((B @ C).T, R.T @ A) for A, B in zip(self.A, self.B)])
        y = (R.T @ (self.W - self.W_star) @ C).reshape(-1, order="F")
        return X, y

    def natural_gradient(self) -> np.ndarray:
        """``-F^+ grad`` (eq. 4 with the Moore-Penrose inverse; the unit-rate velocity of the natural-gradient flow).

        Computed without forming F: with ``F = X^T X`` and ``grad = X^T y`` (see ``_whitened``),
        ``F^+ grad = X^+ y``, a minimum-norm least-squares solve on ``X`` (condition ``kappa(X)``, not ``kappa(X)^2``).
        """
        X, y = self._whitened
        sol = np.linalg.lstsq(X, y, rcond=max(X.shape) * np.finfo(float).eps)[0]
        return check_finite("natural_gradient", -sol)

    # -- Eq. 10, the block-diagonal update, projections (eqs 10, 19, 20, 22-23) -------------------------
    def _pinv_Lambdas(self) -> list:
        """``(Lambda~_i^+, Lambda_i^+)`` from the factors ``A_i^T R`` and ``B_i C`` (see :func:`psd_pinv`)."""
        C, R = self._chol_x, self._inv_chol_out
        return [(psd_pinv(A.T @ R), psd_pinv(B @ C)) for A, B in zip(self.A, self.B)]

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
        layers = self._layers(u)
        if len(layers) != self.L:
            raise ValueError(f"expected {self.L} layer arrays, got {len(layers)}")
        return sum(A @ U @ B for A, U, B in zip(self.A, layers, self.B))

    def projections(self) -> list:
        """``(P_i^a, P_i^b)`` of eq. 19: ``P_i^a = A_i Lambda~_i^+ A_i^T St^-1`` (onto range A_i, St^-1-orthogonal) and
        ``P_i^b = Sigma B_i^T Lambda_i^+ B_i`` (onto the row space of B_i, Sigma-orthogonal, acting on the right).
        Derived here (the supplement is not included): Eq. 10 gives ``dW = -(1/L) sum_i P_i^a (W - W*) P_i^b``,
        which is eq. 19 because ``P_i^a W P_i^b = W``."""
        So_inv = np.linalg.inv(self.Sigma_out)
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
        coordinates ``Z = St^-1/2 W Sigma^1/2`` (Eckart-Young), mapped back."""
        C, R = self._chol_x, self._inv_chol_out
        Zs = R.T @ self.W_star @ C
        U, s, Vt = np.linalg.svd(Zs)
        r = self.rank_bound
        Zr = (U[:, :r] * s[:r]) @ Vt[:r]
        return np.linalg.solve(R.T, Zr) @ np.linalg.inv(C)

    def whitened_singular_values(self) -> np.ndarray:
        """Singular values of ``St^-1/2 W* Sigma^1/2`` (the rate of the bottleneck flow depends on their gaps)."""
        return np.linalg.svd(self._inv_chol_out.T @ self.W_star @ self._chol_x, compute_uv=False)

    def min_reachable_excess_loss(self) -> float:
        """``L(W_r) - L(W*) = 1/2 sum_{k > r} s_k^2`` with ``s`` the whitened singular values."""
        s = self.whitened_singular_values()
        return 0.5 * float(np.sum(s[self.rank_bound:] ** 2))
