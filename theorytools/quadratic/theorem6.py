"""Theorem 6 (001_7d31b3ff3a2f0401.txt §14.3; proof Appendix B.3): bound on the Polyak average's excess risk."""

from __future__ import annotations

import numpy as np

from theorytools.linalg import as_bool, as_steps, check_finite, spd_solve
from theorytools.quadratic.hypotheses import require
from theorytools.quadratic.problem import as_problem
from theorytools.quadratic.schedules import Constant
from theorytools.quadratic.theorem5 import _noise_floor
from theorytools.quadratic.traces import eq45_trace


def theorem6_terms(p, alpha: float, k, check: bool = True) -> dict:
    """The five candidate terms of Theorem 6 (before taking the two minima), as arrays over k.

    noise:  ``tr(H^-1 Sigma_g) / (2(k+1))`` and ``alpha/4 tr((B - alpha/2 H)^-1 Sigma_g)`` (eqns. 44, 45);
    start:  ``|H^{-1/2} B (theta0 - theta*)|^2 / (2 (k+1)^2 alpha^2)``,
    ``|B^{1/2} (theta0 - theta*)|^2 / (2 (k+1) alpha)`` and ``h(theta_0)`` (eqn. 49).
    001_7d31b3ff3a2f0401.txt §14.3, Theorem 6; Appendix B.3.

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    alpha : float
        The constant step size, ``alpha lambda_1(B^-1 H) < 1``.
    k : int or array_like of int
        Iteration count(s).
    check : bool, optional
        Raise :class:`~theorytools.errors.HypothesisError` outside the hypothesis (default True).

    Returns
    -------
    dict of str to ndarray
        ``"noise_avg"``, ``"noise_floor"``, ``"start_quadratic"``, ``"start_linear"``, ``"start_h0"``,
        each an array over k.

    Examples
    --------
    With ``alpha = 0.4`` and ``k = 1`` the noise terms are ``1/2 tr(H^-1 Sigma_g)/2 = 3/8`` and
    ``0.1 (1/0.6 + 1/0.8) = 7/24``, the start terms ``1.5/1.28``, ``2/1.6`` and ``h(theta_0) = 1.5``:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, theorem6_terms
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> {name: round(float(v[0]), 6) for name, v in theorem6_terms(p, 0.4, 1).items()}
    {'noise_avg': 0.375, 'noise_floor': 0.291667, 'start_quadratic': 1.171875, 'start_linear': 1.25, 'start_h0': 1.5}
    """
    p = as_problem(p)
    sched = Constant(alpha)
    if as_bool("check", check):
        require(p, sched, "theorem6")
    al = np.float64(sched.alpha)  # numpy arithmetic: alpha^2 over/underflows to inf/0, not OverflowError
    ks = np.atleast_1d(as_steps(k)).astype(float)
    d = p.theta0 - p.theta_star
    Bd = p.B @ d
    # A start term may be infinite at an extreme alpha (1e-300): a valid candidate, which the minimum passes over.
    with np.errstate(over="ignore", divide="ignore", under="ignore"):
        return {
            "noise_avg": eq45_trace(p) / (ks + 1.0),
            "noise_floor": np.full(ks.shape, _noise_floor(p, al)),
            "start_quadratic": float(Bd @ spd_solve(p.H, Bd)) / (2.0 * (ks + 1.0) ** 2 * al**2),
            "start_linear": float(d @ Bd) / (2.0 * (ks + 1.0) * al),
            "start_h0": np.full(ks.shape, p.h0),
        }


def theorem6_bound(p, alpha: float, k, check: bool = True):
    """The Theorem 6 upper bound on ``E[h(theta_bar_k)] - h(theta*)`` (needs ``alpha lambda_1(B^-1 H) < 1``).

    001_7d31b3ff3a2f0401.txt §14.3, Theorem 6: the smaller noise term plus the smallest start term of
    :func:`theorem6_terms`.

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    alpha : float
        The constant step size, ``alpha lambda_1(B^-1 H) < 1``.
    k : int or array_like of int
        Iteration count(s).
    check : bool, optional
        Raise :class:`~theorytools.errors.HypothesisError` outside the hypothesis (default True).

    Returns
    -------
    float or ndarray
        The bound, a float for a scalar k.

    Examples
    --------
    ``min(3/8, 7/24) + min(1.171875, 1.25, 1.5)``, above the exact risk of the Polyak average:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, averaged_excess_risk, theorem6_bound
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> print(round(theorem6_bound(p, 0.4, 1), 6), bool(averaged_excess_risk(p, 0.4, 1) <= theorem6_bound(p, 0.4, 1)))
    1.463542 True
    """
    t = theorem6_terms(p, alpha, k, check=check)
    out = np.minimum(t["noise_avg"], t["noise_floor"]) + np.minimum(
        np.minimum(t["start_quadratic"], t["start_linear"]), t["start_h0"]
    )
    check_finite("theorem6_bound", out)
    return float(out[0]) if np.ndim(k) == 0 else out
