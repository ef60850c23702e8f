"""The trace and product inequalities of Martens' Appendix D (001_7d31b3ff3a2f0401.txt), for the hunt.

All are expected to hold (each has an equality case, where the worst ratio is 1); the library's float sides
(:mod:`theorytools.quadratic.lemmas`) are hunted, each certified by mpmath at 50 digits.

* Lemma 18: ``lambda_n(S) tr(X) <= tr(S X) <= lambda_1(S) tr(X)`` for symmetric S and PSD X (two bounds).
* Corollary 19: the same reversed for NSD X (two bounds).
* Lemma 20: ``tr(A S X) <= tr(A T X)`` for commuting A, S, T with ``S <= T`` and PSD A, X.
* Proposition 22: ``log(n1) - log(min{n2 + 1, n1}) <= H_{n1} - H_{n2}`` for integers ``n1 >= n2 >= 1``.
* Proposition 23, first inequality: ``prod_{j=i}^{k-1} (1 - b/(j+a+1)) <= ((i+a+1)/(k+a))^b`` (``0 <= i < k``,
  ``0 <= b <= i + a + 1``).

The matrix statements are hunted on n = 2, where a joint rotation makes X (Lemmas 18, 19) or A, S, T (Lemma 20)
diagonal: ``S = R(t) diag(s1, s2) R(t)^T`` with X diagonal, and X rotated against diagonal A, S, T.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

import theorytools.quadratic as Q
from verification.hunt import CERTIFY_DPS
from verification.hunt import Integer, LogInteger, LogReal, Real, bound, mpf_exact

SRC = "001_7d31b3ff3a2f0401.txt"
ANGLE = Real(0.0, float(np.pi))


def _rotated(t, d1, d2):
    c, s = np.cos(t), np.sin(t)
    R = np.array([[c, -s], [s, c]])
    return R @ np.diag([d1, d2]) @ R.T


def _rotated_diagonal_mp(t, d1, d2):
    """The diagonal of ``R(t) diag(d1, d2) R(t)^T`` at the working precision."""
    c2, s2 = mp.cos(mpf_exact(t)) ** 2, mp.sin(mpf_exact(t)) ** 2
    return d1 * c2 + d2 * s2, d1 * s2 + d2 * c2


SPACE_18 = {"t": ANGLE, "s1": Real(-1.0, 1.0), "s2": Real(-1.0, 1.0), "x1": Real(0.0, 1.0), "x2": Real(0.0, 1.0)}


def _lemma18_mp(sign):
    """The library's three sides at 50 digits for ``X = sign diag(x1, x2)``: ``(lambda_n(S) tr(X), tr(S X),
    lambda_1(S) tr(X))`` (Lemma 18, sign = +1) or ``(lambda_1(S) tr(X), tr(S X), lambda_n(S) tr(X))`` (Corollary 19,
    sign = -1)."""
    def sides(t, s1, s2, x1, x2):
        with mp.workdps(CERTIFY_DPS):
            s1, s2, x1, x2 = (mpf_exact(v) for v in (s1, s2, x1, x2))
            S11, S22 = _rotated_diagonal_mp(t, s1, s2)
            tr = sign * (x1 + x2)
            low, high = (min(s1, s2), max(s1, s2))[::sign]  # Corollary 19 (X <= 0): lambda_1 tr(X) comes first
            return low * tr, sign * (S11 * x1 + S22 * x2), high * tr
    return sides


def _lemma18_sides(sign):
    def sides(t, s1, s2, x1, x2):
        S, X = _rotated(t, s1, s2), sign * np.diag([x1, x2])
        return (Q.lemmas.lemma18_bounds if sign > 0 else Q.lemmas.corollary19_bounds)(S, X)
    return sides


def _register_18(sign, name, what, pick):
    law = Q.lemmas.lemma18_bounds if sign > 0 else Q.lemmas.corollary19_bounds
    exact, floats = _lemma18_mp(sign), _lemma18_sides(sign)

    def certify(**p):
        return pick(exact(**p))

    def func(t, s1, s2, x1, x2):
        return pick(floats(t, s1, s2, x1, x2))

    func.__doc__ = f"{what} (:func:`theorytools.quadratic.lemmas.{law.__name__}`), n = 2."
    return bound(source=f"{SRC} Appendix D, {what}", family="quadratic", space=SPACE_18, certify=certify, name=name,
                 hypotheses=f"S symmetric, X {'PSD' if sign > 0 else 'NSD'} (n = 2)")(func)


lemma18_lower = _register_18(+1, "lemma18_lower", "Lemma 18, lambda_n(S) tr(X) <= tr(S X)",
                             lambda s: (s[0], s[1]))
lemma18_upper = _register_18(+1, "lemma18_upper", "Lemma 18, tr(S X) <= lambda_1(S) tr(X)",
                             lambda s: (s[1], s[2]))
corollary19_lower = _register_18(-1, "corollary19_lower", "Corollary 19, lambda_1(S) tr(X) <= tr(S X) (X NSD)",
                                 lambda s: (s[0], s[1]))
corollary19_upper = _register_18(-1, "corollary19_upper", "Corollary 19, tr(S X) <= lambda_n(S) tr(X) (X NSD)",
                                 lambda s: (s[1], s[2]))


SPACE_20 = {"t": ANGLE, "a1": Real(0.0, 1.0), "a2": Real(0.0, 1.0), "s1": Real(-1.0, 1.0), "s2": Real(-1.0, 1.0),
            "d1": Real(0.0, 1.0), "d2": Real(0.0, 1.0), "x1": Real(0.0, 1.0), "x2": Real(0.0, 1.0)}


def _lemma20_mp(t, a1, a2, s1, s2, d1, d2, x1, x2):
    with mp.workdps(CERTIFY_DPS):
        a1, a2, s1, s2, d1, d2, x1, x2 = (mpf_exact(v) for v in (a1, a2, s1, s2, d1, d2, x1, x2))
        X11, X22 = _rotated_diagonal_mp(t, x1, x2)
        return a1 * s1 * X11 + a2 * s2 * X22, a1 * (s1 + d1) * X11 + a2 * (s2 + d2) * X22


@bound(source=f"{SRC} Appendix D, Lemma 20, tr(A S X) <= tr(A T X)", family="quadratic", space=SPACE_20,
       hypotheses="A, S, T commute (diagonal), S <= T (T = S + diag(d1, d2)), A and X PSD (n = 2)",
       certify=_lemma20_mp)
def lemma20(t, a1, a2, s1, s2, d1, d2, x1, x2):
    """``(tr(A S X), tr(A T X))`` (:func:`theorytools.quadratic.lemmas.lemma20_sides`) with ``A = diag(a)``,
    ``S = diag(s)``, ``T = S + diag(d)`` and ``X = R(t) diag(x) R(t)^T``."""
    return Q.lemmas.lemma20_sides(np.diag([a1, a2]), np.diag([s1, s2]), np.diag([s1 + d1, s2 + d2]),
                                  _rotated(t, x1, x2))


# n1 = n2 + m - 1: m = 1 is the equality case n1 = n2.
SPACE_22 = {"n2": LogInteger(1, 10**12), "m": LogInteger(1, 10**12)}


def _proposition22_mp(n2, m):
    """Both sides at 50 digits, the harmonic numbers by the digamma function (``H_n = psi(n+1) + gamma``)."""
    n1 = n2 + m - 1
    with mp.workdps(CERTIFY_DPS):
        return mp.log(n1) - mp.log(min(n2 + 1, n1)), mp.digamma(n1 + 1) - mp.digamma(n2 + 1)


@bound(source=f"{SRC} Appendix D, Proposition 22, log(n1) - log(min(n2 + 1, n1)) <= H_n1 - H_n2", family="quadratic",
       space=SPACE_22, hypotheses="integers n1 = n2 + m - 1 >= n2 >= 1", certify=_proposition22_mp)
def proposition22(n2, m):
    """``(log(n1) - log(min(n2 + 1, n1)), H_n1 - H_n2)`` (:func:`theorytools.quadratic.lemmas.proposition22_sides`)."""
    return Q.lemmas.proposition22_sides(n2 + m - 1, n2)


# k = i + m; b = beta (i + a + 1), so that the space is the hypotheses' whole region 0 <= b <= i + a + 1.
SPACE_23 = {"i": Integer(0, 1000), "m": LogInteger(1, 10**9), "a": LogReal(1e-3, 1e3), "beta": Real(0.0, 1.0)}


def _product_mp(i, m, a, beta):
    """``(lhs/rhs, 1)`` at 50 digits, the product as a ratio of rising factorials: ``prod_{j=i}^{k-1} (j + a + 1 - b) /
    (j + a + 1) = (i + a + 1 - b)_m / (i + a + 1)_m``."""
    with mp.workdps(CERTIFY_DPS):
        a = mpf_exact(a)
        b = mpf_exact(beta) * (i + a + 1)
        return mp.rf(i + a + 1 - b, m) / mp.rf(i + a + 1, m) / ((i + a + 1) / (i + m + a)) ** b, mp.mpf(1)


@bound(source=f"{SRC} Appendix D, Proposition 23 (part 1), prod (1 - b/(j+a+1)) <= ((i+a+1)/(k+a))^b",
       family="quadratic", space=SPACE_23, hypotheses="integers 0 <= i < k = i + m, a > 0, 0 <= b <= i + a + 1",
       certify=_product_mp)
def proposition23_product(i, m, a, beta):
    """``(prod_{j=i}^{k-1} (1 - b/(j+a+1)) / ((i+a+1)/(k+a))^b, 1)`` with ``k = i + m``, ``b = beta (i + a + 1)``.

    Stated as a ratio formed in log space, as :func:`theorytools.quadratic.lemmas.proposition23_product` forms the
    product (its ``_proposition23_log_product``): at k = 1e9 both sides underflow to 0, which would read as an
    equality.  The hypotheses are checked by the library's
    :func:`~theorytools.quadratic.lemmas.proposition23_product_sides`."""
    k, b = i + m, beta * (i + a + 1.0)
    Q.lemmas.proposition23_product_sides(i, min(k, i + 1), a, b)  # its hypotheses, or raise
    log_lhs = float(Q.lemmas._proposition23_log_product(i, k, a, b)) if b < i + a + 1.0 else -np.inf
    return float(np.exp(log_lhs + b * np.log1p((m - 1.0) / (i + a + 1.0)))), 1.0
