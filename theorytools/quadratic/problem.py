"""The validated problem object of 001_7d31b3ff3a2f0401.txt §14.2.

``h(theta) = 1/2 (theta - theta*)^T H (theta - theta*)`` minimized by the stochastic
iteration ``theta_{k+1} = theta_k - alpha_k B^{-1} g_k`` (eqn. 19), with gradient noise of
constant covariance ``Sigma_g``.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from theorytools.linalg import (
    as_instance,
    as_symmetric,
    as_vector,
    check_definite,
    check_finite,
    check_semidefinite,
    generalized_eigh,
    spd_solve,
)


class QuadraticProblem:
    """``QuadraticProblem(H, B, Sigma_g, theta0, theta_star=None)``.

    Validation happens once, here: H and B symmetric positive definite, Sigma_g symmetric
    positive semidefinite (decided in units-free coordinates, :func:`~theorytools.linalg.check_semidefinite`, so
    that a change of units ``theta -> S theta`` never flips the verdict), all finite, matching shapes.  The generalized eigenproblem
    ``H v = lambda B v`` is solved once (B-orthonormal ``V``); the attributes below are its
    coordinates, used by every closed form:

    * ``lam`` -- eigenvalues of ``B^{-1} H`` (ascending); ``lambda_1 = lam[-1]``, ``b = lambda_n = lam[0]``;
    * ``s`` -- ``diag(V^T Sigma_g V)``, the noise variance along each eigen-coordinate, which is
      the diagonal of ``U = B^{-1} Sigma_g B^{-1}`` in the eigenbasis (``V^{-1} U V^{-T} = V^T Sigma_g V``);
    * ``z0`` -- ``V^{-1} (theta0 - theta*)``, the starting error in eigen-coordinates, so that
      ``h(theta0) - h(theta*) = 1/2 sum_i lam_i z0_i^2``.

    Parameters
    ----------
    H : array_like, shape (n, n)
        Hessian of ``h``, symmetric positive definite.
    B : array_like, shape (n, n)
        Preconditioner of eqn. 19, symmetric positive definite.
    Sigma_g : array_like, shape (n, n)
        Covariance of the gradient noise, symmetric positive semidefinite.
    theta0 : array_like, shape (n,)
        Starting point ``theta_0``.
    theta_star : array_like, shape (n,), optional
        The minimizer ``theta*`` (default: the origin).

    Examples
    --------
    ``H = diag(2, 1)``, ``B = Sigma_g = I``: ``lam = (1, 2)``, ``s = (1, 1)`` and
    ``h(theta0) = 1/2 (2 + 1) = 1.5`` at ``theta0 = (1, 1)``:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> print(np.round(p.lam, 6).tolist(), np.round(p.s, 6).tolist(), round(p.h0, 6), round(p.lambda_n, 6))
    [1.0, 2.0] [1.0, 1.0] 1.5 1.0
    >>> print(f"{0.5 * float(np.sum(p.lam * p.z0**2)):.6f}")
    1.500000
    """

    def __init__(self, H, B, Sigma_g, theta0, theta_star=None):
        self.H = as_symmetric("H", H)
        n = self.H.shape[0]
        self.n = n
        self.B = as_symmetric("B", B, n)
        self.Sigma_g = as_symmetric("Sigma_g", Sigma_g, n)
        check_definite("H", self.H)
        check_definite("B", self.B)
        check_semidefinite("Sigma_g", self.Sigma_g)
        self.theta0 = as_vector("theta0", theta0, n)
        self.theta_star = np.zeros(n) if theta_star is None else as_vector("theta_star", theta_star, n)

        self.eig = generalized_eigh(self.H, self.B)
        check_finite("generalized eigendecomposition of (H, B)", self.eig.V)
        if self.eig.lam[0] <= 0:
            raise ValueError(
                f"B^-1 H has a non-positive eigenvalue {self.eig.lam[0]:.3e}: H is too ill-conditioned "
                "for double precision"
            )
        self.lam = self.eig.lam
        self.s = np.einsum("ji,ji->i", self.eig.V, self.Sigma_g @ self.eig.V)  # diag(V^T Sigma_g V)
        self.z0 = self.eig.Vinv @ (self.theta0 - self.theta_star)

    # -- scalars named as in the paper ------------------------------------------------
    @property
    def lambda_1(self) -> float:
        """``lambda_1(B^{-1} H)``, the largest eigenvalue."""
        return self.eig.lambda_1

    @property
    def lambda_n(self) -> float:
        """``lambda_n(B^{-1} H)``; Theorem 5 calls it ``b``."""
        return self.eig.lambda_n

    b = lambda_n

    def h(self, theta) -> float:
        """Excess objective ``h(theta) - h(theta*) = 1/2 (theta - theta*)^T H (theta - theta*)``."""
        d = as_vector("theta", theta, self.n) - self.theta_star
        return 0.5 * float(d @ self.H @ d)

    @cached_property
    def h0(self) -> float:
        """``h(theta_0) - h(theta*)`` (the paper writes ``h(theta_0)`` with ``h(theta*) = 0``)."""
        return self.h(self.theta0)

    @cached_property
    def U(self) -> np.ndarray:
        """``U = B^{-1} Sigma_g B^{-1}`` (§14.2), by Cholesky solves (accurate in any units)."""
        X = spd_solve(self.B, self.Sigma_g)
        return spd_solve(self.B, X.T).T

    @cached_property
    def BinvH(self) -> np.ndarray:
        """``B^{-1} H`` as a dense matrix (for the brute-force routes)."""
        return spd_solve(self.B, self.H)

    def __repr__(self) -> str:
        return (
            f"QuadraticProblem(n={self.n}, lambda_1(B^-1 H)={self.lambda_1:.4g}, "
            f"lambda_n(B^-1 H)={self.lambda_n:.4g}, h(theta0)={self.h0:.4g}, tr(Sigma_g)={np.trace(self.Sigma_g):.4g})"
        )


def as_problem(p, name: str = "p") -> QuadraticProblem:
    """The problem argument of the §14 functions, or a TypeError naming it."""
    return as_instance(name, p, QuadraticProblem)
