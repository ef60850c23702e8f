"""Theorem hypotheses as data: each with its value, its bound, its margin and whether it holds.

001_7d31b3ff3a2f0401.txt §14.2, Theorems 3 and 5 (constant: ``alpha lambda_1(B^-1 H) <= 1``;
harmonic: ``a >= 1``, ``b = lambda_n(B^-1 H) > 1/2``, ``lambda_1(B^-1 H) <= a + 1``) and
§14.3, Theorem 6 (``alpha lambda_1(B^-1 H) < 1``).
"""

from __future__ import annotations

from dataclasses import dataclass

from theorytools.errors import HypothesisError
from theorytools.linalg import as_choice
from theorytools.quadratic.problem import as_problem
from theorytools.quadratic.schedules import Constant, Harmonic, as_schedule

THEOREMS = ("theorem3", "theorem5", "theorem6")

#: A non-strict hypothesis ``x <= c`` is accepted when ``x <= c (1 + LIMIT_RTOL)``: a step size
#: set "exactly at its limit" (``alpha = 1/lambda_1``) is only reproduced up to rounding of the
#: eigensolve, a few ulps.  Strict hypotheses get no slack.
LIMIT_RTOL = 1e-12


@dataclass(frozen=True)
class Hypothesis:
    """One assumption ``value <op> bound``; ``margin`` is positive when it holds with room.

    Parameters
    ----------
    name : str
        Short name (``"step"``, ``"a"``, ``"b"``, ``"lambda_1"``).
    statement : str
        The hypothesis as printed, e.g. ``"a >= 1"``.
    value : float
        The left side, evaluated on the problem and schedule.
    bound : float
        The right side.
    strict : bool
        True for ``<`` or ``>``, False for ``<=`` or ``>=``.
    upper : bool
        True for ``value <(=) bound``, False for ``value >(=) bound``.

    Examples
    --------
    >>> from theorytools.quadratic import Hypothesis
    >>> h = Hypothesis("a", "a >= 1", 3.0, 1.0, strict=False, upper=False)
    >>> print(h.margin, h.holds)
    2.0 True
    >>> print(h)
    a >= 1: value 3, bound 1, margin 2 (holds)
    """

    name: str
    statement: str
    value: float
    bound: float
    strict: bool
    upper: bool  # True for value <(=) bound, False for value >(=) bound

    @property
    def margin(self) -> float:
        """``bound - value`` for an upper bound, ``value - bound`` for a lower one."""
        return self.bound - self.value if self.upper else self.value - self.bound

    @property
    def holds(self) -> bool:
        """Whether the hypothesis holds (a non-strict one within ``LIMIT_RTOL`` relative rounding slack)."""
        if self.strict:
            return self.margin > 0
        return self.margin >= -LIMIT_RTOL * max(1.0, abs(self.bound))

    def __str__(self) -> str:
        state = "holds" if self.holds else "VIOLATED"
        return f"{self.statement}: value {self.value:.6g}, bound {self.bound:.6g}, margin {self.margin:.3g} ({state})"


def hypotheses(p, schedule, theorem: str = "theorem5") -> list[Hypothesis]:
    """The hypotheses of ``theorem`` ("theorem3", "theorem5" or "theorem6") for ``(p, schedule)``.

    001_7d31b3ff3a2f0401.txt §14.2, Theorems 3 and 5, and §14.3, Theorem 6.

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    schedule : Constant or Harmonic or float
        The step sizes (a float means ``Constant(alpha)``).
    theorem : str, optional
        ``"theorem3"``, ``"theorem5"`` (default) or ``"theorem6"``.

    Returns
    -------
    list of Hypothesis
        One entry per assumption, holding or not.

    Examples
    --------
    With ``lambda_1 = lambda_n = 2`` and ``alpha_k = 1/(k + 2)`` (``a = 1``) all three hold:

    >>> from theorytools.quadratic import Harmonic, QuadraticProblem, hypotheses
    >>> p = QuadraticProblem([[2.0]], [[1.0]], [[1.0]], [1.0])
    >>> [(h.name, h.holds, round(h.margin, 6)) for h in hypotheses(p, Harmonic(1.0))]
    [('a', True, 0.0), ('b', True, 1.5), ('lambda_1', True, 0.0)]
    """
    p = as_problem(p)
    schedule = as_schedule(schedule)
    theorem = as_choice("theorem", theorem, THEOREMS)
    if isinstance(schedule, Constant):
        x = schedule.alpha * p.lambda_1
        strict = theorem == "theorem6"
        op = "<" if strict else "<="
        return [Hypothesis("step", f"alpha * lambda_1(B^-1 H) {op} 1", x, 1.0, strict, True)]
    if theorem == "theorem6":
        raise ValueError("theorem6 is stated for a constant step size only; got a non-constant schedule")
    if isinstance(schedule, Harmonic):
        a = schedule.a
        return [
            Hypothesis("a", "a >= 1", a, 1.0, False, False),
            Hypothesis("b", "b = lambda_n(B^-1 H) > 1/2", p.lambda_n, 0.5, True, False),
            Hypothesis("lambda_1", "lambda_1(B^-1 H) <= a + 1", p.lambda_1, a + 1.0, False, True),
        ]
    raise ValueError(f"{theorem} covers constant and harmonic schedules only; got {schedule!r}")


def require(p, schedule, theorem: str) -> None:
    """Raise :class:`HypothesisError` naming every violated hypothesis of ``theorem``.

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    schedule : Constant or Harmonic or float
        The step sizes (a float means ``Constant(alpha)``).
    theorem : str
        ``"theorem3"``, ``"theorem5"`` or ``"theorem6"``.

    Raises
    ------
    HypothesisError
        When at least one hypothesis of :func:`hypotheses` does not hold.

    Examples
    --------
    ``alpha lambda_1 = 0.75 * 2 = 1.5`` violates Theorem 5's ``alpha lambda_1(B^-1 H) <= 1``:

    >>> from theorytools import HypothesisError
    >>> from theorytools.quadratic import QuadraticProblem, require
    >>> p = QuadraticProblem([[2.0]], [[1.0]], [[1.0]], [1.0])
    >>> try:
    ...     require(p, 0.75, "theorem5")
    ... except HypothesisError as exc:
    ...     print("value 1.5, bound 1" in str(exc))
    True
    """
    bad = [h for h in hypotheses(p, schedule, theorem) if not h.holds]
    if bad:
        raise HypothesisError(
            f"{theorem} hypotheses violated for {schedule!r}: " + "; ".join(str(h) for h in bad)
            + " (pass check=False to evaluate the formula anyway)"
        )
