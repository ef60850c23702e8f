"""Parameterization invariance of natural-gradient steps (001_7d31b3ff3a2f0401.txt §12, Theorem 1, Corollary 2).

Theorem 1, Corollary 2 and eqs 11-13, on a model where every curvature matrix is known in closed form.

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
:class:`~theorytools.errors.NonFiniteError`, a singular curvature (the Hessian where ``|m_d - mu| = s_d``)
:class:`~theorytools.errors.HypothesisError`.

Examples
--------
A Fisher step taken in theta and one taken in gamma, mapped through zeta, land within the bound of eq. 12:

>>> from theorytools.fisher import invariance
>>> problem = invariance.GaussianFitProblem()
>>> problem.fisher([0.0, 0.0]).tolist()  # diag(1/sigma^2, 2) at sigma = 1
[[1.0, 0.0], [0.0, 2.0]]
>>> err, bound = invariance.one_step_discrepancy(problem, [0.2, 0.1], 0.1)
>>> bool(err <= bound)
True
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
    """Fit N(mu, sigma^2), theta = (mu, ln sigma), to data N(m_d, s_d^2); reparameterization constants a, b, c.

    The model of the module docstring for 001_7d31b3ff3a2f0401.txt §12: ``zeta(gamma) = (g1 + a g2^2, b g2 + c g1^2)``.

    Parameters
    ----------
    m_d : float, default 1.0
        The data's mean.
    s_d : float, default 0.7
        The data's standard deviation, > 0.
    a, b, c : float, default 0.3, 0.5, 0.1
        The reparameterization's constants (b != 0).

    Examples
    --------
    >>> from theorytools.fisher import invariance
    >>> problem = invariance.GaussianFitProblem()
    >>> round(problem.h([0.0, 0.0]), 6)  # (s_d^2 + m_d^2) / 2 at mu = 0, sigma = 1
    0.745
    """

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
        """The objective ``h = ln sigma + (s_d^2 + (m_d - mu)^2) / (2 sigma^2)`` (E_data[-log p] up to a constant).

        Parameters
        ----------
        theta : array_like
            The point ``(mu, ln sigma)``.

        Returns
        -------
        float
            h(theta).

        Examples
        --------
        >>> import numpy as np
        >>> from theorytools.fisher import invariance
        >>> problem = invariance.GaussianFitProblem()  # m_d = 1, s_d = 0.7, a = 0.3, b = 0.5, c = 0.1
        >>> round(problem.h([1.0, 0.0]), 6)  # s_d^2 / 2 at mu = m_d, sigma = 1
        0.245
        """
        mu, ls = self._theta(theta)
        with np.errstate(over="ignore"):  # reported by _finite
            return float(_finite("h", ls + (self.s_d**2 + (self.m_d - mu) ** 2) * np.exp(-2.0 * ls) / 2.0))

    def grad(self, theta) -> np.ndarray:
        """The gradient of :meth:`h` in theta = (mu, ln sigma).

        Parameters
        ----------
        theta : array_like
            The point ``(mu, ln sigma)``.

        Returns
        -------
        numpy.ndarray
            ``(-(m_d - mu) / sigma^2, 1 - (s_d^2 + (m_d - mu)^2) / sigma^2)``.

        Examples
        --------
        >>> import numpy as np
        >>> from theorytools.fisher import invariance
        >>> problem = invariance.GaussianFitProblem()  # m_d = 1, s_d = 0.7, a = 0.3, b = 0.5, c = 0.1
        >>> np.round(problem.grad([0.0, 0.0]), 6).tolist()  # (-1, 1 - 1.49)
        [-1.0, -0.49]
        """
        mu, ls = self._theta(theta)
        with np.errstate(over="ignore", invalid="ignore"):  # reported by _finite
            e = np.exp(-2.0 * ls)
            return _finite("grad h", np.array([-(self.m_d - mu) * e, 1.0 - (self.s_d**2 + (self.m_d - mu) ** 2) * e]))

    def hessian(self, theta) -> np.ndarray:
        """The Hessian H of :meth:`h` in theta = (mu, ln sigma).

        Parameters
        ----------
        theta : array_like
            The point ``(mu, ln sigma)``.

        Returns
        -------
        numpy.ndarray
            The 2 x 2 Hessian.

        Examples
        --------
        >>> import numpy as np
        >>> from theorytools.fisher import invariance
        >>> problem = invariance.GaussianFitProblem()  # m_d = 1, s_d = 0.7, a = 0.3, b = 0.5, c = 0.1
        >>> np.round(problem.hessian([0.0, 0.0]), 6).tolist()
        [[1.0, 2.0], [2.0, 2.98]]
        """
        mu, ls = self._theta(theta)
        with np.errstate(over="ignore", invalid="ignore"):  # reported by _finite
            e, r = np.exp(-2.0 * ls), self.m_d - mu
            return _finite("the Hessian of h", np.array([[e, 2.0 * r * e], [2.0 * r * e, 2.0 * (self.s_d**2 + r * r) * e]]))

    def fisher(self, theta) -> np.ndarray:
        """The Fisher ``F = diag(1/sigma^2, 2)`` in theta = (mu, ln sigma).

        Parameters
        ----------
        theta : array_like
            The point ``(mu, ln sigma)``.

        Returns
        -------
        numpy.ndarray
            The 2 x 2 Fisher.

        Examples
        --------
        >>> import numpy as np
        >>> from theorytools.fisher import invariance
        >>> problem = invariance.GaussianFitProblem()  # m_d = 1, s_d = 0.7, a = 0.3, b = 0.5, c = 0.1
        >>> problem.fisher([0.0, np.log(2.0)]).tolist()  # sigma = 2
        [[0.25, 0.0], [0.0, 2.0]]
        """
        theta = self._theta(theta)
        with np.errstate(over="ignore"):  # reported by _finite
            return _finite("the Fisher", np.diag([np.exp(-2.0 * theta[1]), 2.0]))

    def empirical_fisher(self, theta) -> np.ndarray:
        """The empirical Fisher F-bar: E over y ~ N(m_d, s_d^2) of score score^T (001_7d31b3ff3a2f0401.txt §11).

        score = (-(y - mu)/s^2, 1 - (y - mu)^2/s^2): Gaussian moments of r = y - mu ~ N(m_d - mu, s_d^2) (E r^2, E r^3,
        E r^4).

        Parameters
        ----------
        theta : array_like
            The point ``(mu, ln sigma)``.

        Returns
        -------
        numpy.ndarray
            The 2 x 2 matrix F-bar.

        Examples
        --------
        At theta = 0 (d = m_d - mu = 1, v = s_d^2 = 0.49): ``E r^2 = 1.49``, ``E r^2 - E r^3 = -0.98``,
        ``1 - 2 E r^2 + E r^4 = 2.6803``:

        >>> import numpy as np
        >>> from theorytools.fisher import invariance
        >>> problem = invariance.GaussianFitProblem()  # m_d = 1, s_d = 0.7, a = 0.3, b = 0.5, c = 0.1
        >>> np.round(problem.empirical_fisher([0.0, 0.0]), 6).tolist()
        [[1.49, 1.47], [1.47, 2.6803]]
        """
        mu, ls = self._theta(theta)
        with np.errstate(over="ignore", invalid="ignore"):  # reported by _finite
            p = np.exp(-2.0 * ls)  # 1/sigma^2
            d, v = self.m_d - mu, self.s_d**2
            r2, r3, r4 = d * d + v, d**3 + 3 * d * v, d**4 + 6 * d * d * v + 3 * v * v
            return _finite("the empirical Fisher", np.array([[r2 * p * p, -(d - r3 * p) * p],
                                                              [-(d - r3 * p) * p, 1.0 - 2.0 * r2 * p + r4 * p * p]]))

    # -- the reparameterization ---------------------------------------------------------------
    def zeta(self, gamma) -> np.ndarray:
        """The reparameterization ``theta = zeta(gamma) = (g1 + a g2^2, b g2 + c g1^2)``.

        Parameters
        ----------
        gamma : array_like
            The point in gamma coordinates (two numbers).

        Returns
        -------
        numpy.ndarray
            theta.

        Examples
        --------
        >>> import numpy as np
        >>> from theorytools.fisher import invariance
        >>> problem = invariance.GaussianFitProblem()  # m_d = 1, s_d = 0.7, a = 0.3, b = 0.5, c = 0.1
        >>> np.round(problem.zeta([1.0, 2.0]), 6).tolist()  # (1 + 0.3 * 4, 0.5 * 2 + 0.1)
        [2.2, 1.1]
        """
        g1, g2 = as_vector("gamma", gamma, 2)
        return np.array([g1 + self.a * g2 * g2, self.b * g2 + self.c * g1 * g1])

    def zeta_jacobian(self, gamma) -> np.ndarray:
        """The Jacobian ``J_zeta = [[1, 2 a g2], [2 c g1, b]]`` of :meth:`zeta`.

        Parameters
        ----------
        gamma : array_like
            The point in gamma coordinates (two numbers).

        Returns
        -------
        numpy.ndarray
            The 2 x 2 Jacobian.

        Examples
        --------
        >>> import numpy as np
        >>> from theorytools.fisher import invariance
        >>> problem = invariance.GaussianFitProblem()  # m_d = 1, s_d = 0.7, a = 0.3, b = 0.5, c = 0.1
        >>> np.round(problem.zeta_jacobian([1.0, 2.0]), 6).tolist()
        [[1.0, 1.2], [0.2, 0.5]]
        """
        g1, g2 = as_vector("gamma", gamma, 2)
        return np.array([[1.0, 2.0 * self.a * g2], [2.0 * self.c * g1, self.b]])

    @property
    def C(self) -> float:
        """sup_i ``||H_[zeta]_i||_2`` (eq. 12): the component Hessians are diag(0, 2a) and diag(2c, 0).

        Returns
        -------
        float
            ``max(2 |a|, 2 |c|)``.

        Examples
        --------
        >>> from theorytools.fisher import invariance
        >>> float(invariance.GaussianFitProblem(a=0.3, c=0.1).C)
        0.6
        """
        return max(2.0 * abs(self.a), 2.0 * abs(self.c))

    def pulled_back(self, kind: str, gamma) -> np.ndarray:
        """``J_zeta^T B_theta J_zeta`` (Theorem 1's transformation) for ``kind`` in fisher, empirical_fisher, hessian.

        Parameters
        ----------
        kind : str
            ``"fisher"``, ``"empirical_fisher"`` or ``"hessian"``.
        gamma : array_like
            The point in gamma coordinates (two numbers).

        Returns
        -------
        numpy.ndarray
            The 2 x 2 matrix B_theta pulled back to gamma coordinates.

        Examples
        --------
        At gamma = 0, ``J_zeta = diag(1, b) = diag(1, 1/2)`` and the Fisher diag(1, 2) becomes diag(1, 1/2):

        >>> import numpy as np
        >>> from theorytools.fisher import invariance
        >>> problem = invariance.GaussianFitProblem()  # m_d = 1, s_d = 0.7, a = 0.3, b = 0.5, c = 0.1
        >>> problem.pulled_back("fisher", [0.0, 0.0]).tolist()
        [[1.0, 0.0], [0.0, 0.5]]
        """
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
    """``theta - alpha B^-1 grad h`` (001_7d31b3ff3a2f0401.txt eq. 9): one step in theta coordinates.

    Parameters
    ----------
    problem : GaussianFitProblem
        The model.
    theta : array_like
        The point ``(mu, ln sigma)``.
    alpha : float
        The step size, > 0.
    kind : str, default "fisher"
        The curvature B: ``"fisher"``, ``"empirical_fisher"`` or ``"hessian"``.

    Returns
    -------
    numpy.ndarray
        The new theta.

    Examples
    --------
    At theta = 0, ``F^-1 grad h = (-1, -0.49 / 2)``, so a step of 1/2 lands at (0.5, 0.1225):

    >>> import numpy as np
    >>> from theorytools.fisher import invariance
    >>> np.round(invariance.ng_step_theta(invariance.GaussianFitProblem(), [0.0, 0.0], 0.5), 6).tolist()
    [0.5, 0.1225]
    """
    problem, alpha = _args(problem, alpha)
    kind = as_choice("kind", kind, KINDS)
    theta = as_vector("theta", theta, 2)
    return theta - alpha * _solve(getattr(problem, kind)(theta), problem.grad(theta), f"the {kind} at theta")


def ng_step_gamma(problem, gamma, alpha, B_gamma) -> np.ndarray:
    """``gamma - alpha B_gamma^-1 J^T grad h``, with ``B_gamma`` computed in gamma coordinates by the caller.

    The step of 001_7d31b3ff3a2f0401.txt §12 in gamma coordinates; with ``B_gamma = J^T B_theta J`` (Theorem 1)
    ``J d_gamma = d_theta`` (eq. 13).

    Parameters
    ----------
    problem : GaussianFitProblem
        The model.
    gamma : array_like
        The point in gamma coordinates.
    alpha : float
        The step size, > 0.
    B_gamma : array_like
        The 2 x 2 curvature matrix in gamma coordinates.

    Returns
    -------
    numpy.ndarray
        The new gamma.

    Examples
    --------
    Eq. 13 at gamma = 0: the gamma step mapped by ``J_zeta`` is the theta step.

    >>> import numpy as np
    >>> from theorytools.fisher import invariance
    >>> problem, g0 = invariance.GaussianFitProblem(), np.zeros(2)
    >>> d_gamma = invariance.ng_step_gamma(problem, g0, 0.5, problem.pulled_back("fisher", g0)) - g0
    >>> bool(np.allclose(problem.zeta_jacobian(g0) @ d_gamma, invariance.ng_step_theta(problem, problem.zeta(g0), 0.5)))
    True
    """
    problem, alpha = _args(problem, alpha)
    gamma, B_gamma = as_vector("gamma", gamma, 2), as_matrix("B_gamma", B_gamma, 2)
    g = problem.zeta_jacobian(gamma).T @ problem.grad(problem.zeta(gamma))
    return gamma - alpha * _solve(B_gamma, g, "B_gamma")


def one_step_discrepancy(problem, gamma, alpha, kind="fisher") -> tuple:
    """The discrepancy between one theta step and one gamma step mapped through zeta, and its bound (eqs 11-12).

    ``(|zeta(gamma + d_gamma) - (theta + d_theta)|, 1/2 C sqrt(n) |d_gamma|^2)`` for one step of size alpha with the
    curvature ``kind`` (001_7d31b3ff3a2f0401.txt eqs 11-12; the bound holds when J d_gamma = d_theta, which Theorem 1
    gives for F and F-bar).

    Parameters
    ----------
    problem : GaussianFitProblem
        The model.
    gamma : array_like
        The starting point in gamma coordinates (theta = zeta(gamma)).
    alpha : float
        The step size, > 0.
    kind : str, default "fisher"
        ``"fisher"``, ``"empirical_fisher"`` or ``"hessian"``.

    Returns
    -------
    tuple of float
        ``(discrepancy, bound)``.

    Examples
    --------
    >>> from theorytools.fisher import invariance
    >>> err, bound = invariance.one_step_discrepancy(invariance.GaussianFitProblem(), [0.0, 0.0], 0.5)
    >>> print(f"{err:.6f} <= {bound:.6f}")
    0.030810 <= 0.131532
    """
    problem, alpha = _args(problem, alpha)
    kind = as_choice("kind", kind, KINDS)
    gamma = as_vector("gamma", gamma, 2)
    theta = problem.zeta(gamma)
    d_theta = ng_step_theta(problem, theta, alpha, kind) - theta
    d_gamma = ng_step_gamma(problem, gamma, alpha, problem.pulled_back(kind, gamma)) - gamma
    err = float(np.linalg.norm(problem.zeta(gamma + d_gamma) - (theta + d_theta)))
    return err, 0.5 * problem.C * np.sqrt(2.0) * float(d_gamma @ d_gamma)


def path_gap(problem, gamma0, alpha, T: float, kind="fisher") -> float:
    """Largest distance between the theta-space NGD path and the gamma-space one mapped through zeta.

    Over T/alpha steps of size alpha (001_7d31b3ff3a2f0401.txt §12: the two agree as alpha -> 0).

    Parameters
    ----------
    problem : GaussianFitProblem
        The model.
    gamma0 : array_like
        The starting point in gamma coordinates.
    alpha : float
        The step size, > 0.
    T : float
        The time horizon (T / alpha steps, at most :data:`MAX_PATH_STEPS`).
    kind : str, default "fisher"
        ``"fisher"``, ``"empirical_fisher"`` or ``"hessian"``.

    Returns
    -------
    float
        The largest distance over the steps.

    Examples
    --------
    The gap is O(alpha): halving the step about halves it.

    >>> from theorytools.fisher import invariance
    >>> problem = invariance.GaussianFitProblem()
    >>> gaps = [invariance.path_gap(problem, [0.2, 0.1], alpha, 1.0) for alpha in (0.1, 0.05)]
    >>> print(f"{gaps[0] / gaps[1]:.1f}")
    2.1
    """
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
