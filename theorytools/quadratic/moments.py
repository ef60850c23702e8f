"""Theorem 3 (001_7d31b3ff3a2f0401.txt §14.2, proofs in Appendix B): exact mean and variance of theta_k.

All functions take ``k`` as an int or an array of ints and return arrays with a leading
axis over k when k is an array.  They are exact for any schedule; the theorem's
hypotheses are only needed for the *representations* ``V_k = (I - Lambda^k)(V_inf)``
(constant step, Lemma 9) and ``V_k = (Xi - I)^{-1}(U)/(k+a) + E_k`` (harmonic, Lemma 13),
which are provided separately and tested against these.
"""

from __future__ import annotations

import numpy as np

from theorytools.linalg import as_steps, check_finite, squeeze_k
from theorytools.quadratic._factors import mean_factor, noise_factor
from theorytools.quadratic.operators import operators
from theorytools.quadratic.schedules import Harmonic, as_schedule



def mean_iterate(p, schedule, k) -> np.ndarray:
    """``E[theta_k] = theta* + prod_{j<k} (I - alpha_j B^{-1}H) (theta_0 - theta*)`` (eqn. 23)."""
    schedule = as_schedule(schedule)
    ks = np.atleast_1d(as_steps(k))
    P = mean_factor(schedule, p.lam, ks)
    out = p.theta_star + (P * p.z0) @ p.eig.V.T
    return squeeze_k(k, check_finite("mean_iterate", out))


def variance(p, schedule, k) -> np.ndarray:
    """``V_k = Var(theta_k)``, the solution of ``V_{k+1} = Lambda_k(V_k) + alpha_k^2 U``, ``V_0 = 0``.

    In the eigenbasis ``V^{-1} V_k V^{-T} = T_k(lam_i, lam_j) (V^T Sigma_g V)_{ij}``.
    Costs O(n^2) per k plus two n x n products.
    """
    schedule = as_schedule(schedule)
    ks = np.atleast_1d(as_steps(k))
    n = p.n
    li, lj = np.meshgrid(p.lam, p.lam, indexing="ij")
    T = noise_factor(schedule, li.ravel(), lj.ravel(), ks).reshape(ks.size, n, n)
    S = p.eig.V.T @ p.Sigma_g @ p.eig.V
    out = p.eig.V @ (T * S) @ p.eig.V.T
    return squeeze_k(k, check_finite("variance", out))


def second_moment(p, schedule, k) -> np.ndarray:
    """``E[(theta_k - theta*)(theta_k - theta*)^T] = V_k + m_k m_k^T`` (Proposition 7, Appendix A)."""
    m = np.atleast_2d(mean_iterate(p, schedule, np.atleast_1d(as_steps(k)))) - p.theta_star
    out = np.atleast_3d(variance(p, schedule, np.atleast_1d(as_steps(k)))) + m[:, :, None] * m[:, None, :]
    return squeeze_k(k, out)


def V_infinity(p, alpha: float) -> np.ndarray:
    """``V_inf = alpha^2 (I - Lambda)^{-1}(U)``, ``Lambda = Psi_alpha`` (Theorem 3, Lemma 9).

    ``I - Lambda`` is formed as ``alpha Xi - alpha^2 Omega`` (Appendix B: ``Psi_beta = I - beta Xi +
    beta^2 Omega``), whose multiplier ``x_i + x_j - x_i x_j`` (``x = alpha lam``) has no cancellation;
    ``1 - (1 - x_i)(1 - x_j)`` loses ~eps/x relatively (1e-8 at alpha lam_n = 1e-8).
    """
    ops = operators(p)
    return alpha**2 * (alpha * ops.Xi - alpha**2 * ops.Omega).inv()(p.U)


def variance_lemma9(p, alpha: float, k) -> np.ndarray:
    """``V_k = (I - Lambda^k)(V_inf)`` (Lemma 9), evaluated with the operator algebra."""
    ops = operators(p)
    Vinf = V_infinity(p, alpha)
    ks = np.atleast_1d(as_steps(k))
    out = np.stack([(ops.I - ops.Lambda(alpha) ** int(kk))(Vinf) for kk in ks])
    return squeeze_k(k, out)


def harmonic_leading_variance(p) -> np.ndarray:
    """``(Xi - I)^{-1}(U)``: ``V_k ~ (Xi - I)^{-1}(U) / (k + a)`` (Theorem 3, Lemma 13)."""
    ops = operators(p)
    return (ops.Xi - ops.I).inv()(p.U)


def lemma13_Z(p) -> np.ndarray:
    """``Z = (Xi - I)^{-1} Psi_1(U)`` (Lemma 13)."""
    ops = operators(p)
    return ((ops.Xi - ops.I).inv() * ops.Psi(1.0))(p.U)


def lemma13_error(p, a: float, k) -> np.ndarray:
    """``E_k = V_k - (Xi - I)^{-1}(U)/(k + a)`` from the exact ``V_k`` (harmonic steps)."""
    ks = np.atleast_1d(as_steps(k))
    Vk = np.atleast_3d(variance(p, Harmonic(a), ks))
    lead = harmonic_leading_variance(p)
    return squeeze_k(k, Vk - lead[None] / (ks[:, None, None] + a))


def lemma13_error_recursion(p, a: float, K: int) -> np.ndarray:
    """``E_0..E_K`` by Lemma 13's recursion ``E_{k+1} = Lambda_k(E_k) + Z / ((k+a)(k+a+1)^2)``,
    ``E_0 = -(Xi - I)^{-1}(U)/a`` -- dense n x n products, the independent route."""
    if a <= 0:
        raise ValueError(f"a must be > 0 for Lemma 13 (E_0 divides by a), got {a}")
    Z = lemma13_Z(p)
    E = -harmonic_leading_variance(p) / a
    out = [E]
    eye = np.eye(p.n)
    for kk in range(int(K)):
        D = eye - p.BinvH / (kk + a + 1.0)
        E = D @ E @ D.T + Z / ((kk + a) * (kk + a + 1.0) ** 2)
        out.append(E)
    return np.stack(out)


def variance_recursion(p, schedule, K: int) -> np.ndarray:
    """``V_0..V_K`` by the dense recursion ``V_{k+1} = (I - alpha_k B^{-1}H) V_k (.)^T + alpha_k^2 U``.

    The brute-force route (O(K n^3)) used by tests and benchmarks.
    """
    schedule = as_schedule(schedule)
    alphas = schedule.alphas(np.arange(int(K)))
    V = np.zeros((p.n, p.n))
    out = [V]
    eye = np.eye(p.n)
    for al in alphas:
        D = eye - al * p.BinvH
        V = D @ V @ D.T + al * al * p.U
        out.append(V)
    return np.stack(out)
