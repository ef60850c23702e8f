"""Step-size schedules ``alpha_k`` of eqn. 19 (001_7d31b3ff3a2f0401.txt §14.2)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theorytools.linalg import as_steps, real_array


@dataclass(frozen=True)
class Constant:
    """``alpha_k = alpha`` (Theorems 3, 5 need ``alpha lambda_1(B^-1 H) <= 1``; Theorem 6 ``< 1``)."""

    alpha: float

    def __post_init__(self):
        a = float(self.alpha)
        if not np.isfinite(a) or a <= 0:
            raise ValueError(f"alpha must be a positive finite step size, got {self.alpha!r}")
        object.__setattr__(self, "alpha", a)

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
        a = float(self.a)
        if not np.isfinite(a) or a <= -1:
            raise ValueError(f"a must be a finite number > -1 (alpha_0 = 1/(a+1) > 0), got {self.a!r}")
        object.__setattr__(self, "a", a)

    def alphas(self, k) -> np.ndarray:
        return 1.0 / (as_steps(k) + self.a + 1.0)


@dataclass(frozen=True)
class StepSequence:
    """A user-given sequence ``alpha_0, ..., alpha_{K-1}``; iterates up to ``theta_K`` are defined."""

    values: tuple

    def __init__(self, values):
        v = real_array("values", values).reshape(-1)
        if v.size == 0:
            raise ValueError("values must hold at least one step size, got an empty sequence")
        bad = ~np.isfinite(v) | (v <= 0)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"values must be positive finite step sizes, values[{i}] = {v[i]}")
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
    """Accept a schedule object, or a bare float as shorthand for ``Constant(alpha)``."""
    if isinstance(schedule, (Constant, Harmonic, StepSequence)):
        return schedule
    if isinstance(schedule, (int, float, np.floating)) and not isinstance(schedule, bool):
        return Constant(float(schedule))
    raise ValueError(
        f"schedule must be Constant(alpha), Harmonic(a), StepSequence(values) or a float step size, got {schedule!r}"
    )
