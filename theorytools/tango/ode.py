"""The natural-gradient ODE and its Euler scheme (000_3b01ec78f4f92394.txt eqs 12, 15, 32).

``dtheta/dt = -A(theta)^-1 F(theta)``; the natural gradient flow is ``A = J`` (the Fisher, eq. 10) and
``F = E g`` (the expected gradient).  The reference trajectory is ``scipy.integrate.solve_ivp`` (DOP853)
at ``rtol = atol = 1e-12``.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from theorytools.linalg.validation import real_array
from theorytools.errors import NonFiniteError


def _times(t) -> np.ndarray:
    t = np.atleast_1d(real_array("t", t))
    if t.ndim != 1 or not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(np.diff(t) < 0):
        raise ValueError(f"t must be a non-decreasing 1-D array of finite times >= 0, got {t!r}")
    return t


#: Eigenvalues of A below this fraction of the largest are treated as 0 (the minimum-norm solution).
PINV_RTOL = 1e-12


def _solve(A, F):
    """``A^+ F`` for a symmetric positive semidefinite A by its eigendecomposition: ``A^-1 F`` when A is
    well conditioned, the minimum-norm solution when it is singular (softmax in W: J has rank (K-1) p, and
    ``np.linalg.solve`` then returns a large arbitrary null-space component instead of raising)."""
    w, V = np.linalg.eigh(A)
    keep = w > PINV_RTOL * max(float(w[-1]), np.finfo(float).tiny)
    return V[:, keep] @ ((V[:, keep].T @ F) / w[keep])


def preconditioned_flow(F, A, theta0, t, rtol: float = 1e-12, atol: float = 1e-12) -> np.ndarray:
    """``theta(t)`` of ``dtheta/dt = -A(theta)^-1 F(theta)``, ``theta(0) = theta0`` (eqs 15, 32), shape (len(t), d)."""
    t = _times(t)
    theta0 = real_array("theta0", theta0)
    if t[-1] == 0.0:
        return np.repeat(theta0[None], t.size, axis=0)
    sol = solve_ivp(lambda _s, th: -_solve(A(th), F(th)), (0.0, float(t[-1])), theta0, method="DOP853",
                    t_eval=t, rtol=rtol, atol=atol)
    if not sol.success or not np.all(np.isfinite(sol.y)):
        raise NonFiniteError(f"preconditioned_flow: solve_ivp failed before t = {t[-1]:g}: {sol.message}")
    return sol.y.T


def natural_gradient_flow(model, theta0, t, x=None, y=None, **tol) -> np.ndarray:
    """Eq. 12: ``dtheta/dt = -J(theta)^-1 E_{(x,y) in D} dl/dtheta`` at the times ``t``, shape (len(t), d).

    ``x, y``: the dataset of a supervised model (None for the Gaussian model, whose data law is known)."""
    return preconditioned_flow(lambda th: model.expected_gradient(th, x, y), lambda th: model.fisher(th, x), theta0, t, **tol)


def euler_scheme(F, A, theta0, dt: float, steps: int) -> np.ndarray:
    """The explicit Euler scheme ``theta_{k+1} = theta_k - dt A(theta_k)^-1 F(theta_k)``, k = 0..steps (eqs 18, 20)."""
    theta = real_array("theta0", theta0).copy()
    out = [theta.copy()]
    for _ in range(int(steps)):
        theta = theta - dt * _solve(A(theta), F(theta))
        out.append(theta.copy())
    return np.array(out)
