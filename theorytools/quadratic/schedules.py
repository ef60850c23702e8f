"""Step-size schedules ``alpha_k`` of eqn. 19 (001_7d31b3ff3a2f0401.txt §14.2)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theorytools.linalg import as_array, as_float, as_steps, positive


@dataclass(frozen=True)
class Constant:
    """``alpha_k = alpha`` (Theorems 3, 5 need ``alpha lambda_1(B^-1 H) <= 1``; Theorem 6 ``< 1``).

    001_7d31b3ff3a2f0401.txt §14.2, eqn. 19 with a constant step size.

    Parameters
    ----------
    alpha : float
        The step size, > 0.

    Examples
    --------
    >>> from theorytools.quadratic import Constant
    >>> Constant(0.5).alphas([0, 1, 2]).tolist()
    [0.5, 0.5, 0.5]
    """

    alpha: float

    def __post_init__(self):
        object.__setattr__(self, "alpha", positive("alpha", self.alpha))

    def alphas(self, k) -> np.ndarray:
        """``alpha_k`` at each step ``k`` (an int or an array of ints)."""
        return np.full(np.shape(as_steps(k)), self.alpha)


@dataclass(frozen=True)
class Harmonic:
    """``alpha_k = 1 / (k + a + 1)`` (Theorems 3, 5 need ``a >= 1``, ``b > 1/2``, ``lambda_1 <= a + 1``).

    The exact formulas accept any ``a > -1`` (so that ``alpha_0`` is positive and finite);
    Amari's setting ``alpha_k = 1/(k+1)`` is ``a = 0``.

    Parameters
    ----------
    a : float
        The offset, > -1.

    Examples
    --------
    ``a = 1`` gives ``alpha_k = 1/(k + 2)``:

    >>> from theorytools.quadratic import Harmonic
    >>> [round(x, 6) for x in Harmonic(1.0).alphas([0, 1, 2]).tolist()]
    [0.5, 0.333333, 0.25]
    """

    a: float

    def __post_init__(self):
        # a > -1 so that alpha_0 = 1/(a+1) is positive and finite
        object.__setattr__(self, "a", as_float("a", self.a, low=-1.0, low_open=True))

    def alphas(self, k) -> np.ndarray:
        """``alpha_k = 1 / (k + a + 1)`` at each step ``k`` (an int or an array of ints)."""
        return 1.0 / (as_steps(k) + self.a + 1.0)


@dataclass(frozen=True)
class StepSequence:
    """A user-given sequence ``alpha_0, ..., alpha_{K-1}``; iterates up to ``theta_K`` are defined.

    Parameters
    ----------
    values : array_like of float
        The positive step sizes ``alpha_0, ..., alpha_{K-1}``.

    Examples
    --------
    >>> from theorytools.quadratic import StepSequence
    >>> seq = StepSequence([0.5, 0.25, 0.125])
    >>> print(seq.horizon, seq.alphas([0, 2]).tolist())
    3 [0.5, 0.125]
    """

    values: tuple

    def __init__(self, values):
        v = as_array("values", values, ndim=1)
        bad = v <= 0
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"values must be positive step sizes, values[{i}] = {v[i]}")
        object.__setattr__(self, "values", tuple(v.tolist()))

    @property
    def horizon(self) -> int:
        """``K``, the number of step sizes given."""
        return len(self.values)

    def alphas(self, k) -> np.ndarray:
        """``alpha_k`` at each step ``k < K`` (an int or an array of ints)."""
        k = as_steps(k)
        if np.any(k >= self.horizon):
            raise ValueError(f"k must be below the sequence length {self.horizon}, got {int(np.max(k))}")
        return np.asarray(self.values)[k]


Schedule = Constant | Harmonic | StepSequence


def as_schedule(schedule) -> Schedule:
    """Accept a schedule object, or a bare positive number as shorthand for ``Constant(alpha)``.

    Parameters
    ----------
    schedule : Constant or Harmonic or StepSequence or float
        A schedule, returned unchanged, or a positive step size.

    Returns
    -------
    Constant or Harmonic or StepSequence
        The schedule.

    Examples
    --------
    >>> from theorytools.quadratic import Harmonic, as_schedule
    >>> print(as_schedule(0.5), as_schedule(Harmonic(1.0)))
    Constant(alpha=0.5) Harmonic(a=1.0)
    """
    if isinstance(schedule, (Constant, Harmonic, StepSequence)):
        return schedule
    if isinstance(schedule, (int, float, np.integer, np.floating)) and not isinstance(schedule, (bool, np.bool_)):
        return Constant(positive("schedule", schedule))
    raise TypeError(
        f"schedule must be Constant(alpha), Harmonic(a), StepSequence(values) or a float step size, got {schedule!r}"
    )
