"""Bounds of Martens (001_7d31b3ff3a2f0401.txt) for the hunt (:mod:`verification.hunt`).

Appendix D, Proposition 23, second inequality, ``S_k(a, b) <= nu(a) k / (k+a)^3``: as printed (hypotheses
``0 <= b <= a + 2``; false, the erratum of ``quadratic.proposition23_correction``), as printed on Theorem 5's region
(``a >= 1``, ``b > 1/2``, where the harmonic bound u(k) uses it; still false) and corrected (``3/2 <= b <= a + 2``;
holds).  The left side is the library's O(k) sum, so k is searched up to :data:`KMAX`; each certificate evaluates both
sides in exact rationals (:func:`theorytools.quadratic.lemmas.proposition23_sum_exact`).
"""

from __future__ import annotations

from fractions import Fraction

import theorytools.quadratic as Q
from theorytools.errors import HypothesisError
from verification.checks import quadratic as _quadratic  # noqa: F401 - registers the erratum reused below
from verification.hunt import LogInteger, LogReal, Real, bound
from verification.registry import CHECKS

SRC = "001_7d31b3ff3a2f0401.txt"
#: Largest k searched: the left side costs O(k) (about 6 ms at k = 1e4, 0.4 s at 1e6 on one core), and the hunt
#: evaluates it thousands of times.  The printed statement already fails at k = 3.
KMAX = 10**4
SPACE = {"k": LogInteger(1, KMAX), "a": LogReal(1e-3, 1e3), "b": Real(0.0, 10.0)}
#: Theorem 5's region: a >= 1 (the harmonic step's offset) and b = lambda_n(B^-1 H) > 1/2.
SPACE_THEOREM5 = {"k": LogInteger(1, KMAX), "a": LogReal(1.0, 1e3), "b": Real(0.5, 10.0)}
ERRATUM = CHECKS["quadratic.proposition23_correction"].erratum


def _theorem5_region(a, b) -> None:
    if not (a >= 1 and b > Fraction(1, 2)):
        raise HypothesisError(f"Theorem 5's region needs a >= 1 and b > 1/2, got a = {a}, b = {b}")


def _exact_sides(version: str, region=None):
    """``certify`` of a Proposition 23 bound: both sides in exact rationals at rational ``a``, ``b`` (a float is the
    dyadic rational it stores), after the hypotheses of ``version`` (and ``region``)."""
    def certify(k, a, b):
        a, b = Fraction(a), Fraction(b)
        Q.lemmas.proposition23_sum_sides(int(k), float(a), float(b), version=version)  # its hypotheses, or raise
        if region is not None:
            region(a, b)
        rhs = (a + 2) ** 3 / (a * (a + 1) ** 2) * k / (k + a) ** 3  # nu(a) k / (k+a)^3
        return Q.lemmas.proposition23_sum_exact(int(k), a, b), rhs

    return certify


@bound(source=f"{SRC} Appendix D, Proposition 23 (part 2), as printed", family="quadratic", space=SPACE,
       hypotheses="integer k >= 1, a > 0, 0 <= b <= a + 2", certify=_exact_sides("printed"), erratum=ERRATUM)
def proposition23_sum_printed(k, a, b):
    """``(S_k(a, b), nu(a) k/(k+a)^3)`` under the printed hypotheses (Appendix D, Proposition 23, part 2)."""
    return Q.lemmas.proposition23_sum_sides(k, a, b, version="printed")


@bound(source=f"{SRC} Appendix D, Proposition 23 (part 2), as printed, on Theorem 5's region (§14.2)",
       family="quadratic", space=SPACE_THEOREM5, hypotheses="integer k >= 1, a >= 1, 1/2 < b <= a + 2",
       certify=_exact_sides("printed", _theorem5_region), erratum=ERRATUM)
def proposition23_sum_theorem5_region(k, a, b):
    """Proposition 23's printed second inequality where Theorem 5's harmonic u(k) applies it."""
    _theorem5_region(a, b)
    return Q.lemmas.proposition23_sum_sides(k, a, b, version="printed")


@bound(source=f"{SRC} Appendix D, Proposition 23 (part 2), corrected (b >= 3/2)", family="quadratic", space=SPACE,
       hypotheses="integer k >= 1, a > 0, 3/2 <= b <= a + 2", certify=_exact_sides("corrected"))
def proposition23_sum_corrected(k, a, b):
    """``(S_k(a, b), nu(a) k/(k+a)^3)`` with the missing hypothesis ``b >= 3/2`` added."""
    return Q.lemmas.proposition23_sum_sides(k, a, b, version="corrected")
