"""Exact expected excess objective ``E[h(theta_k)] - h(theta*)`` (001_7d31b3ff3a2f0401.txt §14.2, eqn. 20).

eqn. 20:  ``E[h(theta_k)] - h* = 1/2 tr(H V_k) + 1/2 (E theta_k - theta*)^T H (E theta_k - theta*)``.
In eigen-coordinates (``V^T H V = diag(lam)``) only diagonals are needed:

    E[h(theta_k)] - h* = sum_i 1/2 lam_i ( s_i T_k(lam_i, lam_i) + z0_i^2 P_k(lam_i)^2 )

-- O(n) per k after the eigensolve, vectorized over k.
"""

from __future__ import annotations

import numpy as np

from theorytools.linalg import (
    as_steps,
    check_allocation,
    check_finite,
    geometric_sum,
    log_abs_one_minus,
    squeeze_k,
    sum_sq_geometric,
)
from theorytools.quadratic._factors import check_table, mean_factor, noise_factor
from theorytools.quadratic.problem import as_problem
from theorytools.quadratic.schedules import Constant, as_schedule


def excess_risk(p, schedule, k) -> np.ndarray:
    """Exact ``E[h(theta_k)] - h(theta*)`` for a constant, harmonic or user step sequence.

    001_7d31b3ff3a2f0401.txt §14.2, eqn. 20 with Theorem 3's moments.

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    schedule : Constant or Harmonic or StepSequence or float
        The step sizes (a float means ``Constant(alpha)``).
    k : int or array_like of int
        Iteration count(s): up to 1e12 for constant steps and for harmonic steps with
        ``lambda_1 <= a + 1``; 1e7 for the step-by-step route of user sequences and of harmonic
        steps with ``lambda_1 > a + 1``.

    Returns
    -------
    float or ndarray
        The expected excess objective at each k (a 0-d array for a scalar k).

    Notes
    -----
    Constant step: ``sum_i c_i (1 - rho_i^{2k}) + d_i rho_i^{2k}`` with ``rho_i = 1 - alpha lam_i``,
    ``c_i = alpha s_i / (2 (2 - alpha lam_i))`` (their sum is eqn. 29's
    ``alpha/4 tr((B - alpha/2 H)^{-1} Sigma_g)``) and ``d_i = lam_i z0_i^2 / 2``; ``1 - rho^{2k}``
    is ``-expm1(2k log|rho|)`` so no precision is lost for ``alpha lam`` near 0.

    Examples
    --------
    ``H = diag(2, 1)``, ``B = Sigma_g = I``, ``theta0 = (1, 1)``, ``alpha = 1/2``: ``theta_1 = (-eps_1/2, 1/2 - eps_2/2)``,
    so ``E[h(theta_1)] = 1/2 (2 * 1/4 + (1/4 + 1/4)) = 1/2``:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, excess_risk
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> np.round(excess_risk(p, 0.5, [0, 1, 2]), 6).tolist()
    [1.5, 0.5, 0.4375]
    """
    p = as_problem(p)
    schedule = as_schedule(schedule)
    ks = np.atleast_1d(as_steps(k))
    d = 0.5 * p.lam * p.z0**2
    if isinstance(schedule, Constant):
        check_table(ks.size, p.n, 8)  # _constant_curve's gathered exponentials
        x = schedule.alpha * p.lam
        with np.errstate(divide="ignore"):
            c = np.where(x == 2.0, 0.0, 0.5 * schedule.alpha * p.s / (2.0 - x))
        out = _constant_curve(ks, 2.0 * log_abs_one_minus(x), c, d)
        if np.any(x == 2.0):  # |rho| = 1: the noise adds alpha^2 s per step without decay
            out += ks * 0.5 * np.sum((p.lam * p.s * schedule.alpha**2)[x == 2.0])
    else:
        noise, start = excess_risk_decomposition(p, schedule, ks)
        out = noise + start
    return squeeze_k(k, check_finite("excess_risk", out))


def _constant_curve(ks, q, c, d):
    """``sum_i c_i (1 - e^{k q_i}) + d_i e^{k q_i}`` at every k, with O(sqrt(max k) n) exponentials.

    Writing ``k = k0 + j`` with ``k0`` a multiple of ``b = ceil(sqrt(max k + 1))`` and ``j < b``,
    ``1 - e^{(k0+j) q} = (1 - e^{k0 q}) + e^{k0 q} (1 - e^{j q})`` -- both terms non-negative for
    ``q <= 0`` (``|rho| <= 1``), so nothing cancels.  The exponentials are formed once per distinct k0 and j and
    gathered per k (O(len(k) n) products: a table over all pairs of distinct k0 and j would hold
    ``len(k)^2`` numbers for k spread over a long range).  ``q = -inf`` (``rho = 0``) is exact: ``e^{0 q} = 1``.
    """
    b = max(1, int(np.ceil(np.sqrt(float(ks.max()) + 1.0))))
    k0, j = np.divmod(ks, b)
    u0, i0 = np.unique(k0 * b, return_inverse=True)
    uj, ij = np.unique(j, return_inverse=True)
    with np.errstate(invalid="ignore", over="ignore"):
        qa = np.where(u0[:, None] == 0, 0.0, np.multiply.outer(u0, q))
        qb = np.where(uj[:, None] == 0, 0.0, np.multiply.outer(uj, q))
        Ea, Eb = np.exp(qa), np.exp(qb)
        Oa, Ob = -np.expm1(qa), -np.expm1(qb)
    tail = np.einsum("ki,ki->k", Ea[i0], c * Ob[ij] + d * Eb[ij])
    return (Oa @ c)[i0] + tail


def excess_risk_decomposition(p, schedule, k):
    """The two terms of eqn. 20 separately: ``(1/2 tr(H V_k), 1/2 |H^{1/2}(E theta_k - theta*)|^2)``.

    001_7d31b3ff3a2f0401.txt §14.2, eqn. 20.

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    schedule : Constant or Harmonic or StepSequence or float
        The step sizes (a float means ``Constant(alpha)``).
    k : int or array_like of int
        Iteration count(s).

    Returns
    -------
    noise : float or ndarray
        ``1/2 tr(H V_k)`` at each k.
    start : float or ndarray
        ``1/2 (E theta_k - theta*)^T H (E theta_k - theta*)`` at each k.

    Examples
    --------
    With ``alpha = 1/2``: ``V_1 = I/4`` and ``E theta_1 = (0, 1/2)``, so the terms are ``3/8`` and ``1/8``:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, excess_risk_decomposition
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> noise, start = excess_risk_decomposition(p, 0.5, 1)
    >>> print(round(float(noise), 6), round(float(start), 6))
    0.375 0.125
    """
    p = as_problem(p)
    schedule = as_schedule(schedule)
    ks = np.atleast_1d(as_steps(k))
    # One call for all k: the harmonic and sequence routes accumulate over t < max(k) once.
    P = mean_factor(schedule, p.lam, ks)
    T = noise_factor(schedule, p.lam, p.lam, ks)
    noise = T @ (0.5 * p.lam * p.s)
    start = (P * P) @ (0.5 * p.lam * p.z0**2)
    return squeeze_k(k, noise), squeeze_k(k, start)


def averaged_excess_risk(p, alpha: float, k) -> np.ndarray:
    """Exact ``E[h(theta_bar_k)] - h(theta*)`` of the Polyak average ``theta_bar_k = mean(theta_0..theta_k)``.

    001_7d31b3ff3a2f0401.txt §14.3, eqn. 38 with the covariances of eqn. 39.  Per eigen-coordinate
    the average's deviation is ``alpha/(k+1) sum_{t<k} xi_t phi_{k-t}`` with
    ``phi_m = sum_{j<m} rho^j``, so::

        E[h(theta_bar_k)] - h* = sum_i  s_i F_k(rho_i) / (2 (k+1)^2 lam_i)
                                       + lam_i z0_i^2 phi_{k+1}(rho_i)^2 / (2 (k+1)^2),

    ``F_k(rho) = sum_{m=1}^k (1 - rho^m)^2`` (:func:`theorytools.linalg.sum_sq_geometric`) --
    a closed form per coordinate instead of the O(k^2) double sum of the proof.

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    alpha : float
        The constant step size, > 0.
    k : int or array_like of int
        Iteration count(s).

    Returns
    -------
    float or ndarray
        The expected excess objective of the average at each k (a 0-d array for a scalar k).

    Examples
    --------
    With ``alpha = 1/2``: ``theta_bar_1 = (theta_0 + theta_1)/2 = (1/2 - eps_1/4, 3/4 - eps_2/4)``, so
    ``E[h] = (1/4 + 1/16) + 1/2 (9/16 + 1/16) = 5/8``:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, averaged_excess_risk
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> np.round(averaged_excess_risk(p, 0.5, [0, 1, 2]), 6).tolist()
    [1.5, 0.625, 0.381944]
    """
    p = as_problem(p)
    sched = Constant(alpha)
    ks = np.atleast_1d(as_steps(k)).astype(float)
    # F, phi and the power sums of sum_sq_geometric's series branch (_R + 1 = 25 rows per entry)
    check_allocation("the k x coordinate tables of the Polyak average", (ks.size, p.n), copies=40,
                     cheaper="fewer k per call (the results for different k are independent)")
    x = sched.alpha * p.lam
    kk = ks[:, None]
    # Per coordinate: rho = 1 - alpha lam in [0, 1) goes through the log-space helpers (the plain
    # closed forms cancel catastrophically for alpha lam near 0); rho < 0 (alpha lam > 1, where
    # 1 - rho > 1 and nothing cancels) uses the plain closed forms.  A problem may mix both.
    stable = x <= 1.0
    F = np.empty((ks.size, p.n))
    phi = np.empty((ks.size, p.n))
    if stable.any():
        with np.errstate(divide="ignore"):
            ell = -np.log1p(-x[stable])  # inf where alpha lam = 1 (rho = 0)
        F[:, stable] = sum_sq_geometric(kk, ell[None, :])
        phi[:, stable] = geometric_sum(kk + 1.0, ell[None, :])
    if not stable.all():
        rho = 1.0 - x[~stable]
        kint = np.atleast_1d(as_steps(k))[:, None]
        # |rho| > 1 (alpha lam > 2) overflows at large k: reported by check_finite below, not as a warning
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            r_k = rho**kint
            r_2k = rho ** (2 * kint)
            tail = np.where(rho * rho == 1.0, kk, rho * rho * (1.0 - r_2k) / (1.0 - rho * rho))
            F[:, ~stable] = kk - 2.0 * rho * (1.0 - r_k) / (1.0 - rho) + tail
            phi[:, ~stable] = (1.0 - rho * r_k) / (1.0 - rho)
    with np.errstate(over="ignore", invalid="ignore"):
        out = (F @ (0.5 * p.s / p.lam) + (phi * phi) @ (0.5 * p.lam * p.z0**2)) / (ks + 1.0) ** 2
    return squeeze_k(k, check_finite("averaged_excess_risk", out))
