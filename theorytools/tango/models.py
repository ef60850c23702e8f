"""Probabilistic models ``p_theta(y|x)`` with their log-loss, gradient, Hessian, pseudo-sampling and exact
Fisher matrix (000_3b01ec78f4f92394.txt eqs 1, 2, 10, 75).

Every method is vectorized over leading axes: ``theta`` has shape ``(..., d)``, ``x`` ``(..., p)``
and ``y`` ``(...)`` (the Gaussian model has no input: ``x = None``).  The Fisher matrix
``J(theta) = E_x E_{y~p_theta(.|x)} [dl/dtheta dl/dtheta^T]`` (eq. 10) equals the expected Hessian
``E_{y~p_theta} d^2 l / dtheta^2`` (eq. 75); both are computed here in closed form and checked
against exact enumeration or Gauss-Hermite quadrature in :mod:`verification.reference.tango`.

The public methods validate their arguments (:mod:`theorytools.linalg.validation`) and refuse a result that turns
non-finite (:class:`~theorytools.errors.NonFiniteError`); the iterations of this topic validate once, up front, and
then call the unchecked ``_loss``, ``_grad``, ``_hessian``, ``_sample``, ... of each model at every step.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np

from theorytools.errors import NonFiniteError
from theorytools.linalg import (
    as_array,
    as_bool,
    as_callable,
    as_float,
    as_instance,
    as_int,
    as_labels,
    check_allocation,
    positive,
    same_length,
)

LOG_2PI = float(np.log(2.0 * np.pi))


def _all_finite(value) -> bool:
    """``np.all(np.isfinite(value))``; for a few entries (the per-step calls of small models) Python's isfinite is
    several times faster than the numpy calls."""
    a = np.asarray(value)
    return all(map(math.isfinite, a.ravel().tolist())) if a.size <= 16 and a.dtype.kind == "f" else bool(np.all(np.isfinite(a)))


def _finite(what: str, value):
    """``value``, or a NonFiniteError naming the quantity (a parameter so far out that float64 over- or underflows)."""
    if not _all_finite(value):
        raise NonFiniteError(f"{what}: the result is not finite (NaN or inf): the parameter or the data are too far "
                             "out for float64 (e.g. exp(-2 ln sigma) overflows)")
    return value


#: Allocations below this many bytes skip the size guard: reading the available memory costs more than they do, and
#: the public methods run at every step of a user's loop (``euler_scheme(m.expected_gradient, m.fisher, ...)``).
SMALL_BYTES = 2**20


def _check_size(what: str, shape, cheaper: str):
    """:func:`theorytools.linalg.check_allocation` for anything above :data:`SMALL_BYTES`."""
    if 8 * math.prod(int(n) for n in shape) > SMALL_BYTES:  # Python integers: no overflow for any shape
        check_allocation(what, shape, cheaper=cheaper)


def batch_mean(a):
    """The mean over axis 1 (a minibatch) of ``a`` (runs, B, ...); for B = 1 the entries themselves (the same numbers:
    a sum of one term divided by 1), without a reduction."""
    return a[:, 0] if a.shape[1] == 1 else a.mean(axis=1)


def _shape(shape) -> tuple:
    """A sample shape: a non-negative integer or a tuple of them."""
    if isinstance(shape, (tuple, list)):
        return tuple(as_int(f"shape[{i}]", s) for i, s in enumerate(shape))
    return (as_int("shape", shape),)


class Model(ABC):
    """``p_theta(y|x)`` and its log-loss ``l(y|x) = -ln p_theta(y|x)`` (eq. 1).

    000_3b01ec78f4f92394.txt eq. 1 (the log-loss), eq. 2 (gradients, pseudo-samples), eq. 10 (the Fisher).

    Subclasses implement the unchecked ``_loss``, ``_grad``, ``_hessian``, ``_sample``, ``_fisher_sum`` and
    ``_fisher_diagonal`` on validated arrays, and say how many parameters go with ``p`` input features
    (:meth:`_dim`) and which labels are valid (:meth:`_labels`).

    Examples
    --------
    >>> from theorytools.tango import GaussianModel, Model
    >>> m = GaussianModel()
    >>> isinstance(m, Model), round(float(m.loss([0.0, 0.0], 0.0)), 6)     # l(mu | mu, sigma = 1) = ln(2 pi) / 2
    (True, 0.918939)
    """

    #: True when the model has no input (``x = None``).
    unsupervised = False

    # -- what subclasses provide -------------------------------------------------------------------------
    def _dim(self, p: int | None) -> int:
        """The number of parameters for inputs of ``p`` features."""
        return p

    def _labels(self, name: str, y) -> np.ndarray:
        """``y`` as a finite array of outcomes this model can produce (ValueError naming ``name`` otherwise)."""
        return as_array(name, y)

    @abstractmethod
    def _loss(self, theta, y, x): ...

    @abstractmethod
    def _grad(self, theta, y, x): ...

    @abstractmethod
    def _hessian(self, theta, y, x): ...

    @abstractmethod
    def _sample(self, theta, x, rng): ...

    @abstractmethod
    def _fisher_sum(self, theta, X) -> np.ndarray:
        """Sum over the rows of ``X`` (N, p) of the exact Fisher at each input (the Gaussian model: ``X = None``, one
        term), shape ``(d, d)``."""

    @abstractmethod
    def _fisher_diagonal(self, theta, X) -> np.ndarray:
        """``diag J(theta)`` averaged over the rows of ``X`` (N, p), for each row of ``theta`` (..., d)."""

    def _fisher_diagonal_work(self, lead: tuple, rows: int) -> tuple:
        """Shape of the largest temporary of :meth:`_fisher_diagonal` (for the size guard)."""
        return lead + (rows,)

    # -- validation --------------------------------------------------------------------------------------
    def _inputs(self, x, name: str = "x", rows: bool = False):
        """``x`` for this model: None for a model without input, else a finite array ``(..., p)`` (``(N, p)`` with
        ``rows``: the rows of a dataset)."""
        if self.unsupervised:
            if x is not None:
                raise ValueError(f"{name} must be None for {self!r} (it has no input), got {np.shape(x)}-shaped input")
            return None
        if x is None:
            raise ValueError(f"{name} must be given for {self!r}: an input of p features, or an array of them (..., p)")
        x = as_array(name, x, ndim=2 if rows else None)
        if x.ndim == 0:
            raise ValueError(f"{name} must have a last axis of p features, got a scalar")
        return x

    def _params(self, theta, x, name: str = "theta", ndim: int | None = None) -> np.ndarray:
        """``theta`` of shape ``(..., d)`` (``ndim`` axes when given) with ``d`` matching the model and ``x``."""
        theta = as_array(name, theta, ndim=ndim)
        if theta.ndim == 0:
            raise ValueError(f"{name} must be a parameter vector (..., d), got a scalar")
        d = self._dim(None if x is None else x.shape[-1])
        if theta.shape[-1] != d:
            if x is None:
                raise ValueError(f"{name} must have shape (..., {d}) for {self!r}, got shape {theta.shape}")
            raise ValueError(f"{name} and x do not match: {self!r} with x of {x.shape[-1]} features (x has shape "
                             f"{x.shape}) needs {name} of shape (..., {d}), got shape {theta.shape}")
        return theta

    def _args(self, theta, y, x):
        """Validated ``(theta, y, x)`` whose leading axes broadcast together."""
        x = self._inputs(x)
        theta = self._params(theta, x)
        y = self._labels("y", y)
        self._lead(theta, y, x)
        return theta, y, x

    @staticmethod
    def _lead(theta, y, x) -> tuple:
        """The broadcast leading shape of theta (..., d), y (...) and x (..., p) (y or x None: left out)."""
        shapes = [theta.shape[:-1]] + ([] if y is None else [y.shape]) + ([] if x is None else [x.shape[:-1]])
        try:
            return np.broadcast_shapes(*shapes)
        except ValueError:
            names = "theta" + ("" if y is None else ", y") + ("" if x is None else ", x")
            raise ValueError(f"{names} must have leading shapes that broadcast together (one parameter, outcome and "
                             f"input per entry): theta {theta.shape}" + ("" if y is None else f", y {y.shape}")
                             + ("" if x is None else f", x {x.shape}")) from None

    def _dataset(self, x, y):
        """``(X, Y)``: the rows of a dataset, ``X`` (N, p) and ``Y`` (N,) (both None for a model without input)."""
        if self.unsupervised:
            if x is not None or y is not None:
                raise ValueError(f"x and y must be None for {self!r}: it takes its data law from data_mean and data_std")
            return None, None
        X = self._inputs(x, rows=True)
        if y is None:
            raise ValueError(f"y must be given for {self!r}: the outcomes of the dataset's rows, shape ({X.shape[0]},)")
        Y = self._labels("y", y)
        if Y.ndim != 1:
            raise ValueError(f"y must be a vector of outcomes, one per row of x, got shape {Y.shape}")
        same_length(("x", "y"), X, Y)
        return X, Y

    def _checked(self, what: str, compute, *args):
        """``compute(*args)`` without RuntimeWarnings, refused with a NonFiniteError naming ``what`` if not finite."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return _finite(f"{type(self).__name__}.{what}", compute(*args))

    # -- public, validated ----------------------------------------------------------------------------------
    def loss(self, theta, y, x=None) -> np.ndarray:
        """``l(y|x) = -ln p_theta(y|x)`` (eq. 1), shape: the broadcast leading shape of theta, y and x."""
        theta, y, x = self._args(theta, y, x)
        return self._checked("loss", self._loss, theta, y, x)

    def grad(self, theta, y, x=None) -> np.ndarray:
        """``dl(y|x)/dtheta`` (eq. 2), shape ``(..., d)``."""
        theta, y, x = self._args(theta, y, x)
        return self._checked("grad", self._grad, theta, y, x)

    def hessian(self, theta, y, x=None) -> np.ndarray:
        """``d^2 l(y|x) / dtheta^2``, shape ``(..., d, d)``."""
        theta, y, x = self._args(theta, y, x)
        d = theta.shape[-1]
        _check_size("the Hessians d^2 l/dtheta^2 (leading shape of theta, y, x x d x d)",
                         self._lead(theta, y, x) + (d, d), cheaper="fewer parameter vectors or samples at once")
        return self._checked("hessian", self._hessian, theta, y, x)

    def sample(self, theta, x, rng) -> np.ndarray:
        """Pseudo-samples ``y~ ~ p_theta(.|x)``, one per leading index of theta and x (eq. 2)."""
        x = self._inputs(x)
        theta = self._params(theta, x)
        self._lead(theta, None, x)
        rng = as_instance("rng", rng, np.random.Generator, "a numpy.random.Generator")
        return self._checked("sample", self._sample, theta, x, rng)

    def sampled_gradients(self, rng, theta, draw, outer_product: bool = False):
        """``(g, g~)`` for each run (rows of ``theta``): a data sample ``(x_k, y_k) = draw(rng, runs)`` of shape
        (runs, B[, p]), a pseudo-sample ``y~ ~ p_theta(.|x_k)`` per sample (``y~ = y`` for the outer-product
        variant), and the minibatch means of their gradients at ``theta`` (eq. 2)."""
        rng = as_instance("rng", rng, np.random.Generator, "a numpy.random.Generator")
        theta = as_array("theta", theta, ndim=2)
        draw = as_callable("draw", draw)
        outer_product = as_bool("outer_product", outer_product)
        if self.unsupervised:
            self._params(theta, None)
        try:
            return self._checked("sampled_gradients", self._sampled_gradients, rng, theta, draw, outer_product)
        except (ValueError, IndexError) as exc:
            if isinstance(exc, NonFiniteError):
                raise
            raise ValueError(f"theta (shape {theta.shape}) and the samples returned by draw do not match {self!r} "
                             f"(draw(rng, runs) must return x of shape (runs, B, p) and y of shape (runs, B)): {exc}") from exc

    def _sampled_gradients(self, rng, theta, draw, outer_product: bool = False):
        xk, yk = draw(rng, theta.shape[0])
        th = theta[:, None, :]
        # one pseudo-sample per sample of the minibatch (the Gaussian model has no x to carry the batch axis)
        yt = yk if outer_product else self._sample(np.broadcast_to(th, yk.shape + th.shape[-1:]), xk, rng)
        return batch_mean(self._grad(th, yk, xk)), batch_mean(self._grad(th, yt, xk))

    def fisher(self, theta, x=None) -> np.ndarray:
        """Exact Fisher ``J(theta)`` (eq. 10) at one input (1-D ``x``) or averaged over the rows of a 2-D ``x``."""
        X = self._fisher_rows(x)
        theta = self._params(theta, X, ndim=1)
        d = theta.size
        _check_size(f"the Fisher matrix J ({d} x {d})", (d, d), cheaper="fisher_diagonal for its diagonal, or "
                         "TANGO (tango_iterates, simulate_tango), which never forms J")
        return self._checked("fisher", self._fisher, theta, X)

    def _fisher(self, theta, X) -> np.ndarray:
        if X is None:  # a model without input: one term, nothing to average
            return self._fisher_sum(theta, X)
        rows = X.shape[0]
        return self._fisher_sum(theta, X) / rows

    def _fisher_rows(self, x):
        """``x`` as the rows ``(N, p)`` of a dataset (a 1-D ``x`` is one row); None for a model without input."""
        x = self._inputs(x)
        if x is not None and x.ndim > 2:
            raise ValueError(f"x must be one input (p,) or the rows of a dataset (N, p), got shape {x.shape}")
        return None if x is None else x.reshape(-1, x.shape[-1])

    def fisher_diagonal(self, theta, x=None) -> np.ndarray:
        """``diag J(theta)`` for each row of ``theta`` (shape (..., d)), x averaged over the rows of a 2-D ``x``:
        the exact ``E g~^(.2)`` of the preconditioner ``C^-1 = diag(E g~^(.2))`` (eqs 6-7)."""
        X = self._fisher_rows(x)
        theta = self._params(theta, X)
        rows = 1 if X is None else X.shape[0]
        _check_size("the model's probabilities at every row of x for every theta (leading shape of theta x rows of "
                         "x [x classes])", self._fisher_diagonal_work(theta.shape[:-1], rows),
                         cheaper="fewer parameter vectors at once, or a subsample of the rows of x")
        return self._checked("fisher_diagonal", self._fisher_diagonal, theta, X)

    def expected_gradient(self, theta, x=None, y=None) -> np.ndarray:
        """``E_{(x,y) in D} dl(y|x)/dtheta``: the mean over the rows of the dataset ``(x, y)``, for each row of theta."""
        X, Y = self._dataset(x, y)
        theta = self._params(theta, X)
        if X is not None:
            _check_size("the per-row gradients (leading shape of theta x rows of x x d)",
                             theta.shape[:-1] + (X.shape[0], theta.shape[-1]), cheaper="fewer parameter vectors at once")
        return self._checked("expected_gradient", self._expected_gradient, theta, X, Y)

    def _expected_gradient(self, theta, X, Y):
        return np.mean(self._grad(theta[..., None, :], Y, X), axis=-2)


def _pair(a, b):
    """``np.stack([a, b], axis=-1)`` for float arrays of one shape, without stack's overhead (the Gaussian model's two
    coordinates, at every step of the iterations)."""
    shape = np.shape(a)
    if np.shape(b) != shape:
        return np.stack(np.broadcast_arrays(a, b), axis=-1)
    out = np.empty(shape + (2,))
    out[..., 0], out[..., 1] = a, b
    return out


class GaussianModel(Model):
    """``N(mu, sigma^2)`` in coordinates ``theta = (mu, ln sigma)``, data ``N(data_mean, data_std^2)``.

    000_3b01ec78f4f92394.txt Figure 1: data N(10, 1), start N(0, 1).

    ``l(y) = ln sigma + (y - mu)^2 / (2 sigma^2) + ln(2 pi)/2``; Fisher ``diag(1/sigma^2, 2)``.

    Parameters
    ----------
    data_mean : float, default 10.0
        Mean of the data law.
    data_std : float, default 1.0
        Standard deviation of the data law, > 0.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.tango import GaussianModel
    >>> m = GaussianModel(data_mean=10.0, data_std=1.0)
    >>> np.round(m.fisher([0.0, np.log(2.0)]), 6).tolist()          # diag(1/sigma^2, 2) at sigma = 2
    [[0.25, 0.0], [0.0, 2.0]]
    """

    unsupervised = True

    #: Largest ``|data_mean|`` and ``data_std``: their squares enter the expected gradient and must be float64 numbers.
    LIMIT = 1e150

    def __init__(self, data_mean: float = 10.0, data_std: float = 1.0):
        self.data_mean = as_float("data_mean", data_mean, low=-self.LIMIT, high=self.LIMIT)
        self.data_std = as_float("data_std", data_std, low=0.0, low_open=True, high=self.LIMIT)

    def __repr__(self):
        return f"GaussianModel(data_mean={self.data_mean:g}, data_std={self.data_std:g})"

    def _dim(self, p):
        return 2

    @staticmethod
    def _split(t):
        return t[..., 0], t[..., 1], np.exp(-2.0 * t[..., 1])  # mu, ln sigma, 1/sigma^2

    def _loss(self, theta, y, x=None):
        mu, ls, prec = self._split(theta)
        return ls + 0.5 * (np.asarray(y) - mu) ** 2 * prec + 0.5 * LOG_2PI

    def _grad(self, theta, y, x=None):
        mu, _, prec = self._split(theta)
        r = y - mu
        return _pair(-r * prec, 1.0 - r * r * prec)

    def _hessian(self, theta, y, x=None):
        mu, _, prec = self._split(theta)
        r = y - mu
        off = 2.0 * r * prec
        return np.stack([np.stack([prec * np.ones_like(r), off], -1), np.stack([off, 2.0 * r * r * prec], -1)], -2)

    def _sample(self, theta, x, rng):
        mu, ls, _ = self._split(theta)
        return mu + np.exp(ls) * rng.standard_normal(np.shape(mu))

    def sample_data(self, rng, shape):
        """Draws of the data distribution ``N(data_mean, data_std^2)``, of the given shape."""
        rng = as_instance("rng", rng, np.random.Generator, "a numpy.random.Generator")
        shape = _shape(shape)
        check_allocation("the data sample (shape)", shape, cheaper="a smaller shape")
        return self._sample_data(rng, shape)

    def _sample_data(self, rng, shape):
        return self.data_mean + self.data_std * rng.standard_normal(shape)

    def _sampled_gradients(self, rng, theta, draw, outer_product: bool = False):
        """Fused form of :meth:`Model.sampled_gradients` for one sample per step from the data law:
        ``y = m + s z``, ``y~ = mu + sigma z~``, so ``g~ = (-z~/sigma, 1 - z~^2)`` needs no residual."""
        if getattr(draw, "batch", None) != 1:
            return super()._sampled_gradients(rng, theta, draw, outer_product)
        z = rng.standard_normal((2, theta.shape[0]))
        mu, ls = theta[:, 0], theta[:, 1]
        inv_sigma = np.exp(-ls)
        r = (self.data_mean + self.data_std * z[0] - mu) * inv_sigma  # (y - mu) / sigma
        g = np.stack([-r * inv_sigma, 1.0 - r * r], axis=1)
        if outer_product:
            return g, g
        return g, np.stack([-z[1] * inv_sigma, 1.0 - z[1] * z[1]], axis=1)

    def _fisher_sum(self, theta, x):
        J = np.zeros((2, 2))
        J[0, 0], J[1, 1] = np.exp(-2.0 * theta[1]), 2.0
        return J

    def _fisher_diagonal(self, theta, X):
        return np.stack([np.exp(-2.0 * theta[..., 1]), np.full(theta.shape[:-1], 2.0)], axis=-1)

    def _fisher_diagonal_work(self, lead, rows):
        return lead + (2,)

    def _expected_gradient(self, theta, X, Y):
        """``E_{y ~ N(m, s^2)} dl/dtheta = (-(m - mu)/sigma^2, 1 - ((m - mu)^2 + s^2)/sigma^2)``."""
        # one parameter vector (the noise-free iterations call this at every step): numpy scalars, not 0-d arrays
        mu, ls = (theta[0], theta[1]) if theta.ndim == 1 else (theta[..., 0], theta[..., 1])
        prec = np.exp(-2.0 * ls)
        r = self.data_mean - mu
        return _pair(-r * prec, 1.0 - (r * r + self.data_std**2) * prec)

    def natural_gradient_flow_closed_form(self, theta0, t) -> np.ndarray:
        """Exact solution of eq. 12, ``dtheta/dt = -J^-1 E g``, for this model (derived in notebook 04), at times
        ``t >= 0`` (any shape; the result has shape ``t.shape + (2,)``):

        ``mu(t) = m + (mu_0 - m) e^-t`` and, with ``D = (m - mu_0)^2``,
        ``sigma^2(t) = s^2 + (sigma_0^2 - s^2 + D) e^-t - D e^-2t`` (from ``d sigma^2/dt = (m - mu)^2 + s^2 - sigma^2``).

        Evaluated as ``sigma^2(t) = sigma_0^2 e^-t + (s^2 + D e^-t) (1 - e^-t)``, a sum of non-negative terms, in log
        space (``1 - e^-t = -expm1(-t)``): the printed form cancels catastrophically when ``sigma_0^2`` is tiny and
        ``D`` huge (it returned ln sigma = -inf at ``theta_0 = (1e6, -30)``, t = 0 and lost all digits near t = 0).
        """
        theta0 = self._params(theta0, None, "theta0", ndim=1)
        t = as_array("t", t)
        if np.any(t < 0):
            raise ValueError(f"t must be >= 0 (the flow starts at t = 0), got {t.min():g}")
        mu0, ls0 = theta0
        m = self.data_mean
        with np.errstate(divide="ignore", over="ignore"):  # log(0) = -inf at t = 0 or D = 0: a vanishing term
            log_rise = np.log(-np.expm1(-t))  # ln(1 - e^-t)
            log_s2, log_D = 2.0 * np.log(self.data_std), 2.0 * np.log(abs(m - mu0))  # no square to overflow
            log_var = np.logaddexp(2.0 * ls0 - t, log_rise + np.logaddexp(log_s2, log_D - t))
            path = np.stack([m + (mu0 - m) * np.exp(-t), 0.5 * log_var], axis=-1)
        return _finite("GaussianModel.natural_gradient_flow_closed_form", path)


class LinearRegressionModel(Model):
    """``y ~ N(theta^T x, s2)``: ``l = (y - theta^T x)^2 / (2 s2) + ln(2 pi s2)/2``, Fisher ``x x^T / s2``.

    000_3b01ec78f4f92394.txt, "Quadratic output losses": ``s2`` should be the actual mean square error
    of the outputs; it scales g and g~ and the law ``N(theta^T x, s2)`` of the pseudo-samples.
    With ``s2 = 1`` this is Proposition 2's ``l = 1/2 |y - theta^T x|^2`` (up to a constant).

    Parameters
    ----------
    s2 : float, default 1.0
        The output variance, > 0.

    Examples
    --------
    >>> from theorytools.tango import LinearRegressionModel
    >>> LinearRegressionModel(s2=2.0).fisher([0.0, 0.0], [[1.0, 2.0]]).tolist()     # x x^T / s2
    [[0.5, 1.0], [1.0, 2.0]]
    """

    def __init__(self, s2: float = 1.0):
        self.s2 = positive("s2", s2)

    def __repr__(self):
        return f"LinearRegressionModel(s2={self.s2:g})"

    @classmethod
    def fitted(cls, theta, x, y) -> "LinearRegressionModel":
        """The model with ``s2`` set to the actual mean square error of the outputs at ``theta`` (the text's advice:
        "sigma^2 should be set to the actual mean square error on the outputs, for the natural gradient to work best")."""
        probe = cls()
        X, Y = probe._dataset(x, y)
        theta = probe._params(theta, X, ndim=1)
        with np.errstate(over="ignore", invalid="ignore"):
            r = Y - X @ theta
            s2 = float(np.mean(r * r))
        if not np.isfinite(s2):
            raise NonFiniteError("LinearRegressionModel.fitted: the mean square error of y at theta overflows")
        if s2 <= 0.0:
            raise ValueError("y is fitted exactly by x at theta (mean square error 0): give the variance s2 > 0 to "
                             "LinearRegressionModel(s2) directly")
        return cls(s2)

    def _loss(self, theta, y, x):
        r = y - np.sum(theta * x, axis=-1)
        return 0.5 * r * r / self.s2 + 0.5 * (LOG_2PI + np.log(self.s2))

    def _grad(self, theta, y, x):
        r = y - np.sum(theta * x, axis=-1)
        return -(r / self.s2)[..., None] * x

    def _hessian(self, theta, y, x):
        shape = np.broadcast_shapes(np.shape(y), x.shape[:-1], theta.shape[:-1])
        return np.broadcast_to(x[..., :, None] * x[..., None, :] / self.s2, shape + (x.shape[-1],) * 2)

    def _sample(self, theta, x, rng):
        mean = np.sum(theta * x, axis=-1)
        return mean + np.sqrt(self.s2) * rng.standard_normal(np.shape(mean))

    def _fisher_sum(self, theta, X):
        return X.T @ X / self.s2

    def _fisher_diagonal(self, theta, X):
        return np.broadcast_to(np.mean(X * X, axis=0) / self.s2, theta.shape)

    def _fisher_diagonal_work(self, lead, rows):
        return lead + (1,)


def _bernoulli(z):
    """``(sigmoid(z), sigmoid(-z))``, each to full relative precision for every z (``1 - sigmoid(z)`` loses all its
    digits once z > 37, which zeroes the Fisher weight ``p (1 - p)`` of a confident model)."""
    sp = np.logaddexp(0.0, z)  # softplus(z) = -ln sigmoid(-z)
    return np.exp(z - sp), np.exp(-sp)


class LogisticModel(Model):
    """``P(y = 1 | x) = sigmoid(theta^T x)``, ``y in {0, 1}``; Fisher ``p (1 - p) x x^T``.

    A model for TANGO's classification examples (000_3b01ec78f4f92394.txt eqs 1, 10).  It takes no arguments.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.tango import LogisticModel
    >>> np.round(LogisticModel().fisher([0.0, 0.0], [[1.0, 2.0]]), 6).tolist()      # p = 1/2: x x^T / 4
    [[0.25, 0.5], [0.5, 1.0]]
    """

    def __repr__(self):
        return "LogisticModel()"

    def _labels(self, name, y):
        return _class_labels(name, y, 2)

    def _loss(self, theta, y, x):
        z = np.sum(theta * x, axis=-1)
        return np.logaddexp(0.0, z) - y * z

    def _grad(self, theta, y, x):
        p, q = _bernoulli(np.sum(theta * x, axis=-1))
        return np.where(y == 1, -q, p)[..., None] * x  # p - y, with 1 - p taken as sigmoid(-z)

    def _hessian(self, theta, y, x):
        p, q = _bernoulli(np.sum(theta * x, axis=-1))
        w = np.broadcast_to(p * q, np.broadcast_shapes(p.shape, np.shape(y)))  # the same for every y
        return w[..., None, None] * x[..., :, None] * x[..., None, :]

    def _sample(self, theta, x, rng):
        p, _ = _bernoulli(np.sum(theta * x, axis=-1))
        return (rng.random(np.shape(p)) < p).astype(float)

    def _fisher_sum(self, theta, X):
        p, q = _bernoulli(X @ theta)
        return (X * (p * q)[:, None]).T @ X

    def _fisher_diagonal(self, theta, X):
        p, q = _bernoulli(theta @ X.T)  # (..., N)
        return (p * q) @ (X * X) / X.shape[0]


def _class_labels(name, y, classes):
    """Class labels ``0..classes-1`` of any shape, as int64 (ValueError naming ``name`` and the first bad entry)."""
    a = as_array(name, y)
    return as_labels(name, a.reshape(-1), classes).reshape(a.shape)


class SoftmaxModel(Model):
    """``P(y = c | x) = softmax(W x)_c``, ``c in {0..K-1}``, ``theta = W`` (K x p) flattened row-major.

    A model for TANGO's classification examples (000_3b01ec78f4f92394.txt eqs 1, 10).

    ``dl/dW = (p - e_y) x^T``, so ``dl/dtheta = (p - e_y) (x) x`` (Kronecker, row-major), and the Hessian
    and Fisher are ``(diag p - p p^T) (x) x x^T``.  The Fisher is singular by construction: adding one vector to
    every row of W changes no probability, so J has the null space ``{1 (x) c}`` (rank at most ``(K - 1) p``); what
    the data identify is W minus its mean row (equivalently, the logits up to a common shift).

    Parameters
    ----------
    num_classes : int, default 3
        The number of classes K >= 2.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.tango import SoftmaxModel
    >>> J = SoftmaxModel(num_classes=2).fisher(np.zeros(2), [[1.0]])     # p = (1/2, 1/2), x = 1
    >>> np.round(J, 6).tolist(), int(np.linalg.matrix_rank(J))           # rank (K - 1) p = 1
    ([[0.25, -0.25], [-0.25, 0.25]], 1)
    """

    def __init__(self, num_classes: int = 3):
        self.K = as_int("num_classes", num_classes, low=2)

    def __repr__(self):
        return f"SoftmaxModel(num_classes={self.K})"

    def _dim(self, p):
        return self.K * p

    def _labels(self, name, y):
        return _class_labels(name, y, self.K)

    def _probs(self, theta, x):
        p_in = x.shape[-1]
        W = theta.reshape(theta.shape[:-1] + (self.K, p_in))
        z = np.einsum("...kp,...p->...k", W, x)
        z = z - z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True), z

    def _loss(self, theta, y, x):
        _, z = self._probs(theta, x)
        lead = np.broadcast_shapes(z.shape[:-1], np.shape(y))
        z = np.broadcast_to(z, lead + (self.K,))
        zy = np.take_along_axis(z, np.broadcast_to(y, lead)[..., None].astype(np.int64), axis=-1)[..., 0]
        return np.log(np.exp(z).sum(axis=-1)) - zy

    def _grad(self, theta, y, x):
        p, _ = self._probs(theta, x)
        r = p - (np.asarray(y)[..., None] == np.arange(self.K))  # p - e_y, without a K x K identity
        return (r[..., :, None] * x[..., None, :]).reshape(r.shape[:-1] + (-1,))

    def _hessian(self, theta, y, x):
        p, _ = self._probs(theta, x)
        S = p[..., :, None] * np.eye(self.K) - p[..., :, None] * p[..., None, :]
        X = x[..., :, None] * x[..., None, :]
        H = S[..., :, None, :, None] * X[..., None, :, None, :]
        d = self.K * x.shape[-1]
        H = H.reshape(H.shape[:-4] + (d, d))
        return np.broadcast_to(H, np.broadcast_shapes(H.shape[:-2], np.shape(y)) + (d, d))

    def _sample(self, theta, x, rng):
        p, _ = self._probs(theta, x)
        u = rng.random(p.shape[:-1])[..., None]
        return np.minimum(np.sum(np.cumsum(p, axis=-1) < u, axis=-1), self.K - 1).astype(float)

    def _fisher_sum(self, theta, X):
        """``sum_n (diag p_n - p_n p_n^T) (x) x_n x_n^T`` without one (d, d) term per row: the diagonal blocks
        ``sum_n p_nk x_n x_n^T`` minus ``Z^T Z`` with rows ``Z_n = p_n (x) x_n`` (memory N d, not N d^2)."""
        N, p = X.shape
        P, _ = self._probs(theta, X)
        Z = (P[:, :, None] * X[:, None, :]).reshape(N, -1)
        F = -(Z.T @ Z)
        k = np.arange(self.K)
        F.reshape(self.K, p, self.K, p)[k, :, k, :] += np.einsum("nk,np,nq->kpq", P, X, X)
        return F

    def _fisher_diagonal(self, theta, X):
        p, _ = self._probs(theta[..., None, :], X)  # (..., N, K)
        return np.einsum("...nk,np->...kp", p * (1.0 - p), X * X).reshape(theta.shape) / X.shape[0]

    def _fisher_diagonal_work(self, lead, rows):
        return lead + (rows, self.K)
