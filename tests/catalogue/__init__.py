"""The catalogue of the public API for the bad-input suite (tests/test_api_bad_inputs.py).

Every public callable of ``theorytools`` and ``verification`` (the names in the ``__all__`` of each package, the
public functions and classes of the modules listed there, and the public methods of those classes) has an
:class:`Entry` in one of the topic modules (``tango.py``, ``deeplinear.py``, ...) or an exemption with its reason.
An entry gives a *valid* call and the kind of each argument; the suite replaces one argument at a time by a
malformed value of its kind (hypothesis draws it from :mod:`catalogue.kinds`) and requires a ``ValueError`` or a
``TypeError`` whose message names the argument, with no RuntimeWarning or ComplexWarning on the way.
"""

from __future__ import annotations

import importlib
import inspect
import types
from dataclasses import dataclass, field
from typing import Callable

PACKAGES = ("theorytools", "theorytools.linalg", "theorytools.montecarlo", "theorytools.quadratic",
            "theorytools.tango", "theorytools.deeplinear", "theorytools.fisher", "verification", "verification.hunt")
TOPICS = ("core", "quadratic", "tango", "deeplinear", "fisher", "cli")


@dataclass
class Entry:
    """``name``: the public name (``module.function``, ``module.Class`` for the constructor, ``module.Class.method``).

    ``valid``: a function returning ``(callable, kwargs)`` -- a valid call, built fresh each time (so that in-place
    updates do not leak between examples).  ``args``: argument name -> kind (a :class:`catalogue.kinds.Kind`).
    ``accepts``: argument name -> labels of malformations the function legitimately accepts, each with the reason in
    the entry's ``why`` (e.g. an optional argument whose ``None`` means "the default").  ``heavy``: skip the sanity run
    of the valid call (it takes seconds); its bad-input calls still run.  ``names``: argument name -> the name the
    message uses, where it differs (e.g. a method that reports ``theta`` for its argument ``theta0``).
    """

    name: str
    valid: Callable
    args: dict
    accepts: dict = field(default_factory=dict)
    why: str = ""
    heavy: bool = False
    names: dict = field(default_factory=dict)

    def __repr__(self):
        return f"Entry({self.name!r})"


@dataclass
class Exempt:
    """A public callable with no argument to validate (or none that a user passes), and why."""

    name: str
    why: str


def public_callables() -> list:
    """Every public callable reachable from :data:`PACKAGES`, by its defining module and qualified name."""
    seen, out = set(), []

    def add(key):
        if key not in seen:
            seen.add(key)
            out.append(key)

    def walk(mod, visited):
        if mod.__name__ in visited:
            return
        visited.add(mod.__name__)
        names = getattr(mod, "__all__", None)
        if names is None:
            names = [n for n, v in vars(mod).items() if not n.startswith("_")
                     and getattr(v, "__module__", None) == mod.__name__ and (inspect.isfunction(v) or inspect.isclass(v))]
        for n in names:
            v = getattr(mod, n)
            if isinstance(v, types.ModuleType):
                if v.__name__.split(".")[0] in ("theorytools", "verification"):
                    walk(v, visited)
            elif inspect.isclass(v):
                if issubclass(v, BaseException) or issubclass(v, Warning):
                    continue
                base = f"{v.__module__}.{v.__qualname__}"
                add(base)
                for mn, mv in vars(v).items():
                    if not mn.startswith("_") and (inspect.isfunction(mv) or isinstance(mv, (classmethod, staticmethod))):
                        add(f"{base}.{mn}")
            elif inspect.isfunction(v) or inspect.isbuiltin(v):
                add(f"{v.__module__}.{v.__qualname__}")

    visited: set = set()
    for p in PACKAGES:
        walk(importlib.import_module(p), visited)
    return sorted(out)


def load() -> tuple:
    """``(entries, exemptions)`` of every topic module."""
    entries, exempt = [], []
    for topic in TOPICS:
        mod = importlib.import_module(f"catalogue.{topic}")
        entries += mod.ENTRIES
        exempt += getattr(mod, "EXEMPT", [])
    return entries, exempt
