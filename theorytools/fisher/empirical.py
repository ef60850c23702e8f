"""The example of 001_7d31b3ff3a2f0401.txt §11.1: n = 1, f(x, theta) = theta, R = N(z, 1), S = {(0, 0)}, so
h(theta) = theta^2 / 2, grad h = theta, the empirical Fisher F-bar = theta^2 and the Fisher F = 1.

* Empirical-Fisher iteration with exponent xi: ``theta_{k+1} = theta_k - alpha_k (F-bar^xi)^-1 grad h
  = (1 - alpha_k |theta_k|^{-2 xi}) theta_k``.  The text's middle expression ``theta_k - alpha_k (theta_k^2)^xi theta_k``
  drops the inverse (a misprint: it would be the iteration with F-bar^xi, not its inverse); its right-hand side is right.
* Fisher iteration: ``theta_{k+1} = (1 - alpha_k) theta_k``, linear convergence with rate |1 - alpha| for 0 < alpha < 2.
"""

from __future__ import annotations

import numpy as np

from theorytools.errors import NonFiniteError


def _alphas(alpha, steps):
    a = np.broadcast_to(np.asarray(alpha, dtype=float), (steps,)) if np.ndim(alpha) == 0 else np.asarray(alpha, dtype=float)
    if a.shape != (steps,) or not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ValueError(f"alpha must be a positive number or {steps} positive step sizes")
    return a


def empirical_fisher_iterates(theta0: float, alpha, steps: int, xi: float) -> np.ndarray:
    """``theta_0 .. theta_steps`` of ``theta - alpha_k |theta|^{-2 xi} theta`` (1/2 <= xi <= 1).  Stops with
    :class:`NonFiniteError` if an iterate hits exactly 0 (F-bar = 0 is not invertible) or overflows."""
    if not 0.5 <= xi <= 1.0:
        raise ValueError(f"xi must be in [1/2, 1], got {xi}")
    a = _alphas(alpha, steps)
    th = np.empty(steps + 1)
    th[0] = float(theta0)
    for k in range(steps):
        if th[k] == 0.0 or not np.isfinite(th[k]):
            raise NonFiniteError(f"step {k}: theta = {th[k]}, the empirical Fisher theta^2 is not invertible")
        th[k + 1] = (1.0 - a[k] * abs(th[k]) ** (-2.0 * xi)) * th[k]
    return th


def fisher_iterates(theta0: float, alpha, steps: int) -> np.ndarray:
    """``theta_0 .. theta_steps`` of ``(1 - alpha_k) theta`` (F = 1)."""
    a = _alphas(alpha, steps)
    return float(theta0) * np.concatenate([[1.0], np.cumprod(1.0 - a)])
