"""The registry of checks.  Every topic registers its checks here with :func:`check`.

A check is a function ``f(instance, rng) -> Verdict`` plus metadata: its source (seed file and
theorem/equation), its family (topic), its kind (deterministic, statistical, order, measured), the
hypotheses it relies on, its decision rule in words, and the instances it runs on for a profile.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Callable

PROFILES = ("quick", "full")
KINDS = ("deterministic", "statistical", "order", "measured")


@dataclass(frozen=True)
class Check:
    name: str
    func: Callable
    source: str
    family: str
    kind: str
    rule: str
    hypotheses: str
    instances: Callable  # (profile, seed) -> list of instances, each with a ``name`` attribute
    twin: str = ""  # statistical checks: the deterministic check that verifies the same quantity to rounding

    def __call__(self, instance, rng):
        return self.func(instance, rng)


CHECKS: dict[str, Check] = {}


def check(*, source: str, family: str, kind: str, rule: str, instances: Callable, hypotheses: str = "", name: str | None = None,
          twin: str = ""):
    """Register the decorated function as a check (see the module docstring).

    ``twin`` (statistical checks) names the deterministic check of the same family that verifies the
    same exact quantity to rounding: a Monte Carlo comparison only sees errors above its resolution
    (reported as ``min_detectable_rel_error``), its twin sees the rest.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")

    def deco(func):
        key = f"{family}.{name or func.__name__}"
        if key in CHECKS:
            raise ValueError(f"a check named {key!r} is already registered")
        CHECKS[key] = Check(key, func, source, family, kind, rule, hypotheses, instances, twin if "." in twin or not twin else f"{family}.{twin}")
        return func

    return deco


def select(only: str | None = None) -> list[Check]:
    """Checks whose name matches ``only``: comma-separated globs, each a substring match when it has
    no wildcard."""
    load_all()
    names = sorted(CHECKS)
    if only:
        patterns = [p if any(c in p for c in "*?[") else f"*{p}*" for p in only.split(",") if p]
        names = [n for n in names if any(fnmatch.fnmatch(n, pat) for pat in patterns)]
    return [CHECKS[n] for n in names]


def load_all() -> None:
    """Import every check module so that its checks register."""
    from verification.checks import deeplinear, fisher, montecarlo, quadratic, tango  # noqa: F401
