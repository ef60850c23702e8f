"""§13 of 001_7d31b3ff3a2f0401.txt: the natural gradient as the minimizer of the local quadratic model
``M(delta) = 1/2 delta^T F delta + grad h^T delta + h(theta)`` with F and grad h on the same data S, its rewriting as a
sum of F_R-weighted squared distances, the lower bound on M(delta) - h(theta), and the minimum-norm minimizer when F
is singular.  Model: softmax regression, z = W x, theta = row-major vec(W) (K x p), R_{y|z} categorical,
h = -(1/|S|) sum log softmax(z)_y.

Sign note: with h = -log r, ``grad h = -(1/|S|) sum J_f^T grad_z log r``, so the completed square is
``1/2 |J_f delta - F_R^+ grad_z log r|^2_{F_R}``; the text's second line writes ``+ (J_f^T grad_z log r)^T delta`` and
carries the + into ``|J_f delta + F_R^-1 grad_z log r|``, which is the model of -h's gradient (a sign misprint; the
lower bound, a sum of squares dropped, is unaffected).  F_R = diag(p) - p p^T is singular, but grad_z log r = e_y - p
lies in its range, so F_R^+ replaces F_R^-1 exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theorytools.fisher.distributions import categorical_fisher, categorical_fisher_pinv, softmax


@dataclass(frozen=True)
class SoftmaxRegression:
    """Inputs ``x`` (|S| x p), integer labels ``y`` in 0..K-1, K classes."""

    x: np.ndarray
    y: np.ndarray
    K: int

    def __post_init__(self):
        x, y = np.asarray(self.x, dtype=float), np.asarray(self.y)
        if x.ndim != 2 or y.shape != (x.shape[0],):
            raise ValueError(f"x must be |S| x p and y of length |S|, got {x.shape} and {y.shape}")
        if not np.all((y >= 0) & (y < self.K) & (y == np.round(y))):
            raise ValueError(f"labels must be integers in 0..{self.K - 1}")

    def _probs(self, theta):
        return softmax(np.asarray(self.x) @ np.asarray(theta).reshape(self.K, -1).T)

    def h(self, theta) -> float:
        p = self._probs(theta)
        return float(-np.mean(np.log(p[np.arange(len(self.y)), self.y.astype(int)])))

    def log_r_gradients(self, theta) -> np.ndarray:
        """``grad_z log r(y|z) = e_y - p`` per example (|S| x K)."""
        p = self._probs(theta)
        return np.eye(self.K)[self.y.astype(int)] - p

    def jacobians(self) -> np.ndarray:
        """``J_f = I_K kron x^T`` per example (|S| x K x Kp): z = W x with row-major vec(W)."""
        return np.array([np.kron(np.eye(self.K), xi[None, :]) for xi in np.asarray(self.x, dtype=float)])

    def grad(self, theta) -> np.ndarray:
        return -np.einsum("skp,sk->p", self.jacobians(), self.log_r_gradients(theta)) / len(self.y)

    def fisher(self, theta) -> np.ndarray:
        p = self._probs(theta)
        Js = self.jacobians()
        return sum(J.T @ categorical_fisher(np.log(pi)) @ J for J, pi in zip(Js, p)) / len(self.y)


def quadratic_model(problem, theta, delta) -> float:
    """``M(delta) = 1/2 delta^T F delta + grad h^T delta + h(theta)``."""
    return float(0.5 * delta @ problem.fisher(theta) @ delta + problem.grad(theta) @ delta + problem.h(theta))


def quadratic_model_as_distances(problem, theta, delta) -> float:
    """``(1/|S|) sum 1/2 |J_f delta - F_R^+ grad_z log r|^2_{F_R} + c``, c = h - (1/(2|S|)) sum grad log r^T F_R^+ grad log r."""
    p = problem._probs(theta)
    total, const = 0.0, 0.0
    for J, g, pi in zip(problem.jacobians(), problem.log_r_gradients(theta), p):
        FR = categorical_fisher(np.log(pi))
        t = categorical_fisher_pinv(np.log(pi)) @ g
        r = J @ delta - t
        total += 0.5 * r @ FR @ r
        const += 0.5 * g @ t
    n = len(problem.y)
    return float(total / n + problem.h(theta) - const / n)


def improvement_bound(problem, theta) -> float:
    """The §13 lower bound ``M(delta) - h(theta) >= -(1/(2|S|)) sum grad_z log r^T F_R^+ grad_z log r``."""
    p = problem._probs(theta)
    return -0.5 * float(np.mean([g @ categorical_fisher_pinv(np.log(pi)) @ g
                                 for g, pi in zip(problem.log_r_gradients(theta), p)]))


def min_norm_natural_gradient(problem, theta) -> np.ndarray:
    """``-F^+ grad h``: the minimizer of M of minimum norm (F is singular for softmax: W -> W + 1 v^T is the same model)."""
    return -np.linalg.pinv(problem.fisher(theta), hermitian=True) @ problem.grad(theta)
