"""Bounds of Ollivier's TANGO paper (000_3b01ec78f4f92394.txt) for the hunt (:mod:`verification.hunt`).

Every bound is evaluated on an exact score law in dimension 2, parametrized by a few scalars: ``A = E[g~ g~^T] =
Rot(phi) diag(l1, l2) Rot(phi)^T`` (eigenvalues ``l1, l2`` LogReal over twelve decades, a rotation angle ``phi``) and

* the **three-direction law** ``g~ = A^1/2 eps``, ``eps`` uniform on the six points ``+-sqrt(2) (cos, sin)(j pi/3)``,
  j = 0, 1, 2 (``E eps eps^T = I``): three equiprobable values of ``A^ = g~ g~^T``, so every moment is a finite sum;
  bounded, non-Gaussian, and not rotation invariant (``phi`` matters).  (The audit's Rademacher law ``A^1/2 eps``,
  ``eps`` in ``{-1, 1}^2``, is degenerate here: its two whitened outcomes are orthogonal, so ``R^2_min = max|g~|^2``
  for every A and the max-norm rule is an equality everywhere.)
* the **Gaussian law** ``g~ ~ N(0, A)``: ``E[|g~|^2 g~ g~^T] = 2 A^2 + tr(A) A`` (Isserlis).

``R^2_min = lambda_max(A^-1/2 E[A^2] A^-1/2)`` is the smallest ``R^2`` of eq. 31 (:func:`verification.reference.tango.R2_min`,
here stacked over a population); every statement below is strongest at ``R^2 = R^2_min`` (the largest gamma it allows).
The float sides are vectorized numpy, computed in A's eigenbasis where whitening is exact (``A^-1/2 g~_j = Rot(-phi)
eps_j``); each ``certify`` rebuilds the law in mpmath at 50 digits in the standard basis (cos/sin of the angle, the
matrices ``A``, ``A^1/2``, the outcomes enumerated, ``R^2_min`` as the largest root of ``det(E[A^2] - mu A) = 0``).

* Lemma 6 (line 587), ``lambda_max(A) <= R^2`` and ``|Id - gamma A| <= 1 - gamma lambda_min(A)`` for ``gamma <= 1/R^2``
  (holds; the second is an equality wherever ``gamma lambda_max <= 1``).
* Footnote 3 (line 628), TANGO's ``A^ = (1 - dt) g~ g~^T + dt/gamma Id`` satisfies eq. 31 with ``max(R^2, 1/gamma)``
  (holds, for every ``gamma > 0`` and ``0 <= dt <= 1``: the footnote puts no bound on gamma).
* The gamma rules after Definition 1 (lines 75-79), each as the inequality it must satisfy: ``1/max|g~|^2 <= 1/R^2``
  (safe, bounded g~; holds), ``1/(3 E|g~|^2) <= 1/R^2`` (safe for Gaussian g~; holds), ``1/R^2 <= E|g~|^2/E|g~|^4``
  (necessary; holds); and the text after Theorem 5 (line 569): eq. 31 holds with ``R^2 = E|g~|^4/lambda`` (holds).
* Lemma 7 (eq. 33, line 647), ``E|v_k|^2 <= 4 sigma^2/lambda^2`` for eqs 27-28 with TANGO's ``A^`` (footnote 3) built
  on a Gaussian ``g~``, ``F^ = f + N(0, Sigma_F)``: exact second moments by the affine moment recursion raised to the
  power k (k up to 1e9; holds).
"""

from __future__ import annotations

from fractions import Fraction

import mpmath as mp
import numpy as np

from theorytools.errors import HypothesisError
from verification.hunt import CERTIFY_DPS, LogInteger, LogReal, Real, bound, mpf_exact

SRC = "000_3b01ec78f4f92394.txt"
FAMILY = "tango"
#: The law's parameters: the eigenvalues of A over twelve decades and its rotation angle.
LAW = {"l1": LogReal(1e-6, 1e6), "l2": LogReal(1e-6, 1e6), "phi": Real(0.0, float(np.pi))}
THEOREM5 = "A^ = g~ g~^T, A = E A^ positive definite (l1, l2 > 0), E[A^2] <= R^2 A (eq. 31), R^2 = R^2_min"


# -- float: the laws' moments, stacked over a population (leading axis), in A's eigenbasis --------------------------------
# In the eigenbasis of A = Rot(phi) diag(l1, l2) Rot(phi)^T the outcomes of the three-direction law are
# A^1/2 eps_j -> diag(sqrt(l)) Rot(-phi) eps_j, and A^-1/2 g~ = Rot(-phi) eps_j: every whitened quantity is a sum of
# terms of one sign, free of the cancellation that whitening a matrix of condition 1e12 by eigh suffers (R2_min of
# verification.reference.tango loses ~1e-9 relative there, above the hunt's FLOAT_RTOL = 1e-10).
_DIRECTIONS = np.pi / 3 * np.arange(3)  # eps_j = sqrt(2) (cos, sin)(j pi/3), j = 0, 1, 2, each with either sign: E eps eps^T = I


def _whitened_directions(phi):
    """``Rot(-phi) eps_j`` (n, 3, 2): the law's outcomes whitened by A^-1/2, in A's eigenbasis."""
    t = _DIRECTIONS[None, :] - np.asarray(phi, dtype=float)[:, None]
    return np.sqrt(2.0) * np.stack([np.cos(t), np.sin(t)], -1)


def _eigenvalues(l1, l2):
    return np.stack([np.asarray(l1, dtype=float), np.asarray(l2, dtype=float)], -1)


def _three_direction(l1, l2, phi):
    """``(w, e, sq)``: A's eigenvalues w (n, 2), the whitened outcomes e = A^-1/2 g~_j in A's eigenbasis (n, 3, 2) and
    ``|g~_j|^2 = sum_i w_i e_ji^2`` (n, 3)."""
    w, e = _eigenvalues(l1, l2), _whitened_directions(phi)
    return w, e, np.sum(w[:, None, :] * e * e, axis=-1)


def _r2_three_direction(sq, e):
    """``R^2_min = lambda_max(A^-1/2 E[|g~|^2 g~ g~^T] A^-1/2) = lambda_max(mean_j |g~_j|^2 e_j e_j^T)``."""
    return np.linalg.eigvalsh(np.mean(sq[..., None, None] * e[..., :, None] * e[..., None, :], axis=1))[:, -1]


def _r2_gaussian(w):
    """``R^2_min`` of ``g~ ~ N(0, A)``: ``A^-1/2 (2 A^2 + tr(A) A) A^-1/2 = 2 A + tr(A) I``, largest eigenvalue."""
    return np.linalg.eigvalsh(2.0 * w[:, :, None] * np.eye(2) + np.sum(w, axis=1)[:, None, None] * np.eye(2))[:, -1]


def _matrix(l1, l2, phi):
    """A in the standard basis (n, 2, 2)."""
    R = _rot(np.asarray(phi, dtype=float))
    return np.einsum("nij,nj,nkj->nik", R, _eigenvalues(l1, l2), R)


def _rot(phi):
    c, s = np.cos(phi), np.sin(phi)
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)


def _positive(*xs):
    """A mask of the candidates where every x > 0 (NaN elsewhere is what the hunt rejects)."""
    ok = np.ones(np.shape(xs[0]), dtype=bool)
    for x in xs:
        ok &= np.asarray(x, dtype=float) > 0
    return ok


def _masked(ok, *sides):
    return tuple(np.where(ok, s, np.nan) for s in sides)


# -- mpmath: the same laws at CERTIFY_DPS digits, in the standard basis, enumerated outcome by outcome -----------------

def _mp_covariance(l1, l2, phi):
    """``(A, A^1/2)`` in the standard basis (mpmath matrices)."""
    l1, l2 = mpf_exact(l1), mpf_exact(l2)
    if not (l1 > 0 and l2 > 0):
        raise HypothesisError(f"A must be positive definite, got eigenvalues {l1}, {l2}")
    c, s = mp.cos(mpf_exact(phi)), mp.sin(mpf_exact(phi))
    R = mp.matrix([[c, -s], [s, c]])
    return R * mp.diag([l1, l2]) * R.T, R * mp.diag([mp.sqrt(l1), mp.sqrt(l2)]) * R.T


def _mp_three_direction(l1, l2, phi):
    """``(outcomes g~_j, A, E[A^2])``: ``g~_j = A^1/2 sqrt(2) (cos, sin)(j pi/3)``, j = 0, 1, 2 (the sign of eps does not
    change g~ g~^T), A and E[A^2] summed outcome by outcome."""
    _, root = _mp_covariance(l1, l2, phi)
    gs = [root * (mp.sqrt(2) * mp.matrix([mp.cos(j * mp.pi / 3), mp.sin(j * mp.pi / 3)])) for j in range(3)]
    outers = [g * g.T for g in gs]
    return gs, (outers[0] + outers[1] + outers[2]) / 3, sum((X * X for X in outers[1:]), outers[0] * outers[0]) / 3


def _mp_gaussian(l1, l2, phi):
    """``(A, E[A^2])`` of ``g~ = A^1/2 z``, z standard normal: ``A^1/2 E[(z^T G z) z z^T] A^1/2`` with
    ``G = A^1/2 A^1/2`` and ``E[(z^T G z) z z^T] = tr(G) I + 2 G`` (Isserlis, per coordinate)."""
    A, root = _mp_covariance(l1, l2, phi)
    G = root.T * root
    return A, root * ((G[0, 0] + G[1, 1]) * mp.eye(2) + 2 * G) * root.T


def _mp_sq(g):
    return g[0] ** 2 + g[1] ** 2


def _mp_eig(A):
    """Eigenvalues ``(lambda_min, lambda_max)`` of a symmetric 2 x 2 mpmath matrix, in closed form."""
    m, d = (A[0, 0] + A[1, 1]) / 2, mp.sqrt(((A[0, 0] - A[1, 1]) / 2) ** 2 + A[0, 1] ** 2)
    return m - d, m + d


def _mp_r2_min(A, M):
    """The largest root ``mu`` of ``det(M - mu A) = 0`` (the generalized eigenproblem of ``(M, A)``, A > 0)."""
    a = A[0, 0] * A[1, 1] - A[0, 1] * A[1, 0]
    b = M[0, 0] * A[1, 1] + M[1, 1] * A[0, 0] - M[0, 1] * A[1, 0] - M[1, 0] * A[0, 1]
    c = M[0, 0] * M[1, 1] - M[0, 1] * M[1, 0]
    return (b + mp.sqrt(b * b - 4 * a * c)) / (2 * a)


def _dps(func):
    def certify(**point):
        with mp.workdps(CERTIFY_DPS):
            return func(**point)

    certify.__name__ = certify.__qualname__ = f"certify{func.__name__}"
    certify.__doc__ = func.__doc__
    return certify


# -- Lemma 6 ------------------------------------------------------------------------------------------------------------
@_dps
def _lemma6_eig_mp(l1, l2, phi):
    """Both sides at 50 digits (outcomes enumerated, closed-form 2 x 2 eigenvalues)."""
    _, A, EA2 = _mp_three_direction(l1, l2, phi)
    return _mp_eig(A)[1], _mp_r2_min(A, EA2)


@bound(source=f"{SRC} Lemma 6 (line 587): 'the largest eigenvalue of A(theta) is at most R2'; three-direction law, "
              "d = 2", family=FAMILY, space=LAW, hypotheses=THEOREM5, certify=_lemma6_eig_mp, vectorized=True)
def lemma6_largest_eigenvalue(l1, l2, phi):
    """``(lambda_max(A), R^2_min)``.  Expected to hold (Jensen and eq. 31: ``|A u|^2 <= E|A^ u|^2 <= R^2 u^T A u``)."""
    w, e, sq = _three_direction(l1, l2, phi)
    return np.max(w, axis=1), _r2_three_direction(sq, e)


LAW_GAMMA = {**LAW, "g": Real(0.0, 1.0)}


@_dps
def _lemma6_contraction_mp(l1, l2, phi, g):
    """Both sides at 50 digits: ``max |1 - gamma mu_i|`` over the eigenvalues mu of A."""
    if not Fraction(g) > 0:
        raise HypothesisError("gamma must be > 0")
    _, A, EA2 = _mp_three_direction(l1, l2, phi)
    lo, hi = _mp_eig(A)
    gamma = mpf_exact(g) / _mp_r2_min(A, EA2)
    return max(abs(1 - gamma * lo), abs(1 - gamma * hi)), 1 - gamma * lo


@bound(source=f"{SRC} Lemma 6 (line 587): 'The operator (Id - gamma A(theta)) is (1 - gamma lambda)-contracting'; "
              "three-direction law, d = 2, gamma = g / R^2_min", family=FAMILY, space=LAW_GAMMA,
       hypotheses=THEOREM5 + ", 0 < gamma = g/R^2 <= 1/R^2", certify=_lemma6_contraction_mp, vectorized=True)
def lemma6_contraction(l1, l2, phi, g):
    """``(|Id - gamma A|_2, 1 - gamma lambda_min(A))`` with ``gamma = g / R^2_min``, ``0 < g <= 1``, the norm of the
    matrix ``Id - gamma A`` in the standard basis (numpy's 2-norm).  Expected to hold, with equality: the eigenvalues of
    ``Id - gamma A`` lie in ``[0, 1 - gamma lambda_min]`` (the first claim gives ``gamma lambda_max <= 1``), so the
    worst ratio is 1 to rounding everywhere."""
    w, e, sq = _three_direction(l1, l2, phi)
    gamma = np.asarray(g, dtype=float) / _r2_three_direction(sq, e)
    lhs = np.linalg.norm(np.eye(2) - gamma[:, None, None] * _matrix(l1, l2, phi), 2, axis=(-2, -1))
    return _masked(_positive(g), lhs, 1.0 - gamma * np.min(w, axis=1))


# -- footnote 3 ---------------------------------------------------------------------------------------------------------
LAW_FOOTNOTE3 = {**LAW, "dt": Real(0.0, 1.0), "g": LogReal(1e-4, 1e4)}


@_dps
def _footnote3_mp(l1, l2, phi, dt, g):
    """Both sides at 50 digits: TANGO's A^ outcome by outcome, their mean and mean square, in the standard basis."""
    gs, A, EA2 = _mp_three_direction(l1, l2, phi)
    R2 = _mp_r2_min(A, EA2)
    dt, gamma = mpf_exact(dt), mpf_exact(g) / R2
    hats = [(1 - dt) * (x * x.T) + dt / gamma * mp.eye(2) for x in gs]
    return _mp_r2_min(sum(hats[1:], hats[0]) / 3, sum((X * X for X in hats[1:]), hats[0] * hats[0]) / 3), max(R2, 1 / gamma)


@bound(source=f"{SRC} footnote 3 (line 628): '(1 - dt) g~ g~^T + dt/gamma Id satisfies the assumption with "
              "max(R2, 1/gamma)'; three-direction law, d = 2, gamma = g / R^2_min", family=FAMILY, space=LAW_FOOTNOTE3,
       hypotheses=THEOREM5 + " for g~ g~^T; 0 <= dt <= 1, gamma = g/R^2 > 0 (any: the footnote does not need "
                             "gamma <= 1/R^2)", certify=_footnote3_mp, vectorized=True)
def footnote3_tango_variance(l1, l2, phi, dt, g):
    """``(R^2_min of A^_t = (1 - dt) g~ g~^T + dt/gamma Id, max(R^2_min, 1/gamma))``.  Expected to hold for every
    gamma > 0 and dt in [0, 1] (the cross term 2 (1 - dt) dt/gamma A is bounded through Lemma 6's A <= R^2 Id); tight at
    dt = 1 (A^_1 = Id/gamma) when gamma <= 1/R^2, and as dt -> 0 when gamma >= 1/R^2.  In A's eigenbasis
    ``A_t = diag(w_t)``, ``w_t = (1 - dt) w + dt/gamma``; whitened, ``A_t^-1/2 A^_t^2 A_t^-1/2 = W A_t W`` with
    ``W = A_t^-1/2 A^_t A_t^-1/2``."""
    w, e, _ = _three_direction(l1, l2, phi)
    R2 = _r2_three_direction(np.sum(w[:, None, :] * e * e, axis=-1), e)
    keep, beta = 1.0 - np.asarray(dt, dtype=float), np.asarray(dt, dtype=float) * R2 / np.asarray(g, dtype=float)
    wt = keep[:, None] * w + beta[:, None]
    b = np.sqrt(w / wt)[:, None, :] * e  # A_t^-1/2 g~_j
    W = keep[:, None, None, None] * b[..., :, None] * b[..., None, :] + (beta[:, None] / wt)[:, None, :, None] * np.eye(2)
    M = np.mean(W @ (wt[:, None, :, None] * W), axis=1)
    return np.linalg.eigvalsh(M)[:, -1], np.maximum(R2, R2 / np.asarray(g, dtype=float))


# -- the gamma rules (after Definition 1) and the text after Theorem 5 --------------------------------------------------
@_dps
def _max_norm_mp(l1, l2, phi):
    """Both sides at 50 digits: ``1/max |g~|^2`` over the enumerated outcomes, ``1/R^2_min``."""
    gs, A, EA2 = _mp_three_direction(l1, l2, phi)
    return 1 / max(_mp_sq(x) for x in gs), 1 / _mp_r2_min(A, EA2)


@bound(source=f"{SRC} the gamma rules after Definition 1 (line 75): 'A conservative, theoretically safe choice is "
              "setting gamma = 1/max |g~|^2'; and the text after Theorem 5 (line 569): eq. 31 holds with "
              "R2 = sup |g~|^2; three-direction law (bounded), d = 2", family=FAMILY, space=LAW,
       hypotheses="g~ bounded; safe means gamma <= 1/R^2 (Theorem 5)", certify=_max_norm_mp, vectorized=True)
def gamma_max_norm_safe(l1, l2, phi):
    """``(1/max|g~|^2, 1/R^2_min)``: the rule's gamma satisfies Theorem 5's ``gamma <= 1/R^2``.  Expected to hold
    (``E[|g~|^2 g~ g~^T] <= sup|g~|^2 A``); tight where one outcome dominates (l1/l2 far from 1)."""
    w, e, sq = _three_direction(l1, l2, phi)
    return 1.0 / np.max(sq, axis=1), 1.0 / _r2_three_direction(sq, e)


@_dps
def _gaussian_rule_mp(l1, l2, phi):
    """Both sides at 50 digits: ``E|g~|^2 = tr A``, E[A^2] per coordinate (:func:`_mp_gaussian`)."""
    A, EA2 = _mp_gaussian(l1, l2, phi)
    return 1 / (3 * (A[0, 0] + A[1, 1])), 1 / _mp_r2_min(A, EA2)


@bound(source=f"{SRC} the gamma rules after Definition 1 (line 77): 'If the gradients follow a Gaussian distribution "
              "(with any covariance matrix), then gamma = 1/E[3 |g~|^2] is theoretically safe'; and line 579 "
              "(R2 = 3 E|g~|^2 for Gaussian g~); Gaussian law, d = 2", family=FAMILY, space=LAW,
       hypotheses="g~ ~ N(0, A); safe means gamma <= 1/R^2 (Theorem 5)", certify=_gaussian_rule_mp, vectorized=True)
def gamma_gaussian_safe(l1, l2, phi):
    """``(1/(3 E|g~|^2), 1/R^2_min)``; ``R^2_min = 3 l_max + l_min``.  Expected to hold; tight as l_min/l_max -> 0
    (ratio ``(3 l_max + l_min)/(3 l_max + 3 l_min)``); phi does not enter (the law is rotation invariant; the
    certificate builds the matrices in the standard basis all the same)."""
    w = _eigenvalues(l1, l2)
    return 1.0 / (3.0 * np.sum(w, axis=1)), 1.0 / _r2_gaussian(w)


@_dps
def _kurtosis_mp(l1, l2, phi):
    """Both sides at 50 digits, over the enumerated outcomes."""
    gs, A, EA2 = _mp_three_direction(l1, l2, phi)
    sq = [_mp_sq(x) for x in gs]
    return 1 / _mp_r2_min(A, EA2), mp.fsum(sq) / mp.fsum(q * q for q in sq)


@bound(source=f"{SRC} the gamma rules after Definition 1 (line 79): 'In general, gamma <= E[|g~|^2]/E[|g~|^4] is a "
              "necessary but not sufficient condition'; three-direction law, d = 2", family=FAMILY, space=LAW,
       hypotheses=THEOREM5 + "; necessary: every gamma <= 1/R^2 satisfies it", certify=_kurtosis_mp, vectorized=True)
def gamma_kurtosis_necessary(l1, l2, phi):
    """``(1/R^2_min, E|g~|^2/E|g~|^4)``: the largest gamma Theorem 5 allows satisfies the necessary rule.  Expected to
    hold (the trace of eq. 31: ``E|g~|^4 <= R^2 E|g~|^2``); an equality where |g~|^2 is constant (l1 = l2).  That the
    rule is not sufficient is the paper's own remark, not a bound."""
    w, e, sq = _three_direction(l1, l2, phi)
    return 1.0 / _r2_three_direction(sq, e), np.mean(sq, axis=1) / np.mean(sq * sq, axis=1)


@_dps
def _fourth_moment_mp(l1, l2, phi):
    """Both sides at 50 digits, over the enumerated outcomes."""
    gs, A, EA2 = _mp_three_direction(l1, l2, phi)
    return _mp_r2_min(A, EA2), mp.fsum(_mp_sq(x) ** 2 for x in gs) / 3 / _mp_eig(A)[0]


@bound(source=f"{SRC} the text after Theorem 5 (line 569): 'It is also satisfied with R2 = E|g~|^4/lambda, without "
              "bounded gradients'; three-direction law, d = 2", family=FAMILY, space=LAW,
       hypotheses="A^ = g~ g~^T, lambda = lambda_min(A) > 0", certify=_fourth_moment_mp, vectorized=True)
def variance_fourth_moment(l1, l2, phi):
    """``(R^2_min, E|g~|^4 / lambda_min(A))``.  Expected to hold (``u^T E[A^2] u <= |u|^2 E|g~|^4``); loose by about
    the condition number of A when l1/l2 is far from 1."""
    w, e, sq = _three_direction(l1, l2, phi)
    return _r2_three_direction(sq, e), np.mean(sq * sq, axis=1) / np.min(w, axis=1)


# -- Lemma 7: exact second moments of eqs 27-28 ---------------------------------------------------------------------------
# Sigma_A = E[a a^T] = diag(1, lam) (a scale and a rotation fix the rest), a ~ N(0, Sigma_A); TANGO's
# A^ = (1 - dt) a a^T + dt/gamma Id (footnote 3: R^2 = max(R^2_min, 1/gamma) = 1/gamma, lambda = (1 - dt) lam + dt/gamma);
# F^ = f + N(0, Sigma_F), f = sqrt(1 - s) (cos psi, sin psi), Sigma_F = s diag(c, 1 - c): sigma^2 = E|F^|^2 = 1.
LEMMA7_KMAX = 10**9
SPACE_LEMMA7 = {"lam": LogReal(1e-3, 1.0), "psi": Real(0.0, float(np.pi / 2)), "s": Real(0.0, 1.0),
                "c": Real(0.0, 1.0), "g": Real(0.0, 1.0), "dt": Real(0.0, 1.0), "k": LogInteger(1, LEMMA7_KMAX)}


def _lemma7_map(lam, psi, s, c, g, dt):
    """The affine moment map of eqs 27-28 (stacked): state ``(m_1, m_2, S_11, S_22, S_12, 1)`` with ``m = E v``,
    ``S = E v v^T``.  With ``I - gamma A^ = (1 - dt)(I - gamma a a^T)``, a diagonal Sigma_A = diag(sig) and Isserlis:
    ``E[(I - gamma a a^T) S (I - gamma a a^T)]_ij = S_ij (1 - gamma (sig_i + sig_j) + 2 gamma^2 sig_i sig_j)
    + gamma^2 tr(Sigma_A S) sig_i delta_ij``; ``m' = (1 - dt)(I - gamma Sigma_A) m + gamma f``;
    ``S' = (1 - dt)^2 E[...] + gamma (P f^T + f P^T) + gamma^2 (f f^T + Sigma_F)``, ``P = (1 - dt)(I - gamma Sigma_A) m``."""
    n = np.size(lam)
    sig = np.stack([np.ones(n), np.asarray(lam, dtype=float)], -1)
    gamma = np.asarray(g, dtype=float) / (3.0 + sig[:, 1])  # R^2_min of a a^T: 3 lambda_max + lambda_min
    keep = 1.0 - np.asarray(dt, dtype=float)
    f = np.sqrt(1.0 - np.asarray(s, dtype=float))[:, None] * np.stack([np.cos(psi), np.sin(psi)], -1)
    SF = np.asarray(s, dtype=float)[:, None] * np.stack([np.asarray(c, dtype=float), 1.0 - np.asarray(c, dtype=float)], -1)
    G = gamma[:, None]
    P = keep[:, None] * (1.0 - G * sig)  # E[I - gamma A^] (diagonal)
    T = np.zeros((n, 6, 6))
    T[:, 0, 0], T[:, 1, 1] = P[:, 0], P[:, 1]
    T[:, 0, 5], T[:, 1, 5] = gamma * f[:, 0], gamma * f[:, 1]
    k2 = keep**2
    for i, row in ((0, 2), (1, 3)):  # S_ii
        T[:, row, 2 + i] = k2 * (1.0 - 2.0 * gamma * sig[:, i] + 2.0 * gamma**2 * sig[:, i] ** 2)
        T[:, row, 2] += k2 * gamma**2 * sig[:, 0] * sig[:, i]
        T[:, row, 3] += k2 * gamma**2 * sig[:, 1] * sig[:, i]
        T[:, row, i] = 2.0 * gamma * P[:, i] * f[:, i]
        T[:, row, 5] = gamma**2 * (f[:, i] ** 2 + SF[:, i])
    T[:, 4, 4] = k2 * (1.0 - gamma * (sig[:, 0] + sig[:, 1]) + 2.0 * gamma**2 * sig[:, 0] * sig[:, 1])
    T[:, 4, 0], T[:, 4, 1] = gamma * P[:, 0] * f[:, 1], gamma * P[:, 1] * f[:, 0]
    T[:, 4, 5] = gamma**2 * f[:, 0] * f[:, 1]
    T[:, 5, 5] = 1.0
    return T, keep * sig[:, 1] + np.asarray(dt, dtype=float) / gamma


def _stacked_power(T, k):
    """``T[i] ** k[i]`` for each i, by binary exponentiation over the bits of the largest k."""
    k = np.asarray(k, dtype=np.int64)
    out = np.broadcast_to(np.eye(T.shape[-1]), T.shape).copy()
    P = T.copy()
    while np.any(k > 0):
        odd = (k & 1).astype(bool)
        out[odd] = out[odd] @ P[odd]
        k = k >> 1
        if np.any(k > 0):
            P = P @ P
    return out


def lemma7_second_moment(lam, psi, s, c, g, dt, k):
    """``(E|v_k|^2, lambda)`` stacked (the float route of :func:`lemma7_velocity`)."""
    T, lam_t = _lemma7_map(lam, psi, s, c, g, dt)
    x = _stacked_power(T, k)[:, :, 5]  # T^k applied to the start (m, S) = 0
    return x[:, 2] + x[:, 3], lam_t


@_dps
def _lemma7_mp(lam, psi, s, c, g, dt, k):
    """Both sides at 50 digits: the recursion of :func:`verification.reference.tango.two_timescale_moments` (full 2 x 2
    matrices, Isserlis ``E[a a^T S a a^T] = 2 Sigma S Sigma + tr(Sigma S) Sigma``, with TANGO's factor (1 - dt)) applied
    to the 6 unit states to build its affine map, raised to the power k by mpmath."""
    if not Fraction(g) > 0:
        raise HypothesisError("gamma must be > 0")
    lam, psi, s, c, g, dt = (mpf_exact(v) for v in (lam, psi, s, c, g, dt))
    Sg = mp.diag([1, lam])
    gamma, keep = g / (3 + lam), 1 - dt
    f = mp.sqrt(1 - s) * mp.matrix([mp.cos(psi), mp.sin(psi)])
    SF = mp.diag([s * c, s * (1 - c)])
    I = mp.eye(2)

    def step(state):
        m, S, one = mp.matrix([state[0], state[1]]), mp.matrix([[state[2], state[4]], [state[4], state[3]]]), state[5]
        P = keep * (I - gamma * Sg) * m
        ES = S - gamma * (Sg * S + S * Sg) + gamma**2 * (2 * Sg * S * Sg + (Sg * S)[0, 0] * Sg + (Sg * S)[1, 1] * Sg)
        S2 = keep**2 * ES + gamma * (P * f.T + f * P.T) + gamma**2 * (f * f.T + SF) * one
        m2 = P + gamma * f * one
        return [m2[0], m2[1], S2[0, 0], S2[1, 1], S2[0, 1], one]

    T = mp.matrix(6, 6)
    for j in range(6):
        col = step([mp.mpf(int(i == j)) for i in range(6)])
        for i in range(6):
            T[i, j] = col[i]
    # the constants ride on the last coordinate (1): T is the affine map; (m, S) start at 0
    x = (T ** int(k)) * mp.matrix([0, 0, 0, 0, 0, 1])
    return x[2] + x[3], 4 / (keep * lam + dt / gamma) ** 2


@bound(source=f"{SRC} Lemma 7 (eq. 33, line 647): 'E |v_k|^2 <= 4 sigma^2/lambda^2'; eqs 27-28 with TANGO's "
              "A^ = (1 - dt) a a^T + dt/gamma Id (footnote 3), a ~ N(0, diag(1, lam)), F^ = f + N(0, Sigma_F), "
              "sigma^2 = E|F^|^2 = 1; d = 2", family=FAMILY, space=SPACE_LEMMA7,
       hypotheses="Theorem 5's: E|F^|^2 <= sigma^2 = 1, E[A^2] <= R^2 A with R^2 = max(R^2_min(a a^T), 1/gamma) "
                  "(footnote 3), gamma = g/R^2_min(a a^T) in (0, 1/R^2], lambda = lambda_min(E A^) = (1 - dt) lam + "
                  "dt/gamma, 0 <= dt <= 1, v_0 = 0, integer k >= 1", certify=_lemma7_mp, vectorized=True)
def lemma7_velocity(lam, psi, s, c, g, dt, k):
    """``(E|v_k|^2, 4 sigma^2/lambda^2)`` with ``sigma^2 = 1``.  Expected to hold; the text (line 657) says it is optimal
    up to the factor 4 (deterministic F^ along the lambda-eigenvector: ratio -> 1/4 as k -> oo)."""
    vsq, lam_t = lemma7_second_moment(lam, psi, s, c, g, dt, k)
    return _masked(_positive(g), vsq, 4.0 / lam_t**2)
