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
"""

from __future__ import annotations

import numpy as np

PARAMS = ("mu_sigma", "mu_log_sigma", "mu_log_var", "natural")


def _check_point(mu, sigma):
    mu, sigma = float(mu), float(sigma)
    if not np.isfinite(mu):
        raise ValueError(f"mu must be finite, got {mu}")
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be finite and > 0, got {sigma}")
    return mu, sigma


def gaussian_fisher(mu, sigma, param: str) -> np.ndarray:
    """The 2 x 2 Fisher of N(mu, sigma^2) in the coordinates ``param`` (see the module docstring), at (mu, sigma)."""
    mu, sigma = _check_point(mu, sigma)
    s2 = sigma * sigma
    if param == "mu_sigma":
        return np.diag([1.0 / s2, 2.0 / s2])
    if param == "mu_log_sigma":
        return np.diag([1.0 / s2, 2.0])
    if param == "mu_log_var":
        return np.diag([1.0 / s2, 0.5])
    if param == "natural":
        return np.array([[s2, 2.0 * mu * s2], [2.0 * mu * s2, 2.0 * s2 * s2 + 4.0 * mu * mu * s2]])
    raise ValueError(f"param must be one of {PARAMS}, got {param!r}")


def gaussian_coordinates(mu, sigma, param: str) -> np.ndarray:
    """The coordinates of N(mu, sigma^2) in the parameterization ``param``."""
    mu, sigma = _check_point(mu, sigma)
    if param == "mu_sigma":
        return np.array([mu, sigma])
    if param == "mu_log_sigma":
        return np.array([mu, np.log(sigma)])
    if param == "mu_log_var":
        return np.array([mu, 2.0 * np.log(sigma)])
    if param == "natural":
        return np.array([mu / sigma**2, -0.5 / sigma**2])
    raise ValueError(f"param must be one of {PARAMS}, got {param!r}")


def gaussian_mean_sd(z, param: str) -> tuple:
    """Inverse of :func:`gaussian_coordinates`: (mu, sigma) from the coordinates ``z``."""
    a, b = (float(v) for v in z)
    if param == "mu_sigma":
        return a, b
    if param == "mu_log_sigma":
        return a, float(np.exp(b))
    if param == "mu_log_var":
        return a, float(np.exp(0.5 * b))
    if param == "natural":
        if not b < 0:
            raise ValueError(f"the natural coordinate -1/(2 sigma^2) must be < 0, got {b}")
        s2 = -0.5 / b
        return a * s2, float(np.sqrt(s2))
    raise ValueError(f"param must be one of {PARAMS}, got {param!r}")


def gaussian_log_density(y, z, param: str):
    """``log N(y; mu, sigma^2)`` with (mu, sigma) given by the coordinates ``z`` in ``param``."""
    mu, sigma = gaussian_mean_sd(z, param)
    return -0.5 * ((np.asarray(y) - mu) / sigma) ** 2 - np.log(sigma) - 0.5 * np.log(2.0 * np.pi)


def gaussian_mu_logvar_hessian(y, mu, gamma) -> np.ndarray:
    """H_L of 001_7d31b3ff3a2f0401.txt §9.2: the Hessian of ``-log N(y; mu, e^gamma)`` in z = (mu, gamma),
    ``e^-gamma [[1, y - mu], [y - mu, (y - mu)^2 / 2]]``.

    Its determinant is ``-(y - mu)^2 e^{-2 gamma} / 2``: indefinite for *every* y != mu and every (mu, gamma), not
    only "for certain settings" (the paper's example y = 2, mu = gamma = 0 is one of them); PSD and singular at y = mu.
    """
    y, mu, gamma = float(y), float(mu), float(gamma)
    if not all(np.isfinite(v) for v in (y, mu, gamma)):
        raise ValueError(f"y, mu and gamma must be finite, got {(y, mu, gamma)}")
    r = y - mu
    return np.exp(-gamma) * np.array([[1.0, r], [r, 0.5 * r * r]])


def softmax(z) -> np.ndarray:
    z = np.asarray(z, dtype=float)
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def categorical_fisher(z) -> np.ndarray:
    """F_R = diag(p) - p p^T with p = softmax(z): the Fisher of the categorical distribution in its natural parameters z
    (= the Hessian of the log-sum-exp loss, 001_7d31b3ff3a2f0401.txt §9.2).  Singular: F_R 1 = 0 (z + c 1 is the same
    distribution)."""
    z = np.asarray(z, dtype=float)
    if z.ndim != 1 or z.size == 0 or not np.all(np.isfinite(z)):
        raise ValueError(f"z must be a finite, non-empty vector of logits, got shape {z.shape}")
    p = softmax(z)
    return np.diag(p) - np.outer(p, p)


def categorical_fisher_pinv(z) -> np.ndarray:
    """``F_R^+`` for F_R = diag(p) - p p^T, as ``(F_R + 1 1^T / K)^-1 - 1 1^T / K`` (exact: the null space of F_R is
    spanned by 1).  A generic pseudo-inverse is unreliable here: rounding leaves the null eigenvalue at ~eps max(p),
    which exceeds the default cut eps * lambda_max(F_R) when some p_k is small (p = (0.992, 0.008): 2e-15 relative),
    and 1/(that eigenvalue) then swamps the result."""
    F = categorical_fisher(z)
    K = F.shape[0]
    U = np.full((K, K), 1.0 / K)
    return np.linalg.inv(F + U) - U
