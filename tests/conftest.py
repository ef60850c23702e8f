"""Shared reference routes for the tests of ``theorytools.linalg`` and ``theorytools.quadratic``.

Every closed form of 001_7d31b3ff3a2f0401.txt §14 (Theorem 3, eqn. 20, Theorems 5 and 6) is
tested against a route that shares no code with it:

* ``dense_moments`` / ``dense_risk`` -- the float64 recursions of Appendix B (shared with the
  verification suite, :mod:`verification.reference.quadratic`)
  (``E[theta_{k+1}] - theta* = (I - alpha_k B^-1 H)(E[theta_k] - theta*)``, eqn. 23, and
  ``V_{k+1} = (I - alpha_k B^-1 H) V_k (.)^T + alpha_k^2 U``), built from ``H, B, Sigma_g`` only;
* ``mp_moments`` / ``mp_risk`` -- the same recursions in mpmath at 50 digits;
* ``mp_scalar_constant_risk`` / ``mp_averaged_risk_diag`` -- mpmath closed forms for k up to 1e12;
* ``double_sum_averaged_risk`` -- the O(k^2) double sum of covariances of Appendix B.3 (eqn. 39).

The module is exposed to tests through the session fixture ``ref`` (``ref.dense_risk(...)``), so
no test imports ``conftest`` by name.  Problem grids are attached by ``pytest_generate_tests`` to
the argument names ``grid_case`` (the seeded random grid) and ``small_case`` (n <= 5).
"""

from __future__ import annotations

import itertools
import os
import sys
from functools import lru_cache

import mpmath as mp
import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from theorytools.quadratic import QuadraticProblem, as_schedule, random_problem
from verification.reference import quadratic as R

# Every hypothesis test of the suite is deterministic: examples are a fixed function of the test
# (derandomize), there is no example database, and no deadline (first calls into LAPACK can be slow).
# ``--hypothesis-profile explore`` draws fresh examples instead (with --hypothesis-seed), to search wider.
settings.register_profile("theorytools", derandomize=True, database=None, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("theorytools")

# The size guards refuse allocations above the available memory: a fixed limit makes the bad-input suite's huge
# sizes refused the same way on a machine with 24 GB and on one with 2 TB (the CI machines have 24 GB).
os.environ.setdefault("THEORYTOOLS_MEMORY_LIMIT", "8G")

EPS = np.finfo(float).eps  # 2.22e-16, unit roundoff of float64 (times 2)
MP_DPS = 50


@pytest.fixture(scope="session")
def ref():
    """This module: the independent reference routes."""
    return sys.modules[__name__]


# --------------------------------------------------------------------------------------------
# The seeded random grid of the brief: kappa(H) x n x B x Sigma_g.
# --------------------------------------------------------------------------------------------
KAPPAS = (1.0, 1e2, 1e4, 1e8)
NS = (1, 2, 5, 30)
B_KINDS = ("H", "I", "lambda_n", "random")
SIGMA_KINDS = ("H", "random", "lowrank")


def grid_seed(n, kappa, B_kind, Sigma_kind) -> int:
    """A fixed seed per grid cell (distinct cells get distinct seeds)."""
    return 10_000 * n + 100 * int(round(np.log10(kappa))) + 10 * B_KINDS.index(B_kind) + SIGMA_KINDS.index(Sigma_kind)


@lru_cache(maxsize=None)
def grid_problem(n, kappa, B_kind, Sigma_kind) -> QuadraticProblem:
    return random_problem(n, kappa, B_kind, Sigma_kind, seed=grid_seed(n, kappa, B_kind, Sigma_kind))


GRID = list(itertools.product(NS, KAPPAS, B_KINDS, SIGMA_KINDS))
# n <= 5, every kappa and B, the Sigma_g kinds in rotation (the full product is covered by the risk tests)
SMALL_GRID = [
    (n, kappa, Bk, SIGMA_KINDS[i % len(SIGMA_KINDS)])
    for i, (n, kappa, Bk) in enumerate(itertools.product((1, 2, 5), KAPPAS, B_KINDS))
]


def _case_id(c):
    n, kappa, Bk, Sk = c
    return f"n{n}-kappa{kappa:.0e}-B_{Bk}-S_{Sk}"


def pytest_generate_tests(metafunc):
    if "grid_case" in metafunc.fixturenames:
        metafunc.parametrize("grid_case", GRID, ids=[_case_id(c) for c in GRID])
    if "small_case" in metafunc.fixturenames:
        metafunc.parametrize("small_case", SMALL_GRID, ids=[_case_id(c) for c in SMALL_GRID])


def rescaled_for_harmonic(p: QuadraticProblem, b_target: float) -> QuadraticProblem:
    """Same H, Sigma_g, theta0 with B scaled so that ``lambda_n(B^-1 H) = b_target`` (up to rounding).

    Scaling B by c scales every eigenvalue of B^-1 H by 1/c; this puts any grid problem inside the
    harmonic hypotheses ``b > 1/2`` of Theorems 3 and 5 (with ``a >= lambda_1 - 1``).
    """
    return QuadraticProblem(p.H, p.B * (p.lambda_n / b_target), p.Sigma_g, p.theta0, p.theta_star)


def harmonic_a(p: QuadraticProblem) -> float:
    """The smallest ``a >= 1`` with ``lambda_1(B^-1 H) <= a + 1`` (the hypotheses of Theorem 5)."""
    return max(1.0, p.lambda_1 - 1.0)


def cond(A) -> float:
    """2-norm condition number of a symmetric positive definite matrix."""
    w = np.linalg.eigvalsh(A)
    return float(w[-1] / w[0])


def route_rtol(p: QuadraticProblem, k: int | float = 1) -> float:
    """Relative tolerance between two float64 routes of an exact-risk quantity after k steps.

    Justification.  Both routes are backward stable: the generalized eigensolve of (H, B) and the
    dense ``B^-1 H`` each perturb the eigenvalues of ``B^-1 H`` by up to ~eps kappa(B) relatively
    (the Cholesky factor of B enters both).  The risk is a smooth function of those eigenvalues:
    for constant steps ``d rho^{2k}/rho^{2k} = 2k x/(1-x) dlam/lam`` multiplies ``rho^{2k}``, and
    ``max_k 2k x/(1-x) |rho|^{2k} <= 1`` away from ``|rho| = 1``; for harmonic steps
    ``d ln P_k / d ln lam = -sum_j lam/(j+a+1-lam) = O(lam ln(1+k))`` but ``P_k^2 <= ((a+1)/(k+a))^{2 lam}``
    bounds ``lam ln(1+k) P_k`` by O(1 + ln(1+k)).  Hence ``8 (1 + ln(1+k)) eps kappa(B)``, plus
    1e-10 for the rounding that accumulates in the dense recursions (at most a few hundred steps
    of n x n products with contracting factors: measured <= 1e-10 at n = 30, kappa(H) = 1e8).
    """
    return 1e-10 + 8.0 * (1.0 + np.log1p(float(k))) * EPS * cond(p.B)


def _sym_unit(n, rng):
    E = rng.standard_normal((n, n))
    E = E + E.T
    return E / np.linalg.norm(E, 2)


def perturbed_problems(p: QuadraticProblem, draws: int = 2, seed: int = 12345):
    """Copies of p with H, B, Sigma_g moved by random symmetric perturbations of 2-norm
    ``4 eps |H|_2``, ``4 eps |B|_2``, ``4 eps |Sigma_g|_2`` (the size of a backward error)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(draws):
        H = p.H + 4 * EPS * np.linalg.norm(p.H, 2) * _sym_unit(p.n, rng)
        B = p.B + 4 * EPS * np.linalg.norm(p.B, 2) * _sym_unit(p.n, rng)
        S = p.Sigma_g + 4 * EPS * np.linalg.norm(p.Sigma_g, 2) * _sym_unit(p.n, rng)
        out.append(QuadraticProblem(H, B, S, p.theta0, p.theta_star))
    return out


def perturbation_rtol(p: QuadraticProblem, fn, draws: int = 2, floor: float = 1e-10):
    """Relative tolerance for comparing two float64 routes of ``fn(p)`` (an array), per element.

    Justification (randomized condition estimation).  Each route is backward stable: it returns the
    exact value for data (H + dH, B + dB, Sigma_g + dS) with |dH| <= c eps |H| etc.  How much such a
    perturbation moves the quantity is the problem's conditioning, which varies enormously over the
    grid (1e-15 for B = H at kappa 1, 1e-7 for B = H at kappa 1e8).  We measure it: ``fn`` is
    re-evaluated (by the dense route) on ``draws`` random perturbations of size 4 eps, and the
    tolerance is 16 x the largest relative change (safety for the random direction missing the worst
    one and for c(n)), plus ``floor`` = 1e-10 for the rounding accumulated by the dense recursions.
    On the grid the observed route differences use <= 1/4 of this tolerance, while the harmonic
    ln-Gamma cancellation fixed in _factors.py exceeded it by a factor ~3000.
    """
    base = np.asarray(fn(p), dtype=float)
    worst = np.zeros_like(base)
    for q in perturbed_problems(p, draws):
        v = np.asarray(fn(q), dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(base != 0, np.abs(v - base) / np.abs(base), np.abs(v - base))
        worst = np.maximum(worst, rel)
    return floor + 16.0 * worst


def mat_rtol(p: QuadraticProblem, k: int | float = 1) -> float:
    """Relative tolerance (in Frobenius norm) between two routes of a *matrix* such as V_inf.

    Justification.  Matrices like ``V_inf`` or ``U`` have eigen-coordinates spanning up to a factor
    ``lambda_1/lambda_n`` (``V_inf`` ~ ``alpha s/(2x)`` per coordinate) and are moved in and out of the
    B-orthonormal eigenbasis by ``V`` (condition ``sqrt(kappa(B))`` on each side).  Each transform adds
    an absolute rounding ``~eps |X|`` to every entry, so the large coordinates pollute the small ones:
    two routes that transform different (but mathematically equal) matrices -- e.g. ``V^-1 U V^-T`` versus
    ``V^T Sigma_g V`` -- differ by up to ``64 n eps kappa(B) lambda_1/lambda_n`` relatively, on top of
    :func:`route_rtol`.  (The risk, weighted by H, is not affected: see route_rtol.)
    """
    return route_rtol(p, k) + 64.0 * p.n * EPS * cond(p.B) * (p.lambda_1 / p.lambda_n)


# --------------------------------------------------------------------------------------------
# Dense float64 routes (Appendix B recursions), from H, B, Sigma_g, theta0 only.
# --------------------------------------------------------------------------------------------
def dense_parts(p: QuadraticProblem):
    """``(B^-1 H, U = B^-1 Sigma_g B^-1)`` by dense solves, independently of the eigensolve."""
    dense = R.Dense.of(p)
    return dense.A, dense.U


#: ``alpha_0 .. alpha_{K-1}`` written out from the schedule's definition (§14.2).
alphas_of = R.step_sizes


def dense_moments(p: QuadraticProblem, schedule, K: int):
    """``(m_0..m_K, V_0..V_K)``: ``m_k = E[theta_k] - theta*`` and ``V_k = Var(theta_k)`` (eqn. 22-23)."""
    return R.moments_by_recursion(R.Dense.of(p), alphas_of(as_schedule(schedule), K), np.arange(K + 1))


def dense_risk(p: QuadraticProblem, schedule, K: int):
    """``E[h(theta_k)] - h(theta*)`` for k = 0..K by eqn. 20 on the dense moments; also its two terms."""
    ms, Vs = dense_moments(p, schedule, K)
    noise = 0.5 * np.einsum("ij,kji->k", p.H, Vs)
    start = 0.5 * np.einsum("ki,ij,kj->k", ms, p.H, ms)
    return noise + start, noise, start


def double_sum_averaged_risk(p: QuadraticProblem, alpha: float, k: int) -> float:
    """``E[h(theta_bar_k)] - h(theta*)`` by the O(k^2) double sum of Appendix B.3.

    ``Vbar_k = (k+1)^-2 sum_{i,j<=k} Cov(theta_i, theta_j)`` with eqn. 39,
    ``Cov(theta_i, theta_j) = V_i (I - alpha B^-1 H)^{(j-i)T}`` for j >= i (transpose for i > j), and
    ``E[theta_bar_k] - theta* = (k+1)^-1 sum_i m_i``; then eqn. 38.
    """
    BinvH, _ = dense_parts(p)
    D = np.eye(p.n) - alpha * BinvH
    ms, Vs = dense_moments(p, alpha, k)
    Vbar = np.zeros((p.n, p.n))
    for i in range(k + 1):
        C = Vs[i].copy()  # Cov(theta_i, theta_i)
        Vbar += C
        for _j in range(i + 1, k + 1):
            C = C @ D.T  # Cov(theta_i, theta_j) = Cov(theta_i, theta_{j-1}) D^T
            Vbar += C + C.T
    Vbar /= (k + 1) ** 2
    mbar = ms.sum(axis=0) / (k + 1)
    return 0.5 * float(np.trace(p.H @ Vbar)) + 0.5 * float(mbar @ p.H @ mbar)


# --------------------------------------------------------------------------------------------
# mpmath routes at 50 digits.
# --------------------------------------------------------------------------------------------
def _mpmat(A):
    return mp.matrix(np.atleast_2d(np.asarray(A, dtype=float)).tolist())


def mp_risk(H, B, Sigma_g, theta0, alphas, theta_star=None, dps: int = MP_DPS):
    """Exact risk ``E[h(theta_k)] - h*`` for k = 0..len(alphas) by the mean/covariance recursion in mpmath.

    The float inputs are taken as exact binary numbers; ``B^-1`` is formed at ``dps`` digits.
    Returns a list of ``mpf``.
    """
    with mp.workdps(dps):
        H, B, S = _mpmat(H), _mpmat(B), _mpmat(Sigma_g)
        n = H.rows
        th0 = mp.matrix(np.atleast_1d(np.asarray(theta0, dtype=float)).tolist())
        if theta_star is not None:
            th0 = th0 - mp.matrix(np.atleast_1d(np.asarray(theta_star, dtype=float)).tolist())
        Bi = B**-1
        A = Bi * H
        U = Bi * S * Bi
        eye = mp.eye(n)
        m, V = th0, mp.zeros(n, n)

        def risk():
            return (sum((H * V)[i, i] for i in range(n)) + (m.T * H * m)[0, 0]) / 2

        out = [risk()]
        for al in alphas:
            al = mp.mpf(float(al))
            D = eye - al * A
            m = D * m
            V = D * V * D.T + al * al * U
            out.append(risk())
        return out


def mp_scalar_constant_risk(h, b, sigma, d0, alpha, k, dps: int = MP_DPS):
    """Scalar problem, constant step, closed form for any k (k up to 1e12 and beyond).

    With ``lam = h/b``, ``rho = 1 - alpha lam``: ``m_k = rho^k d0`` and, summing the geometric
    variance recursion ``V_{k+1} = rho^2 V_k + alpha^2 sigma/b^2``,
    ``V_k = alpha^2 sigma/b^2 (1 - rho^{2k})/(1 - rho^2)`` (``= alpha^2 sigma/b^2 k`` when rho^2 = 1).
    The risk is ``h/2 (V_k + m_k^2)`` (eqn. 20).
    """
    with mp.workdps(dps):
        h, b, sigma, d0, alpha = (mp.mpf(float(v)) for v in (h, b, sigma, d0, alpha))
        k = mp.mpf(int(k))
        rho = 1 - alpha * h / b
        q = alpha**2 * sigma / b**2
        V = q * k if rho**2 == 1 else q * (1 - rho ** (2 * k)) / (1 - rho**2)
        return h / 2 * (V + d0**2 * rho ** (2 * k))


def mp_averaged_risk_diag(lams_h, bs, sigmas, d0s, alpha, k, dps: int = MP_DPS):
    """Polyak-average risk for a *diagonal* problem (H, B, Sigma_g diagonal), closed form per coordinate.

    Per coordinate (``lam = h/b``, ``rho = 1 - alpha lam``, ``phi_m = (1 - rho^m)/(1 - rho)``):
    ``theta_bar_k - theta* = (k+1)^-1 [phi_{k+1} d0 - alpha/b sum_{t<k} eps_t phi_{k-t}]``, so
    ``Var = alpha^2 sigma/b^2 (k+1)^-2 sum_{m=1}^k phi_m^2`` with
    ``sum_{m=1}^k (1 - rho^m)^2 = k - 2 rho (1 - rho^k)/(1 - rho) + rho^2 (1 - rho^{2k})/(1 - rho^2)``,
    and the risk is ``sum h/2 (Var + mean^2)``.  At 50 digits the cancellation of this closed form
    for tiny ``alpha lam`` (up to ~log10(1/(alpha lam)^2) digits) leaves > 25 correct digits.
    """
    with mp.workdps(dps):
        k = mp.mpf(int(k))
        alpha = mp.mpf(float(alpha))
        tot = mp.mpf(0)
        for h, b, sg, d0 in zip(lams_h, bs, sigmas, d0s):
            h, b, sg, d0 = (mp.mpf(float(v)) for v in (h, b, sg, d0))
            rho = 1 - alpha * h / b
            if rho == 0:
                F = k
            elif rho**2 == 1:
                F = k - 2 * rho * (1 - rho**k) / (1 - rho) + k
            else:
                F = k - 2 * rho * (1 - rho**k) / (1 - rho) + rho**2 * (1 - rho ** (2 * k)) / (1 - rho**2)
            phi = (1 - rho ** (k + 1)) / (1 - rho)
            var = alpha**2 * sg / b**2 * F / (1 - rho) ** 2 / (k + 1) ** 2
            mean = phi * d0 / (k + 1)
            tot += h / 2 * (var + mean**2)
        return tot


def mp_averaged_risk_double_sum(H, B, Sigma_g, theta0, alpha, k, dps: int = MP_DPS):
    """Polyak-average risk by the O(k^2) double sum of eqn. 39 in mpmath (any small dense problem)."""
    with mp.workdps(dps):
        H, B, S = _mpmat(H), _mpmat(B), _mpmat(Sigma_g)
        n = H.rows
        Bi = B**-1
        al = mp.mpf(float(alpha))
        D = mp.eye(n) - al * Bi * H
        U = Bi * S * Bi
        m = mp.matrix(np.atleast_1d(np.asarray(theta0, dtype=float)).tolist())
        V = mp.zeros(n, n)
        ms, Vs = [m], [V]
        for _ in range(int(k)):
            m = D * m
            V = D * V * D.T + al * al * U
            ms.append(m)
            Vs.append(V)
        Vbar = mp.zeros(n, n)
        for i in range(int(k) + 1):
            C = Vs[i]
            Vbar += C
            for _j in range(i + 1, int(k) + 1):
                C = C * D.T
                Vbar += C + C.T
        Vbar /= (k + 1) ** 2
        mbar = mp.zeros(n, 1)
        for mi in ms:
            mbar += mi
        mbar /= k + 1
        return (sum((H * Vbar)[i, i] for i in range(n)) + (mbar.T * H * mbar)[0, 0]) / 2


def mp_log_gamma_ratio(z, m, dps: int = MP_DPS):
    with mp.workdps(dps):
        z, m = mp.mpf(float(z)), mp.mpf(float(m))
        return mp.loggamma(z + m) - mp.loggamma(z)


def rel_err(got, ref):
    """Elementwise ``|got - ref| / |ref|`` (with ref possibly mpmath numbers), as float."""
    got = np.atleast_1d(np.asarray(got, dtype=float))
    ref = list(np.atleast_1d(np.asarray(ref, dtype=object)).ravel())
    out = []
    for g, r in zip(got.ravel(), ref):
        r = mp.mpf(r)
        out.append(float(abs(mp.mpf(float(g)) - r) / abs(r)) if r != 0 else abs(float(g)))
    return np.array(out)


@pytest.fixture(scope="session", autouse=True)
def _checks_registered():
    """Every check module is imported (and its checks registered) before any test runs: tests that patch the registry
    with a copy of it (``monkeypatch.setattr(registry, "CHECKS", dict(registry.CHECKS))``) would otherwise, when they
    happen to run first (pytest-xdist distributes tests in any order), register the toolkit's checks into the copy
    only, and every later test of the process would find none."""
    from verification.registry import load_all

    load_all()
