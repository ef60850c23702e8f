"""Predictive distributions R_{y|z} and their Fisher matrices in closed form (001_7d31b3ff3a2f0401.txt §5, §9.2;
002_add1c097d251ec63.txt A.1-A.3).

The 1-D Gaussian N(mu, sigma^2) in four parameterizations, with ``mu``, ``sigma`` the point where each is evaluated:

* ``"mu_sigma"``       z = (mu, sigma):                      F = diag(1/sigma^2, 2/sigma^2)
* ``"mu_log_sigma"``   z = (mu, ln sigma):                   F = diag(1/sigma^2, 2)
* ``"mu_log_var"``     z = (mu, gamma = ln sigma^2) (§9.2):  F = diag(1/sigma^2, 1/2)
* ``"natural"``        z = (mu/sigma^2, -1/(2 sigma^2)):     F = Cov(y, y^2) = [[s2, 2 mu s2], [2 mu s2, 2 s2^2 + 4 mu^2 s2]]
  (the Hessian of the log-partition; s2 = sigma^2)

Each is the pull-back ``J^T F J`` of any other through the change of parameters (tested), and equals E[score score^T]
and -E[Hessian of log p] (tests: Gauss-Hermite quadrature of finite-difference scores).

Arguments are validated by :mod:`theorytools.linalg.validation`; a point so far out that a Fisher entry over- or
underflows float64 (sigma = 1e-160: 1/sigma^2 = inf) raises :class:`~theorytools.errors.NonFiniteError` naming it.
"""

from __future__ import annotations

import numpy as np

from theorytools.errors import NonFiniteError
from theorytools.linalg import as_array, as_choice, as_float, as_vector, positive

PARAMS = ("mu_sigma", "mu_log_sigma", "mu_log_var", "natural")


def _finite(what: str, value):
    """``value``, or a NonFiniteError naming the quantity (the point is too far out for float64)."""
    if not np.all(np.isfinite(value)):
        raise NonFiniteError(f"{what} is not finite (it over- or underflows float64): the point is too far out")
    return value


def _check_point(mu, sigma):
    return as_float("mu", mu), positive("sigma", sigma)


def gaussian_fisher(mu, sigma, param: str) -> np.ndarray:
    """The 2 x 2 Fisher of N(mu, sigma^2) in the coordinates ``param`` (see the module docstring), at (mu, sigma)."""
    mu, sigma = _check_point(mu, sigma)
    param = as_choice("param", param, PARAMS)
    s2 = sigma * sigma
    with np.errstate(over="ignore", divide="ignore"):  # overflow is reported by _finite, naming the matrix
        if param == "mu_sigma":
            F = np.diag([1.0 / s2, 2.0 / s2])
        elif param == "mu_log_sigma":
            F = np.diag([1.0 / s2, 2.0])
        elif param == "mu_log_var":
            F = np.diag([1.0 / s2, 0.5])
        else:
            F = np.array([[s2, 2.0 * mu * s2], [2.0 * mu * s2, 2.0 * s2 * s2 + 4.0 * mu * mu * s2]])
    return _finite(f"the {param} Fisher at (mu, sigma) = ({mu:g}, {sigma:g})", F)


def gaussian_coordinates(mu, sigma, param: str) -> np.ndarray:
    """The coordinates of N(mu, sigma^2) in the parameterization ``param``."""
    mu, sigma = _check_point(mu, sigma)
    param = as_choice("param", param, PARAMS)
    if param == "mu_sigma":
        return np.array([mu, sigma])
    if param == "mu_log_sigma":
        return np.array([mu, np.log(sigma)])
    if param == "mu_log_var":
        return np.array([mu, 2.0 * np.log(sigma)])
    with np.errstate(over="ignore"):  # reported by _finite
        # mu / sigma^2 as (mu / sigma) / sigma: sigma^2 alone underflows for sigma < 1e-162 where the ratio need not
        z = np.array([(mu / sigma) / sigma, -0.5 / sigma / sigma])
    return _finite(f"the natural coordinates of N({mu:g}, {sigma:g}^2)", z)


def _mean_sd(name: str, z, param: str) -> tuple:
    """(mu, sigma) from the coordinates ``z`` (named ``name`` in messages) in ``param``."""
    a, b = as_vector(name, z, 2)
    param = as_choice("param", param, PARAMS)
    if param == "mu_sigma":
        if not b > 0:
            raise ValueError(f"{name} must have sigma = {name}[1] > 0 in mu_sigma coordinates, got {b:g}")
        return float(a), float(b)
    if param == "natural":
        if not b < 0:
            raise ValueError(f"{name} must have the natural coordinate {name}[1] = -1/(2 sigma^2) < 0, got {b:g}")
        with np.errstate(over="ignore", divide="ignore", under="ignore"):
            s2 = -0.5 / b
            mu, sd = a * s2, np.sqrt(s2)
    else:
        with np.errstate(over="ignore", under="ignore"):
            mu, sd = a, np.exp(b if param == "mu_log_sigma" else 0.5 * b)
    if not (np.isfinite(mu) and np.isfinite(sd) and sd > 0):
        raise NonFiniteError(f"{name} = ({a:g}, {b:g}) in {param} coordinates gives (mu, sigma) = ({mu:g}, {sd:g}), "
                             "outside float64 (sigma over- or underflows)")
    return float(mu), float(sd)


def gaussian_mean_sd(z, param: str) -> tuple:
    """Inverse of :func:`gaussian_coordinates`: (mu, sigma) from the coordinates ``z``."""
    return _mean_sd("z", z, param)


def gaussian_log_density(y, z, param: str):
    """``log N(y; mu, sigma^2)`` with (mu, sigma) given by the coordinates ``z`` in ``param``."""
    y = as_array("y", y, nonempty=False)
    mu, sigma = gaussian_mean_sd(z, param)
    with np.errstate(over="ignore"):  # reported by _finite
        out = -0.5 * ((y - mu) / sigma) ** 2 - np.log(sigma) - 0.5 * np.log(2.0 * np.pi)
    return _finite("log N(y; mu, sigma^2)", out)


def gaussian_mu_logvar_hessian(y, mu, gamma) -> np.ndarray:
    """H_L of 001_7d31b3ff3a2f0401.txt §9.2: the Hessian of ``-log N(y; mu, e^gamma)`` in z = (mu, gamma),
    ``e^-gamma [[1, y - mu], [y - mu, (y - mu)^2 / 2]]``.

    Its determinant is ``-(y - mu)^2 e^{-2 gamma} / 2``: indefinite for *every* y != mu and every (mu, gamma), not
    only "for certain settings" (the paper's example y = 2, mu = gamma = 0 is one of them); PSD and singular at y = mu.
    """
    y, mu, gamma = as_float("y", y), as_float("mu", mu), as_float("gamma", gamma)
    r = y - mu
    with np.errstate(over="ignore", invalid="ignore"):  # reported by _finite
        H = np.exp(-gamma) * np.array([[1.0, r], [r, 0.5 * r * r]])
    return _finite(f"H_L at (y, mu, gamma) = ({y:g}, {mu:g}, {gamma:g})", H)


def _softmax(z, axis: int = -1) -> np.ndarray:
    """softmax of a validated finite array along ``axis``: exp of the logits minus their maximum (no overflow; a
    probability below the float range becomes 0, also when z - max(z) itself overflows to -inf for logits 1e308
    apart)."""
    with np.errstate(under="ignore", over="ignore"):
        e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _complement(p, axis: int = -1) -> np.ndarray:
    """``1 - p_k`` for probabilities ``p`` along ``axis``, computed as ``sum_{j != k} p_j``: for a class with p_k near 1,
    ``1 - p_k`` in floating point is 0 (p = 1 - 4e-18 rounds to 1) while the sum of the others keeps its relative
    precision; F_R's diagonal p_k (1 - p_k) and the loss gradient's p_y - 1 depend on it."""
    p = np.moveaxis(p, axis, -1)
    K = p.shape[-1]
    return np.moveaxis(p @ (np.ones((K, K)) - np.eye(K)), -1, axis)


def softmax(z) -> np.ndarray:
    """``exp(z_k) / sum_j exp(z_j)`` along the last axis, for logits of any size (computed without overflow)."""
    z = as_array("z", z)
    if z.ndim == 0:
        raise ValueError(f"z must be a vector of logits (or an array of them along the last axis), got a scalar {z}")
    return _softmax(z)


def _categorical_fisher(p) -> np.ndarray:
    """diag(p) - p p^T from probabilities along the last axis (leading axes: a stack), its diagonal p_k (1 - p_k)
    computed with :func:`_complement`."""
    F = -p[..., :, None] * p[..., None, :]
    k = np.arange(p.shape[-1])
    F[..., k, k] = p * _complement(p)
    return F


def categorical_fisher(z) -> np.ndarray:
    """F_R = diag(p) - p p^T with p = softmax(z): the Fisher of the categorical distribution in its natural parameters z
    (= the Hessian of the log-sum-exp loss, 001_7d31b3ff3a2f0401.txt §9.2).  Singular: F_R 1 = 0 (z + c 1 is the same
    distribution).  The diagonal is ``p_k sum_{j != k} p_j`` (equal to p_k - p_k^2), so that a dominant class (logits
    40 apart: p = (4e-18, 1)) keeps its diagonal 4e-18 instead of the 0 of 1 - 1, and F_R 1 = 0 to rounding."""
    return _categorical_fisher(softmax(as_array("z", z, ndim=1)))


def categorical_fisher_pinv(z) -> np.ndarray:
    """``F_R^+`` for F_R = diag(p) - p p^T, in closed form: ``C diag(1/p) C`` with ``C = I - 1 1^T / K`` the projector
    off the null vector 1 (F_R C = C F_R = F_R; then F_R C diag(1/p) C F_R = F_R diag(1/p) F_R = F_R because
    ``F_R diag(1/p) = I - p 1^T`` and ``1^T p = 1``, and F_R^+ F_R = C is symmetric).  No rank decision and no inverse:
    a generic pseudo-inverse is unreliable here, because rounding leaves the null eigenvalue at ~eps max(p), above the
    cut eps * lambda_max(F_R) when some p_k is small.

    A class whose probability underflows to 0 (logits ~745 below the largest) has a zero row and column in F_R, and so
    in F_R^+ (the formula on the support); one with 0 < p_k < 1/1.8e308 has an entry 1/p_k beyond float64, a
    :class:`~theorytools.errors.NonFiniteError`."""
    return _categorical_fisher_pinv(softmax(as_array("z", z, ndim=1)))


def _categorical_fisher_pinv(p) -> np.ndarray:
    """:func:`categorical_fisher_pinv` from the probabilities ``p``."""
    S = np.flatnonzero(p > 0)
    with np.errstate(over="ignore", divide="ignore"):
        inv = 1.0 / p[S]
    if not np.all(np.isfinite(inv)):
        k = int(S[np.argmin(p[S])])
        raise NonFiniteError(f"F_R^+ has the entry 1/p_{k} = 1/{p[k]:.3g}, beyond float64 (z_{k} is ~{-np.log(p[k]):.0f} below "
                             "the largest logit)")
    n = S.size
    CinvC = np.diag(inv) - inv[:, None] / n - inv[None, :] / n + np.sum(inv) / n**2
    out = np.zeros((p.size, p.size))
    out[np.ix_(S, S)] = CinvC
    return _finite("F_R^+", out)
