"""Parameterization invariance of natural-gradient steps (001_7d31b3ff3a2f0401.txt §12, Theorem 1, Corollary 2,
eqs 11-13), on a model where every curvature matrix is known in closed form.

Model: y ~ N(mu, sigma^2) with theta = (mu, ln sigma); objective h(theta) = E_data[-log p(y | theta)] for data
N(m_d, s_d^2), i.e. ``h = ln sigma + (s_d^2 + (m_d - mu)^2) / (2 sigma^2) + const``.  Curvature matrices in theta:
the Fisher F = diag(1/sigma^2, 2); the empirical Fisher F-bar = E_data[score score^T]; the Hessian H of h.
Reparameterization: theta = zeta(gamma) = (g1 + a g2^2, b g2 + c g1^2), whose component Hessians are constant,
so the C of eq. 12 is max(2|a|, 2|c|).

Text note (eq. 12): the printed step ``|d^T H d| <= 1/2 ||H||_2 ||d||^2`` is false (H = I, d = e_1 gives 1 <= 1/2);
the correct ``|d^T H d| <= ||H||_2 ||d||^2`` is what yields the stated final bound ``1/2 C sqrt(n) ||d_gamma||^2``.

Steps solve ``B d = grad h`` on the Jacobi-equilibrated system ``(D B D) (D^-1 d) = D grad h``, ``D = |diag B|^-1/2``:
the curvature at ln sigma = 30 is diag(e^-60, 2), and a rescaling of either coordinate (any diagonal J) gives the same
equilibrated system, so the direction maps back exactly (to rounding) at every scale.  Every argument is validated
(:mod:`theorytools.linalg.validation`); a curvature or gradient that overflows (ln sigma < -354) raises
:class:`~theorytools.errors.NonFiniteError`, a singular curvature (the Hessian where |m_d - mu| = s_d)
:class:`~theorytools.errors.HypothesisError`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theorytools.errors import HypothesisError
from theorytools.fisher.distributions import _finite
from theorytools.linalg import as_choice, as_float, as_instance, as_matrix, as_vector, positive

KINDS = ("fisher", "empirical_fisher", "hessian")
#: path_gap refuses more steps than this (T / alpha): a loop that long is a mistake, not a computation.
MAX_PATH_STEPS = 10**6


@dataclass(frozen=True)
class GaussianFitProblem:
    """Fit N(mu, sigma^2), theta = (mu, ln sigma), to data N(m_d, s_d^2); reparameterization constants a, b, c."""

    m_d: float = 1.0
    s_d: float = 0.7
    a: float = 0.3
    b: float = 0.5
    c: float = 0.1

    def __post_init__(self):
        values = {"m_d": as_float("m_d", self.m_d), "s_d": positive("s_d", self.s_d), "a": as_float("a", self.a),
                  "b": as_float("b", self.b), "c": as_float("c", self.c)}
        if values["b"] == 0:
            raise ValueError("b must be non-zero (zeta must be invertible near gamma = 0), got 0")
        for k, v in values.items():  # numpy floats: s_d**2 overflows to inf (reported), not to Python's OverflowError
            object.__setattr__(self, k, np.float64(v))

    # -- theta coordinates ----------------------------------------------------------------
    def _theta(self, theta):
        return as_vector("theta", theta, 2)

    def h(self, theta) -> float:
        mu, ls = self._theta(theta)
        with np.errstate(over="ignore"):  # reported by _finite
            return float(_finite("h", ls + (self.s_d**2 + (self.m_d - mu) ** 2) * np.exp(-2.0 * ls) / 2.0))

    def grad(self, theta) -> np.ndarray:
        mu, ls = self._theta(theta)
        with np.errstate(over="ignore", invalid="ignore"):  # reported by _finite
            e = np.exp(-2.0 * ls)
            return _finite("grad h", np.array([-(self.m_d - mu) * e, 1.0 - (self.s_d**2 + (self.m_d - mu) ** 2) * e]))

    def hessian(self, theta) -> np.ndarray:
        mu, ls = self._theta(theta)
        with np.errstate(over="ignore", invalid="ignore"):  # reported by _finite
            e, r = np.exp(-2.0 * ls), self.m_d - mu
            return _finite("the Hessian of h", np.array([[e, 2.0 * r * e], [2.0 * r * e, 2.0 * (self.s_d**2 + r * r) * e]]))

    def fisher(self, theta) -> np.ndarray:
        theta = self._theta(theta)
        with np.errstate(over="ignore"):  # reported by _finite
            return _finite("the Fisher", np.diag([np.exp(-2.0 * theta[1]), 2.0]))

    def empirical_fisher(self, theta) -> np.ndarray:
        """E over y ~ N(m_d, s_d^2) of score score^T, score = (-(y - mu)/s^2, 1 - (y - mu)^2/s^2): Gaussian moments of
        r = y - mu ~ N(m_d - mu, s_d^2) (E r^2, E r^3, E r^4)."""
        mu, ls = self._theta(theta)
        with np.errstate(over="ignore", invalid="ignore"):  # reported by _finite
            p = np.exp(-2.0 * ls)  # 1/sigma^2
            d, v = self.m_d - mu, self.s_d**2
            r2, r3, r4 = d * d + v, d**3 + 3 * d * v, d**4 + 6 * d * d * v + 3 * v * v
            return _finite("the empirical Fisher", np.array([[r2 * p * p, -(d - r3 * p) * p],
                                                              [-(d - r3 * p) * p, 1.0 - 2.0 * r2 * p + r4 * p * p]]))

    # -- the reparameterization ---------------------------------------------------------------
    def zeta(self, gamma) -> np.ndarray:
        g1, g2 = as_vector("gamma", gamma, 2)
        return np.array([g1 + self.a * g2 * g2, self.b * g2 + self.c * g1 * g1])

    def zeta_jacobian(self, gamma) -> np.ndarray:
        g1, g2 = as_vector("gamma", gamma, 2)
        return np.array([[1.0, 2.0 * self.a * g2], [2.0 * self.c * g1, self.b]])

    @property
    def C(self) -> float:
        """sup_i ||H_[zeta]_i||_2 (eq. 12): the component Hessians are diag(0, 2a) and diag(2c, 0)."""
        return max(2.0 * abs(self.a), 2.0 * abs(self.c))

    def pulled_back(self, kind: str, gamma) -> np.ndarray:
        """``J_zeta^T B_theta J_zeta`` (Theorem 1's transformation) for ``kind`` in fisher, empirical_fisher, hessian."""
        kind = as_choice("kind", kind, KINDS)
        J = self.zeta_jacobian(gamma)
        return J.T @ getattr(self, kind)(self.zeta(gamma)) @ J


def _solve(B, g, what: str) -> np.ndarray:
    """``B^-1 g`` for a symmetric invertible (possibly indefinite) ``B``, solved on its Jacobi-equilibrated form: the
    same numbers, to rounding, in every diagonal rescaling of the coordinates (see the module docstring)."""
    d = np.abs(np.diag(B))
    D = 1.0 / np.sqrt(np.where(d > 0, d, 1.0))
    try:
        y = np.linalg.solve(D[:, None] * B * D[None, :], D * g)
    except np.linalg.LinAlgError:
        raise HypothesisError(f"{what} is singular here (exactly, or after an entry underflowed float64): the "
                              "natural-gradient step is undefined") from None
    return _finite(f"the step B^-1 grad h with B = {what}", D * y)


def _args(problem, alpha):
    return as_instance("problem", problem, GaussianFitProblem), positive("alpha", alpha)


def ng_step_theta(problem, theta, alpha, kind="fisher") -> np.ndarray:
    """``theta - alpha B^-1 grad h`` (eq. 9)."""
    problem, alpha = _args(problem, alpha)
    kind = as_choice("kind", kind, KINDS)
    theta = as_vector("theta", theta, 2)
    return theta - alpha * _solve(getattr(problem, kind)(theta), problem.grad(theta), f"the {kind} at theta")


def ng_step_gamma(problem, gamma, alpha, B_gamma) -> np.ndarray:
    """``gamma - alpha B_gamma^-1 J^T grad h``, with ``B_gamma`` computed in gamma coordinates by the caller."""
    problem, alpha = _args(problem, alpha)
    gamma, B_gamma = as_vector("gamma", gamma, 2), as_matrix("B_gamma", B_gamma, 2)
    g = problem.zeta_jacobian(gamma).T @ problem.grad(problem.zeta(gamma))
    return gamma - alpha * _solve(B_gamma, g, "B_gamma")


def one_step_discrepancy(problem, gamma, alpha, kind="fisher") -> tuple:
    """``(|zeta(gamma + d_gamma) - (theta + d_theta)|, 1/2 C sqrt(n) |d_gamma|^2)`` for one step of size alpha with the
    curvature ``kind`` (eqs 11-12; the bound holds when J d_gamma = d_theta, which Theorem 1 gives for F and F-bar)."""
    problem, alpha = _args(problem, alpha)
    kind = as_choice("kind", kind, KINDS)
    gamma = as_vector("gamma", gamma, 2)
    theta = problem.zeta(gamma)
    d_theta = ng_step_theta(problem, theta, alpha, kind) - theta
    d_gamma = ng_step_gamma(problem, gamma, alpha, problem.pulled_back(kind, gamma)) - gamma
    err = float(np.linalg.norm(problem.zeta(gamma + d_gamma) - (theta + d_theta)))
    return err, 0.5 * problem.C * np.sqrt(2.0) * float(d_gamma @ d_gamma)


def path_gap(problem, gamma0, alpha, T: float, kind="fisher") -> float:
    """Largest distance between the theta-space NGD path and the gamma-space one mapped through zeta, over T/alpha steps
    of size alpha (§12: the two agree as alpha -> 0)."""
    problem, alpha = _args(problem, alpha)
    T, kind = positive("T", T), as_choice("kind", kind, KINDS)
    gamma0 = as_vector("gamma0", gamma0, 2)
    steps = round(T / alpha)
    if not 1 <= steps <= MAX_PATH_STEPS:
        raise ValueError(f"T / alpha must give between 1 and {MAX_PATH_STEPS:g} steps, got T = {T:g}, alpha = {alpha:g} "
                         f"({T / alpha:.3g} steps)")
    th, ga, gap = problem.zeta(gamma0), gamma0, 0.0
    for _ in range(steps):
        th = ng_step_theta(problem, th, alpha, kind)
        ga = ng_step_gamma(problem, ga, alpha, problem.pulled_back(kind, ga))
        gap = max(gap, float(np.linalg.norm(problem.zeta(ga) - th)))
    return gap
