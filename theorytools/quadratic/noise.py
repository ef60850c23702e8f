"""Gradient-noise models for the simulator of eqn. 19 (001_7d31b3ff3a2f0401.txt §14.2).

The theorems assume ``g_k = grad h(theta_k) + eps_k`` with ``eps_k`` i.i.d., mean 0, covariance
``Sigma_g`` independent of theta.  They use only that covariance, so three additive models share
it: Gaussian, scaled Student-t and a Rademacher scale mixture (heavier tails, same covariance).
The fourth model, :class:`LeastSquaresData`, draws the gradient of random training cases of a
least-squares problem: its noise depends on theta, the case §14.2 and §14.3.2 (Défossez–Bach) say
falls outside the constant-Sigma_g theory; its ``Sigma_g`` is the covariance at ``theta*``.

Each model returns the preconditioned gradient in eigen-coordinates, ``V^{-1} B^{-1} g = V^T g``
(``V`` the B-orthonormal eigenvectors of (H, B)), for a batch of runs at once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from theorytools.linalg import as_array, as_choice, as_float, as_int, as_vector, check_allocation
from theorytools.montecarlo import BLOCK
from theorytools.quadratic.problem import as_problem

#: Gradient rows of a block of runs formed at once by :class:`LeastSquaresData` (runs x minibatch x n numbers); a
#: larger minibatch is summed in slices, so memory does not grow with it.
_GRADIENT_CHUNK_ELEMS = 2**22


def _psd_factor(S: np.ndarray) -> np.ndarray:
    """``L`` (n x r) with ``L L^T = S`` for a PSD ``S``, dropping its null space (rank-deficient noise)."""
    w, Q = np.linalg.eigh(S)
    keep = w > 1e-14 * max(float(w[-1]), np.finfo(float).tiny)
    return Q[:, keep] * np.sqrt(w[keep])


class _Additive(ABC):
    """``V^T g = lam * u + L z`` with ``z`` i.i.d. of unit variance, ``L L^T = V^T Sigma_g V``."""

    name = "additive"

    def bind(self, p):
        """The sampler of preconditioned gradients ``V^T g`` for problem ``p`` (used by ``simulate``)."""
        S = p.eig.V.T @ p.Sigma_g @ p.eig.V
        d = np.sqrt(np.maximum(np.diag(S), 0.0))
        off = S - np.diag(np.diag(S))
        # Each correlation is judged against its own coordinates' scale (|S_ij| <= sqrt(S_ii S_jj) for a PSD S): a
        # cut relative to max|S| would drop the full correlation of two coordinates of small variance.
        if np.all(np.abs(off) <= 1e-8 * np.outer(d, d)):  # a correlation of 1e-8 moves no statistic
            # Sigma_g is diagonal in the eigenbasis (e.g. Sigma_g = B or Sigma_g = H): O(n) per run-step.
            return _BoundAdditive(self, p.lam, np.sqrt(np.maximum(np.diag(S), 0.0)))
        return _BoundAdditive(self, p.lam, _psd_factor(S))

    @abstractmethod
    def standard(self, rng: np.random.Generator, shape) -> np.ndarray:
        """I.i.d. draws of mean 0 and variance 1."""


@dataclass(frozen=True)
class _BoundAdditive:
    """``L`` is the n x r factor, or a length-n scale vector when Sigma_g is diagonal in the eigenbasis."""

    model: _Additive
    lam: np.ndarray
    L: np.ndarray

    def gradient(self, rng, U):
        z = self.model.standard(rng, (U.shape[0], self.L.shape[-1]))
        return U * self.lam + (z * self.L if self.L.ndim == 1 else z @ self.L.T)


class GaussianNoise(_Additive):
    """``eps ~ N(0, Sigma_g)``: the theorems' setting.

    001_7d31b3ff3a2f0401.txt §14.2 (the theorems use only the covariance ``Sigma_g``).  Takes no arguments.

    Examples
    --------
    The Monte Carlo estimate of ``E[h(theta_1)]`` agrees with the exact 1/2 (:func:`excess_risk`):

    >>> import numpy as np
    >>> from theorytools.quadratic import GaussianNoise, QuadraticProblem, simulate
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> r = simulate(p, 0.5, 1, runs=4000, noise=GaussianNoise(), seed=0)
    >>> print(r.noise, bool(abs(r.mean[0] - 0.5) < 4 * r.stderr[0]))
    gaussian True
    """

    name = "gaussian"

    def standard(self, rng, shape):
        return rng.standard_normal(shape)


@dataclass(frozen=True)
class StudentTNoise(_Additive):
    """``eps = L t / sqrt(df/(df-2))`` with ``t`` i.i.d. Student-t(df): covariance ``Sigma_g``, heavy tails.

    ``df > 4`` keeps the fourth moment (hence the variance of h(theta_k)) finite, so the CLT
    intervals of the statistical checks stay valid.

    Parameters
    ----------
    df : float, optional
        Degrees of freedom, > 4 (default 5).

    Examples
    --------
    Same covariance as the Gaussian model, so the same exact ``E[h(theta_1)] = 1/2``:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, StudentTNoise, simulate
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> r = simulate(p, 0.5, 1, runs=4000, noise=StudentTNoise(df=6), seed=0)
    >>> print(r.noise, bool(abs(r.mean[0] - 0.5) < 4 * r.stderr[0]))
    student_t True
    """

    df: float = 5.0
    name = "student_t"

    def __post_init__(self):
        # df > 4: a finite fourth moment
        object.__setattr__(self, "df", as_float("df", self.df, low=4.0, low_open=True))

    def standard(self, rng, shape):
        return rng.standard_t(self.df, shape) * np.sqrt((self.df - 2.0) / self.df)


@dataclass(frozen=True)
class RademacherMixture(_Additive):
    """``z = sign * scale``, sign Rademacher, scale ``c`` with probability ``q`` else ``d``.

    ``q c^2 + (1-q) d^2 = 1``: a bounded, non-Gaussian, kurtotic noise of covariance ``Sigma_g``.

    Parameters
    ----------
    q : float, optional
        Probability of the large scale, in ``(0, 1)`` (default 0.05).
    ratio : float, optional
        ``c / d``, > 0 (default 4).

    Examples
    --------
    ``d = 1 / sqrt(0.05 * 16 + 0.95) = 1/sqrt(1.75)`` and ``c = 4 d``:

    >>> import numpy as np
    >>> from theorytools.quadratic import RademacherMixture
    >>> z = RademacherMixture(q=0.05, ratio=4.0).standard(np.random.default_rng(0), 1000)
    >>> np.round(np.unique(np.abs(z)), 6).tolist()
    [0.755929, 3.023716]
    """

    q: float = 0.05
    ratio: float = 4.0  # c / d
    name = "rademacher_mixture"

    def __post_init__(self):
        object.__setattr__(self, "q", as_float("q", self.q, low=0.0, high=1.0, low_open=True, high_open=True))
        object.__setattr__(self, "ratio", as_float("ratio", self.ratio, low=0.0, low_open=True))

    def standard(self, rng, shape):
        d = 1.0 / np.sqrt(self.q * self.ratio**2 + 1.0 - self.q)
        scale = np.where(rng.random(shape) < self.q, self.ratio * d, d)
        return np.where(rng.random(shape) < 0.5, -scale, scale)


class LeastSquaresData:
    """Sampled-data least squares: ``g = (1/m) sum_{i in batch} x_i (x_i^T theta - y_i)``.

    The cases are drawn uniformly with replacement from the training set ``(X, y)``.

    ``h(theta) = 1/(2N) |X theta - y|^2 - min`` has ``H = X^T X / N`` and ``theta* = argmin``; the
    gradient noise covariance depends on theta, and equals
    ``Sigma_g(theta*) = (1/(m N)) sum_i e_i^2 x_i x_i^T`` (``e = y - X theta*``) at the optimum.
    001_7d31b3ff3a2f0401.txt §14.2 and §14.3.2 (Défossez–Bach): outside the constant-``Sigma_g`` theory.

    Parameters
    ----------
    X : array_like, shape (N, n)
        The inputs, ``N >= n``.
    y : array_like, shape (N,)
        The targets.
    batch : int, optional
        Minibatch size ``m`` (default 1).

    Examples
    --------
    ``X = (1, 2, 3)^T``, ``y = (1, 2, 2)``: ``H = 14/3`` and ``theta* = 11/14``:

    >>> import numpy as np
    >>> from theorytools.quadratic import LeastSquaresData
    >>> data = LeastSquaresData(np.array([[1.0], [2.0], [3.0]]), np.array([1.0, 2.0, 2.0]))
    >>> p = data.problem(np.eye(1), [0.0])
    >>> print(round(float(p.H[0, 0]), 6), round(float(p.theta_star[0]), 6))
    4.666667 0.785714
    """

    name = "least_squares"

    def __init__(self, X, y, batch: int = 1):
        X = as_array("X", X, ndim=2)
        if X.shape[0] < X.shape[1]:
            raise ValueError(f"X must be an N x n matrix with N >= n, got shape {X.shape}")
        self.X = X
        self.y = as_vector("y", y, X.shape[0])
        self.batch = as_int("batch", batch, low=1)
        # a block of runs draws its minibatch indices at once
        check_allocation("the minibatch indices of a block of runs", (BLOCK, self.batch), cheaper="a smaller batch")
        self.theta_star, *_ = np.linalg.lstsq(X, self.y, rcond=None)
        self.e = self.y - X @ self.theta_star
        N = X.shape[0]
        self.H = X.T @ X / N
        self.Sigma_g_star = (X * self.e[:, None] ** 2).T @ X / (N * self.batch)

    def problem(self, B, theta0):
        """The constant-``Sigma_g`` problem the theory would use: ``(H, B, Sigma_g(theta*), theta0, theta*)``.

        Parameters
        ----------
        B : array_like, shape (n, n)
            The preconditioner.
        theta0 : array_like, shape (n,)
            The starting point.

        Returns
        -------
        QuadraticProblem
            The problem, the one :meth:`bind` accepts.
        """
        from theorytools.quadratic.problem import QuadraticProblem

        return QuadraticProblem(self.H, B, self.Sigma_g_star, theta0, self.theta_star)

    def bind(self, p):
        """The sampler of preconditioned gradients for ``p``, which must be :meth:`problem`'s (used by ``simulate``)."""
        p = as_problem(p)
        same = (p.n == self.H.shape[0] and np.allclose(p.theta_star, self.theta_star, rtol=1e-8, atol=1e-10)
                and np.allclose(p.H, self.H, rtol=1e-10, atol=0))
        if not same:
            raise ValueError("p must be the problem of this data set (use LeastSquaresData.problem(B, theta0))")
        return _BoundLeastSquares(self.X @ p.eig.V, self.e, self.batch)


@dataclass(frozen=True)
class _BoundLeastSquares:
    Xt: np.ndarray  # rows x_i^T V
    e: np.ndarray
    batch: int

    def gradient(self, rng, U):
        idx = rng.integers(0, self.Xt.shape[0], size=(U.shape[0], self.batch))
        g = np.zeros_like(U)
        step = max(1, _GRADIENT_CHUNK_ELEMS // (U.shape[0] * U.shape[1]))
        for c in range(0, self.batch, step):  # slices of the minibatch: (runs, slice, n) rows at a time
            part = idx[:, c : c + step]
            Xb = self.Xt[part]
            r = np.einsum("rmn,rn->rm", Xb, U) - self.e[part]
            g += np.einsum("rmn,rm->rn", Xb, r)
        return g / self.batch


NOISE_MODELS = {"gaussian": GaussianNoise, "student_t": StudentTNoise, "rademacher_mixture": RademacherMixture}


def as_noise_model(noise):
    """A noise-model object from a name ("gaussian", "student_t", "rademacher_mixture") or an object."""
    if isinstance(noise, str):
        return NOISE_MODELS[as_choice("noise", noise, tuple(NOISE_MODELS))]()
    if not hasattr(noise, "bind"):
        raise TypeError(f"noise must be a name or a noise-model object with .bind(problem), got {noise!r}")
    return noise
