"""Fisher and generalized Gauss-Newton of a small network (001_7d31b3ff3a2f0401.txt §7-9, eqs 7-8 and §9.2).

Network: ``z = f(x, theta) = W2 tanh(W1 x) + c``, theta = (row-major W1, row-major W2), c a fixed output offset.  With the per-example Jacobian
J_f = dz/dtheta, the Fisher is ``F = mean_x J_f^T F_R(z) J_f`` (eq. 7) and the GGN is ``G = mean_(x,y) J_f^T H_L(y, z) J_f``
with H_L the Hessian of the loss L(y, z) = -log r(y|z) in z.  When R_{y|z} is an exponential family in its natural
parameters z, H_L = F_R does not depend on y and G = F on any data (§9.2): the Gaussian mean with unit variance
(H_L = F_R = I), the categorical with softmax in L (H_L = F_R = diag(p) - p p^T), and the 1-D Gaussian in its natural
parameters z = (mu/sigma^2, -1/(2 sigma^2)) (H_L = F_R = the Hessian of the log-partition, Cov(y, y^2); z_2 < 0 is
required, which the offset c = (0, -1) with small weights provides).  For the (mu, log sigma^2) Gaussian of §9.2, H_L
depends on y, E_{y ~ R}[H_L] = F_R, and G on data can be indefinite.

The empirical Fisher (§11) ``F-bar = mean_(x,y) J_f^T g g^T J_f`` with g = dL/dz at the data's labels is a third matrix;
its average over labels drawn from the model is F (E_y[g g^T] = F_R).
"""

from __future__ import annotations

import numpy as np

from theorytools.errors import HypothesisError
from theorytools.fisher.distributions import (
    categorical_fisher,
    gaussian_fisher,
    gaussian_mean_sd,
    gaussian_mu_logvar_hessian,
    softmax,
)

OUTPUTS = ("gaussian_mean", "categorical", "gaussian_mu_logvar", "gaussian_natural")


class TanhNet:
    """``z = W2 tanh(W1 x) + offset``: ``n_in -> n_hidden -> n_out``; ``offset`` (default 0) is not a parameter."""

    def __init__(self, n_in: int, n_hidden: int, n_out: int, offset=None):
        if min(n_in, n_hidden, n_out) < 1:
            raise ValueError(f"sizes must be >= 1, got {(n_in, n_hidden, n_out)}")
        self.shapes = ((n_hidden, n_in), (n_out, n_hidden))
        self.P = n_hidden * n_in + n_out * n_hidden
        self.offset = np.zeros(n_out) if offset is None else np.asarray(offset, dtype=float)
        if self.offset.shape != (n_out,) or not np.all(np.isfinite(self.offset)):
            raise ValueError(f"offset must be {n_out} finite numbers, got {offset}")

    def split(self, theta):
        theta = np.asarray(theta, dtype=float)
        if theta.shape != (self.P,):
            raise ValueError(f"theta must have {self.P} entries, got shape {theta.shape}")
        (h, i), (o, _) = self.shapes
        return theta[:h * i].reshape(h, i), theta[h * i:].reshape(o, h)

    def output(self, theta, x) -> np.ndarray:
        W1, W2 = self.split(theta)
        return W2 @ np.tanh(W1 @ np.asarray(x, dtype=float)) + self.offset

    def jacobian(self, theta, x) -> np.ndarray:
        """``dz/dtheta`` (n_out x P): dz/dW2[o, j] = a_j e_o; dz/dW1[j, i] = W2[:, j] (1 - a_j^2) x_i."""
        W1, W2 = self.split(theta)
        x = np.asarray(x, dtype=float)
        a = np.tanh(W1 @ x)
        n_out = W2.shape[0]
        dW1 = (W2 * (1.0 - a * a))[:, :, None] * x[None, None, :]  # (n_out, n_hidden, n_in)
        dW2 = np.eye(n_out)[:, :, None] * a[None, None, :]  # (n_out, n_out, n_hidden)
        return np.hstack([dW1.reshape(n_out, -1), dW2.reshape(n_out, -1)])


def _natural(z):
    if z.shape != (2,) or not z[1] < 0:
        raise HypothesisError(f"gaussian_natural needs outputs z = (mu/sigma^2, -1/(2 sigma^2)) with z_2 < 0, got z = {z}")
    return gaussian_fisher(*gaussian_mean_sd(z, "natural"), "natural")


def output_fisher(kind: str, z) -> np.ndarray:
    """F_R(z) of the output model."""
    z = np.asarray(z, dtype=float)
    if kind == "gaussian_natural":
        return _natural(z)
    if kind == "gaussian_mean":
        return np.eye(z.size)
    if kind == "categorical":
        return categorical_fisher(z)
    if kind == "gaussian_mu_logvar":
        return np.diag([np.exp(-z[1]), 0.5])
    raise ValueError(f"kind must be one of {OUTPUTS}, got {kind!r}")


def loss_hessian(kind: str, y, z) -> np.ndarray:
    """H_L(y, z) = d^2/dz^2 of -log r(y|z)."""
    z = np.asarray(z, dtype=float)
    if kind in ("gaussian_mean", "categorical", "gaussian_natural"):
        return output_fisher(kind, z)  # independent of y: natural parameters
    if kind == "gaussian_mu_logvar":
        return gaussian_mu_logvar_hessian(y, z[0], z[1])
    raise ValueError(f"kind must be one of {OUTPUTS}, got {kind!r}")


def fisher(net: TanhNet, theta, X, kind: str) -> np.ndarray:
    """``mean_x J_f^T F_R J_f`` (eq. 7)."""
    Js = [net.jacobian(theta, x) for x in X]
    return sum(J.T @ output_fisher(kind, net.output(theta, x)) @ J for J, x in zip(Js, X)) / len(X)


def ggn(net: TanhNet, theta, X, Y, kind: str) -> np.ndarray:
    """``mean_(x,y) J_f^T H_L(y, z) J_f`` on the data (X, Y)."""
    Js = [net.jacobian(theta, x) for x in X]
    return sum(J.T @ loss_hessian(kind, y, net.output(theta, x)) @ J for J, x, y in zip(Js, X, Y)) / len(X)


def loss_gradient(kind: str, y, z) -> np.ndarray:
    """g = dL/dz of L(y, z) = -log r(y|z): ``z - y``; ``softmax(z) - e_y``; for (mu, gamma): ``(-(y - mu) e^-gamma,
    (1 - (y - mu)^2 e^-gamma) / 2)``; for natural z: ``(E[y] - y, E[y^2] - y^2)`` (the log-partition's gradient minus
    the sufficient statistics)."""
    z = np.asarray(z, dtype=float)
    if kind == "gaussian_mean":
        return z - np.asarray(y, dtype=float)
    if kind == "categorical":
        return softmax(z) - np.eye(z.size)[int(y)]
    if kind == "gaussian_mu_logvar":
        r = float(y) - z[0]
        return np.array([-r * np.exp(-z[1]), 0.5 * (1.0 - r * r * np.exp(-z[1]))])
    if kind == "gaussian_natural":
        _natural(z)
        mu, sd = gaussian_mean_sd(z, "natural")
        return np.array([mu - float(y), mu * mu + sd * sd - float(y) ** 2])
    raise ValueError(f"kind must be one of {OUTPUTS}, got {kind!r}")


def empirical_fisher(net: TanhNet, theta, X, Y, kind: str) -> np.ndarray:
    """``mean_(x,y) J_f^T g g^T J_f`` with g = dL/dz at the data's labels (001_7d31b3ff3a2f0401.txt §11, eq. 9)."""
    scores = [net.jacobian(theta, x).T @ loss_gradient(kind, y, net.output(theta, x)) for x, y in zip(X, Y)]
    return sum(np.outer(s, s) for s in scores) / len(X)
