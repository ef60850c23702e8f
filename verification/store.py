"""The resumable result store: every finished (check, instance) verdict in ``DIR/results.sqlite`` (stdlib sqlite3).

A row is written, in its own transaction, as soon as its verdict exists, so a run killed at any moment (SIGKILL
included) loses only the verdicts in flight.  Rows hold the raw result -- a statistical verdict still PENDING, before
the run-wide Holm correction -- so a resumed run decides exactly as an uninterrupted one.

Key: (check, instance, profile, seed) plus a *fingerprint* that must match for a stored verdict to be reused.  The
fingerprint hashes

* the check's own module file (the check and its instances);
* the library code it may depend on: the package ``theorytools/<family>/`` when the family is one of the topics, all
  topics otherwise (user checks, the Monte Carlo engine's checks), plus every shared module outside the topic folders
  (``linalg``, ``montecarlo``, ``errors``, ...);
* the verification core (``verdict``, ``registry``, ``runner``) and the independent routes (``verification/reference``);
* the instance itself (its pickle: parameters, arrays, name).

So editing ``theorytools/fisher/ngd.py`` invalidates the fisher checks' verdicts and no others; editing
``theorytools/linalg.py`` or ``verification/verdict.py`` invalidates everything.  A change in a module imported from
outside these trees (numpy, scipy) is not seen: the numpy and Python versions are part of the fingerprint instead.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import pickle
import platform
import sqlite3
from functools import lru_cache
from pathlib import Path

import numpy as np

SCHEMA = "theorytools-results/1"
ROOT = Path(__file__).resolve().parent.parent
TOPICS = ("quadratic", "tango", "deeplinear", "fisher")


class StoreError(ValueError):
    """The result store cannot be used (corrupt, foreign, of another schema, a damaged row, a folder that cannot be
    written); the message is one line that says how to proceed."""


def _hash_files(paths) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _py(folder: Path):
    return folder.rglob("*.py") if folder.is_dir() else [folder]


def _library_files(family: str) -> list:
    """The source files a check of ``family`` may depend on (see the module docstring)."""
    lib = ROOT / "theorytools"
    shared = [p for p in lib.rglob("*.py") if p.relative_to(lib).parts[0] not in TOPICS]
    topics = [lib / family] if family in TOPICS else [lib / t for t in TOPICS]
    core = [ROOT / "verification" / f for f in ("verdict.py", "registry.py", "runner.py", "store.py")]
    return shared + [p for t in topics for p in _py(t)] + core + list(_py(ROOT / "verification" / "reference"))


@lru_cache(maxsize=None)
def _library_hash(family: str) -> str:
    versions = f"{platform.python_version()} numpy {np.__version__}".encode()
    return hashlib.sha256(_hash_files(_library_files(family)).encode() + versions).hexdigest()


@lru_cache(maxsize=None)
def _module_hash(path: str) -> str:
    return _hash_files([Path(path)])


def fingerprint(chk, instance) -> str:
    """The fingerprint of one (check, instance) verdict (see the module docstring)."""
    module = inspect.getsourcefile(chk.func) or ""
    try:
        inst = pickle.dumps(instance, protocol=4)
    except Exception:  # an unpicklable instance: its repr is the best we have
        inst = repr(instance).encode()
    h = hashlib.sha256()
    for part in (_library_hash(chk.family), _module_hash(module) if module else "", chk.name, chk.rule):
        h.update(part.encode())
    h.update(inst)
    return h.hexdigest()


class ResultStore:
    """``DIR/results.sqlite``.  Opening an existing file that is not a result store raises :class:`StoreError` and
    leaves the file untouched."""

    def __init__(self, path):
        self.path = Path(path)
        fresh = not self.path.exists()
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a folder, not a result store; it was left untouched: move it away or "
                             "choose another --out")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder {self.path.parent} of the result store: {exc.strerror or exc}"
                             " (is a part of the path a file, or read-only?); choose another --out") from exc
        # SQLite writes a journal next to the file: the folder itself must be writable, not only the file.
        for p in (self.path.parent,) if fresh else (self.path.parent, self.path):
            if not os.access(p, os.W_OK):
                raise StoreError(f"{p} is read-only: the result store {self.path} cannot be "
                                 f"{'created' if fresh else 'updated'}; it was left untouched: choose another --out")
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None)
            if fresh:
                with self.db:
                    self.db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
                    self.db.execute("CREATE TABLE results (check_name TEXT, instance TEXT, profile TEXT, seed INTEGER, "
                                    "fingerprint TEXT, result BLOB, PRIMARY KEY (check_name, instance, profile, seed))")
                    self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA,))
            row = self.db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except sqlite3.DatabaseError as exc:
            if fresh:
                raise StoreError(f"cannot create the result store {self.path} ({exc}); choose another --out") from exc
            raise StoreError(f"{self.path} is not a theorytools result store ({exc}); it was left untouched: move it "
                             "away or choose another --out") from exc
        if row is None or row[0] != SCHEMA:
            raise StoreError(f"{self.path} has schema {row[0] if row else None!r}, not {SCHEMA!r}; it was left "
                             "untouched: move it away or choose another --out")
        try:
            self.db.execute("SELECT check_name, instance, profile, seed, fingerprint, result FROM results LIMIT 0")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is a damaged result store ({exc}); it was left untouched: move it away or "
                             "choose another --out") from exc

    def get(self, key: tuple, fp: str):
        """The stored raw result for ``key = (check, instance, profile, seed)`` if its fingerprint is ``fp``.  A row
        that cannot be read back as that verdict raises :class:`StoreError` (nothing is changed)."""
        try:
            row = self.db.execute("SELECT fingerprint, result FROM results WHERE check_name = ? AND instance = ? AND "
                                  "profile = ? AND seed = ?", key).fetchone()
        except sqlite3.DatabaseError as exc:
            raise self._damaged(key, exc) from exc
        if not row or row[0] != fp:
            return None
        from verification.runner import Result
        from verification.verdict import Verdict

        try:
            result = pickle.loads(row[1])
        except Exception as exc:  # noqa: BLE001 - any way of failing to unpickle means a damaged row
            raise self._damaged(key, f"{type(exc).__name__}: {exc}") from exc
        if not (isinstance(result, Result) and isinstance(result.verdict, Verdict)
                and (result.check, result.instance) == tuple(key[:2])):
            raise self._damaged(key, f"it holds {type(result).__name__}, not the verdict of this check and instance")
        return result

    def _damaged(self, key, why) -> StoreError:
        return StoreError(f"{self.path}: the stored verdict of {key[0]} [{key[1]}] (profile {key[2]}, seed {key[3]}) "
                          f"is damaged ({' '.join(str(why).split())}); the file was left untouched: run without "
                          "--resume to recompute every verdict, or move the file away")

    def put(self, key: tuple, fp: str, result) -> None:
        try:
            blob = pickle.dumps(result, protocol=4)
        except Exception as exc:  # noqa: BLE001 - an object of a check's details that pickle cannot write
            raise StoreError(f"the verdict of {key[0]} [{key[1]}] cannot be stored in {self.path}: "
                             f"{type(exc).__name__}: {exc} (a verdict's details and series must be plain data: "
                             "numbers, strings, lists, dicts, arrays)") from exc
        try:
            with self.db:  # one transaction per verdict
                self.db.execute("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?)", (*key, fp, blob))
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot write the verdict of {key[0]} [{key[1]}] to {self.path} ({exc})") from exc

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM results").fetchone()[0]

    def close(self) -> None:
        self.db.close()
