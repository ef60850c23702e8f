"""``theorytools-verify`` fails clearly on bad input (issue 15): a usage error is ONE line on stderr (naming the file
and line when a check module is at fault), exit status 2, no traceback, and nothing written or changed.

Most cases drive ``verification.__main__.main`` in-process (with the registry restored afterwards); a few run the
command in a subprocess, where the exit status and stderr are those a user sees.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import verification.registry as registry
from verification.__main__ import main

ROOT = Path(__file__).resolve().parent.parent
#: a check with 4 quick instances that runs in milliseconds
FAST = "fisher.tengrad"


@pytest.fixture(autouse=True)
def _registry(monkeypatch):
    """Checks and modules registered by a test are forgotten after it (the toolkit's are registered first, once)."""
    registry.load_all()
    monkeypatch.setattr(registry, "CHECKS", dict(registry.CHECKS))
    monkeypatch.setattr(registry, "_LOADED", dict(registry._LOADED))


def _module(tmp_path, body: str, name: str = "user_checks") -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(body).lstrip())
    return path


HEAD = """
from dataclasses import dataclass
from verification.registry import check
from verification.verdict import Verdict

@dataclass(frozen=True)
class Point:
    name: str
"""
HEAD = textwrap.indent(HEAD, " " * 8)  # as indented as the bodies that follow it, for textwrap.dedent


def _line_of(path: Path, text: str) -> int:
    """The number of the last line that holds ``text``."""
    return [i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line][-1]


def _usage_error(capsys, argv) -> str:
    """Run the command; require exit status 2 and one line of stderr with no traceback; return that line."""
    rc = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err and err.count("\n") == 1, err
    assert err.startswith("theorytools-verify: error: ")
    return err.strip()


def _snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()}


MODULE_PROBLEMS = {
    "syntax error": ("x = (1,\ndef f(:\n", "def f(:"),
    "import error": ("import numpy\nimport no_such_package_anywhere_15\n", "import no_such"),
    "error at import": ("x = 1\ny = x / 0\n", "y = x / 0"),
    "error inside a library at import": ("import numpy as np\nB = np.linalg.inv(np.zeros((2, 2)))\n", "B = np.linalg"),
    "duplicate check name": (HEAD + """
        @check(source="s", family="userdup", kind="deterministic", rule="r", instances=lambda profile, seed: [])
        def first(case, rng):
            return None

        @check(source="s", family="userdup", kind="deterministic", rule="r", instances=lambda profile, seed: [],
               name="first")
        def second(case, rng):
            return None
        """, "@check"),  # the second definition, whose message names the first
    "bad argument of @check": (HEAD + """
        @check(source="s", family="user.dotted", kind="deterministic", rule="r", instances=lambda profile, seed: [])
        def first(case, rng):
            return None
        """, 'family="user.dotted"'),
}


@pytest.mark.parametrize("problem", MODULE_PROBLEMS)
def test_a_module_that_does_not_load_is_one_line_with_its_file_and_line(tmp_path, capsys, problem):
    body, marker = MODULE_PROBLEMS[problem]
    path = _module(tmp_path, body)
    line = _line_of(path, marker)
    msg = _usage_error(capsys, ["--module", path, "--out", tmp_path / "out"])
    assert f"{path}:{line}:" in msg
    assert not (tmp_path / "out").exists()
    assert not [k for k in registry.CHECKS if k.startswith("userdup.")]  # a failed module leaves nothing registered


def test_a_fixed_module_loads_in_the_same_process(tmp_path):
    """The checks a failing module registered before its error are unregistered, so the fixed file loads again."""
    path = _module(tmp_path, HEAD + """
        @check(source="s", family="userfix", kind="deterministic", rule="r", instances=lambda profile, seed: [])
        def ok(case, rng):
            return Verdict.close(1.0, 1.0, 0.0)

        raise RuntimeError("not yet")
        """)
    with pytest.raises(registry.CheckModuleError, match=rf"{path}:\d+: RuntimeError: not yet"):
        registry.load_modules([str(path)])
    assert "userfix.ok" not in registry.CHECKS
    path.write_text(path.read_text().replace('raise RuntimeError("not yet")', ""))
    registry.load_modules([str(path)])
    assert "userfix.ok" in registry.CHECKS


@pytest.mark.parametrize("args,expected", [
    (["--module", "no_such_module_anywhere_15"], "not an importable module"),
    (["--module", "{tmp}/missing.py"], "no such file"),
    (["--module", "{tmp}/notes.txt"], "must end in .py"),
    (["--module", ""], "must be a non-empty string"),
])
def test_a_module_that_cannot_be_found_is_one_line(tmp_path, capsys, args, expected):
    (tmp_path / "notes.txt").write_text("x = 1\n")
    msg = _usage_error(capsys, [a.format(tmp=tmp_path) for a in args])
    assert expected in msg


CHECK_BODIES = {
    "returns None": ("""
        @check(source="s", family="userbad", kind="deterministic", rule="r", instances=lambda profile, seed: [Point("a")])
        def forgot_return(case, rng):
            Verdict.close(1.0, 1.0, 0.0)
        """, "@check", "returned None on instance 'a', not a Verdict"),
    "returns a float": ("""
        @check(source="s", family="userbad", kind="deterministic", rule="r", instances=lambda profile, seed: [Point("a")])
        def returns_error(case, rng):
            return 1e-9
        """, "@check", "returned 1e-09"),
    "instances not a list": ("""
        def cases(profile, seed):
            return None

        @check(source="s", family="userbad", kind="deterministic", rule="r", instances=cases)
        def fine(case, rng):
            return Verdict.close(1.0, 1.0, 0.0)
        """, "def cases", "must be a list, got None"),
    "instances without names": ("""
        def cases(profile, seed):
            return [1.0, 2.0]

        @check(source="s", family="userbad", kind="deterministic", rule="r", instances=cases)
        def fine(case, rng):
            return Verdict.close(1.0, 1.0, 0.0)
        """, "def cases", "string attribute `name`"),
    "instances sharing a name": ("""
        def cases(profile, seed):
            return [Point("a"), Point("a")]

        @check(source="s", family="userbad", kind="deterministic", rule="r", instances=cases)
        def fine(case, rng):
            return Verdict.close(1.0, 1.0, 0.0)
        """, "def cases", "'a' is used more than once"),
    "details that cannot be stored": ("""
        @check(source="s", family="userbad", kind="deterministic", rule="r", instances=lambda profile, seed: [Point("a")])
        def unpicklable(case, rng):
            return Verdict.measured("m", how=lambda: 0)
        """, None, "cannot be stored"),
}


@pytest.mark.parametrize("problem", CHECK_BODIES)
def test_a_check_defined_wrongly_is_one_line_with_its_file_and_line(tmp_path, capsys, problem):
    body, marker, expected = CHECK_BODIES[problem]
    path = _module(tmp_path, HEAD + body)
    msg = _usage_error(capsys, ["--module", path, "--only", "userbad.", "--out", tmp_path / "out"])
    assert expected in msg
    if marker is not None:
        assert f"{path}:{_line_of(path, marker)}:" in msg
    assert not (tmp_path / "out" / "report.json").exists()


def test_a_check_that_raises_or_whose_instances_raise_is_a_fail_not_a_crash(tmp_path, capsys):
    path = _module(tmp_path, HEAD + """
        def cases(profile, seed):
            raise ValueError("no instance today")

        @check(source="s", family="userraise", kind="deterministic", rule="r", instances=cases)
        def never_runs(case, rng):
            return Verdict.close(1.0, 1.0, 0.0)

        @check(source="s", family="userraise", kind="deterministic", rule="r", instances=lambda profile, seed: [Point("a")])
        def raises(case, rng):
            raise ArithmeticError("the library under test broke")
        """)
    rc = main(["--module", str(path), "--only", "userraise.", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err
    assert "FAIL userraise.never_runs [(instances)]: instances raised ValueError: no instance today" in err
    assert "FAIL userraise.raises [a]: check raised ArithmeticError: the library under test broke" in err


def test_an_interrupted_run_says_where_its_verdicts_are(tmp_path, capsys):
    path = _module(tmp_path, HEAD + """
        @check(source="s", family="userstop", kind="deterministic", rule="r", instances=lambda profile, seed: [Point("a")])
        def interrupted(case, rng):
            raise KeyboardInterrupt
        """)
    assert main(["--module", str(path), "--only", "userstop.", "--out", str(tmp_path / "out")]) == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1 and "--resume reuses them" in err


@pytest.mark.parametrize("args,option", [
    (["--seed", "-1"], "--seed"), (["--seed", "2.5"], "--seed"), (["--seed", "abc"], "--seed"),
    (["--seed", str(2**64)], "--seed"), (["--workers", "0"], "--workers"), (["--workers", "-1"], "--workers"),
    (["--workers", "two"], "--workers"), (["--workers", "100000"], "--workers"), (["--alpha", "nan"], "--alpha"),
    (["--alpha", "0"], "--alpha"), (["--alpha", "1.5"], "--alpha"), (["--quick", "--full"], "--full"),
    (["--workers", "2", "--scheduler", "tcp://h:1"], "--scheduler"), (["--scheduler", " "], "--scheduler"),
    (["--profile", "quick"], "unrecognized arguments"),
])
def test_bad_options_are_refused_when_parsed(tmp_path, capsys, args, option):
    with pytest.raises(SystemExit) as exit_:
        main(args + ["--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "Traceback" not in err
    assert option in err.strip().splitlines()[-1]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("only,expected", [("fisher.tengrad,no-such-check", "no check matches 'no-such-check'"),
                                           ("zzz*", "no check matches 'zzz*'"), (",", "at least one pattern")])
def test_only_patterns_that_match_nothing_are_refused(tmp_path, capsys, only, expected):
    assert expected in _usage_error(capsys, ["--only", only, "--out", tmp_path / "out"])
    assert expected in _usage_error(capsys, ["--list", "--only", only])
    assert not (tmp_path / "out").exists()


def test_out_that_is_a_file_or_goes_through_one_is_refused(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("someone's data")
    for out in (afile, afile / "sub"):
        msg = _usage_error(capsys, ["--only", FAST, "--out", out])
        assert f"{afile} is a file, not a folder" in msg
    assert afile.read_text() == "someone's data"


def _as_unprivileged_user():
    """The command prefix that runs it as ``nobody`` (root ignores folder permissions), or None if not possible.  The
    capability to read (not write) everywhere lets it run the toolkit from wherever it is installed."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        return None
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=+dac_read_search",
            "--ambient-caps=+dac_read_search"]


def test_a_read_only_out_is_one_clear_line_and_nothing_is_written(tmp_path):
    prefix = _as_unprivileged_user()
    if prefix is None:
        pytest.skip("needs setpriv to drop root's permission to write anywhere")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        for out in (ro, ro / "new"):
            res = subprocess.run(prefix + [sys.executable, "-m", "verification", "--only", FAST, "--out", str(out)],
                                 cwd=ROOT, capture_output=True, text=True, timeout=300)
            assert res.returncode == 2, res.stderr
            assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
            assert f"the folder {ro} is read-only" in res.stderr
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


@pytest.fixture()
def stored_run(tmp_path):
    """A finished run of FAST in tmp_path/out (in this process: the fingerprints stay those of this process)."""
    out = tmp_path / "out"
    assert main(["--only", FAST, "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("damage,expected", [
    ("UPDATE results SET result = x'80046761726261676500' WHERE rowid = 2", "is damaged (UnpicklingError"),
    (f"UPDATE results SET result = x'{pickle.dumps({'verdict': 'PASS'}).hex()}' WHERE rowid = 2", "it holds dict"),
    ("UPDATE results SET result = (SELECT result FROM results WHERE rowid = 1) WHERE rowid = 2",
     "not the verdict of this check and instance"),
    ("ALTER TABLE results RENAME TO old", "is a damaged result store"),
])
def test_a_damaged_stored_verdict_is_one_line_with_resume_and_left_untouched(stored_run, capsys, damage, expected):
    with sqlite3.connect(stored_run / "results.sqlite") as db:
        db.execute(damage)
    db.close()
    before = _snapshot(stored_run)
    capsys.readouterr()
    msg = _usage_error(capsys, ["--only", FAST, "--out", stored_run, "--resume"])
    assert expected in msg and "left untouched" in msg
    assert _snapshot(stored_run) == before


def test_the_report_takes_details_of_any_type(tmp_path, capsys):
    """numpy booleans, complex numbers, paths and sets in a verdict's details are written, not a crash at the end."""
    path = _module(tmp_path, HEAD + """
        import numpy as np
        from pathlib import Path

        @check(source="s", family="userodd", kind="deterministic", rule="r", instances=lambda profile, seed: [Point("a")])
        def odd_details(case, rng):
            return Verdict.measured("m", ok=np.bool_(True), z=1 + 2j, where=Path("x"), tags={"a"}, n=np.int8(3))
        """)
    assert main(["--module", str(path), "--only", "userodd.", "--out", str(tmp_path / "out")]) == 0
    import json

    details = json.loads((tmp_path / "out" / "report.json").read_text())["results"][0]["details"]
    assert details == {"ok": True, "z": "(1+2j)", "where": "x", "tags": "{'a'}", "n": 3}


def test_scheduler_that_cannot_be_reached_is_one_line_and_writes_nothing(tmp_path, capsys):
    pytest.importorskip("dask.distributed")
    msg = _usage_error(capsys, ["--only", FAST, "--scheduler", "no-port-here", "--out", tmp_path / "out"])
    assert "--scheduler 'no-port-here': cannot connect" in msg
    assert not (tmp_path / "out").exists()


def _cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "verification", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, **kw)


def test_as_a_user_sees_it_a_syntax_error_and_a_bad_seed(tmp_path):
    """The exit status and stderr of the real command: one line with file:line, or argparse's refusal."""
    path = _module(tmp_path, "x = (1,\ndef f(:\n")
    res = _cli("--module", path, "--out", tmp_path / "out")
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert res.stderr.startswith(f"theorytools-verify: error: {path}:2: SyntaxError")
    res = _cli("--seed", "-1", "--only", FAST, "--out", tmp_path / "out")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.splitlines()[-1] == "theorytools-verify: error: argument --seed: seed must be >= 0, got -1"
    assert not (tmp_path / "out").exists()


def test_list_into_a_closed_pipe_stops_quietly():
    proc = subprocess.Popen([sys.executable, "-m", "verification", "--list"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()  # as `theorytools-verify --list | head -1` does
    err = proc.stderr.read().decode()
    proc.wait(timeout=300)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
