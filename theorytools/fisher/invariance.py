"""Parameterization invariance of natural-gradient steps (001_7d31b3ff3a2f0401.txt §12, Theorem 1, Corollary 2,
eqs 11-13), on a model where every curvature matrix is known in closed form.

Model: y ~ N(mu, sigma^2) with theta = (mu, ln sigma); objective h(theta) = E_data[-log p(y | theta)] for data
N(m_d, s_d^2), i.e. ``h = ln sigma + (s_d^2 + (m_d - mu)^2) / (2 sigma^2) + const``.  Curvature matrices in theta:
the Fisher F = diag(1/sigma^2, 2); the empirical Fisher F-bar = E_data[score score^T]; the Hessian H of h.
Reparameterization: theta = zeta(gamma) = (g1 + a g2^2, b g2 + c g1^2), whose component Hessians are constant,
so the C of eq. 12 is max(2|a|, 2|c|).

Text note (eq. 12): the printed step ``|d^T H d| <= 1/2 ||H||_2 ||d||^2`` is false (H = I, d = e_1 gives 1 <= 1/2);
the correct ``|d^T H d| <= ||H||_2 ||d||^2`` is what yields the stated final bound ``1/2 C sqrt(n) ||d_gamma||^2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GaussianFitProblem:
    """Fit N(mu, sigma^2), theta = (mu, ln sigma), to data N(m_d, s_d^2); reparameterization constants a, b, c."""

    m_d: float = 1.0
    s_d: float = 0.7
    a: float = 0.3
    b: float = 0.5
    c: float = 0.1

    def __post_init__(self):
        if not (self.s_d > 0 and np.isfinite(self.m_d)):
            raise ValueError(f"need finite m_d and s_d > 0, got m_d={self.m_d}, s_d={self.s_d}")
        if self.b == 0:
            raise ValueError("b must be non-zero (zeta must be invertible near gamma = 0)")

    # -- theta coordinates ----------------------------------------------------------------
    def h(self, theta) -> float:
        mu, ls = theta
        return float(ls + (self.s_d**2 + (self.m_d - mu) ** 2) * np.exp(-2.0 * ls) / 2.0)

    def grad(self, theta) -> np.ndarray:
        mu, ls = theta
        e = np.exp(-2.0 * ls)
        return np.array([-(self.m_d - mu) * e, 1.0 - (self.s_d**2 + (self.m_d - mu) ** 2) * e])

    def hessian(self, theta) -> np.ndarray:
        mu, ls = theta
        e, r = np.exp(-2.0 * ls), self.m_d - mu
        return np.array([[e, 2.0 * r * e], [2.0 * r * e, 2.0 * (self.s_d**2 + r * r) * e]])

    def fisher(self, theta) -> np.ndarray:
        return np.diag([np.exp(-2.0 * theta[1]), 2.0])

    def empirical_fisher(self, theta) -> np.ndarray:
        """E over y ~ N(m_d, s_d^2) of score score^T, score = (-(y - mu)/s^2, 1 - (y - mu)^2/s^2): Gaussian moments of
        r = y - mu ~ N(m_d - mu, s_d^2) (E r^2, E r^3, E r^4)."""
        mu, ls = theta
        p = np.exp(-2.0 * ls)  # 1/sigma^2
        d, v = self.m_d - mu, self.s_d**2
        r2, r3, r4 = d * d + v, d**3 + 3 * d * v, d**4 + 6 * d * d * v + 3 * v * v
        return np.array([[r2 * p * p, -(d - r3 * p) * p], [-(d - r3 * p) * p, 1.0 - 2.0 * r2 * p + r4 * p * p]])

    # -- the reparameterization ---------------------------------------------------------------
    def zeta(self, gamma) -> np.ndarray:
        g1, g2 = gamma
        return np.array([g1 + self.a * g2 * g2, self.b * g2 + self.c * g1 * g1])

    def zeta_jacobian(self, gamma) -> np.ndarray:
        g1, g2 = gamma
        return np.array([[1.0, 2.0 * self.a * g2], [2.0 * self.c * g1, self.b]])

    @property
    def C(self) -> float:
        """sup_i ||H_[zeta]_i||_2 (eq. 12): the component Hessians are diag(0, 2a) and diag(2c, 0)."""
        return max(2.0 * abs(self.a), 2.0 * abs(self.c))

    def pulled_back(self, kind: str, gamma) -> np.ndarray:
        """``J_zeta^T B_theta J_zeta`` (Theorem 1's transformation) for ``kind`` in fisher, empirical_fisher, hessian."""
        J = self.zeta_jacobian(gamma)
        return J.T @ getattr(self, kind)(self.zeta(gamma)) @ J


def ng_step_theta(problem, theta, alpha, kind="fisher") -> np.ndarray:
    """``theta - alpha B^-1 grad h`` (eq. 9)."""
    return theta - alpha * np.linalg.solve(getattr(problem, kind)(theta), problem.grad(theta))


def ng_step_gamma(problem, gamma, alpha, B_gamma) -> np.ndarray:
    """``gamma - alpha B_gamma^-1 J^T grad h``, with ``B_gamma`` computed in gamma coordinates by the caller."""
    g = problem.zeta_jacobian(gamma).T @ problem.grad(problem.zeta(gamma))
    return gamma - alpha * np.linalg.solve(B_gamma, g)


def one_step_discrepancy(problem, gamma, alpha, kind="fisher") -> tuple:
    """``(|zeta(gamma + d_gamma) - (theta + d_theta)|, 1/2 C sqrt(n) |d_gamma|^2)`` for one step of size alpha with the
    curvature ``kind`` (eqs 11-12; the bound holds when J d_gamma = d_theta, which Theorem 1 gives for F and F-bar)."""
    theta = problem.zeta(gamma)
    d_theta = ng_step_theta(problem, theta, alpha, kind) - theta
    d_gamma = ng_step_gamma(problem, gamma, alpha, problem.pulled_back(kind, gamma)) - gamma
    err = float(np.linalg.norm(problem.zeta(gamma + d_gamma) - (theta + d_theta)))
    return err, 0.5 * problem.C * np.sqrt(2.0) * float(d_gamma @ d_gamma)


def path_gap(problem, gamma0, alpha, T: float, kind="fisher") -> float:
    """Largest distance between the theta-space NGD path and the gamma-space one mapped through zeta, over T/alpha steps
    of size alpha (§12: the two agree as alpha -> 0)."""
    steps = round(T / alpha)
    th, ga, gap = problem.zeta(gamma0), np.asarray(gamma0, dtype=float), 0.0
    for _ in range(steps):
        th = ng_step_theta(problem, th, alpha, kind)
        ga = ng_step_gamma(problem, ga, alpha, problem.pulled_back(kind, ga))
        gap = max(gap, float(np.linalg.norm(problem.zeta(ga) - th)))
    return gap
