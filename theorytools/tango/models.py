"""Probabilistic models ``p_theta(y|x)`` with their log-loss, gradient, Hessian, pseudo-sampling and exact
Fisher matrix (000_3b01ec78f4f92394.txt eqs 1, 2, 10, 75).

Every method is vectorized over leading axes: ``theta`` has shape ``(..., d)``, ``x`` ``(..., p)``
and ``y`` ``(...)`` (the Gaussian model has no input: ``x = None``).  The Fisher matrix
``J(theta) = E_x E_{y~p_theta(.|x)} [dl/dtheta dl/dtheta^T]`` (eq. 10) equals the expected Hessian
``E_{y~p_theta} d^2 l / dtheta^2`` (eq. 75); both are computed here in closed form and checked
against exact enumeration or Gauss-Hermite quadrature in :mod:`verification.reference.tango`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from theorytools.linalg.validation import real_array

LOG_2PI = float(np.log(2.0 * np.pi))


def _theta(theta, d=None) -> np.ndarray:
    # Shape only: this runs at every step of every simulation; finiteness is checked where a
    # trajectory starts (theta0) and after every step (non-finite iterates are reported there).
    t = real_array("theta", theta)
    if t.ndim == 0 or (d is not None and t.shape[-1] != d):
        raise ValueError(f"theta must have shape (..., {d if d is not None else 'd'}), got shape {t.shape}")
    return t


def _inputs(x, theta, p) -> np.ndarray:
    """``x`` of shape ``(..., p)`` matching ``theta``'s leading axes (or broadcastable to them)."""
    if x is None:
        raise ValueError("x must be given (an input vector or a matrix of inputs, one per row) for this model")
    x = real_array("x", x)
    if x.ndim == 0 or x.shape[-1] != p:
        raise ValueError(f"x must have shape (..., {p}) to match theta, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x must be finite")
    return x


class Model(ABC):
    """``p_theta(y|x)`` and its log-loss ``l(y|x) = -ln p_theta(y|x)`` (eq. 1)."""

    #: True when the model has no input (``x = None``).
    unsupervised = False

    @abstractmethod
    def loss(self, theta, y, x=None) -> np.ndarray: ...

    @abstractmethod
    def grad(self, theta, y, x=None) -> np.ndarray:
        """``dl(y|x)/dtheta`` (eq. 2), shape ``(..., d)``."""

    @abstractmethod
    def hessian(self, theta, y, x=None) -> np.ndarray:
        """``d^2 l(y|x) / dtheta^2``, shape ``(..., d, d)``."""

    @abstractmethod
    def sample(self, theta, x, rng) -> np.ndarray:
        """Pseudo-samples ``y~ ~ p_theta(.|x)``, one per leading index of ``theta`` (eq. 2)."""

    @abstractmethod
    def _fisher_at(self, theta, x) -> np.ndarray:
        """Exact Fisher at one input (``x`` 1-D or None), shape ``(d, d)``."""

    def sampled_gradients(self, rng, theta, draw, outer_product: bool = False):
        """``(g, g~)`` for each run (rows of ``theta``): a data sample ``(x_k, y_k) = draw(rng, runs)`` of shape
        (runs, B[, p]), a pseudo-sample ``y~ ~ p_theta(.|x_k)`` per sample (``y~ = y`` for the outer-product
        variant), and the minibatch means of their gradients at ``theta`` (eq. 2)."""
        xk, yk = draw(rng, theta.shape[0])
        th = theta[:, None, :]
        # one pseudo-sample per sample of the minibatch (the Gaussian model has no x to carry the batch axis)
        yt = yk if outer_product else self.sample(np.broadcast_to(th, yk.shape + th.shape[-1:]), xk, rng)
        return self.grad(th, yk, xk).mean(axis=1), self.grad(th, yt, xk).mean(axis=1)

    def fisher(self, theta, x=None) -> np.ndarray:
        """Exact Fisher ``J(theta)`` (eq. 10) at one input (1-D ``x``) or averaged over the rows of a 2-D ``x``."""
        theta = _theta(theta)
        if theta.ndim != 1:
            raise ValueError(f"theta must be one parameter vector (1-D), got shape {theta.shape}")
        if self.unsupervised:
            if x is not None:
                raise ValueError(f"{type(self).__name__} has no input: x must be None")
            return self._fisher_at(theta, None)
        x = real_array("x", x) if x is not None else None
        if x is not None and x.ndim == 2:
            return np.mean([self._fisher_at(theta, xi) for xi in x], axis=0)
        return self._fisher_at(theta, x)

    def fisher_diagonal(self, theta, x=None) -> np.ndarray:
        """``diag J(theta)`` for each row of ``theta`` (shape (..., d)), x averaged over the rows of a 2-D ``x``:
        the exact ``E g~^(.2)`` of the preconditioner ``C^-1 = diag(E g~^(.2))`` (eqs 6-7)."""
        theta = _theta(theta)
        flat = theta.reshape(-1, theta.shape[-1])
        return np.array([np.diag(self.fisher(t, x)) for t in flat]).reshape(theta.shape)

    def expected_gradient(self, theta, x=None, y=None) -> np.ndarray:
        """``E_{(x,y) in D} dl(y|x)/dtheta``: the mean over the rows of the dataset ``(x, y)``."""
        theta = _theta(theta)
        if y is None:
            raise ValueError(f"y must be given: {type(self).__name__}'s expected gradient is a mean over a dataset")
        return np.mean(self.grad(theta, y, x), axis=0)


class GaussianModel(Model):
    """``N(mu, sigma^2)`` in coordinates ``theta = (mu, ln sigma)``, data ``N(data_mean, data_std^2)``
    (000_3b01ec78f4f92394.txt Figure 1: data N(10, 1), start N(0, 1)).

    ``l(y) = ln sigma + (y - mu)^2 / (2 sigma^2) + ln(2 pi)/2``; Fisher ``diag(1/sigma^2, 2)``.
    """

    unsupervised = True

    def __init__(self, data_mean: float = 10.0, data_std: float = 1.0):
        if not (np.isfinite(data_mean) and np.isfinite(data_std) and data_std > 0):
            raise ValueError(f"data_mean must be finite and data_std > 0, got {data_mean}, {data_std}")
        self.data_mean, self.data_std = float(data_mean), float(data_std)

    def __repr__(self):
        return f"GaussianModel(data_mean={self.data_mean:g}, data_std={self.data_std:g})"

    @staticmethod
    def _split(theta):
        t = _theta(theta, 2)
        return t[..., 0], t[..., 1], np.exp(-2.0 * t[..., 1])  # mu, ln sigma, 1/sigma^2

    def loss(self, theta, y, x=None):
        mu, ls, prec = self._split(theta)
        return ls + 0.5 * (np.asarray(y) - mu) ** 2 * prec + 0.5 * LOG_2PI

    def grad(self, theta, y, x=None):
        mu, _, prec = self._split(theta)
        r = real_array("y", y) - mu
        return np.stack([-r * prec, 1.0 - r * r * prec], axis=-1)

    def hessian(self, theta, y, x=None):
        mu, _, prec = self._split(theta)
        r = real_array("y", y) - mu
        off = 2.0 * r * prec
        return np.stack([np.stack([prec * np.ones_like(r), off], -1), np.stack([off, 2.0 * r * r * prec], -1)], -2)

    def sample(self, theta, x, rng):
        mu, ls, _ = self._split(theta)
        return mu + np.exp(ls) * rng.standard_normal(np.shape(mu))

    def sample_data(self, rng, shape):
        """Draws of the data distribution ``N(data_mean, data_std^2)``."""
        return self.data_mean + self.data_std * rng.standard_normal(shape)

    def sampled_gradients(self, rng, theta, draw, outer_product: bool = False):
        """Fused form of :meth:`Model.sampled_gradients` for one sample per step from the data law:
        ``y = m + s z``, ``y~ = mu + sigma z~``, so ``g~ = (-z~/sigma, 1 - z~^2)`` needs no residual."""
        if getattr(draw, "batch", None) != 1:
            return super().sampled_gradients(rng, theta, draw, outer_product)
        z = rng.standard_normal((2, theta.shape[0]))
        mu, ls = theta[:, 0], theta[:, 1]
        inv_sigma = np.exp(-ls)
        r = (self.data_mean + self.data_std * z[0] - mu) * inv_sigma  # (y - mu) / sigma
        g = np.stack([-r * inv_sigma, 1.0 - r * r], axis=1)
        if outer_product:
            return g, g
        return g, np.stack([-z[1] * inv_sigma, 1.0 - z[1] * z[1]], axis=1)

    def _fisher_at(self, theta, x):
        return np.diag([np.exp(-2.0 * theta[1]), 2.0])

    def fisher_diagonal(self, theta, x=None):
        t = _theta(theta, 2)
        return np.stack([np.exp(-2.0 * t[..., 1]), np.full(t.shape[:-1], 2.0)], axis=-1)

    def expected_gradient(self, theta, x=None, y=None):
        """``E_{y ~ N(m, s^2)} dl/dtheta = (-(m - mu)/sigma^2, 1 - ((m - mu)^2 + s^2)/sigma^2)``."""
        if x is not None or y is not None:
            raise ValueError(f"{self!r} takes its data law from data_mean and data_std: x and y must be None")
        mu, _, prec = self._split(theta)
        r = self.data_mean - mu
        return np.stack([-r * prec, 1.0 - (r * r + self.data_std**2) * prec], axis=-1)

    def natural_gradient_flow_closed_form(self, theta0, t) -> np.ndarray:
        """Exact solution of eq. 12, ``dtheta/dt = -J^-1 E g``, for this model (derived in notebook 04):

        ``mu(t) = m + (mu_0 - m) e^-t`` and, with ``D = (m - mu_0)^2``,
        ``sigma^2(t) = s^2 + (sigma_0^2 - s^2 + D) e^-t - D e^-2t`` (from ``d sigma^2/dt = (m - mu)^2 + s^2 - sigma^2``).
        """
        mu0, ls0 = _theta(theta0, 2)
        t = real_array("t", t)
        m, s2 = self.data_mean, self.data_std**2
        D = (m - mu0) ** 2
        var = s2 + (np.exp(2.0 * ls0) - s2 + D) * np.exp(-t) - D * np.exp(-2.0 * t)
        return np.stack([m + (mu0 - m) * np.exp(-t), 0.5 * np.log(var)], axis=-1)


class LinearRegressionModel(Model):
    """``y ~ N(theta^T x, s2)``: ``l = (y - theta^T x)^2 / (2 s2) + ln(2 pi s2)/2``, Fisher ``x x^T / s2``.

    000_3b01ec78f4f92394.txt, "Quadratic output losses": ``s2`` should be the actual mean square error
    of the outputs; it scales g and g~ and the law ``N(theta^T x, s2)`` of the pseudo-samples.
    With ``s2 = 1`` this is Proposition 2's ``l = 1/2 |y - theta^T x|^2`` (up to a constant).
    """

    def __init__(self, s2: float = 1.0):
        if not (np.isfinite(s2) and s2 > 0):
            raise ValueError(f"s2 must be a positive finite variance, got {s2}")
        self.s2 = float(s2)

    def __repr__(self):
        return f"LinearRegressionModel(s2={self.s2:g})"

    @classmethod
    def fitted(cls, theta, x, y) -> "LinearRegressionModel":
        """The model with ``s2`` set to the actual mean square error of the outputs at ``theta`` (the text's advice:
        "sigma^2 should be set to the actual mean square error on the outputs, for the natural gradient to work best")."""
        r = real_array("y", y) - real_array("x", x) @ real_array("theta", theta)
        return cls(float(np.mean(r * r)))

    def _residual(self, theta, y, x):
        theta = _theta(theta)
        x = _inputs(x, theta, theta.shape[-1])
        return real_array("y", y) - np.sum(theta * x, axis=-1), x

    def loss(self, theta, y, x=None):
        r, _ = self._residual(theta, y, x)
        return 0.5 * r * r / self.s2 + 0.5 * (LOG_2PI + np.log(self.s2))

    def grad(self, theta, y, x=None):
        r, x = self._residual(theta, y, x)
        return -(r / self.s2)[..., None] * x

    def hessian(self, theta, y, x=None):
        theta = _theta(theta)
        x = _inputs(x, theta, theta.shape[-1])
        shape = np.broadcast_shapes(np.shape(y), x.shape[:-1], theta.shape[:-1])
        return np.broadcast_to(x[..., :, None] * x[..., None, :] / self.s2, shape + (x.shape[-1],) * 2)

    def sample(self, theta, x, rng):
        theta = _theta(theta)
        x = _inputs(x, theta, theta.shape[-1])
        mean = np.sum(theta * x, axis=-1)
        return mean + np.sqrt(self.s2) * rng.standard_normal(np.shape(mean))

    def _fisher_at(self, theta, x):
        x = _inputs(x, theta, theta.size)
        return np.outer(x, x) / self.s2

    def fisher_diagonal(self, theta, x=None):
        theta = _theta(theta)
        X = np.atleast_2d(_inputs(x, theta, theta.shape[-1]))
        return np.broadcast_to(np.mean(X * X, axis=0) / self.s2, theta.shape)


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # no overflow for any z


class LogisticModel(Model):
    """``P(y = 1 | x) = sigmoid(theta^T x)``, ``y in {0, 1}``; Fisher ``p (1 - p) x x^T``."""

    def __repr__(self):
        return "LogisticModel()"

    def _prob(self, theta, x):
        theta = _theta(theta)
        x = _inputs(x, theta, theta.shape[-1])
        return _sigmoid(np.sum(theta * x, axis=-1)), x

    def loss(self, theta, y, x=None):
        theta = _theta(theta)
        z = np.sum(theta * _inputs(x, theta, theta.shape[-1]), axis=-1)
        return np.logaddexp(0.0, z) - np.asarray(y) * z

    def grad(self, theta, y, x=None):
        p, x = self._prob(theta, x)
        return (p - real_array("y", y))[..., None] * x

    def hessian(self, theta, y, x=None):
        p, x = self._prob(theta, x)
        w = np.broadcast_to(p * (1.0 - p), np.broadcast_shapes(p.shape, np.shape(y)))  # the same for every y
        return w[..., None, None] * x[..., :, None] * x[..., None, :]

    def sample(self, theta, x, rng):
        p, _ = self._prob(theta, x)
        return (rng.random(np.shape(p)) < p).astype(float)

    def _fisher_at(self, theta, x):
        p, x = self._prob(theta, x)
        return p * (1.0 - p) * np.outer(x, x)

    def fisher_diagonal(self, theta, x=None):
        theta = _theta(theta)
        X = np.atleast_2d(_inputs(x, theta, theta.shape[-1]))
        p = _sigmoid(theta @ X.T)  # (..., N)
        return (p * (1.0 - p)) @ (X * X) / X.shape[0]


class SoftmaxModel(Model):
    """``P(y = c | x) = softmax(W x)_c``, ``c in {0..K-1}``, ``theta = W`` (K x p) flattened row-major.

    ``dl/dW = (p - e_y) x^T``, so ``dl/dtheta = (p - e_y) (x) x`` (Kronecker, row-major), and the Hessian
    and Fisher are ``(diag p - p p^T) (x) x x^T``.
    """

    def __init__(self, num_classes: int = 3):
        if int(num_classes) != num_classes or num_classes < 2:
            raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
        self.K = int(num_classes)

    def __repr__(self):
        return f"SoftmaxModel(num_classes={self.K})"

    def _probs(self, theta, x):
        theta = _theta(theta)
        if theta.shape[-1] % self.K:
            raise ValueError(f"theta must have K * p = {self.K} * p entries, got {theta.shape[-1]}")
        p_in = theta.shape[-1] // self.K
        x = _inputs(x, theta, p_in)
        W = theta.reshape(theta.shape[:-1] + (self.K, p_in))
        z = np.einsum("...kp,...p->...k", W, x)
        z = z - z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True), x, z

    def _labels(self, y):
        y = np.asarray(y)
        if np.any((y < 0) | (y >= self.K) | (y != np.round(y))):
            raise ValueError(f"y must hold class labels in 0..{self.K - 1}")
        return y.astype(np.int64)

    def loss(self, theta, y, x=None):
        p, _, z = self._probs(theta, x)
        y = self._labels(y)
        zy = np.take_along_axis(z, np.broadcast_to(y, z.shape[:-1])[..., None], axis=-1)[..., 0]
        return np.log(np.exp(z).sum(axis=-1)) - zy

    def grad(self, theta, y, x=None):
        p, x, _ = self._probs(theta, x)
        r = p - np.eye(self.K)[self._labels(y)]
        return (r[..., :, None] * x[..., None, :]).reshape(r.shape[:-1] + (-1,))

    def hessian(self, theta, y, x=None):
        p, x, _ = self._probs(theta, x)
        S = p[..., :, None] * np.eye(self.K) - p[..., :, None] * p[..., None, :]
        X = x[..., :, None] * x[..., None, :]
        H = S[..., :, None, :, None] * X[..., None, :, None, :]
        d = self.K * x.shape[-1]
        return H.reshape(H.shape[:-4] + (d, d))

    def sample(self, theta, x, rng):
        p, _, _ = self._probs(theta, x)
        u = rng.random(p.shape[:-1])[..., None]
        return np.minimum(np.sum(np.cumsum(p, axis=-1) < u, axis=-1), self.K - 1).astype(float)

    def _fisher_at(self, theta, x):
        p, x, _ = self._probs(theta, x)
        return np.kron(np.diag(p) - np.outer(p, p), np.outer(x, x))

    def fisher_diagonal(self, theta, x=None):
        theta = _theta(theta)
        X = np.atleast_2d(real_array("x", x))
        p, _, _ = self._probs(theta[..., None, :], X)  # (..., N, K)
        return np.einsum("...nk,np->...kp", p * (1.0 - p), X * X).reshape(theta.shape) / X.shape[0]
