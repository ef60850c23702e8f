"""Seeded problem instances: the canonical settings of 001_7d31b3ff3a2f0401.txt §14.2.1 and random ones.

``B`` choices follow §14.2.1: ``"H"`` (stochastic 2nd-order), ``"lambda_n"`` (``B = lambda_n(H) I``,
1st-order with the largest safe scaling), ``"I"`` (plain SGD) and ``"random"`` (a random SPD
preconditioner).  ``Sigma_g`` choices: ``"H"`` (the realizable case Sigma_g = H of §14.1),
``"random"`` (full-rank PSD), ``"lowrank"`` (rank-deficient PSD), ``"identity"``.
"""

from __future__ import annotations

import numpy as np

from theorytools.linalg import (
    as_array,
    as_choice,
    as_float,
    as_instance,
    as_int,
    as_symmetric,
    check_allocation,
    nonnegative,
)
from theorytools.quadratic.problem import QuadraticProblem

B_KINDS = ("H", "lambda_n", "I", "random")
SIGMA_KINDS = ("H", "random", "lowrank", "identity")


def random_orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    """Haar-distributed orthogonal matrix (QR of a Gaussian matrix with sign fix)."""
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.sign(np.diag(R))


def spd_with_spectrum(eigenvalues, rng: np.random.Generator) -> np.ndarray:
    """``Q diag(eigenvalues) Q^T`` with a random orthogonal Q, exactly symmetrized."""
    lam = as_array("eigenvalues", eigenvalues, ndim=1)
    Q = random_orthogonal(lam.size, rng)
    A = (Q * lam) @ Q.T
    return 0.5 * (A + A.T)


def log_spaced_spectrum(n: int, kappa: float, top: float = 1.0) -> np.ndarray:
    """``n`` eigenvalues from ``top`` down to ``top/kappa``, log-spaced (n = 1 gives ``[top]``)."""
    kappa = as_float("kappa", kappa, low=1.0)
    return top * np.logspace(0.0, -np.log10(kappa), n) if n > 1 else np.array([float(top)])


def make_problem(
    H: np.ndarray,
    B_kind: str = "H",
    Sigma_kind: str = "H",
    *,
    rng: np.random.Generator,
    noise_scale: float = 1.0,
    start_scale: float = 1.0,
    theta0=None,
) -> QuadraticProblem:
    """A problem with Hessian ``H`` and the named choices of ``B`` and ``Sigma_g``; theta* = 0.

    The choices of ``B`` are those of 001_7d31b3ff3a2f0401.txt §14.2.1 (see the module docstring).

    Parameters
    ----------
    H : array_like, shape (n, n)
        The Hessian, symmetric positive definite.
    B_kind : str, optional
        ``"H"`` (default), ``"lambda_n"``, ``"I"`` or ``"random"``.
    Sigma_kind : str, optional
        ``"H"`` (default), ``"random"``, ``"lowrank"`` or ``"identity"``.
    rng : numpy.random.Generator
        Source of the random choices (keyword only).
    noise_scale : float, optional
        Factor on ``Sigma_g`` (default 1).
    start_scale : float, optional
        Standard deviation of the random ``theta0`` (default 1).
    theta0 : array_like, shape (n,), optional
        The starting point; drawn from ``rng`` when omitted.

    Returns
    -------
    QuadraticProblem
        The validated problem.

    Examples
    --------
    ``B = lambda_n(H) I`` with ``H = diag(4, 1)`` gives ``B = I`` and ``lam(B^-1 H) = (1, 4)``:

    >>> import numpy as np
    >>> from theorytools.quadratic import make_problem
    >>> p = make_problem(np.diag([4.0, 1.0]), "lambda_n", "identity", rng=np.random.default_rng(0), theta0=[1.0, 1.0])
    >>> print(np.round(p.lam, 6).tolist(), round(p.h0, 6))
    [1.0, 4.0] 2.5
    """
    H = as_symmetric("H", H)
    B_kind = as_choice("B_kind", B_kind, B_KINDS)
    Sigma_kind = as_choice("Sigma_kind", Sigma_kind, SIGMA_KINDS)
    as_instance("rng", rng, np.random.Generator)
    noise_scale = nonnegative("noise_scale", noise_scale)
    start_scale = nonnegative("start_scale", start_scale)
    n = H.shape[0]
    lam_H = np.linalg.eigvalsh(H)
    if B_kind == "H":
        B = H.copy()
    elif B_kind == "lambda_n":
        B = lam_H[0] * np.eye(n)
    elif B_kind == "I":
        B = np.eye(n)
    else:
        B = spd_with_spectrum(np.exp(rng.uniform(-1.0, 1.0, n)) * np.mean(lam_H), rng)
    if Sigma_kind == "H":
        S = H.copy()
    elif Sigma_kind == "random":
        G = rng.standard_normal((n, n)) / np.sqrt(n)
        S = G @ G.T
    elif Sigma_kind == "lowrank":
        G = rng.standard_normal((n, max(1, n // 3))) / np.sqrt(n)
        S = G @ G.T
    else:
        S = np.eye(n)
    S = 0.5 * (S + S.T) * noise_scale
    if theta0 is None:
        theta0 = start_scale * rng.standard_normal(n)
    return QuadraticProblem(H, B, S, theta0)


def random_problem(
    n: int, kappa: float, B_kind: str = "random", Sigma_kind: str = "random", seed: int = 0, **kwargs
) -> QuadraticProblem:
    """Seeded random instance: H with log-spaced spectrum in ``[1/kappa, 1]`` and a random eigenbasis.

    Parameters
    ----------
    n : int
        Dimension, >= 1.
    kappa : float
        Condition number of H, >= 1.
    B_kind : str, optional
        The preconditioner, as in :func:`make_problem` (default ``"random"``).
    Sigma_kind : str, optional
        The noise covariance, as in :func:`make_problem` (default ``"random"``).
    seed : int, optional
        Seed of the generator (default 0).
    **kwargs
        Passed to :func:`make_problem` (``noise_scale``, ``start_scale``, ``theta0``).

    Returns
    -------
    QuadraticProblem
        The validated problem.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.quadratic import random_problem
    >>> p = random_problem(3, 100.0, B_kind="H", seed=0)
    >>> print(np.round(np.linalg.eigvalsh(p.H), 6).tolist(), np.round(p.lam, 6).tolist())
    [0.01, 0.1, 1.0] [1.0, 1.0, 1.0]
    """
    n = _size(n)
    rng = np.random.default_rng(as_int("seed", seed))
    H = spd_with_spectrum(log_spaced_spectrum(n, kappa), rng)
    return make_problem(H, B_kind, Sigma_kind, rng=rng, **kwargs)


def linear_spectrum_problem(n: int, B_kind: str = "H", seed: int = 0, **kwargs) -> QuadraticProblem:
    """§14.2.1's example ``lambda_i(H) = n - i + 1`` with the realizable noise ``Sigma_g = H``.

    001_7d31b3ff3a2f0401.txt §14.2.1.

    Parameters
    ----------
    n : int
        Dimension, >= 1.
    B_kind : str, optional
        The preconditioner, as in :func:`make_problem` (default ``"H"``).
    seed : int, optional
        Seed of the generator (default 0).
    **kwargs
        Passed to :func:`make_problem` (``noise_scale``, ``start_scale``, ``theta0``).

    Returns
    -------
    QuadraticProblem
        The validated problem.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.quadratic import linear_spectrum_problem
    >>> p = linear_spectrum_problem(3)
    >>> print(np.round(np.linalg.eigvalsh(p.H), 6).tolist(), bool(np.allclose(p.Sigma_g, p.H)))
    [1.0, 2.0, 3.0] True
    """
    n = _size(n)
    rng = np.random.default_rng(as_int("seed", seed))
    H = spd_with_spectrum(np.arange(n, 0, -1, dtype=float), rng)
    return make_problem(H, B_kind, "H", rng=rng, **kwargs)


def _size(n) -> int:
    """The dimension of a generated problem: it builds a handful of n x n matrices (H, B, Sigma_g, a random
    orthogonal basis, and the eigensolves' copies)."""
    n = as_int("n", n, low=1)
    check_allocation("the n x n matrices of the problem", (n, n), copies=12, cheaper="a smaller n")
    return n
