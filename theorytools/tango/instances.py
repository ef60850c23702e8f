"""Seeded problem instances of the TANGO paper (000_3b01ec78f4f92394.txt): Figure 1's Gaussian model
and small synthetic datasets for linear, logistic and softmax regression."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theorytools.tango.models import GaussianModel, LinearRegressionModel, LogisticModel, SoftmaxModel


@dataclass(frozen=True, eq=False)
class TangoInstance:
    """A model, a start, and (supervised models) the dataset ``D = (x, y)`` whose rows TANGO samples, with
    ``theta_true``, the parameter of the model the synthetic labels were drawn from."""

    name: str
    model: object
    theta0: np.ndarray
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    theta_true: np.ndarray | None = None


def figure1() -> TangoInstance:
    """Figure 1: data N(10, 1), start N(0, 1), theta = (mu, ln sigma)."""
    return TangoInstance("Gaussian N(mu, sigma^2), data N(10, 1), start N(0, 1) (Figure 1)", GaussianModel(10.0, 1.0),
                         np.array([0.0, 0.0]))


def gaussian(data_mean: float = 3.0, data_std: float = 2.0) -> TangoInstance:
    """The Gaussian model with data of another mean and spread (Figure 1's s = 1 hides s vs s^2 mistakes)."""
    return TangoInstance(f"Gaussian N(mu, sigma^2), data N({data_mean:g}, {data_std:g}^2), start N(0, 1)",
                         GaussianModel(data_mean, data_std), np.array([0.0, 0.0]))


def linear_regression(p: int = 2, N: int = 200, s2: float = 1.0, seed: int = 0) -> TangoInstance:
    """``y = x^T theta_true + noise`` with Gaussian inputs of unequal scales; the model's s2 is the noise variance."""
    rng = np.random.default_rng([seed, p, N])
    x = rng.standard_normal((N, p)) * np.linspace(1.0, 0.5, p)
    w = rng.standard_normal(p)
    y = x @ w + np.sqrt(s2) * rng.standard_normal(N)
    return TangoInstance(f"linear regression p={p} N={N} s2={s2:g}", LinearRegressionModel(s2), np.zeros(p), x, y, w)


def logistic_regression(p: int = 2, N: int = 200, seed: int = 0) -> TangoInstance:
    rng = np.random.default_rng([seed, p, N, 1])
    x = np.hstack([rng.standard_normal((N, p - 1)), np.ones((N, 1))])  # a bias column
    w = rng.standard_normal(p)
    y = (rng.random(N) < 1.0 / (1.0 + np.exp(-x @ w))).astype(float)
    return TangoInstance(f"logistic regression p={p} N={N}", LogisticModel(), np.zeros(p), x, y, w)


def softmax_regression(K: int = 3, p: int = 2, N: int = 200, seed: int = 0) -> TangoInstance:
    rng = np.random.default_rng([seed, K, p, N, 2])
    x = np.hstack([rng.standard_normal((N, p - 1)), np.ones((N, 1))])
    W = rng.standard_normal((K, p))
    z = x @ W.T
    prob = np.exp(z - z.max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    y = (rng.random((N, 1)) > np.cumsum(prob, axis=1)).sum(axis=1).astype(float)
    return TangoInstance(f"softmax regression K={K} p={p} N={N}", SoftmaxModel(K), np.zeros(K * p), x, y, W.ravel())
