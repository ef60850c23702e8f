"""The registry of checks.  Every topic registers its checks here with :func:`check`.

A check is a function ``f(instance, rng) -> Verdict`` plus metadata: its source (seed file and
theorem/equation), its family (topic), its kind (deterministic, statistical, order, measured), the
hypotheses it relies on, its decision rule in words, and the instances it runs on for a profile.
"""

from __future__ import annotations

import fnmatch
import importlib
import importlib.util
import sys
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
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
    erratum: str = ""  # what the check shows to be wrong, misprinted or imprecise in its source (the report's Errata)

    def __call__(self, instance, rng):
        return self.func(instance, rng)


CHECKS: dict[str, Check] = {}


def check(*, source: str, family: str, kind: str, rule: str, instances: Callable, hypotheses: str = "", name: str | None = None,
          twin: str = "", erratum: str = ""):
    """Register the decorated function as a check (see the module docstring).

    ``twin`` (statistical checks) names the deterministic check of the same family that verifies the
    same exact quantity to rounding: a Monte Carlo comparison only sees errors above its resolution
    (reported as ``min_detectable_rel_error``), its twin sees the rest.

    ``erratum`` states what the check shows to be false, misprinted or imprecise in its source, with the correction;
    such checks are listed in the report's "Errata" section with the command that reproduces them.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")

    def deco(func):
        key = f"{family}.{name or func.__name__}"
        if key in CHECKS:
            raise ValueError(f"a check named {key!r} is already registered")
        CHECKS[key] = Check(key, func, source, family, kind, rule, hypotheses, instances,
                            twin if "." in twin or not twin else f"{family}.{twin}", erratum)
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
    """Import every check module so that its checks register: the toolkit's, then those of installed packages that
    declare the entry-point group ``theorytools.checks`` (each entry point names a module)."""
    from verification.checks import deeplinear, fisher, montecarlo, quadratic, tango  # noqa: F401

    for ep in entry_points(group=ENTRY_POINTS):
        if ep.value not in _LOADED:
            _LOADED[ep.value] = ep.load()


ENTRY_POINTS = "theorytools.checks"
_LOADED: dict = {}  # module name or resolved path -> module, so that no check module runs (and registers) twice


def load_modules(modules) -> list:
    """Import user check modules, each an importable name (``my_pkg.checks``) or a path to a ``.py`` file; their
    ``@check`` functions register.  Loading the same module again is a no-op."""
    out = []
    for m in modules:
        path = Path(m)
        is_file = m.endswith(".py") or path.is_file()
        key = str(path.resolve()) if is_file else m
        if key not in _LOADED:
            if is_file:
                if not path.is_file():
                    raise ValueError(f"--module {m!r}: no such file")
                spec = importlib.util.spec_from_file_location(f"theorytools_user_checks.{path.stem}", path)
                module = importlib.util.module_from_spec(spec)
                sys.modules[spec.name] = module  # picklable checks and instances need their module importable by name
                spec.loader.exec_module(module)
            else:
                try:
                    module = importlib.import_module(m)
                except ImportError as exc:
                    raise ValueError(f"--module {m!r}: not an importable module or a .py file ({exc})") from exc
            _LOADED[key] = module
        out.append(_LOADED[key])
    return out
