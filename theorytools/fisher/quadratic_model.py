"""The natural gradient as the minimizer of a local quadratic model (001_7d31b3ff3a2f0401.txt §13).

§13 of 001_7d31b3ff3a2f0401.txt: the natural gradient as the minimizer of the local quadratic model
``M(delta) = 1/2 delta^T F delta + grad h^T delta + h(theta)`` with F and grad h on the same data S, its rewriting as a
sum of F_R-weighted squared distances, the lower bound on M(delta) - h(theta), and the minimum-norm minimizer when F
is singular.  Model: softmax regression, z = W x, theta = row-major vec(W) (K x p), R_{y|z} categorical,
``h = -(1/|S|) sum log softmax(z)_y``.

Sign note: with h = -log r, ``grad h = -(1/|S|) sum J_f^T grad_z log r``, so the completed square is
``1/2 |J_f delta - F_R^+ grad_z log r|^2_{F_R}``; the text's second line writes ``+ (J_f^T grad_z log r)^T delta`` and
carries the + into ``|J_f delta + F_R^-1 grad_z log r|``, which is the model of -h's gradient (a sign misprint; the
lower bound, a sum of squares dropped, is unaffected).  F_R = diag(p) - p p^T is singular, but grad_z log r = e_y - p
lies in its range, so F_R^+ replaces F_R^-1 exactly.

Numerics at extreme scales: h is the log-sum-exp of the logits minus the label's logit (no log of a probability that
underflows to 0), F_R and F_R^+ are built from the probabilities in closed form (no log(p) round trip, no rank
decision), and the minimum-norm step decides the rank of F on its equilibrated form
(:func:`theorytools.linalg.psd_solve`), so that rescaling a feature by 1e8 does not move F's eigenvalues across a cut.

Examples
--------
One example x = 1 of class 0, K = 2, at theta = 0: h = ln 2, the lower bound is -1/2, and the minimum-norm natural
gradient attains it:

>>> import numpy as np
>>> from theorytools.fisher import quadratic_model
>>> problem, theta = quadratic_model.SoftmaxRegression(np.array([[1.0]]), np.array([0]), 2), np.zeros(2)
>>> d = quadratic_model.min_norm_natural_gradient(problem, theta)
>>> np.round(d, 6).tolist(), round(quadratic_model.improvement_bound(problem, theta), 6)
([1.0, -1.0], -0.5)
>>> round(quadratic_model.quadratic_model(problem, theta, d) - problem.h(theta), 6)
-0.5
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theorytools.fisher.distributions import _categorical_fisher, _categorical_fisher_pinv_apply, _complement, _softmax
from theorytools.linalg import as_array, as_instance, as_int, as_labels, as_vector, check_allocation, psd_solve, same_length


@dataclass(frozen=True)
class SoftmaxRegression:
    """Softmax regression ``z = W x`` on the data S of 001_7d31b3ff3a2f0401.txt §13 (see the module docstring).

    Inputs ``x`` (``|S| x p``), integer labels ``y`` in 0..K-1, K >= 2 classes.

    Parameters
    ----------
    x : array_like
        The inputs, one row per example (``|S| x p``).
    y : array_like
        The integer labels, in 0..K-1.
    K : int
        The number of classes, >= 2.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.fisher import quadratic_model
    >>> problem = quadratic_model.SoftmaxRegression(np.array([[1.0, 2.0]]), np.array([1]), 3)
    >>> problem.P, bool(np.isclose(problem.h(np.zeros(problem.P)), np.log(3.0)))  # P = K p; h = ln K at W = 0
    (6, True)
    """

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
        """The number of parameters ``K p``.

        Returns
        -------
        int
            ``K p``.

        Examples
        --------
        >>> import numpy as np
        >>> from theorytools.fisher import quadratic_model
        >>> problem = quadratic_model.SoftmaxRegression(np.array([[1.0]]), np.array([0]), 2)  # one example, K = 2
        >>> problem.P
        2
        """
        return self.K * self.x.shape[1]

    def _logits(self, theta, name: str = "theta") -> np.ndarray:
        """``z_i = W x_i`` for every example (|S| x K)."""
        return self.x @ as_vector(name, theta, self.P).reshape(self.K, -1).T

    def _probs(self, theta):
        return _softmax(self._logits(theta))

    def h(self, theta) -> float:
        """The objective ``h = -(1/|S|) sum log softmax(z)_y``, computed as log-sum-exp minus the label's logit.

        Parameters
        ----------
        theta : array_like
            The P = K p parameters, row-major vec(W).

        Returns
        -------
        float
            h(theta).

        Examples
        --------
        >>> import numpy as np
        >>> from theorytools.fisher import quadratic_model
        >>> problem = quadratic_model.SoftmaxRegression(np.array([[1.0]]), np.array([0]), 2)  # one example, K = 2
        >>> bool(np.isclose(problem.h(np.zeros(2)), np.log(2.0)))  # p = (1/2, 1/2)
        True
        """
        z = self._logits(theta)
        zmax = z.max(axis=1)
        with np.errstate(under="ignore"):
            lse = zmax + np.log(np.sum(np.exp(z - zmax[:, None]), axis=1))
        return float(np.mean(lse - z[np.arange(len(self.y)), self.y]))

    def log_r_gradients(self, theta) -> np.ndarray:
        """``grad_z log r(y|z) = e_y - p`` per example (``|S| x K``); its entry 1 - p_y is the others' sum (p_y ~ 1).

        Parameters
        ----------
        theta : array_like
            The P = K p parameters, row-major vec(W).

        Returns
        -------
        numpy.ndarray
            One row per example.

        Examples
        --------
        >>> import numpy as np
        >>> from theorytools.fisher import quadratic_model
        >>> problem = quadratic_model.SoftmaxRegression(np.array([[1.0]]), np.array([0]), 2)  # one example, K = 2
        >>> problem.log_r_gradients(np.zeros(2)).tolist()  # e_0 - (1/2, 1/2)
        [[0.5, -0.5]]
        """
        p = self._probs(theta)
        rows = np.arange(len(self.y))
        g = -p
        g[rows, self.y] = _complement(p)[rows, self.y]
        return g

    def jacobians(self) -> np.ndarray:
        """``J_f = I_K kron x^T`` per example (``|S| x K x Kp``): z = W x with row-major vec(W).

        Returns
        -------
        numpy.ndarray
            The Jacobians, ``|S| x K x Kp``.

        Examples
        --------
        >>> import numpy as np
        >>> from theorytools.fisher import quadratic_model
        >>> problem = quadratic_model.SoftmaxRegression(np.array([[1.0]]), np.array([0]), 2)  # one example, K = 2
        >>> problem.jacobians().tolist()  # x = 1: J_f = I_2
        [[[1.0, 0.0], [0.0, 1.0]]]
        """
        return np.einsum("kl,sp->sklp", np.eye(self.K), self.x).reshape(len(self.y), self.K, self.P)

    def grad(self, theta) -> np.ndarray:
        """``grad h = -(1/|S|) sum J_f^T grad_z log r``.

        Parameters
        ----------
        theta : array_like
            The P = K p parameters, row-major vec(W).

        Returns
        -------
        numpy.ndarray
            The P-vector grad h.

        Examples
        --------
        >>> import numpy as np
        >>> from theorytools.fisher import quadratic_model
        >>> problem = quadratic_model.SoftmaxRegression(np.array([[1.0]]), np.array([0]), 2)  # one example, K = 2
        >>> problem.grad(np.zeros(2)).tolist()
        [-0.5, 0.5]
        """
        return -np.einsum("skp,sk->p", self.jacobians(), self.log_r_gradients(theta)) / len(self.y)

    def fisher(self, theta) -> np.ndarray:
        """``F = (1/|S|) sum J_f^T F_R J_f`` (001_7d31b3ff3a2f0401.txt eq. 7), ``F_R = diag(p) - p p^T``.

        Parameters
        ----------
        theta : array_like
            The P = K p parameters, row-major vec(W).

        Returns
        -------
        numpy.ndarray
            The P x P Fisher.

        Examples
        --------
        >>> import numpy as np
        >>> from theorytools.fisher import quadratic_model
        >>> problem = quadratic_model.SoftmaxRegression(np.array([[1.0]]), np.array([0]), 2)  # one example, K = 2
        >>> problem.fisher(np.zeros(2)).tolist()  # F_R at p = (1/2, 1/2)
        [[0.25, -0.25], [-0.25, 0.25]]
        """
        Js = self.jacobians()
        return np.einsum("skp,skl,slq->pq", Js, _categorical_fisher(self._probs(theta)), Js) / len(self.y)


def _problem(problem) -> SoftmaxRegression:
    return as_instance("problem", problem, SoftmaxRegression)


def quadratic_model(problem, theta, delta) -> float:
    """``M(delta) = 1/2 delta^T F delta + grad h^T delta + h(theta)`` (001_7d31b3ff3a2f0401.txt §13, first line).

    Parameters
    ----------
    problem : SoftmaxRegression
        The model and its data S.
    theta : array_like
        The P = K p parameters.
    delta : array_like
        The step (P numbers).

    Returns
    -------
    float
        M(delta).

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.fisher import quadratic_model
    >>> problem, theta = quadratic_model.SoftmaxRegression(np.array([[1.0]]), np.array([0]), 2), np.zeros(2)
    >>> bool(np.isclose(quadratic_model.quadratic_model(problem, theta, [0.0, 0.0]), np.log(2.0)))  # M(0) = h
    True
    """
    problem = _problem(problem)
    delta = as_vector("delta", delta, problem.P)
    return float(0.5 * delta @ problem.fisher(theta) @ delta + problem.grad(theta) @ delta + problem.h(theta))


def quadratic_model_as_distances(problem, theta, delta) -> float:
    """M(delta) as a sum of F_R-weighted squared distances plus a constant (001_7d31b3ff3a2f0401.txt §13).

    ``(1/|S|) sum 1/2 |J_f delta - F_R^+ grad_z log r|^2_{F_R} + c``,
    ``c = h - (1/(2|S|)) sum grad log r^T F_R^+ grad log r``.

    Parameters
    ----------
    problem : SoftmaxRegression
        The model and its data S.
    theta : array_like
        The P = K p parameters.
    delta : array_like
        The step (P numbers).

    Returns
    -------
    float
        M(delta), by this route.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.fisher import quadratic_model
    >>> problem, theta = quadratic_model.SoftmaxRegression(np.array([[1.0]]), np.array([0]), 2), np.zeros(2)
    >>> M = [f(problem, theta, [0.3, -0.1]) for f in (quadratic_model.quadratic_model,
    ...                                              quadratic_model.quadratic_model_as_distances)]
    >>> bool(np.isclose(*M))
    True
    """
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
    """The §13 lower bound ``M(delta) - h(theta) >= -(1/(2|S|)) sum grad_z log r^T F_R^+ grad_z log r``.

    001_7d31b3ff3a2f0401.txt §13, with F_R^+ in place of F_R^-1 (see the module docstring).

    Parameters
    ----------
    problem : SoftmaxRegression
        The model and its data S.
    theta : array_like
        The P = K p parameters.

    Returns
    -------
    float
        The lower bound (<= 0).

    Examples
    --------
    One example, K = 2, at theta = 0: ``g = (1/2, -1/2)``, ``F_R^+ g = (1, -1)``, so the bound is ``-1/2``:

    >>> import numpy as np
    >>> from theorytools.fisher import quadratic_model
    >>> problem, theta = quadratic_model.SoftmaxRegression(np.array([[1.0]]), np.array([0]), 2), np.zeros(2)
    >>> round(quadratic_model.improvement_bound(problem, theta), 6)
    -0.5
    """
    problem = _problem(problem)
    p = problem._probs(theta)
    return -0.5 * float(np.mean([g @ _categorical_fisher_pinv_apply(pi, g)
                                 for g, pi in zip(problem.log_r_gradients(theta), p)]))


def min_norm_natural_gradient(problem, theta) -> np.ndarray:
    """``-F^+ grad h``: the minimizer of M of minimum norm (001_7d31b3ff3a2f0401.txt §13).

    F is singular by construction: W -> W + 1 v^T is the same model, so every ``1 kron v`` is in its null space (with
    row-major vec(W)), and grad h is orthogonal to them.  That part of the null space is removed exactly, by solving in
    the basis ``B = C kron I_p`` of its complement (C: an orthonormal basis of 1-perp in R^K, fixed, no rank decision):
    ``F^+ = B (B^T F B)^+ B^T``.  What remains singular depends on the data (collinear features, a class whose
    probability underflows) and is decided on the equilibrated ``B^T F B`` (:func:`theorytools.linalg.psd_solve`),
    which a rescaling of the features changes only by a diagonal congruence: the decision does not depend on units.
    Projecting the shift directions out numerically instead (a generic pseudo-inverse) fails when feature scales
    differ by 1e16: the computed null vectors mix the scales and the result is not even a solution.

    Parameters
    ----------
    problem : SoftmaxRegression
        The model and its data S.
    theta : array_like
        The P = K p parameters.

    Returns
    -------
    numpy.ndarray
        The minimum-norm minimizer of M.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.fisher import quadratic_model
    >>> problem, theta = quadratic_model.SoftmaxRegression(np.array([[1.0]]), np.array([0]), 2), np.zeros(2)
    >>> np.round(quadratic_model.min_norm_natural_gradient(problem, theta), 6).tolist()  # orthogonal to (1, 1)
    [1.0, -1.0]
    """
    problem = _problem(problem)
    K, p = problem.K, problem.x.shape[1]
    C = np.linalg.svd(np.ones((1, K)))[2][1:].T  # K x (K - 1), orthonormal, orthogonal to 1
    B = np.kron(C, np.eye(p))
    return -B @ psd_solve(B.T @ problem.fisher(theta) @ B, B.T @ problem.grad(theta))
