"""Step-size schedules ``alpha_k`` of eqn. 19 (001_7d31b3ff3a2f0401.txt §14.2)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theorytools.linalg import as_array, as_float, as_steps, positive


@dataclass(frozen=True)
class Constant:
    """``alpha_k = alpha`` (Theorems 3, 5 need ``alpha lambda_1(B^-1 H) <= 1``; Theorem 6 ``< 1``)."""

    alpha: float

    def __post_init__(self):
        object.__setattr__(self, "alpha", positive("alpha", self.alpha))

    def alphas(self, k) -> np.ndarray:
        return np.full(np.shape(as_steps(k)), self.alpha)


@dataclass(frozen=True)
class Harmonic:
    """``alpha_k = 1 / (k + a + 1)`` (Theorems 3, 5 need ``a >= 1``, ``b > 1/2``, ``lambda_1 <= a + 1``).

    The exact formulas accept any ``a > -1`` (so that ``alpha_0`` is positive and finite);
    Amari's setting ``alpha_k = 1/(k+1)`` is ``a = 0``.
    """

    a: float

    def __post_init__(self):
        # a > -1 so that alpha_0 = 1/(a+1) is positive and finite
        object.__setattr__(self, "a", as_float("a", self.a, low=-1.0, low_open=True))

    def alphas(self, k) -> np.ndarray:
        return 1.0 / (as_steps(k) + self.a + 1.0)


@dataclass(frozen=True)
class StepSequence:
    """A user-given sequence ``alpha_0, ..., alpha_{K-1}``; iterates up to ``theta_K`` are defined."""

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
        return len(self.values)

    def alphas(self, k) -> np.ndarray:
        k = as_steps(k)
        if np.any(k >= self.horizon):
            raise ValueError(f"k must be below the sequence length {self.horizon}, got {int(np.max(k))}")
        return np.asarray(self.values)[k]


Schedule = Constant | Harmonic | StepSequence


def as_schedule(schedule) -> Schedule:
    """Accept a schedule object, or a bare positive number as shorthand for ``Constant(alpha)``."""
    if isinstance(schedule, (Constant, Harmonic, StepSequence)):
        return schedule
    if isinstance(schedule, (int, float, np.integer, np.floating)) and not isinstance(schedule, (bool, np.bool_)):
        return Constant(positive("schedule", schedule))
    raise TypeError(
        f"schedule must be Constant(alpha), Harmonic(a), StepSequence(values) or a float step size, got {schedule!r}"
    )
