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

Numerics at extreme scales: h is the log-sum-exp of the logits minus the label's logit (no log of a probability that
underflows to 0), F_R and F_R^+ are built from the probabilities in closed form (no log(p) round trip, no rank
decision), and the minimum-norm step decides the rank of F on its equilibrated form
(:func:`theorytools.linalg.psd_solve`), so that rescaling a feature by 1e8 does not move F's eigenvalues across a cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theorytools.fisher.distributions import _categorical_fisher, _categorical_fisher_pinv_apply, _complement, _softmax
from theorytools.linalg import as_array, as_instance, as_int, as_labels, as_vector, check_allocation, psd_solve, same_length


@dataclass(frozen=True)
class SoftmaxRegression:
    """Inputs ``x`` (|S| x p), integer labels ``y`` in 0..K-1, K >= 2 classes."""

    x: np.ndarray
    y: np.ndarray
    K: int

    def __post_init__(self):
        K = as_int("K", self.K, low=2)
        x = as_array("x", self.x, ndim=2)
        y = as_labels("y", self.y, K)
        same_length(("x", "y"), x, y)
        check_allocation("the per-example Jacobians (|S| x K x K p)", (x.shape[0], K, K * x.shape[1]),
                         cheaper="fewer examples or features")
        for k, v in (("x", x), ("y", y), ("K", K)):
            object.__setattr__(self, k, v)

    @property
    def P(self) -> int:
        return self.K * self.x.shape[1]

    def _logits(self, theta, name: str = "theta") -> np.ndarray:
        """``z_i = W x_i`` for every example (|S| x K)."""
        return self.x @ as_vector(name, theta, self.P).reshape(self.K, -1).T

    def _probs(self, theta):
        return _softmax(self._logits(theta))

    def h(self, theta) -> float:
        z = self._logits(theta)
        zmax = z.max(axis=1)
        with np.errstate(under="ignore"):
            lse = zmax + np.log(np.sum(np.exp(z - zmax[:, None]), axis=1))
        return float(np.mean(lse - z[np.arange(len(self.y)), self.y]))

    def log_r_gradients(self, theta) -> np.ndarray:
        """``grad_z log r(y|z) = e_y - p`` per example (|S| x K); its entry 1 - p_y is the others' sum (p_y ~ 1)."""
        p = self._probs(theta)
        rows = np.arange(len(self.y))
        g = -p
        g[rows, self.y] = _complement(p)[rows, self.y]
        return g

    def jacobians(self) -> np.ndarray:
        """``J_f = I_K kron x^T`` per example (|S| x K x Kp): z = W x with row-major vec(W)."""
        return np.einsum("kl,sp->sklp", np.eye(self.K), self.x).reshape(len(self.y), self.K, self.P)

    def grad(self, theta) -> np.ndarray:
        return -np.einsum("skp,sk->p", self.jacobians(), self.log_r_gradients(theta)) / len(self.y)

    def fisher(self, theta) -> np.ndarray:
        Js = self.jacobians()
        return np.einsum("skp,skl,slq->pq", Js, _categorical_fisher(self._probs(theta)), Js) / len(self.y)


def _problem(problem) -> SoftmaxRegression:
    return as_instance("problem", problem, SoftmaxRegression)


def quadratic_model(problem, theta, delta) -> float:
    """``M(delta) = 1/2 delta^T F delta + grad h^T delta + h(theta)``."""
    problem = _problem(problem)
    delta = as_vector("delta", delta, problem.P)
    return float(0.5 * delta @ problem.fisher(theta) @ delta + problem.grad(theta) @ delta + problem.h(theta))


def quadratic_model_as_distances(problem, theta, delta) -> float:
    """``(1/|S|) sum 1/2 |J_f delta - F_R^+ grad_z log r|^2_{F_R} + c``, c = h - (1/(2|S|)) sum grad log r^T F_R^+ grad log r."""
    problem = _problem(problem)
    delta = as_vector("delta", delta, problem.P)
    p = problem._probs(theta)
    total, const = 0.0, 0.0
    for J, g, pi in zip(problem.jacobians(), problem.log_r_gradients(theta), p):
        FR = _categorical_fisher(pi)
        t = _categorical_fisher_pinv_apply(pi, g)  # C (g / p): no cancellation against g = e_y - p
        r = J @ delta - t
        total += 0.5 * r @ FR @ r
        const += 0.5 * g @ t
    n = len(problem.y)
    return float(total / n + problem.h(theta) - const / n)


def improvement_bound(problem, theta) -> float:
    """The §13 lower bound ``M(delta) - h(theta) >= -(1/(2|S|)) sum grad_z log r^T F_R^+ grad_z log r``."""
    problem = _problem(problem)
    p = problem._probs(theta)
    return -0.5 * float(np.mean([g @ _categorical_fisher_pinv_apply(pi, g)
                                 for g, pi in zip(problem.log_r_gradients(theta), p)]))


def min_norm_natural_gradient(problem, theta) -> np.ndarray:
    """``-F^+ grad h``: the minimizer of M of minimum norm.

    F is singular by construction: W -> W + 1 v^T is the same model, so every ``1 kron v`` is in its null space (with
    row-major vec(W)), and grad h is orthogonal to them.  That part of the null space is removed exactly, by solving in
    the basis ``B = C kron I_p`` of its complement (C: an orthonormal basis of 1-perp in R^K, fixed, no rank decision):
    ``F^+ = B (B^T F B)^+ B^T``.  What remains singular depends on the data (collinear features, a class whose
    probability underflows) and is decided on the equilibrated ``B^T F B`` (:func:`theorytools.linalg.psd_solve`),
    which a rescaling of the features changes only by a diagonal congruence: the decision does not depend on units.
    Projecting the shift directions out numerically instead (a generic pseudo-inverse) fails when feature scales
    differ by 1e16: the computed null vectors mix the scales and the result is not even a solution.
    """
    problem = _problem(problem)
    K, p = problem.K, problem.x.shape[1]
    C = np.linalg.svd(np.ones((1, K)))[2][1:].T  # K x (K - 1), orthonormal, orthogonal to 1
    B = np.kron(C, np.eye(p))
    return -B @ psd_solve(B.T @ problem.fisher(theta) @ B, B.T @ problem.grad(theta))
