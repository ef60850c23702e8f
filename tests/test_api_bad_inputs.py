"""Bad input to any public callable gives a clear error (issue 15: "a bad-input test suite that grows by itself").

The public API is enumerated from the packages' ``__all__`` (:func:`catalogue.public_callables`); each callable has a
catalogue entry giving a valid call and the kind of each argument (:mod:`catalogue`).  For each argument, hypothesis
draws malformed values of its kind (:mod:`catalogue.kinds`: NaN or inf at a random entry, a complex entry, a wrong
shape, an empty array, a negative or fractional count, a string, None, an unknown option, a huge size ...) and the
call must raise ``ValueError`` or ``TypeError`` whose message names the argument, with no RuntimeWarning or
ComplexWarning leaking on the way.  A new public callable without an entry fails :func:`test_catalogue_covers_public_api`.
"""

from __future__ import annotations

import inspect
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import catalogue

ENTRIES, EXEMPT = catalogue.load()
BY_NAME = {e.name: e for e in ENTRIES}


def _resolve(name):
    import importlib

    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for p in parts[cut:]:
            obj = getattr(obj, p)
        return obj
    raise ImportError(name)


def _takes_arguments(name) -> bool:
    obj = _resolve(name)
    try:
        params = list(inspect.signature(obj).parameters.values())
    except (TypeError, ValueError):
        return True
    if params and params[0].name in ("self", "cls"):
        params = params[1:]
    return bool(params)


def test_catalogue_covers_public_api():
    public = set(catalogue.public_callables())
    listed = set(BY_NAME) | {x.name for x in EXEMPT}
    missing = sorted(n for n in public - listed if _takes_arguments(n))
    stale = sorted(listed - public)
    duplicated = sorted({e.name for e in ENTRIES if sum(f.name == e.name for f in ENTRIES) > 1})
    assert not missing, f"public callables without a bad-input entry (tests/catalogue): {missing}"
    assert not stale, f"catalogue entries that name no public callable: {stale}"
    assert not duplicated, f"catalogue entries listed twice: {duplicated}"
    for x in EXEMPT:
        assert x.why, f"exemption of {x.name} gives no reason"


def test_entries_name_real_arguments():
    for e in ENTRIES:
        f, kwargs = e.valid()
        missing = set(e.args) - set(kwargs)
        assert not missing, f"{e.name}: kinds given for arguments its valid call does not pass: {missing}"
        for arg, labels in e.accepts.items():
            known = {m[0] for m in e.args[arg].malformations}
            assert set(labels) <= known, f"{e.name}: accepts unknown malformations {set(labels) - known} for {arg}"
            assert e.why, f"{e.name}: accepts malformations of {arg} without saying why"


@pytest.mark.parametrize("entry", [e for e in ENTRIES if not e.heavy], ids=lambda e: e.name)
def test_valid_call_runs(entry):
    """The catalogue's valid call works, so that the bad-input cases below fail only because of the bad argument."""
    f, kwargs = entry.valid()
    f(**kwargs)


CASES = [(e, a) for e in ENTRIES for a, kind in e.args.items()
         if [m for m in kind.malformations if m[0] not in e.accepts.get(a, ())]]


def _names_argument(message: str, name: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", message) is not None


@pytest.mark.parametrize("entry,arg", CASES, ids=[f"{e.name}:{a}" for e, a in CASES])
@settings(max_examples=3)
@given(data=st.data())
def test_malformed_argument_is_refused(entry, arg, data):
    kind = entry.args[arg]
    shown = entry.names.get(arg, arg)
    for label, make in kind.malformations:
        if label in entry.accepts.get(arg, ()):
            continue
        f, kwargs = entry.valid()
        kwargs[arg] = make(kwargs[arg], data.draw)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            warnings.simplefilter("error", np.exceptions.ComplexWarning)
            try:
                f(**kwargs)
            except (ValueError, TypeError) as exc:
                assert _names_argument(str(exc), shown), (
                    f"{entry.name}({arg}={label}): {type(exc).__name__} does not name {shown!r}: {exc}")
            except Exception as exc:  # noqa: BLE001 - anything else is the failure being reported
                raise AssertionError(f"{entry.name}({arg}={label}): raised {type(exc).__name__}, not ValueError/TypeError: "
                                     f"{exc}") from exc
            else:
                raise AssertionError(f"{entry.name}({arg}={label}): accepted the malformed value silently")
