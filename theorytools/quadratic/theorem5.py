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
    """``nu(a) = (a+2)^3 / (a (a+1)^2)`` (Theorem 5, Lemma 15, Proposition 23); needs ``a > 0``."""
    a = as_float("a", a)
    if not a > 0:
        raise ValueError(f"a must be > 0 for nu(a) and Theorem 5's harmonic bounds (they divide by a), got {a}")
    return (a + 2.0) ** 3 / (a * (a + 1.0) ** 2)


def constant_noise_floor(p, alpha: float) -> float:
    """``alpha/4 tr((B - alpha/2 H)^{-1} Sigma_g)``: the limit of E[h(theta_k)] - h* (§14.2.1); needs
    ``alpha lambda_1(B^-1 H) < 2``."""
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
    """``(tr((B^-1 - H^-1/2)^-1 U), tr((B^-1 - H^-1/2)^-1 Psi_1(U)))`` of Theorem 5's harmonic case."""
    M = _Binv_minus_half_Hinv(as_problem(p))
    D = np.eye(p.n) - p.BinvH
    psi1U = D @ p.U @ D.T
    return trace_solve(M, p.U), trace_solve(M, psi1U)


def _pow2k(eps, k):
    """``(1 - eps)^{2k} = |1 - eps|^{2k}`` as ``exp(2k ln|1 - eps|)``; exactly 1 at k = 0, 0 at eps = 1 and k > 0.

    The even power is real for any eps, so the formulas stay defined with ``check=False`` when
    ``alpha lambda_1 > 1`` (``log1p(-eps)`` would be NaN there).
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.exp(2.0 * k * log_abs_one_minus(eps))
    return np.where(k == 0, 1.0, out)


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
    not bound anything).
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
        q1, q2 = _pow2k(e1, ks), _pow2k(e2, ks)
        upper = (1.0 - q1) * N + q2 * p.h0
        lower = (1.0 - q2) * N + q1 * p.h0
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
