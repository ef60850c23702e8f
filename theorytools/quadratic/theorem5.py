"""Theorem 5 (001_7d31b3ff3a2f0401.txt §14.2; proof Appendix B, Lemmas 11 and 16): l(k) <= E[h(theta_k)] - h* <= u(k).

The bounds are evaluated exactly as printed, with dense matrix formulas (solves with
``B - alpha/2 H`` and ``B^{-1} - 1/2 H^{-1}``) -- an independent route from the eigenbasis
evaluation of the exact risk in :mod:`theorytools.quadratic.risk`.
"""

from __future__ import annotations

import numpy as np

from theorytools.linalg import as_bool, as_float, as_steps, check_finite, log_abs_one_minus, trace_solve
from theorytools.quadratic.hypotheses import require
from theorytools.quadratic.problem import as_problem
from theorytools.quadratic.schedules import Constant, Harmonic, as_schedule
from theorytools.quadratic.traces import _Binv_minus_half_Hinv, below_two


def nu(a: float) -> float:
    """``nu(a) = (a+2)^3 / (a (a+1)^2)`` (Theorem 5, Lemma 15, Proposition 23); needs ``a > 0``.

    001_7d31b3ff3a2f0401.txt §14.2, Theorem 5; Appendix B.2, Lemma 15; Appendix D, Proposition 23.

    Parameters
    ----------
    a : float
        Offset of the harmonic steps ``alpha_k = 1/(k + a + 1)``, > 0.

    Returns
    -------
    float
        ``nu(a)``.

    Examples
    --------
    >>> from theorytools.quadratic import nu
    >>> print(nu(1.0), f"{nu(2.0):.6f}")  # 27/4 and 64/18
    6.75 3.555556
    """
    a = as_float("a", a)
    if not a > 0:
        raise ValueError(f"a must be > 0 for nu(a) and Theorem 5's harmonic bounds (they divide by a), got {a}")
    return (a + 2.0) ** 3 / (a * (a + 1.0) ** 2)


def constant_noise_floor(p, alpha: float) -> float:
    """``alpha/4 tr((B - alpha/2 H)^{-1} Sigma_g)``: the limit of E[h(theta_k)] - h* (§14.2.1).

    Needs ``alpha lambda_1(B^-1 H) < 2``.  001_7d31b3ff3a2f0401.txt §14.2.1.

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    alpha : float
        The constant step size, ``0 < alpha lambda_1(B^-1 H) < 2``.

    Returns
    -------
    float
        The noise floor.

    Examples
    --------
    ``1/8 tr(diag(1/(1 - 1/2), 1/(1 - 1/4))) = 1/8 (2 + 4/3) = 5/12``, the exact risk at ``k = 1e12``:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, constant_noise_floor, excess_risk
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> floor = constant_noise_floor(p, 0.5)
    >>> print(f"{floor:.6f}", bool(np.isclose(floor, excess_risk(p, 0.5, 10**12))))
    0.416667 True
    """
    p = as_problem(p)
    return _noise_floor(p, below_two(p, alpha, "the noise floor"))


def _noise_floor(p, alpha: float) -> float:
    """The formula of :func:`constant_noise_floor` on validated arguments (also outside ``alpha lambda_1 < 2``, for
    ``theorem5_bounds(check=False)``)."""
    try:
        return 0.25 * alpha * trace_solve(p.B - 0.5 * alpha * p.H, p.Sigma_g)
    except ValueError:  # B - alpha/2 H singular
        raise ValueError(f"alpha lambda_1(B^-1 H) = {alpha * p.lambda_1:.6g} makes B - alpha/2 H singular: the noise "
                         "floor alpha/4 tr((B - alpha/2 H)^-1 Sigma_g) is infinite") from None


def harmonic_traces(p) -> tuple[float, float]:
    """``(tr((B^-1 - H^-1/2)^-1 U), tr((B^-1 - H^-1/2)^-1 Psi_1(U)))`` of Theorem 5's harmonic case.

    001_7d31b3ff3a2f0401.txt §14.2, Theorem 5.

    Parameters
    ----------
    p : QuadraticProblem
        The problem.

    Returns
    -------
    t_U : float
        ``tr((B^-1 - H^-1/2)^-1 U)``.
    t_Psi : float
        ``tr((B^-1 - H^-1/2)^-1 Psi_1(U))``.

    Examples
    --------
    ``B^-1 - H^-1/2 = diag(3/4, 1/2)``, ``U = I``, ``Psi_1(U) = (I - H)^2 = diag(1, 0)``:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, harmonic_traces
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> [round(t, 6) for t in harmonic_traces(p)]  # (4/3 + 2, 4/3)
    [3.333333, 1.333333]
    """
    M = _Binv_minus_half_Hinv(as_problem(p))
    D = np.eye(p.n) - p.BinvH
    psi1U = D @ p.U @ D.T
    return trace_solve(M, p.U), trace_solve(M, psi1U)


def _pow2k(eps, k):
    """``((1 - eps)^{2k}, 1 - (1 - eps)^{2k})``, the first as ``exp(2k ln|1 - eps|)`` and the second as
    ``-expm1(2k ln|1 - eps|)``: ``1 - q`` formed by subtraction would keep only ``eps_mach/(2k eps)`` of its digits
    where ``k eps`` is small (1e-4 relative at eps = 1e-12, k = 1: the accuracy hunt's
    ``accuracy.theorem5_constant_bounds``).  Exactly (1, 0) at k = 0 and (0, 1) at eps = 1, k > 0.

    The even power is real for any eps, so the formulas stay defined with ``check=False`` when
    ``alpha lambda_1 > 1`` (``log1p(-eps)`` would be NaN there).
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_q = 2.0 * k * log_abs_one_minus(eps)
        q, one_minus_q = np.exp(log_q), -np.expm1(log_q)
    return np.where(k == 0, 1.0, q), np.where(k == 0, 0.0, one_minus_q)


def theorem5_bounds(p, schedule, k, check: bool = True):
    """``(l(k), u(k))`` of Theorem 5 exactly as printed.

    Constant ``alpha`` (needs ``alpha lambda_1(B^-1 H) <= 1``)::

        u(k) = [1 - (1 - eps_1)^{2k}] N + (1 - eps_2)^{2k} h(theta_0)
        l(k) = [1 - (1 - eps_2)^{2k}] N + (1 - eps_1)^{2k} h(theta_0)
        N = alpha/4 tr((B - alpha/2 H)^{-1} Sigma_g),  eps_1 = alpha lambda_1, eps_2 = alpha lambda_n

    Harmonic ``alpha_k = 1/(k+a+1)`` (needs ``a >= 1``, ``b > 1/2``, ``lambda_1 <= a + 1``)::

        u(k) = t_U/(4(k+a)) + nu(a) k t_Psi/(4 (k+a)^3) + h(theta_0) ((1+a)/(k+a))^{2b}
        l(k) = t_U/(4(k+a)) - t_U/(4a) ((1+a)/(k+a))^{2b}

    with ``t_U = tr((B^-1 - H^-1/2)^-1 U)``, ``t_Psi = tr((B^-1 - H^-1/2)^-1 Psi_1(U))``.
    With ``check=False`` the formulas are evaluated outside the hypotheses (where they need
    not bound anything).  001_7d31b3ff3a2f0401.txt §14.2, Theorem 5.

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    schedule : Constant or Harmonic or float
        The step sizes (a float means ``Constant(alpha)``).
    k : int or array_like of int
        Iteration count(s).
    check : bool, optional
        Raise :class:`~theorytools.errors.HypothesisError` outside the hypotheses (default True).

    Returns
    -------
    lower : float or ndarray
        ``l(k)``, a float for a scalar k.
    upper : float or ndarray
        ``u(k)``, a float for a scalar k.

    Examples
    --------
    The exact risk (:func:`~theorytools.quadratic.excess_risk`, here 1/2) lies between the bounds; in 1-D
    (``eps_1 = eps_2``) both equal it:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, excess_risk, theorem5_bounds
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> lower, upper = theorem5_bounds(p, 0.5, 1)
    >>> print(round(lower, 6), round(upper, 6), bool(lower <= excess_risk(p, 0.5, 1) <= upper))
    0.3125 0.791667 True
    >>> q = QuadraticProblem([[2.0]], [[1.0]], [[1.0]], [1.0])
    >>> [round(x, 6) for x in theorem5_bounds(q, 0.25, 1)], round(float(excess_risk(q, 0.25, 1)), 6)
    ([0.3125, 0.3125], 0.3125)
    """
    p = as_problem(p)
    schedule = as_schedule(schedule)
    if as_bool("check", check):
        require(p, schedule, "theorem5")
    ks = np.atleast_1d(as_steps(k)).astype(float)
    if isinstance(schedule, Constant):
        al = schedule.alpha
        N = _noise_floor(p, al)
        e1, e2 = al * p.lambda_1, al * p.lambda_n
        (q1, rise1), (q2, rise2) = _pow2k(e1, ks), _pow2k(e2, ks)
        upper = rise1 * N + q2 * p.h0
        lower = rise2 * N + q1 * p.h0
    elif isinstance(schedule, Harmonic):
        a, b = schedule.a, p.lambda_n
        tU, tPsi = harmonic_traces(p)
        decay = ((1.0 + a) / (ks + a)) ** (2.0 * b)
        upper = tU / (4.0 * (ks + a)) + nu(a) * ks * tPsi / (4.0 * (ks + a) ** 3) + p.h0 * decay
        lower = tU / (4.0 * (ks + a)) - tU / (4.0 * a) * decay
    else:
        raise ValueError(f"schedule must be Constant or Harmonic for Theorem 5, got {schedule!r}")
    check_finite("theorem5_bounds", upper)
    check_finite("theorem5_bounds", lower)
    if np.ndim(k) == 0:
        return float(lower[0]), float(upper[0])
    return lower, upper
