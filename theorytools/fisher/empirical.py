"""The example of 001_7d31b3ff3a2f0401.txt §11.1: n = 1, f(x, theta) = theta, R = N(z, 1), S = {(0, 0)}, so
h(theta) = theta^2 / 2, grad h = theta, the empirical Fisher F-bar = theta^2 and the Fisher F = 1.

* Empirical-Fisher iteration with exponent xi: ``theta_{k+1} = theta_k - alpha_k (F-bar^xi)^-1 grad h
  = (1 - alpha_k |theta_k|^{-2 xi}) theta_k``.  The text's middle expression ``theta_k - alpha_k (theta_k^2)^xi theta_k``
  drops the inverse (a misprint: it would be the iteration with F-bar^xi, not its inverse); its right-hand side is right.
* Fisher iteration: ``theta_{k+1} = (1 - alpha_k) theta_k``, linear convergence with rate ``|1 - alpha|`` for
  0 < alpha < 2.

Both keep every iterate (``steps + 1`` numbers, refused up front by :func:`~theorytools.linalg.check_allocation` when
they cannot fit in memory).  An iterate that grows to :data:`DIVERGENCE_FACTOR` times ``|theta_0|`` warns once with
:class:`~theorytools.errors.DivergenceWarning` naming the step (the empirical-Fisher step blows up near theta = 0); one
that overflows or hits exactly 0 (F-bar = 0 has no inverse) raises :class:`~theorytools.errors.NonFiniteError`.
"""

from __future__ import annotations

import warnings

import numpy as np

from theorytools.errors import DivergenceWarning, NonFiniteError
from theorytools.linalg import as_array, as_float, as_int, check_allocation

#: An iterate this many times ``|theta_0|`` is reported with a DivergenceWarning (once per run).
DIVERGENCE_FACTOR = 1e3


def _steps(steps) -> int:
    steps = as_int("steps", steps)
    check_allocation("the iterates theta_0 .. theta_steps", (steps + 1,), cheaper="fewer steps")
    return steps


def _alphas(alpha, steps):
    a = as_array("alpha", alpha)
    if a.ndim == 0:
        a = np.full(steps, float(a))
    elif a.shape != (steps,):
        raise ValueError(f"alpha must be a positive number or a vector of steps = {steps} positive step sizes, "
                         f"got shape {a.shape}")
    if np.any(a <= 0):
        i = int(np.argmax(a <= 0))
        raise ValueError(f"alpha must be > 0, entry {i} is {a[i]:g}")
    return a


def _warn_if_diverging(th: np.ndarray, what: str) -> None:
    big = np.abs(th) > DIVERGENCE_FACTOR * abs(th[0])
    if th[0] != 0 and big.any():
        k = int(np.argmax(big))
        warnings.warn(f"{what}: |theta| grew from {abs(th[0]):.3g} to {abs(th[k]):.3g} by step {k}: the iteration is "
                      "diverging (try a smaller alpha)", DivergenceWarning, stacklevel=3)


def empirical_fisher_iterates(theta0: float, alpha, steps: int, xi: float) -> np.ndarray:
    """``theta_0 .. theta_steps`` of ``theta - alpha_k |theta|^{-2 xi} theta`` (1/2 <= xi <= 1).

    The empirical-Fisher iteration of 001_7d31b3ff3a2f0401.txt §11.1 (see the module docstring).  Stops with
    :class:`NonFiniteError` if an iterate hits exactly 0 (F-bar = 0 is not invertible) or overflows.

    Parameters
    ----------
    theta0 : float
        The starting point.
    alpha : float or array_like
        A step size > 0, or one per step (a vector of length ``steps``).
    steps : int
        The number of steps.
    xi : float
        The exponent of F-bar, in [1/2, 1].

    Returns
    -------
    numpy.ndarray
        The ``steps + 1`` iterates ``theta_0 .. theta_steps``.

    Examples
    --------
    With xi = 1/2 each step moves by alpha toward 0 (``theta - alpha sign(theta)``):

    >>> from theorytools.fisher import empirical_fisher_iterates
    >>> empirical_fisher_iterates(2.0, 0.5, 2, 0.5).tolist()
    [2.0, 1.5, 1.0]
    >>> print(f"{empirical_fisher_iterates(2.0, 0.5, 1, 1.0)[1]:.6f}")  # (1 - 0.5 / 4) * 2
    1.750000
    """
    theta0 = as_float("theta0", theta0)
    steps = _steps(steps)
    xi = as_float("xi", xi, low=0.5, high=1.0)
    a = _alphas(alpha, steps)
    th = np.empty(steps + 1)
    th[0] = theta0
    with np.errstate(over="ignore", divide="ignore"):  # reported below, naming the step
        for k in range(steps):
            if th[k] == 0.0 or not np.isfinite(th[k]):
                raise NonFiniteError(f"step {k}: theta = {th[k]}, the empirical Fisher theta^2 is not invertible")
            th[k + 1] = (1.0 - a[k] * abs(th[k]) ** (-2.0 * xi)) * th[k]
    if not np.isfinite(th[-1]):
        raise NonFiniteError(f"step {steps}: theta = {th[-1]}: the iteration overflowed")
    _warn_if_diverging(th, "the empirical-Fisher iteration")
    return th


def fisher_iterates(theta0: float, alpha, steps: int) -> np.ndarray:
    """``theta_0 .. theta_steps`` of ``(1 - alpha_k) theta`` (F = 1).

    The exact-Fisher iteration of 001_7d31b3ff3a2f0401.txt §11.1: linear convergence with rate ``|1 - alpha|``.

    Parameters
    ----------
    theta0 : float
        The starting point.
    alpha : float or array_like
        A step size > 0, or one per step (a vector of length ``steps``).
    steps : int
        The number of steps.

    Returns
    -------
    numpy.ndarray
        The ``steps + 1`` iterates ``theta_0 .. theta_steps``.

    Examples
    --------
    >>> from theorytools.fisher import fisher_iterates
    >>> fisher_iterates(2.0, 0.5, 3).tolist()  # halved at every step
    [2.0, 1.0, 0.5, 0.25]
    """
    theta0 = as_float("theta0", theta0)
    a = _alphas(alpha, _steps(steps))
    with np.errstate(over="ignore", invalid="ignore"):  # reported below, naming the step
        th = theta0 * np.concatenate([[1.0], np.cumprod(1.0 - a)])
    bad = ~np.isfinite(th)
    if bad.any():
        raise NonFiniteError(f"step {int(np.argmax(bad))}: theta overflowed (|1 - alpha| > 1 for too many steps)")
    _warn_if_diverging(th, "the Fisher iteration")
    return th
