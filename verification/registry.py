"""The registry of checks.  Every topic registers its checks here with :func:`check`.

A check is a function ``f(instance, rng) -> Verdict`` plus metadata: its source (seed file and
theorem/equation), its family (topic), its kind (deterministic, statistical, order, measured), the
hypotheses it relies on, its decision rule in words, and the instances it runs on for a profile.
"""

from __future__ import annotations

import fnmatch
import importlib
import importlib.util
import pkgutil
import re
import sys
import traceback
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Callable

from theorytools.linalg import as_callable, as_choice, as_text
from verification.errata import Erratum, Reading
from verification.verdict import KINDS

PROFILES = ("quick", "full")
#: a family or a check name: no dot in a family (``family.name`` is split at the first one), and no comma, glob
#: character or blank anywhere (``--only`` splits at commas and treats ``*?[`` as wildcards)
_FAMILY = re.compile(r"[A-Za-z0-9_-]+")
_NAME = re.compile(r"[A-Za-z0-9_.-]+")


class CheckModuleError(ValueError):
    """A check module that cannot be used as written: it does not import, two checks share a name, a check returns
    something other than a Verdict, its instances are not a list of named objects ...  The message is one line that
    starts with ``file:line:`` of the code at fault."""


def defined_at(func) -> str:
    """``file:line`` where ``func`` (a check, an instances function) is defined."""
    code = getattr(func, "__code__", None)
    if code is not None:
        return f"{code.co_filename}:{code.co_firstlineno}"
    return repr(func)


def _raised_at(exc: BaseException, path: str | None) -> str:
    """``file:line`` of the user's code that raised ``exc``: a syntax error's own position; else the innermost frame in
    ``path`` (the module being loaded); else the innermost frame outside the import machinery and this module."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith("<") and Path(f.filename).resolve() != Path(__file__).resolve()]
    mine = [f for f in frames if path and Path(f.filename).resolve() == Path(path).resolve()]
    f = (mine or frames or [None])[-1]
    return f"{f.filename}:{f.lineno}" if f is not None else str(path)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


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
    erratum: Erratum | None = None  # what the check shows to be wrong in its source (the report's Errata)
    readings: tuple = ()  # Readings of ambiguous passages the check's verdicts rest on (the report's Readings)

    def __call__(self, instance, rng):
        return self.func(instance, rng)


CHECKS: dict[str, Check] = {}


def check(*, source: str, family: str, kind: str, rule: str, instances: Callable, hypotheses: str = "", name: str | None = None,
          twin: str = "", erratum: "Erratum | str" = "", readings=()):
    """Register the decorated function as a check (see the module docstring).

    ``twin`` (statistical checks) names the deterministic check of the same family that verifies the
    same exact quantity to rounding: a Monte Carlo comparison only sees errors above its resolution
    (reported as ``min_detectable_rel_error``), its twin sees the rest.

    ``erratum`` states what the check shows to be wrong in its source, with the correction: a
    :class:`~verification.errata.Erratum` (class, passage, certified evidence) or, in a user's module, a plain string
    (listed as unclassified).  Such checks are listed in the report's "Errata" section with the command that
    reproduces them.

    ``readings``: the :class:`~verification.errata.Reading` (or tuple of them) of ambiguous passages the check's
    verdicts rest on, listed in the report's "Readings" section with the checks that follow them.

    Parameters
    ----------
    source : str
        The seed file and theorem/equation the check verifies.
    family : str
        The topic, one word (the check's key is ``family.name``).
    kind : str
        ``"deterministic"``, ``"statistical"``, ``"order"`` or ``"measured"``.
    rule : str
        The decision rule, in words.
    instances : callable
        ``instances(profile, seed)``: a list of instances, each with a distinct string attribute ``name``.
    hypotheses : str, optional
        The hypotheses the check relies on.
    name : str, optional
        The check's name (default: the function's).
    twin : str, optional
        Statistical checks: the deterministic check of the same quantity.
    erratum : Erratum or str, optional
        What the check shows to be wrong in its source.
    readings : Reading or tuple of Reading, optional
        The readings of ambiguous passages the verdicts rest on.

    Returns
    -------
    callable
        The decorator; it registers ``f(instance, rng) -> Verdict`` in :data:`CHECKS` and returns it unchanged.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from verification import CHECKS, Verdict, check
    >>> @check(source="arithmetic", family="example", kind="deterministic", rule="2 + 2 == 4 exactly",
    ...        instances=lambda profile, seed: [SimpleNamespace(name="one")])
    ... def two_plus_two(instance, rng):
    ...     return Verdict.close(2 + 2, 4, rtol=0.0)
    >>> CHECKS["example.two_plus_two"](None, None).status
    'PASS'
    >>> del CHECKS["example.two_plus_two"]  # leave the registry as it was
    """
    for arg, value in (("source", source), ("rule", rule)):
        as_text(arg, value)
    for arg, value in (("hypotheses", hypotheses), ("twin", twin)):
        as_text(arg, value, nonempty=False)
    erratum = Erratum.coerce(erratum)
    if isinstance(readings, Reading):
        readings = (readings,)
    if not isinstance(readings, (tuple, list)) or not all(isinstance(r, Reading) for r in readings):
        raise TypeError(f"readings must be a Reading or a tuple of them, got {readings!r:.80}")
    family_and_name(family, name)
    if twin and not _NAME.fullmatch(twin):
        raise ValueError(f"twin must name a check (letters, digits, _, - or .), got {twin!r}")
    as_choice("kind", kind, KINDS)
    as_callable("instances", instances)

    def deco(func):
        return register(CHECKS, "check", family, name, func, lambda key: Check(
            key, func, source, family, kind, rule, hypotheses, instances,
            twin if "." in twin or not twin else f"{family}.{twin}", erratum, tuple(readings)))

    return deco


def family_and_name(family, name) -> None:
    """Validate the ``family`` and ``name`` of a check or a bound (its key is ``family.name``)."""
    if not _FAMILY.fullmatch(as_text("family", family)):
        raise ValueError(f"family must be one word (letters, digits, _ or -), got {family!r}")
    if name is not None and not _NAME.fullmatch(as_text("name", name)):
        raise ValueError(f"name must be letters, digits, _, - or ., got {name!r}")


def register(table: dict, what: str, family: str, name, func, make):
    """``table[family.name] = make(key)`` for the decorated ``func`` (``name`` defaults to its own); a key already
    taken is a :class:`CheckModuleError` naming both places.  Returns ``func``."""
    as_callable("func", func)
    key = f"{family}.{name or func.__name__}"
    if key in table:
        raise CheckModuleError(f"{defined_at(func)}: a {what} named {key!r} is already registered, at "
                               f"{defined_at(table[key].func)}; give one of them another name= or family=")
    table[key] = make(key)
    return func


def select(only: str | None = None) -> list[Check]:
    """The registered checks whose name matches ``only`` (all of them when ``only`` is None).

    ``only`` holds comma-separated globs, each a substring match when it has no wildcard.  A pattern that matches no
    check is a ValueError (a typo would otherwise drop checks unseen).  The toolkit's check modules are loaded first.

    Parameters
    ----------
    only : str, optional
        Comma-separated patterns, e.g. ``"fisher.*,tango.prop4"``.

    Returns
    -------
    list of Check
        The selected checks, sorted by name.

    Examples
    --------
    >>> from verification import select
    >>> [c.name for c in select("fisher.gaussian_fisher_three_ways")]
    ['fisher.gaussian_fisher_three_ways']
    >>> select("no_such_check")
    Traceback (most recent call last):
    ...
    ValueError: only='no_such_check': no check matches 'no_such_check'
    """
    load_all()
    return [CHECKS[n] for n in match(sorted(CHECKS), only)]


def match(names: list, only: str | None, what: str = "check") -> list:
    """The ``names`` that ``only`` selects (the rules of :func:`select`); ``what`` names them in the error."""
    if only is None:
        return list(names)
    patterns = [p.strip() for p in as_text("only", only).split(",") if p.strip()]
    if not patterns:
        raise ValueError(f"only must name at least one pattern, got {only!r}")
    globs = {p: p if any(c in p for c in "*?[") else f"*{p}*" for p in patterns}
    unmatched = [p for p, g in globs.items() if not fnmatch.filter(names, g)]
    if unmatched:
        raise ValueError(f"only={only!r}: no {what} matches {', '.join(map(repr, unmatched))}")
    return [n for n in names if any(fnmatch.fnmatch(n, g) for g in globs.values())]


def load_all() -> None:
    """Import every check module so that its checks register: the toolkit's (every module of
    :mod:`verification.checks`, the five topics' first), then those of installed packages that
    declare the entry-point group ``theorytools.checks`` (each entry point names a module)."""
    import verification.checks as package
    from verification.checks import deeplinear, fisher, montecarlo, quadratic, tango  # noqa: F401 - topics first

    for module in sorted(m.name for m in pkgutil.iter_modules(package.__path__)):  # then audits, bounds, ...
        importlib.import_module(f"{package.__name__}.{module}")

    for ep in entry_points(group=ENTRY_POINTS):
        if ep.value not in _LOADED:
            _LOADED[ep.value] = _guarded(ep.value, None, ep.load)


ENTRY_POINTS = "theorytools.checks"
_LOADED: dict = {}  # module name or resolved path -> module, so that no check module runs (and registers) twice


def _guarded(what: str, path, load):
    """``load()`` (which imports a check module); any failure becomes a one-line :class:`CheckModuleError` naming the
    file and line at fault, and the checks and bounds the module registered before failing are unregistered (so that
    a fixed module can be loaded again in the same process)."""
    from verification.hunt import BOUNDS

    registries = (CHECKS, BOUNDS)
    before = [set(r) for r in registries]
    try:
        return load()
    except Exception as exc:
        for registry, kept in zip(registries, before):
            for key in set(registry) - kept:
                del registry[key]
        if isinstance(exc, CheckModuleError):
            raise
        if path is None:  # an importable name: its file, if it can be found now that the import has failed
            try:
                spec = importlib.util.find_spec(what)
                path = spec.origin if spec else None
            except Exception:  # noqa: BLE001 - a parent package that fails too: fall back to the innermost frame
                path = None
        message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
        raise CheckModuleError(f"{_raised_at(exc, path)}: {type(exc).__name__}: {_one_line(message)} "
                               f"(while loading the check module {what})") from exc


def load_modules(modules) -> list:
    """Import user check modules, each an importable name (``my_pkg.checks``) or a path to a ``.py`` file; their
    ``@check`` functions register.  Loading the same module again is a no-op.  A module that does not exist, or
    fails to import, raises :class:`CheckModuleError` (a ValueError) with one line naming the file and line."""
    if isinstance(modules, (str, bytes)) or not hasattr(modules, "__iter__"):
        raise TypeError(f"modules must be a list of module names or .py paths, got {modules!r}")
    out = []
    for m in modules:
        as_text("modules", m)
        path = Path(m)
        is_file = m.endswith(".py") or path.is_file()
        key = str(path.resolve()) if is_file else m
        if key not in _LOADED:
            if is_file:
                if not path.is_file():
                    raise CheckModuleError(f"--module {m!r}: no such file")
                if path.suffix != ".py":
                    raise CheckModuleError(f"--module {m!r}: a check module file must end in .py")
                _LOADED[key] = _guarded(m, str(path), lambda: _exec_file(path))
            else:
                _LOADED[key] = _guarded(m, None, lambda: _import(m))
        out.append(_LOADED[key])
    return out


def _import(name: str):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):  # name itself, not what it imports
            raise CheckModuleError(f"--module {name!r}: not an importable module or a .py file ({exc})") from exc
        raise


def _exec_file(path: Path):
    spec = importlib.util.spec_from_file_location(f"theorytools_user_checks.{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # picklable checks and instances need their module importable by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(spec.name, None)
        raise
    return module
