"""High-precision reference for the harmonic-step factors at any k up to 1e12 (001_7d31b3ff3a2f0401.txt §14.2).

With ``alpha_t = 1/(t + A)``, ``A = a + 1`` (eqn. 19's harmonic schedule, Theorem 3 and Appendix B.2)
the exact solution decouples along the eigen-coordinates of ``B^-1 H`` (Appendix B, eqns. 22-23):

* ``P_k(lam) = prod_{s<k} (1 - lam/(s + A)) = Gamma(k+A-lam) Gamma(A) / (Gamma(A-lam) Gamma(k+A))``;
* ``T_k(lam_i, lam_j) = sum_{t<k} alpha_t^2 prod_{t<s<k} r_s``, ``r_s = (1 - lam_i/(s+A))(1 - lam_j/(s+A))``,
  the scalar form of ``V_{k+1} = Lambda_k(V_k) + alpha_k^2 U`` (Theorem 3).

This module shares no code with :mod:`theorytools.quadratic._factors`.  ``T_k`` is formed in mpmath at
``dps`` digits (default 40) by

1. the defining recursion ``T_{s+1} = r_s T_s + alpha_s^2`` term by term, for every step up to
   ``DIRECT_MAX`` steps (all of ``T_k`` for small k), and otherwise
2. a window: steps ``t < t_lo`` are dropped where ``prod_{t_lo<=s<k} r_s * trigamma(A)`` -- a bound on
   their whole contribution, since ``0 <= r_s <= 1`` and ``sum_t alpha_t^2 <= trigamma(A)`` -- is below
   ``1e-30 alpha_{k-1}^2 <= 1e-30 T_k``;
3. the recursion from ``t_lo`` over the steps where the summand varies fast (``t + A - lam`` not yet
   100 times ``lam_i + lam_j``) -- at most ``DIRECT_MAX`` steps;
4. the remaining steps ``F(t) = alpha_t^2 prod_{t<s<k} r_s`` with the product written by log-Gamma
   functions, summed by :func:`mpmath.sumem` (Euler-Maclaurin with polygamma derivatives); its
   integral by Gauss-Legendre quadrature (:func:`mpmath.quad`) on pieces that double in length away
   from F's nearest singularity (each piece as long as its distance from it, so that every piece lies
   equally deep inside F's region of analyticity), its end-point derivatives from ``(ln F)^(m)`` --
   polygamma functions -- by Leibniz's rule.

Each value is returned with its own error estimate (sumem's plus the dropped window bound).
"""

from __future__ import annotations

import mpmath as mp

DPS = 40
DIRECT_MAX = 200_000  # most recursion steps in one evaluation
_WINDOW_TOL = mp.mpf("1e-30")
_RATE = 100  # Euler-Maclaurin only where t + A - max(lam) >= _RATE * (lam_i + lam_j) (and >= _RATE)


def _log_prod(A, lam, t0, t1):
    """``ln prod_{t0<=s<t1} (1 - lam/(s+A))`` by log-Gamma (t0 <= t1, t0 + A - lam > 0)."""
    return mp.loggamma(t1 + A - lam) - mp.loggamma(t0 + A - lam) - mp.loggamma(t1 + A) + mp.loggamma(t0 + A)


def mean_factor(a, lam, k, dps: int = DPS):
    """``P_k(lam) = prod_{s<k} (1 - lam/(s + a + 1))`` (eqn. 23) for ``0 < lam <= a + 1``."""
    with mp.workdps(dps):
        A, lam, k = mp.mpf(a) + 1, mp.mpf(lam), int(k)
        if k == 0:
            return mp.mpf(1)
        if lam == A:
            return mp.mpf(0)
        return mp.exp(_log_prod(A, lam, 0, k))


def noise_factor(a, lam_i, lam_j, k, dps: int = DPS):
    """``(T_k(lam_i, lam_j), error estimate)`` for ``alpha_t = 1/(t + a + 1)``, eigenvalues in ``(0, a + 1]``."""
    with mp.workdps(dps):
        A, li, lj, k = mp.mpf(a) + 1, mp.mpf(lam_i), mp.mpf(lam_j), int(k)
        mu, lmax = li + lj, max(li, lj)
        if k <= DIRECT_MAX:
            return _recursion(A, li, lj, 0, k), mp.mpf(0)

        def log_r(t0, t1):  # ln prod_{t0<=s<t1} r_s
            return _log_prod(A, li, t0, t1) + _log_prod(A, lj, t0, t1)

        # 2. the window: smallest gap g = k - t_lo (doubling) whose dropped part is negligible
        floor = mp.log(_WINDOW_TOL) - 2 * mp.log(k - 1 + A) - mp.log(mp.psi(1, A))
        g = 1
        while g < k and log_r(k - g, k) > floor:
            g *= 2
        t_lo = max(0, k - g)
        dropped = mp.exp(log_r(t_lo, k)) * mp.psi(1, A) if t_lo > 0 else mp.mpf(0)
        # 3. the recursion over the fast steps
        t_rate = int(mp.ceil(_RATE * max(mu, 1) + lmax - A))
        t_e = min(k, max(t_lo, t_rate))
        if t_e - t_lo > DIRECT_MAX:
            raise ValueError(f"reference: {t_e - t_lo} recursion steps needed (lam {lam_i}, {lam_j}, k {k})")
        head = _recursion(A, li, lj, t_lo, t_e)
        if t_e == k:
            return head, dropped

        # 4. Euler-Maclaurin over t_e .. k-1 of F(t) = alpha_t^2 prod_{t<s<k} r_s
        lgk = mp.loggamma(k + A - li) + mp.loggamma(k + A - lj) - 2 * mp.loggamma(k + A)

        def F(t):
            return mp.exp(lgk - mp.loggamma(t + 1 + A - li) - mp.loggamma(t + 1 + A - lj)
                          + 2 * mp.loggamma(t + 1 + A) - 2 * mp.log(t + A))

        def dlog_F(t, m):  # d^m/dt^m ln F(t), by polygamma functions
            out = (2 * mp.psi(m - 1, t + 1 + A) - mp.psi(m - 1, t + 1 + A - li) - mp.psi(m - 1, t + 1 + A - lj))
            return out - 2 * (-1) ** (m - 1) * mp.factorial(m - 1) / (t + A) ** m

        def diffs(t):  # F, F', F'', ... from the derivatives of ln F (F' = (ln F)' F, Leibniz)
            Fd, gd = [F(t)], []
            yield Fd[0]
            for n in range(1, 200):
                gd.append(dlog_F(t, n))
                Fd.append(mp.fsum(mp.binomial(n - 1, j) * gd[j] * Fd[n - 1 - j] for j in range(n)))
                yield Fd[n]

        lo, hi = mp.mpf(t_e), mp.mpf(k - 1)
        # F is analytic in t except at its poles and branch points, all at t <= sing < lo (where t + A or
        # t + 1 + A - lam reaches 0).  Pieces whose length equals their distance from sing (lo - sing >= _RATE here)
        # keep every piece equally well inside its region of analyticity, where Gauss-Legendre converges geometrically.
        sing = -min(A, 1 + A - lmax)
        pts = [lo]
        while 2 * pts[-1] - sing < hi:
            pts.append(2 * pts[-1] - sing)
        pts.append(hi)
        integral, quad_err = mp.quad(F, pts, method="gauss-legendre", error=True)
        tail, err = mp.sumem(F, [lo, hi], integral=integral, adiffs=diffs(lo), bdiffs=diffs(hi), error=True)
        return mp.exp(log_r(t_e, k)) * head + tail, abs(err) + abs(quad_err) + dropped


def _recursion(A, li, lj, t0, t1):
    """``sum_{t0<=t<t1} alpha_t^2 prod_{t<s<t1} r_s`` by ``T <- r_s T + alpha_s^2`` (the definition)."""
    T = mp.mpf(0)
    zi, zj = A - li, A - lj
    for s in range(t0, t1):
        w = s + A
        T = (T * ((s + zi) * (s + zj)) + 1) / (w * w)  # (r_s T + alpha_s^2), over one common denominator
    return T


def excess_risk_diagonal(a, lams, s, z0, k, dps: int = DPS):
    """eqn. 20 for a problem given in its eigen-coordinates:
    ``E h(theta_k) - h* = sum_i 1/2 lam_i (s_i T_k(lam_i, lam_i) + z0_i^2 P_k(lam_i)^2)``."""
    with mp.workdps(dps):
        tot = mp.mpf(0)
        for lam, si, zi in zip(lams, s, z0):
            T = noise_factor(a, lam, lam, k, dps)[0] if si != 0 else mp.mpf(0)
            P = mean_factor(a, lam, k, dps)
            tot += mp.mpf(lam) / 2 * (mp.mpf(si) * T + mp.mpf(zi) ** 2 * P**2)
        return tot


def eigen_coordinates(H, B, Sigma_g, d0, dps: int = DPS):
    """``(lam, s, z0)`` from the dense matrices in mpmath: with ``B = L L^T`` and
    ``L^-1 H L^-T = Q diag(lam) Q^T``, ``x = Q^T L^T (theta - theta*)`` decouples eqn. 19 into
    ``x' = (1 - alpha lam) x - alpha eta``, ``Cov(eta) = Q^T L^-1 Sigma_g L^-T Q`` (diagonal ``s``)."""
    with mp.workdps(dps):
        n = len(d0)
        Hm, Bm, Sm = (mp.matrix([[mp.mpf(float(v)) for v in row] for row in M]) for M in (H, B, Sigma_g))
        L = mp.cholesky(Bm)
        Li = mp.inverse(L)
        M = Li * Hm * Li.T
        M = (M + M.T) / 2
        lam, Q = mp.eigsy(M)
        S = Q.T * Li * Sm * Li.T * Q
        x = Q.T * L.T * mp.matrix([mp.mpf(float(v)) for v in d0])
        return [lam[i] for i in range(n)], [S[i, i] for i in range(n)], [x[i] for i in range(n)]


def variance(H, B, Sigma_g, a, k, dps: int = DPS):
    """``V_k = Var(theta_k)`` (Theorem 3) from the dense matrices: with ``B = L L^T``,
    ``L^-1 H L^-T = Q diag(lam) Q^T`` and ``S = Q^T L^-1 Sigma_g L^-T Q``,
    ``V_k = L^-T Q (T_k(lam_i, lam_j) S_ij) Q^T L^-1`` (each entry of ``Var(Q^T L^T theta_k)`` obeys
    ``C <- r C + alpha^2 S_ij``)."""
    with mp.workdps(dps):
        n = len(H)
        Hm, Bm, Sm = (mp.matrix([[mp.mpf(float(v)) for v in row] for row in M]) for M in (H, B, Sigma_g))
        L = mp.cholesky(Bm)
        Li = mp.inverse(L)
        M = Li * Hm * Li.T
        lam, Q = mp.eigsy((M + M.T) / 2)
        S = Q.T * Li * Sm * Li.T * Q
        C = mp.matrix(n, n)
        for i in range(n):
            for j in range(i, n):
                C[i, j] = C[j, i] = noise_factor(a, lam[i], lam[j], k, dps)[0] * S[i, j]
        return Li.T * Q * C * Q.T * Li
