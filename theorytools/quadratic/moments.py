"""Theorem 3 (001_7d31b3ff3a2f0401.txt §14.2, proofs in Appendix B): exact mean and variance of theta_k.

All functions take ``k`` as an int or an array of ints and return arrays with a leading
axis over k when k is an array.  They are exact for any schedule; the theorem's
hypotheses are only needed for the *representations* ``V_k = (I - Lambda^k)(V_inf)``
(constant step, Lemma 9) and ``V_k = (Xi - I)^{-1}(U)/(k+a) + E_k`` (harmonic, Lemma 13),
which are provided separately and tested against these.
"""

from __future__ import annotations

import numpy as np

from theorytools.linalg import as_float, as_int, as_steps, check_allocation, check_finite, positive, squeeze_k
from theorytools.quadratic._factors import mean_factor, noise_factor
from theorytools.quadratic.operators import operators
from theorytools.quadratic.problem import as_problem
from theorytools.quadratic.schedules import Harmonic, as_schedule

#: What to do instead of keeping one n x n matrix per k.
_FEWER = "fewer k per call, or excess_risk (O(n) per k) if only E[h(theta_k)] is needed"


def _check_matrices(what: str, nk: int, n: int, copies: float = 3.0) -> None:
    check_allocation(what, (nk, n, n), copies=copies, cheaper=_FEWER)



def mean_iterate(p, schedule, k) -> np.ndarray:
    """``E[theta_k] = theta* + prod_{j<k} (I - alpha_j B^{-1}H) (theta_0 - theta*)`` (eqn. 23).

    001_7d31b3ff3a2f0401.txt §14.2, Theorem 3.

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
    ndarray, shape (n,) or (len(k), n)
        The mean iterate at each k.

    Examples
    --------
    With ``B = I``, ``H = diag(2, 1)`` and ``alpha = 1/4``: ``E[theta_2] = ((1 - 1/2)^2, (1 - 1/4)^2)``:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, mean_iterate
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> np.round(mean_iterate(p, 0.25, 2), 6).tolist()
    [0.25, 0.5625]
    """
    p = as_problem(p)
    schedule = as_schedule(schedule)
    ks = np.atleast_1d(as_steps(k))
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging iteration is reported by check_finite
        P = mean_factor(schedule, p.lam, ks)
        out = p.theta_star + (P * p.z0) @ p.eig.V.T
    return squeeze_k(k, check_finite("mean_iterate", out))


def variance(p, schedule, k) -> np.ndarray:
    """``V_k = Var(theta_k)``, the solution of ``V_{k+1} = Lambda_k(V_k) + alpha_k^2 U``, ``V_0 = 0``.

    In the eigenbasis ``V^{-1} V_k V^{-T} = T_k(lam_i, lam_j) (V^T Sigma_g V)_{ij}``.
    Costs O(n^2) per k plus two n x n products.  001_7d31b3ff3a2f0401.txt §14.2, Theorem 3 (Appendix B).

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
    ndarray, shape (n, n) or (len(k), n, n)
        The variance matrix at each k.

    Examples
    --------
    ``V_1 = alpha^2 U = I/16``, then ``V_2 = D V_1 D + I/16`` with ``D = diag(1/2, 3/4)``:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, variance
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> np.round(np.diag(variance(p, 0.25, 2)), 6).tolist()  # (1/64 + 1/16, 9/256 + 1/16)
    [0.078125, 0.097656]
    """
    p = as_problem(p)
    schedule = as_schedule(schedule)
    ks = np.atleast_1d(as_steps(k))
    n = p.n
    _check_matrices("the variances V_k", ks.size, n)
    li, lj = np.meshgrid(p.lam, p.lam, indexing="ij")
    S = p.eig.V.T @ p.Sigma_g @ p.eig.V
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging iteration is reported by check_finite
        T = noise_factor(schedule, li.ravel(), lj.ravel(), ks).reshape(ks.size, n, n)
        out = p.eig.V @ (T * S) @ p.eig.V.T
    return squeeze_k(k, check_finite("variance", out))


def second_moment(p, schedule, k) -> np.ndarray:
    """``E[(theta_k - theta*)(theta_k - theta*)^T] = V_k + m_k m_k^T`` (Proposition 7, Appendix A).

    001_7d31b3ff3a2f0401.txt Appendix A, Proposition 7; ``m_k = E[theta_k] - theta*``.

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
    ndarray, shape (n, n) or (len(k), n, n)
        The second moment about ``theta*`` at each k.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, mean_iterate, second_moment, variance
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> m = mean_iterate(p, 0.25, 2)
    >>> bool(np.allclose(second_moment(p, 0.25, 2), variance(p, 0.25, 2) + np.outer(m, m)))
    True
    """
    p = as_problem(p)
    ks = np.atleast_1d(as_steps(k))
    m = np.atleast_2d(mean_iterate(p, schedule, ks)) - p.theta_star
    out = np.atleast_3d(variance(p, schedule, ks)) + m[:, :, None] * m[:, None, :]
    return squeeze_k(k, out)


def V_infinity(p, alpha: float) -> np.ndarray:
    """``V_inf = alpha^2 (I - Lambda)^{-1}(U)``, ``Lambda = Psi_alpha`` (Theorem 3, Lemma 9).

    ``I - Lambda = alpha Xi - alpha^2 Omega`` (Appendix B: ``Psi_beta = I - beta Xi + beta^2 Omega``), so
    ``V_inf = alpha (Xi - alpha Omega)^{-1}(U)``: the multiplier ``lam_i + lam_j - alpha lam_i lam_j`` has no
    cancellation (``1 - (1 - x_i)(1 - x_j)``, ``x = alpha lam``, loses ~eps/x relatively: 1e-8 at x = 1e-8), and
    no ``alpha^2`` is formed (it underflows to 0 at alpha = 1e-300, and ``alpha^2 / (alpha ...)`` overflows).
    001_7d31b3ff3a2f0401.txt §14.2, Theorem 3; Appendix B.1, Lemma 9.

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    alpha : float
        The constant step size, > 0.

    Returns
    -------
    ndarray, shape (n, n)
        ``V_inf``, the limit of ``V_k``.

    Examples
    --------
    Per eigen-coordinate ``V_inf = alpha^2 s / (1 - (1 - alpha lam)^2) = alpha s / (lam (2 - alpha lam))``:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, V_infinity
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> np.round(np.diag(V_infinity(p, 0.25)), 6).tolist()  # (1/12, 1/7)
    [0.083333, 0.142857]
    """
    ops = operators(p)
    alpha = positive("alpha", alpha)
    with np.errstate(over="ignore"):  # an overflowing multiplier (alpha lam^2 > 1e308) is reported by inv()
        return check_finite("V_infinity", alpha * (ops.Xi - alpha * ops.Omega).inv()(p.U))


def variance_lemma9(p, alpha: float, k) -> np.ndarray:
    """``V_k = (I - Lambda^k)(V_inf)`` (Lemma 9), evaluated with the operator algebra.

    001_7d31b3ff3a2f0401.txt Appendix B.1, Lemma 9.

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
    ndarray, shape (n, n) or (len(k), n, n)
        ``V_k`` at each k.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, variance, variance_lemma9
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> bool(np.allclose(variance_lemma9(p, 0.25, 2), variance(p, 0.25, 2)))
    True
    """
    ops = operators(p)
    Vinf = V_infinity(p, alpha)
    ks = np.atleast_1d(as_steps(k))
    _check_matrices("the variances V_k", ks.size, p.n)
    out = np.stack([(ops.I - ops.Lambda(alpha) ** int(kk))(Vinf) for kk in ks])
    return squeeze_k(k, out)


def harmonic_leading_variance(p) -> np.ndarray:
    """``(Xi - I)^{-1}(U)``: ``V_k ~ (Xi - I)^{-1}(U) / (k + a)`` (Theorem 3, Lemma 13).

    001_7d31b3ff3a2f0401.txt §14.2, Theorem 3; Appendix B.2, Lemma 13.

    Parameters
    ----------
    p : QuadraticProblem
        The problem.

    Returns
    -------
    ndarray, shape (n, n)
        ``(Xi - I)^{-1}(U)``.

    Examples
    --------
    Per eigen-coordinate ``s / (2 lam - 1)``: ``1/3`` for ``lam = 2``, ``1`` for ``lam = 1``:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, harmonic_leading_variance
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> np.round(np.diag(harmonic_leading_variance(p)), 6).tolist()
    [0.333333, 1.0]
    """
    ops = operators(p)
    return (ops.Xi - ops.I).inv()(p.U)


def lemma13_Z(p) -> np.ndarray:
    """``Z = (Xi - I)^{-1} Psi_1(U)`` (Lemma 13).

    001_7d31b3ff3a2f0401.txt Appendix B.2, Lemma 13.

    Parameters
    ----------
    p : QuadraticProblem
        The problem.

    Returns
    -------
    ndarray, shape (n, n)
        ``Z``.

    Examples
    --------
    Per eigen-coordinate ``(1 - lam)^2 s / (2 lam - 1)``: ``4/5`` for ``lam = 3``, ``1/3`` for ``lam = 2``:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, lemma13_Z
    >>> p = QuadraticProblem(np.diag([3.0, 2.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> np.round(np.diag(lemma13_Z(p)), 6).tolist()
    [0.8, 0.333333]
    """
    ops = operators(p)
    return ((ops.Xi - ops.I).inv() * ops.Psi(1.0))(p.U)


def lemma13_error(p, a: float, k) -> np.ndarray:
    """``E_k = V_k - (Xi - I)^{-1}(U)/(k + a)`` from the exact ``V_k`` (harmonic steps).

    001_7d31b3ff3a2f0401.txt Appendix B.2, Lemma 13.

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    a : float
        Offset of the harmonic steps ``alpha_k = 1/(k + a + 1)``.
    k : int or array_like of int
        Iteration count(s).

    Returns
    -------
    ndarray, shape (n, n) or (len(k), n, n)
        ``E_k`` at each k.

    Examples
    --------
    The same matrix as Lemma 13's recursion (:func:`lemma13_error_recursion`):

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, lemma13_error, lemma13_error_recursion
    >>> p = QuadraticProblem(np.diag([3.0, 2.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> bool(np.allclose(lemma13_error(p, 1.0, 3), lemma13_error_recursion(p, 1.0, 3)[3]))
    True
    """
    sched = Harmonic(a)
    ks = np.atleast_1d(as_steps(k))
    Vk = np.atleast_3d(variance(p, sched, ks))
    lead = harmonic_leading_variance(p)
    return squeeze_k(k, Vk - lead[None] / (ks[:, None, None] + a))


def lemma13_error_recursion(p, a: float, K: int) -> np.ndarray:
    """``E_0..E_K`` by Lemma 13's recursion ``E_{k+1} = Lambda_k(E_k) + Z / ((k+a)(k+a+1)^2)``.

    ``E_0 = -(Xi - I)^{-1}(U)/a`` -- dense n x n products, the independent route.
    001_7d31b3ff3a2f0401.txt Appendix B.2, Lemma 13.

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    a : float
        Offset of the harmonic steps ``alpha_k = 1/(k + a + 1)``, > 0.
    K : int
        Last index.

    Returns
    -------
    ndarray, shape (K + 1, n, n)
        ``E_0, ..., E_K``.

    Examples
    --------
    ``E_0 = -(Xi - I)^{-1}(U) / a``: per eigen-coordinate ``-1/(2 lam - 1)`` at ``a = 1``, ``s = 1``:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, lemma13_error_recursion
    >>> p = QuadraticProblem(np.diag([3.0, 2.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> np.round(np.diag(lemma13_error_recursion(p, 1.0, 3)[0]), 6).tolist()
    [-0.2, -0.333333]
    """
    p = as_problem(p)
    if not as_float("a", a) > 0:
        raise ValueError(f"a must be > 0 for Lemma 13 (E_0 divides by a), got {a}")
    K = as_int("K", K)
    _check_matrices("the K + 1 matrices E_k", K + 1, p.n, copies=1.0)
    Z = lemma13_Z(p)
    E = -harmonic_leading_variance(p) / a
    out = [E]
    eye = np.eye(p.n)
    for kk in range(K):
        D = eye - p.BinvH / (kk + a + 1.0)
        E = D @ E @ D.T + Z / ((kk + a) * (kk + a + 1.0) ** 2)
        out.append(E)
    return np.stack(out)


def variance_recursion(p, schedule, K: int) -> np.ndarray:
    """``V_0..V_K`` by the dense recursion ``V_{k+1} = (I - alpha_k B^{-1}H) V_k (.)^T + alpha_k^2 U``.

    The brute-force route (O(K n^3)) used by tests and benchmarks.
    001_7d31b3ff3a2f0401.txt §14.2, Theorem 3 (proof in Appendix B).

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    schedule : Constant or Harmonic or StepSequence or float
        The step sizes (a float means ``Constant(alpha)``).
    K : int
        Last index.

    Returns
    -------
    ndarray, shape (K + 1, n, n)
        ``V_0, ..., V_K``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, variance, variance_recursion
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> V = variance_recursion(p, 0.25, 2)
    >>> print(V.shape, bool(np.allclose(V[2], variance(p, 0.25, 2))))
    (3, 2, 2) True
    """
    p = as_problem(p)
    schedule = as_schedule(schedule)
    K = as_int("K", K)
    horizon = getattr(schedule, "horizon", None)
    if horizon is not None and K > horizon:  # V_K needs alpha_0..alpha_{K-1}
        raise ValueError(f"K must be <= {horizon} (the number of step sizes given), got {K}")
    _check_matrices("the K + 1 matrices V_k", K + 1, p.n, copies=1.0)
    alphas = schedule.alphas(np.arange(K))
    V = np.zeros((p.n, p.n))
    out = [V]
    eye = np.eye(p.n)
    for al in alphas:
        D = eye - al * p.BinvH
        V = D @ V @ D.T + al * al * p.U
        out.append(V)
    return np.stack(out)
