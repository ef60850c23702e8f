"""A fully connected tanh network in the notation of 002_add1c097d251ec63.txt A.5 (eqs 29-35), with the per-layer
factors from which every Fisher of §3 and A.5 is built without forming it.

Layer l computes ``O_l = W_l^T I_l`` (eq. 29) with ``W_l`` of shape ``(d_in + 1) x d_out``: the layer input ``I_l``
carries a last row of ones, so the last row of ``W_l`` is the bias.  Hidden layers apply tanh, the output layer
nothing.  Examples are the columns of ``I_l`` and ``G_l``; data matrices ``X`` (``m x d_0``) and ``Y`` are rows of
examples, as in scikit-learn.  vec is row-major (``W_l.reshape(-1)``), as in :mod:`theorytools.fisher.tengrad`.

Losses: ``"squared"`` -- l = ||z - y||^2 / 2, i.e. -log N(y; z, I) up to a constant, whose output Fisher is F_R = I;
``"cross_entropy"`` -- l = -log softmax(z)_y, with F_R = diag(p) - p p^T (001_7d31b3ff3a2f0401.txt §9.2).  Both are
exponential families in their natural parameters z, so the exact Fisher equals the GGN (§9.2, eq. 8).

A Fisher on m examples is ``J^T J / m`` for a Jacobian J whose rows are per-example gradients; per layer that row is
``kron(I_l[:, i], G_l[:, i])`` (eq. 34).  :meth:`MLP.curvature_factors` returns the columns (I_l, G_l) for
``fisher="empirical"`` (eq. 37: G_l back-propagated from dl/dz at the data's labels) or ``fisher="exact"`` (eq. 7:
``E_x J_f^T F_R J_f``, written as ``sum_k s_k s_k^T`` over the columns s_k of a square root of F_R -- e_k for the
squared loss, ``sqrt(p_k)(e_k - p)`` for the softmax, i.e. the exact expectation of score score^T over y ~ R).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theorytools.errors import NonFiniteError

LOSSES = ("squared", "cross_entropy")
FISHERS = ("exact", "empirical")


def _softmax(Z):
    E = np.exp(Z - Z.max(axis=0))
    return E / E.sum(axis=0)


@dataclass(frozen=True)
class MLP:
    """``widths = (d_0, ..., d_L)``; ``loss`` in :data:`LOSSES` (cross-entropy: ``d_L`` classes, labels 0..d_L-1)."""

    widths: tuple
    loss: str = "squared"

    def __post_init__(self):
        w = tuple(self.widths)
        if len(w) < 2 or any(not isinstance(d, (int, np.integer)) or d < 1 for d in w):
            raise ValueError(f"widths must be >= 2 positive integers (d_0, ..., d_L), got {self.widths}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if self.loss == "cross_entropy" and w[-1] < 2:
            raise ValueError(f"cross_entropy needs d_L >= 2 classes, got widths {w}")
        object.__setattr__(self, "widths", tuple(int(d) for d in w))

    @property
    def shapes(self) -> list:
        return [(a + 1, b) for a, b in zip(self.widths[:-1], self.widths[1:])]

    @property
    def P(self) -> int:
        return sum(a * b for a, b in self.shapes)

    def init(self, rng) -> list:
        """Weights ~ N(0, 1/d_in), biases 0."""
        return [np.vstack([rng.standard_normal((a - 1, b)) / np.sqrt(a - 1), np.zeros((1, b))]) for a, b in self.shapes]

    def flatten(self, Ws) -> np.ndarray:
        return np.concatenate([W.reshape(-1) for W in Ws])

    def unflatten(self, theta) -> list:
        theta = np.asarray(theta, dtype=float)
        if theta.shape != (self.P,):
            raise ValueError(f"theta must have P = {self.P} entries, got shape {theta.shape}")
        cuts = np.cumsum([a * b for a, b in self.shapes])[:-1]
        return [t.reshape(s) for t, s in zip(np.split(theta, cuts), self.shapes)]

    def _data(self, X, Y=None):
        X = np.asarray(X)
        if np.iscomplexobj(X) or X.ndim != 2 or X.shape[1] != self.widths[0] or X.shape[0] == 0:
            raise ValueError(f"X must be a real (m, {self.widths[0]}) array, got shape {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError("X must be finite")
        if Y is None:
            return X.astype(float), None
        Y = np.asarray(Y)
        if self.loss == "squared":
            Y = Y.reshape(len(Y), -1) if Y.ndim == 1 and self.widths[-1] == 1 else Y
            if Y.shape != (X.shape[0], self.widths[-1]) or np.iscomplexobj(Y) or not np.all(np.isfinite(Y)):
                raise ValueError(f"Y must be a finite real ({X.shape[0]}, {self.widths[-1]}) array, got shape {Y.shape}")
            return X.astype(float), Y.astype(float).T
        if Y.shape != (X.shape[0],) or not np.all((Y == np.round(Y)) & (Y >= 0) & (Y < self.widths[-1])):
            raise ValueError(f"Y must be {X.shape[0]} class labels in 0..{self.widths[-1] - 1}, got shape {Y.shape}")
        return X.astype(float), Y.astype(int)

    def forward(self, Ws, X) -> tuple:
        """``(Is, Z)``: the layer inputs ``I_l`` (``(d_{l-1} + 1) x m``, ones last) and the outputs ``Z`` (``d_L x m``)."""
        X, _ = self._data(X)
        a, Is = X.T, []
        for l, W in enumerate(Ws):
            Is.append(np.vstack([a, np.ones((1, a.shape[1]))]))
            O = W.T @ Is[-1]
            a = O if l == len(Ws) - 1 else np.tanh(O)
        return Is, a

    def loss_value(self, Ws, X, Y) -> float:
        """Mean loss over the examples (eq. 30)."""
        X, Y = self._data(X, Y)
        Z = self.forward(Ws, X)[1]
        if self.loss == "squared":
            return 0.5 * float(np.mean(np.sum((Z - Y) ** 2, axis=0)))
        zmax = Z.max(axis=0)
        lse = zmax + np.log(np.sum(np.exp(Z - zmax), axis=0))
        return float(np.mean(lse - Z[Y, np.arange(Z.shape[1])]))

    def output_gradients(self, Z, Y) -> np.ndarray:
        """``dl/dz`` per example (``d_L x m``): ``z - y``, or ``softmax(z) - e_y``."""
        if self.loss == "squared":
            return Z - Y
        E = _softmax(Z)
        E[Y, np.arange(Z.shape[1])] -= 1.0
        return E

    def fisher_factor(self, Z) -> np.ndarray:
        """``S`` (``d_L x K x m``) with ``F_R(z_i) = sum_k S[:, k, i] S[:, k, i]^T``: the identity for the squared loss;
        ``S[:, k] = sqrt(p_k)(e_k - p)``, the score of class k weighted by sqrt(p_k), for the softmax."""
        d, m = Z.shape
        if self.loss == "squared":
            return np.broadcast_to(np.eye(d)[:, :, None], (d, d, m))
        p = _softmax(Z)
        return np.sqrt(p)[None, :, :] * (np.eye(d)[:, :, None] - p[:, None, :])

    def backward(self, Ws, Is, E) -> list:
        """``G_l`` (``d_l x c``) for output-gradient columns ``E`` (``d_L x c``); ``c`` may be a multiple of m (the
        columns of E then cycle through the examples)."""
        reps = E.shape[1] // Is[0].shape[1]
        Gs = [E]
        for l in range(len(Ws) - 1, 0, -1):
            a = np.tile(Is[l][:-1], reps)  # tanh outputs of layer l - 1
            Gs.append((Ws[l][:-1] @ Gs[-1]) * (1.0 - a * a))
        return Gs[::-1]

    def gradient(self, Ws, X, Y) -> list:
        """``g_l = I_l G_l^T / m`` (eq. 33) for every layer."""
        X, Y = self._data(X, Y)
        Is, Z = self.forward(Ws, X)
        Gs = self.backward(Ws, Is, self.output_gradients(Z, Y))
        return [I @ G.T / X.shape[0] for I, G in zip(Is, Gs)]

    def curvature_factors(self, Ws, X, Y, fisher: str = "empirical") -> tuple:
        """``(gradients, factors)``: ``g_l`` (eq. 33) and, per layer, ``(I_l, G_l)`` with c columns such that the
        layer's Fisher block is ``J_l^T J_l / c`` with ``J_l`` the rows ``kron(I_l[:, j], G_l[:, j])`` (eq. 34).

        ``fisher="empirical"``: c = m, G_l back-propagated from dl/dz at the labels Y (eq. 37).
        ``fisher="exact"``: c = K m with K = d_L, back-propagated from ``sqrt(K) S[:, k, i]`` (:meth:`fisher_factor`);
        the sqrt(K) makes ``J^T J / (K m) = (1/m) sum_i J_f,i^T F_R J_f,i`` (eq. 7).
        """
        if fisher not in FISHERS:
            raise ValueError(f"fisher must be one of {FISHERS}, got {fisher!r}")
        X, Y = self._data(X, Y)
        Is, Z = self.forward(Ws, X)
        E = self.output_gradients(Z, Y)
        Gs = self.backward(Ws, Is, E)
        grads = [I @ G.T / X.shape[0] for I, G in zip(Is, Gs)]
        if fisher == "empirical":
            return grads, list(zip(Is, Gs))
        S = self.fisher_factor(Z)
        K = S.shape[1]
        Gf = self.backward(Ws, Is, np.sqrt(K) * S.reshape(S.shape[0], -1))
        return grads, [(np.tile(I, K), G) for I, G in zip(Is, Gf)]


def check_finite(step: int, arrays, what: str):
    """Raise :class:`NonFiniteError` naming the step and the first layer whose ``what`` has NaN/inf entries."""
    for l, A in enumerate(arrays, start=1):
        if not np.all(np.isfinite(A)):
            raise NonFiniteError(f"step {step}: {what} of layer {l} has {int(np.size(A) - np.isfinite(A).sum())} "
                                 f"non-finite entries (of {np.size(A)}); lower the learning rate or raise the damping beta")
