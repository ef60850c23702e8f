"""Slow, independent routes to every quantity ``theorytools.quadratic`` reports (001_7d31b3ff3a2f0401.txt §14).

Nothing here calls the library's closed forms, and nothing uses the problem's eigendecomposition or
its cached ``U``, ``BinvH``, ``lam``, ``s``, ``z0``: each route starts again from the dense
``H, B, Sigma_g, theta0, theta*`` the user gave.  The routes are

* the dense recursions of Theorem 3 (``m_{k+1} = D_k m_k``, ``V_{k+1} = D_k V_k D_k^T + alpha_k^2 U``,
  ``D_k = I - alpha_k B^-1 H``), step by step;
* Kronecker (vec) solves of the operator equations of Appendix B for large k and for the limits;
* the printed bounds (Theorems 5, 6 and the §14.2.1-14.3.2 consequences) transcribed again, term by
  term, and evaluated in mpmath at 30 digits from ingredients obtained by the routes above;
* the cumulants of a Gaussian quadratic form (for the Monte Carlo self-calibration).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from math import factorial

import mpmath as mp
import numpy as np

DPS = 30  # mpmath digits for the transcriptions


@dataclass(frozen=True, eq=False)
class Dense:
    """The problem's matrices, and what the slow routes derive from them."""

    H: np.ndarray
    B: np.ndarray
    Sigma: np.ndarray
    d0: np.ndarray  # theta0 - theta*

    @classmethod
    def of(cls, p) -> "Dense":
        return cls(np.array(p.H), np.array(p.B), np.array(p.Sigma_g), np.array(p.theta0) - np.array(p.theta_star))

    @property
    def n(self) -> int:
        return self.H.shape[0]

    @cached_property
    def A(self) -> np.ndarray:
        """``B^-1 H`` (not symmetric unless B and H commute)."""
        return np.linalg.solve(self.B, self.H)

    @cached_property
    def U(self) -> np.ndarray:
        """``B^-1 Sigma_g B^-1``."""
        Binv = np.linalg.inv(self.B)
        return Binv @ self.Sigma @ Binv.T

    @cached_property
    def eigs(self) -> np.ndarray:
        """Eigenvalues of ``B^-1 H`` (real: similar to the SPD ``B^-1/2 H B^-1/2``), ascending."""
        return np.sort(np.linalg.eigvals(self.A).real)

    @property
    def h0(self) -> float:
        return 0.5 * float(self.d0 @ self.H @ self.d0)

    def kron(self, D: np.ndarray) -> np.ndarray:
        """The matrix of ``X -> D X D^T`` on column-major ``vec(X)``."""
        return np.kron(D, D)

    @cached_property
    def Xi_minus_I(self) -> np.ndarray:
        """Kronecker matrix of ``Xi - I``: ``X -> A X + X A^T - X``."""
        eye = np.eye(self.n)
        return np.kron(eye, self.A) + np.kron(self.A, eye) - np.eye(self.n**2)


def vec(X):
    return np.asarray(X).reshape(-1, order="F")


def unvec(x, n):
    return np.asarray(x).reshape(n, n, order="F")


# -- Theorem 3 by recursion and by Kronecker powers --------------------------------------------

def step_sizes(schedule, K: int) -> np.ndarray:
    """``alpha_0 .. alpha_{K-1}`` written out from each schedule's definition (§14.2, eqn. 19), not
    through the schedule's own ``alphas`` method."""
    from theorytools.quadratic import Constant, Harmonic, StepSequence

    j = np.arange(K, dtype=float)
    if isinstance(schedule, Constant):
        return np.full(K, schedule.alpha)
    if isinstance(schedule, Harmonic):
        return 1.0 / (j + schedule.a + 1.0)
    if isinstance(schedule, StepSequence):
        if K > len(schedule.values):
            raise ValueError(f"K must be <= {len(schedule.values)} (the number of step sizes given), got {K}")
        return np.asarray(schedule.values[:K], dtype=float)
    raise TypeError(f"unknown schedule {schedule!r}")


def moments_by_recursion(dense: Dense, alphas: np.ndarray, ks) -> tuple[np.ndarray, np.ndarray]:
    """``(E[theta_k] - theta*, Var theta_k)`` at each k by the dense recursion (k <= len(alphas))."""
    ks = np.asarray(ks)
    m, V = dense.d0.copy(), np.zeros((dense.n, dense.n))
    means, variances = {}, {}
    eye = np.eye(dense.n)
    for j in range(int(ks.max()) + 1):
        means[j], variances[j] = m, V
        if j == ks.max():
            break
        D = eye - alphas[j] * dense.A
        m, V = D @ m, D @ V @ D.T + alphas[j] ** 2 * dense.U
    return np.array([means[k] for k in ks]), np.array([variances[k] for k in ks])


def moments_constant_kron(dense: Dense, alpha: float, ks) -> tuple[np.ndarray, np.ndarray]:
    """Constant step, any k (up to 1e15): ``m_k = D^k d0`` and
    ``vec V_k = (I - M^k)(I - M)^-1 alpha^2 vec U`` with ``M = D (x) D`` (powers by repeated squaring)."""
    D = np.eye(dense.n) - alpha * dense.A
    M = dense.kron(D)
    n2 = dense.n**2
    v_inf = np.linalg.solve(np.eye(n2) - M, alpha**2 * vec(dense.U))
    means, variances = [], []
    for k in np.asarray(ks):
        Dk = np.linalg.matrix_power(D, int(k))
        Mk = np.linalg.matrix_power(M, int(k))
        means.append(Dk @ dense.d0)
        variances.append(unvec(v_inf - Mk @ v_inf, dense.n))
    return np.array(means), np.array(variances)


def V_infinity_kron(dense: Dense, alpha: float) -> np.ndarray:
    D = np.eye(dense.n) - alpha * dense.A
    return unvec(np.linalg.solve(np.eye(dense.n**2) - dense.kron(D), alpha**2 * vec(dense.U)), dense.n)


def xi_minus_I_inverse(dense: Dense, X) -> np.ndarray:
    """``(Xi - I)^-1 (X)`` by a Kronecker solve."""
    return unvec(np.linalg.solve(dense.Xi_minus_I, vec(X)), dense.n)


def psi(dense: Dense, beta: float, X) -> np.ndarray:
    D = np.eye(dense.n) - beta * dense.A
    return D @ X @ D.T


def risk(dense: Dense, means, variances) -> np.ndarray:
    """eqn. 20 from moments: ``1/2 tr(H V_k) + 1/2 m_k^T H m_k``."""
    return 0.5 * np.einsum("ij,kji->k", dense.H, variances) + 0.5 * np.einsum("ki,ij,kj->k", means, dense.H, means)


def _averages_risk(dense: Dense, T, Qn, K: int, scale) -> np.ndarray:
    """``E h`` of the second block y of the joint state (x, y) after k = 0..K steps of ``(mu, C) -> (T_k mu, T_k C T_k^T
    + Q_k)`` from x_0 = y_0 = d0, C_0 = 0, times ``scale[k]``: ``1/2 tr(H C_yy) + 1/2 m_y^T H m_y``.  ``T`` and ``Qn``
    are the step's matrices, or callables of k giving them; the moments are kept and the risks formed at the end."""
    n = dense.n
    mu = np.concatenate([dense.d0, dense.d0])
    C = np.zeros((2 * n, 2 * n))
    ms, Cs = np.empty((K + 1, n)), np.empty((K + 1, n, n))
    for k in range(K + 1):
        ms[k], Cs[k] = mu[n:], C[n:, n:]
        Tk, Qk = (T(k), Qn(k)) if callable(T) else (T, Qn)
        mu, C = Tk @ mu, Tk @ C @ Tk.T + Qk
    return (0.5 * np.einsum("ij,kij->k", dense.H, Cs) + 0.5 * np.einsum("ki,ij,kj->k", ms, dense.H, ms)) * scale


def averaged_risk_by_recursion(dense: Dense, alpha: float, K: int) -> np.ndarray:
    """Polyak average ``mean(theta_0..theta_k)``, k = 0..K, from the joint recursion of
    ``(x_k, S_k = sum_{j<=k} x_j)``: their second moments propagate exactly (no double sum)."""
    n = dense.n
    D = np.eye(n) - alpha * dense.A
    # state (x, S): x' = D x - alpha eps, S' = S + x'
    T = np.block([[D, np.zeros((n, n))], [D, np.eye(n)]])
    G = np.vstack([np.eye(n), np.eye(n)])  # noise enters both x' and S'
    return _averages_risk(dense, T, alpha**2 * G @ dense.U @ G.T, K, 1.0 / (np.arange(K + 1) + 1.0) ** 2)


def ema_risk_by_recursion(dense: Dense, alpha: float, K: int, beta_max: float) -> np.ndarray:
    """Decayed average ``ybar_k = beta_k ybar_{k-1} + (1 - beta_k) theta_k``, ``beta_k = min(1 - 1/k, beta_max)``,
    ``ybar_0 = theta_0``, k = 0..K, from the joint recursion of ``(x_k, ybar_k)``."""
    n = dense.n
    D = np.eye(n) - alpha * dense.A
    step = {}  # beta -> (T, noise covariance); beta is constant once it reaches beta_max

    def matrices(k):
        beta = min(1.0 - 1.0 / (k + 1), beta_max)
        if beta not in step:
            T = np.block([[D, np.zeros((n, n))], [(1.0 - beta) * D, beta * np.eye(n)]])
            G = np.vstack([np.eye(n), (1.0 - beta) * np.eye(n)])
            step[beta] = (T, alpha**2 * G @ dense.U @ G.T)
        return step[beta]

    return _averages_risk(dense, lambda k: matrices(k)[0], lambda k: matrices(k)[1], K, np.ones(K + 1))


# -- printed bounds, transcribed again and evaluated in mpmath --------------------------------

@dataclass(frozen=True)
class Ingredients:
    """The scalars the printed bounds are made of, each from a slow route."""

    lambda_1: float
    lambda_n: float
    h0: float
    tU: float  # tr((B^-1 - H^-1/2)^-1 U) = 2 tr(H (Xi - I)^-1 U)       (Prop. 14 read backwards)
    tPsi: float  # tr((B^-1 - H^-1/2)^-1 Psi_1(U)) = 2 tr(H (Xi - I)^-1 Psi_1(U))
    tr_Hinv_Sigma: float
    tr_HU: float


def ingredients(dense: Dense, harmonic: bool) -> Ingredients:
    tU = tPsi = float("nan")
    if harmonic:
        tU = 2.0 * float(np.trace(dense.H @ xi_minus_I_inverse(dense, dense.U)))
        tPsi = 2.0 * float(np.trace(dense.H @ xi_minus_I_inverse(dense, psi(dense, 1.0, dense.U))))
    Hm = mp.matrix(dense.H.tolist())
    with mp.workdps(DPS):
        tr_his = float(sum((mp.lu_solve(Hm, mp.matrix(dense.Sigma[:, j].tolist())))[j] for j in range(dense.n)))
    return Ingredients(float(dense.eigs[-1]), float(dense.eigs[0]), dense.h0, tU, tPsi, tr_his,
                       float(np.trace(dense.H @ dense.U)))


def noise_floor(dense: Dense, alpha: float) -> float:
    """``alpha/4 tr((B - alpha/2 H)^-1 Sigma_g) = 1/2 tr(H V_inf)`` (eqn. 29), via the Kronecker V_inf."""
    return 0.5 * float(np.trace(dense.H @ V_infinity_kron(dense, alpha)))


def nu(a) -> mp.mpf:
    """Theorem 5: ``nu(a) = (a+2)^3 / (a (a+1)^2)``."""
    a = mp.mpf(a)
    return (a + 2) ** 3 / (a * (a + 1) ** 2)


def _terms(ks, f):
    """``f(k) -> tuple of mp terms`` at each k; returns (sum, sum of |terms|) as float arrays."""
    with mp.workdps(DPS):
        rows = [f(mp.mpf(int(k))) for k in ks]
        return (np.array([float(mp.fsum(r)) for r in rows]), np.array([float(mp.fsum(abs(t) for t in r)) for r in rows]))


def theorem5_constant(ing: Ingredients, N: float, alpha: float, ks):
    """Theorem 5, constant step: ``u = [1 - (1-e1)^{2k}] N + (1-e2)^{2k} h0``, ``l`` with e1, e2 swapped."""
    e1, e2 = mp.mpf(alpha) * ing.lambda_1, mp.mpf(alpha) * ing.lambda_n
    up = _terms(ks, lambda k: (N * (1 - (1 - e1) ** (2 * k)), (1 - e2) ** (2 * k) * ing.h0))
    lo = _terms(ks, lambda k: (N * (1 - (1 - e2) ** (2 * k)), (1 - e1) ** (2 * k) * ing.h0))
    return lo, up


def theorem5_harmonic(ing: Ingredients, a: float, ks):
    """Theorem 5, ``alpha_k = 1/(k+a+1)``:
    ``u = t_U/(4(k+a)) + nu(a) k t_Psi/(4(k+a)^3) + h0 ((1+a)/(k+a))^{2b}``,
    ``l = t_U/(4(k+a)) - t_U/(4a) ((1+a)/(k+a))^{2b}``, ``b = lambda_n``."""
    a_ = mp.mpf(a)
    b2 = 2 * mp.mpf(ing.lambda_n)
    up = _terms(ks, lambda k: (ing.tU / (4 * (k + a_)), nu(a) * k * ing.tPsi / (4 * (k + a_) ** 3),
                               ing.h0 * ((1 + a_) / (k + a_)) ** b2))
    lo = _terms(ks, lambda k: (ing.tU / (4 * (k + a_)), -ing.tU / (4 * a_) * ((1 + a_) / (k + a_)) ** b2))
    return lo, up


def prop23_sums(a: float, b: float, K: int) -> list:
    """``S_k(a, b)``, k = 0..K, by ``S_{k+1} = (1 - b/(k+a+1))^2 S_k + 1/((k+a)(k+a+1)^2)`` in mpmath
    (the products of Appendix D telescope into this recursion)."""
    with mp.workdps(DPS):
        a_, b_ = mp.mpf(a), mp.mpf(b)
        S = [mp.mpf(0)]
        for k in range(K):
            S.append((1 - b_ / (k + a_ + 1)) ** 2 * S[-1] + 1 / ((k + a_) * (k + a_ + 1) ** 2))
        return S


def theorem6_terms(dense: Dense, ing: Ingredients, N: float, alpha: float, ks) -> dict:
    """Theorem 6's five terms (eqns. 44, 45, 49), each a float array over k."""
    d, B = dense.d0, dense.B
    Bd = B @ d
    with mp.workdps(DPS):
        x = mp.lu_solve(mp.matrix(dense.H.tolist()), mp.matrix(Bd.tolist()))
        q = float(mp.fsum(Bd[i] * x[i] for i in range(dense.n)))
    al = mp.mpf(alpha)
    return {
        "noise_avg": _terms(ks, lambda k: (mp.mpf(ing.tr_Hinv_Sigma) / (2 * (k + 1)),))[0],
        "noise_floor": np.full(len(ks), N),
        "start_quadratic": _terms(ks, lambda k: (q / (2 * (k + 1) ** 2 * al**2),))[0],
        "start_linear": _terms(ks, lambda k: (float(d @ Bd) / (2 * (k + 1) * al),))[0],
        "start_h0": np.full(len(ks), ing.h0),
    }


# -- cumulants of h(theta_k) under Gaussian noise ----------------------------------------------

def quadratic_form_cumulants(H, m, V, orders=(2, 3, 4, 6)) -> dict:
    """Cumulants of ``h = 1/2 x^T H x`` for ``x ~ N(m, V)`` (Mathai & Provost 1992, Thm 3.2b.2):
    ``kappa_r = 2^{r-1} (r-1)! [tr((A V)^r) + r m^T (A V)^{r-1} A m]``, ``A = H/2``."""
    A = 0.5 * np.asarray(H)
    AV = A @ V
    out = {}
    P = np.eye(len(m))  # (A V)^{r-1}
    for r in range(1, max(orders) + 1):
        Pr = P @ AV
        if r in orders:
            out[r] = 2.0 ** (r - 1) * factorial(r - 1) * (np.trace(Pr) + r * float(m @ P @ A @ m))
        P = Pr
    return out
