"""Exact risk of the exponentially decayed iterate average of 001_7d31b3ff3a2f0401.txt §14.3.

    theta_bar_k = (1 - beta_k) theta_k + beta_k theta_bar_{k-1},   theta_bar_0 = theta_0,
    beta_k = min{1 - 1/k, beta_max}                                (k >= 1),

with ``theta_k`` the constant-step iteration of eqn. 19.  Phase 1 (``1 - 1/k <= beta_max``, i.e.
``k <= k* ~ 1/(1 - beta_max)``) makes ``theta_bar_k`` the plain average of ``theta_1..theta_k``;
phase 2 (``k > k*``) is a time-invariant linear recursion.

Per eigen-coordinate of ``B^-1 H`` (``theta - theta* = V y``, as in :mod:`theorytools.quadratic.risk`)
the pair ``x_k = (ybar_k, y_k)`` follows

    x_k = A_k x_{k-1} + c_k eta_{k-1},   A_k = [[beta_k, (1-beta_k) rho], [0, rho]],
    c_k = -alpha (1 - beta_k, 1),        rho = 1 - alpha lam,  Var(eta) = s = diag(V^T Sigma_g V),

so its second moment ``M_k = E[x_k x_k^T]`` (three entries) is an affine recursion; only
``E[ybar_k^2]`` enters ``E[h(theta_bar_k)] - h* = 1/2 sum_i lam_i E[ybar_{k,i}^2]``.  Phase 1 has a
closed form (geometric sums, :func:`theorytools.linalg.geometric_sum`, :func:`~theorytools.linalg.sum_sq_geometric`);
phase 2 applies powers of the 4x4 augmented matrix ``[[T, d], [0, 1]]`` by binary powering,
so any k (up to 2^62) costs O(n log k).
"""

from __future__ import annotations

import numpy as np

from theorytools.linalg import (
    as_float,
    as_steps,
    check_allocation,
    check_finite,
    geometric_sum,
    real_array,
    sum_sq_geometric,
)
from theorytools.quadratic.moments import variance_recursion
from theorytools.quadratic.problem import as_problem
from theorytools.quadratic.schedules import Constant


def _check_beta(beta_max) -> float:
    return as_float("beta_max", beta_max, low=0.0, high=1.0, high_open=True)


def ema_switch(beta_max: float) -> int:
    """``k*``: the last k with ``1 - 1/k <= beta_max`` (so ``beta_k = 1 - 1/k`` for ``k <= k*``, ``beta_max`` after;
    001_7d31b3ff3a2f0401.txt §14.3).

    ``k* = floor(1/(1 - beta_max))`` up to rounding; the comparison is made in floating point exactly
    as :func:`ema_betas` evaluates ``min{1 - 1/k, beta_max}``.  (At ``k = k*`` both expressions agree to
    rounding when ``1/(1-beta_max)`` is an integer, so the choice there does not matter.)  ``fl(1 - 1/k)`` is
    non-decreasing in k, so k* is found by doubling and bisection (~110 comparisons): near ``beta_max = 1 - 1e-16``
    it is constant over ~1e16 consecutive k, which a step-by-step search would walk through.
    """
    b = _check_beta(beta_max)

    def below(k):
        return 1.0 - 1.0 / k <= b

    lo, hi = 1, 2  # below(1): 0 <= b
    while below(hi):
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if below(mid) else (lo, mid)
    return lo


def ema_betas(K: int, beta_max: float) -> np.ndarray:
    """``beta_1..beta_K`` with ``beta_k = min{1 - 1/k, beta_max}`` (001_7d31b3ff3a2f0401.txt §14.3)."""
    b = _check_beta(beta_max)
    k = np.arange(1, int(K) + 1, dtype=float)
    return np.minimum(1.0 - 1.0 / k, b)


def ema_weights(k: int, beta_max: float) -> np.ndarray:
    """``w_{k,0..k}`` with ``theta_bar_k = sum_m w_{k,m} theta_m`` (the weights sum to 1; 001_7d31b3ff3a2f0401.txt §14.3).

    ``w_{k,k} = 1 - beta_k`` and ``w_{k,m} = beta_k w_{k-1,m}`` (m < k), ``w_{0,0} = 1``.  O(k^2);
    the explicit route for :func:`ema_excess_risk_dense`.
    """
    k = int(as_steps(k))
    w = np.array([1.0])
    for bk in ema_betas(k, beta_max):
        w = np.append(bk * w, 1.0 - bk)
    return w


def _phase1(x, al, s, z0, lam, k):
    """Second moments of ``(ybar_k, y_k)`` for ``1 <= k <= k*`` (plain average of y_1..y_k), per coordinate.

    Rows are k, columns coordinates.  With ``phi_k(r) = sum_{j<k} r^j``:

        E ybar = z0 rho phi_k(rho)/k,   E y = z0 rho^k,
        Var ybar = s F_k / (k^2 lam^2)  (F_k = sum_{m<=k} (1 - rho^m)^2),
        Var y = alpha^2 s phi_k(rho^2),
        Cov(ybar, y) = alpha^2 s (phi_k(rho)^2 + phi_k(rho^2)) / (2k).
    """
    kk = real_array("k", k)[:, None]
    rho = 1.0 - x
    if np.all(x <= 1.0):
        with np.errstate(divide="ignore"):
            ell = -np.log1p(-x)  # inf where rho = 0
        phi = geometric_sum(kk, ell[None, :])
        phi2 = geometric_sum(kk, 2.0 * ell[None, :])
        F = sum_sq_geometric(kk, ell[None, :])
        with np.errstate(invalid="ignore", over="ignore", under="ignore"):
            rk = np.exp(-kk * ell[None, :])
        rk = np.where(np.isinf(ell)[None, :], 0.0, rk)
    else:  # some rho < 0 (alpha lam > 1): the plain closed forms do not cancel there
        kint = np.asarray(k)[:, None]
        rk = rho[None, :] ** kint
        with np.errstate(divide="ignore", invalid="ignore"):
            phi = np.where(rho == 1.0, kk, (1.0 - rk) / (1.0 - rho))
            phi2 = np.where(rho * rho == 1.0, kk, (1.0 - rk * rk) / (1.0 - rho * rho))
        F = kk - 2.0 * rho * phi + rho * rho * phi2  # sum (1 - rho^m)^2 = k - 2 rho phi_k + rho^2 phi_k(rho^2)
    m_bar = z0 * rho * phi / kk
    m_y = z0 * rk
    v_bar = s * F / (kk * lam) ** 2
    v_y = al * al * s * phi2
    c = al * al * s * (phi * phi + phi2) / (2.0 * kk)
    return m_bar * m_bar + v_bar, m_bar * m_y + c, m_y * m_y + v_y


def _phase2_matrix(x, al, s, beta):
    """Stacked 4x4 augmented matrices of ``(M11, M12, M22, 1) -> (M11', M12', M22', 1)`` (one per coordinate)."""
    rho = 1.0 - x
    n = x.size
    T = np.zeros((n, 4, 4))
    g = 1.0 - beta
    T[:, 0, 0] = beta * beta
    T[:, 0, 1] = 2.0 * beta * g * rho
    T[:, 0, 2] = g * g * rho * rho
    T[:, 0, 3] = s * al * al * g * g
    T[:, 1, 1] = beta * rho
    T[:, 1, 2] = g * rho * rho
    T[:, 1, 3] = s * al * al * g
    T[:, 2, 2] = rho * rho
    T[:, 2, 3] = s * al * al
    T[:, 3, 3] = 1.0
    return T


def ema_excess_risk(p, alpha: float, k, beta_max: float):
    """Exact ``E[h(theta_bar_k)] - h(theta*)`` of the exponentially decayed average (001_7d31b3ff3a2f0401.txt §14.3).

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    alpha : float
        Constant step size (any ``alpha > 0``; the result is exact, accurate for ``alpha lambda_1 <= 1``).
    k : int or array_like of int
        Iteration count(s), up to 2^62.
    beta_max : float
        In ``[0, 1)``; ``beta_max = 0`` gives ``theta_bar_k = theta_k`` (:func:`~theorytools.quadratic.excess_risk`).

    Returns
    -------
    float or ndarray
        The expected excess objective of the decayed average at each k.

    Notes
    -----
    Phase 1 (``k <= k*``) is closed form; phase 2 starts from the phase-1 moments at ``k*`` and applies
    ``T^{k - k*}`` with ``T`` the 4x4 augmented matrix, by binary powering (the squarings
    ``T^{2^j}`` are shared by all requested k).  For ``rho = 1 - alpha lam`` within ``eps`` of 1 the
    squarings lose ~``min(k, 1/(alpha lam)) * 1e-16`` relative accuracy (the conditioning of ``rho^k``
    itself): measured <= 2e-9 at ``alpha lambda_n = 1e-8``, k up to 1e12, against 40-digit arithmetic.
    Cost: O(n log k) per k after the eigensolve (n = 50, 1000 values of k up to 1e12: 0.2 s).

    Examples
    --------
    ``beta_max = 0`` is the plain iterate, and at ``k = 1e12`` the risk has reached its stationary value:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, ema_excess_risk, ema_stationary_excess_risk, excess_risk
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> bool(np.allclose(ema_excess_risk(p, 0.5, [1, 5, 10**6], 0.0), excess_risk(p, 0.5, [1, 5, 10**6])))
    True
    >>> bool(np.isclose(ema_excess_risk(p, 0.25, 10**12, 0.9), ema_stationary_excess_risk(p, 0.25, 0.9)))
    True
    """
    p = as_problem(p)
    sched = Constant(alpha)
    al = sched.alpha
    beta = _check_beta(beta_max)
    ks = np.atleast_1d(as_steps(k))
    # phase 1's closed forms (~16 k x n tables with sum_sq_geometric's power sums) and phase 2's (k, n, 4) states
    check_allocation("the k x coordinate tables of the decayed average", (ks.size, p.n), copies=48,
                     cheaper="fewer k per call (the results for different k are independent)")
    kstar = ema_switch(beta)
    x = al * p.lam
    s, z0, lam = p.s, p.z0, p.lam
    # a diverging iteration (alpha lam > 2) overflows at large k: reported by check_finite below, not as a warning
    with np.errstate(over="ignore", invalid="ignore"):
        E = np.empty((ks.size, p.n))
        E[ks == 0] = z0 * z0
        ph1 = (ks >= 1) & (ks <= kstar)
        if ph1.any():
            E[ph1] = _phase1(x, al, s, z0, lam, ks[ph1])[0]
        ph2 = ks > kstar
        if ph2.any():
            M11, M12, M22 = (m[0] for m in _phase1(x, al, s, z0, lam, np.array([kstar])))
            state = np.stack([M11, M12, M22, np.ones(p.n)], axis=-1)  # (n, 4)
            state = np.broadcast_to(state, (int(ph2.sum()), p.n, 4)).copy()
            steps = (ks[ph2] - kstar).astype(np.int64)
            P = _phase2_matrix(x, al, s, beta)
            while np.any(steps):
                odd = (steps & 1).astype(bool)
                if odd.any():
                    state[odd] = np.einsum("nij,knj->kni", P, state[odd])
                steps >>= 1
                if np.any(steps):
                    P = P @ P
            E[ph2] = state[:, :, 0]
        out = E @ (0.5 * lam)
    out = check_finite("ema_excess_risk", out)
    return float(out[0]) if np.ndim(k) == 0 else out


def ema_stationary_excess_risk(p, alpha: float, beta_max: float) -> float:
    """``lim_{k->inf} E[h(theta_bar_k)] - h*`` of the decayed average: the noise floor times a per-coordinate factor.

    The fixed point of the phase-2 recursion gives ``E[ybar^2] -> V_inf f(beta, rho)`` with
    ``V_inf = alpha^2 s/(1 - rho^2)`` and ``f = (1 - beta)(1 + beta rho) / ((1 + beta)(1 - beta rho))``, so::

        lim = sum_i alpha s_i / (2 (2 - alpha lam_i)) * f(beta_max, rho_i)

    -- the constant-step floor of §14.2.1 (``beta = 0``, ``f = 1``) shrunk by ``f``, which is ~
    ``(1 - beta)/((1 - beta) + alpha lam)`` for beta, rho near 1; it never reaches 0 for ``beta_max < 1``
    (001_7d31b3ff3a2f0401.txt §14.3: "the variance will never converge exactly to zero").
    Needs ``alpha lambda_1(B^-1 H) < 2``.

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    alpha : float
        The constant step size, ``0 < alpha lambda_1(B^-1 H) < 2``.
    beta_max : float
        The largest decay factor, in ``[0, 1)``.

    Returns
    -------
    float
        The limit of the expected excess objective of the decayed average.

    Examples
    --------
    ``beta_max = 0`` gives the noise floor ``alpha/4 tr((B - alpha/2 H)^{-1} Sigma_g) = 1/8 (2 + 4/3) = 5/12``:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, ema_stationary_excess_risk
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> print(f"{ema_stationary_excess_risk(p, 0.5, 0.0):.6f}")
    0.416667
    """
    p = as_problem(p)
    al = Constant(alpha).alpha
    beta = _check_beta(beta_max)
    x = al * p.lam
    if np.any(x >= 2.0):
        raise ValueError(f"alpha lambda_1(B^-1 H) = {x.max():.6g} >= 2: the iteration has no stationary variance")
    rho = 1.0 - x
    f = (1.0 - beta) * (1.0 + beta * rho) / ((1.0 + beta) * (1.0 - beta * rho))
    return float(np.sum(0.5 * al * p.s / (2.0 - x) * f))


def ema_excess_risk_dense(p, alpha: float, k: int, beta_max: float) -> float:
    """Brute-force ``E[h(theta_bar_k)] - h*``: explicit weights and the covariances of eqn. 39.

    ``theta_bar_k = sum_m w_{k,m} theta_m`` (:func:`ema_weights`), ``Cov(theta_i, theta_j) = V_i (I - alpha B^-1 H)^{(j-i)T}``
    for ``j >= i`` (001_7d31b3ff3a2f0401.txt Appendix B.3, eqn. 39) with ``V_i`` from the dense recursion
    (:func:`~theorytools.quadratic.variance_recursion`) and the means ``D^i (theta_0 - theta*)`` of eqn. 23, ``D = I - alpha B^-1 H``.  O(k^2 n^3):
    the independent route for small k and n (no eigendecomposition of the pair recursion).
    """
    k = int(as_steps(k))
    w = ema_weights(k, beta_max)
    V = variance_recursion(p, Constant(alpha), k)  # V_0..V_k
    D = np.eye(p.n) - alpha * p.BinvH
    Dp = [np.eye(p.n)]
    for _ in range(k):
        Dp.append(D @ Dp[-1])
    Vbar = np.zeros((p.n, p.n))
    for i in range(k + 1):
        for j in range(i, k + 1):
            C = V[i] @ Dp[j - i].T  # Cov(theta_i, theta_j), j >= i
            if j == i:
                Vbar += w[i] * w[i] * C
            else:
                Vbar += w[i] * w[j] * (C + C.T)
    d0 = p.theta0 - p.theta_star
    mbar = sum(w[i] * (Dp[i] @ d0) for i in range(k + 1))  # E[theta_i] - theta* = D^i d0 (eqn. 23)
    return 0.5 * float(np.sum(p.H * Vbar)) + 0.5 * float(mbar @ p.H @ mbar)


__all__ = [
    "ema_switch",
    "ema_betas",
    "ema_weights",
    "ema_excess_risk",
    "ema_stationary_excess_risk",
    "ema_excess_risk_dense",
]
