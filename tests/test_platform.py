"""The verification platform: Dask runs identical to serial ones, the resumable SQLite store (a real SIGKILL), user
check modules (--module, entry points), --version."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import verification.registry as registry
from verification.runner import run_checks
from verification.store import ResultStore, StoreError, _library_files, fingerprint

ROOT = Path(__file__).resolve().parent.parent
#: Deterministic and statistical (Holm-decided) checks from three topics.
MIXED = "quadratic.theorem5_bounds_hold,quadratic.monte_carlo_matches_exact,fisher.tengrad,tango.model_derivatives"


def _comparable(results):
    """Everything a verdict reports except how long it took."""
    return [(r.check, r.instance, r.kind, r.verdict.status, r.verdict.message, r.verdict.p_value,
             json.dumps(r.verdict.details, sort_keys=True, default=repr)) for r in results]


def _user_module(tmp_path, family, delay=0.0, n=6):
    """A user's check module: ``n`` instances of a true bound (|sin x| <= 1), each taking ``delay`` seconds, and a
    statistical check of E[U] = 1/2 (so Holm decides it)."""
    path = tmp_path / f"{family}_checks.py"
    path.write_text(textwrap.dedent(f"""
        import time
        from dataclasses import dataclass
        import numpy as np
        from verification.registry import check
        from verification.verdict import Verdict

        @dataclass(frozen=True)
        class Point:
            name: str
            x: float

        @check(source="a user's lemma: |sin x| <= 1", family="{family}", kind="deterministic", rule="|sin x| <= 1",
               instances=lambda profile, seed: [Point(f"x = {{i}}", float(i)) for i in range({n})])
        def sine_bounded(case, rng):
            time.sleep({delay})
            return Verdict.within(abs(np.sin(case.x)), 0.0, 1.0, rtol=0.0, what="|sin x|")

        @check(source="a user's Monte Carlo claim: E[U] = 1/2", family="{family}", kind="statistical", rule="z-test",
               instances=lambda profile, seed: [Point("U(0, 1)", 0.0)])
        def uniform_mean(case, rng):
            u = rng.random(4000)
            return Verdict.statistical(u.mean(), u.std(ddof=1) / np.sqrt(u.size), 0.5, runs=u.size)
    """))
    return path


def _cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "verification", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, **kw)


def _report(out):
    doc = json.loads((Path(out) / "report.json").read_text())
    return [{k: v for k, v in r.items() if k != "seconds"} for r in doc["results"]]


@pytest.fixture(scope="module")
def dask_client():
    pytest.importorskip("dask.distributed")
    from theorytools.montecarlo.cluster import local_client

    with local_client(2) as client:
        assert set(client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_")).values()) == {None}
        yield client


@pytest.mark.slow
def test_dask_run_is_bit_identical_to_the_serial_run(dask_client):
    serial = run_checks("quick", MIXED, seed=3)
    assert len(serial) > 20 and {"PASS"} <= {r.verdict.status for r in serial}
    distributed = run_checks("quick", MIXED, seed=3, client=dask_client)
    assert _comparable(distributed) == _comparable(serial)


def test_dask_run_of_user_checks_from_a_file(dask_client, tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "CHECKS", dict(registry.CHECKS))
    path = _user_module(tmp_path, "userdask")
    registry.load_modules([str(path)])
    serial = run_checks("quick", "userdask.", seed=0)
    distributed = run_checks("quick", "userdask.", seed=0, client=dask_client, modules=(str(path),))
    assert [r.verdict.status for r in serial] == ["PASS"] * 7
    assert _comparable(distributed) == _comparable(serial)


@pytest.mark.slow
def test_a_run_killed_by_sigkill_resumes_to_the_same_report(tmp_path):
    module = _user_module(tmp_path, "userkill", delay=0.4, n=10)
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    assert _cli("--only", "userkill.", "--module", module, "--out", whole).returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "verification", "--only", "userkill.", "--module", str(module),
                             "--out", str(killed)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db, stored, deadline = killed / "results.sqlite", 0, time.time() + 120
    while stored < 3 and time.time() < deadline:  # kill once three verdicts are stored, mid-run
        time.sleep(0.05)
        if db.exists():
            try:
                stored = sqlite3.connect(db).execute("SELECT COUNT(*) FROM results").fetchone()[0]
            except sqlite3.OperationalError:  # the table is being created
                pass
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    at_kill = sqlite3.connect(db).execute("SELECT COUNT(*) FROM results").fetchone()[0]
    assert 3 <= at_kill < 11 and not (killed / "report.json").exists()
    resumed = _cli("--only", "userkill.", "--module", module, "--out", killed, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed: {at_kill} verdicts reused" in resumed.stdout
    assert resumed.stdout.count("  PASS ") == 11 - at_kill  # only the lost verdicts were recomputed
    assert _report(killed) == _report(whole)


def test_resume_reuses_only_verdicts_whose_fingerprint_matches(tmp_path, monkeypatch):
    store = ResultStore(tmp_path / "results.sqlite")
    first = run_checks("quick", "fisher.tengrad", store=store)
    calls = []
    import verification.runner as runner
    real = runner.evaluate
    monkeypatch.setattr(runner, "evaluate", lambda *a: calls.append(a) or real(*a))
    again = run_checks("quick", "fisher.tengrad", store=store, resume=True)
    assert calls == [] and _comparable(again) == _comparable(first)
    # another seed is another key; a changed instance is another fingerprint
    run_checks("quick", "fisher.tengrad", seed=1, store=store, resume=True)
    assert len(calls) == len(first)
    chk = registry.select("fisher.tengrad")[0]
    a, b = chk.instances("quick", 0)[:2]
    assert fingerprint(chk, a) != fingerprint(chk, b) and fingerprint(chk, a) == fingerprint(chk, chk.instances("quick", 0)[0])
    assert store.count() == 2 * len(first)


def test_fingerprints_follow_the_code_a_check_depends_on():
    fisher, quadratic, user = (set(_library_files(f)) for f in ("fisher", "quadratic", "someone_else"))
    assert any("theorytools/fisher/ngd.py" in str(p) for p in fisher)
    assert not any("theorytools/quadratic/" in str(p) for p in fisher)
    assert not any("theorytools/fisher/" in str(p) for p in quadratic)
    shared = {p for p in fisher if "theorytools/linalg" in str(p) or str(p).endswith("verification/verdict.py")}
    assert shared and shared <= quadratic and fisher | quadratic <= user


def test_a_corrupt_or_foreign_store_is_a_clear_error_and_left_untouched(tmp_path):
    bad = tmp_path / "corrupt" / "results.sqlite"
    bad.parent.mkdir()
    bad.write_bytes(b"not a database, but someone's data")
    with pytest.raises(StoreError, match="not a theorytools result store.*left untouched"):
        ResultStore(bad)
    assert bad.read_bytes() == b"not a database, but someone's data"
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE meta (key TEXT, value TEXT)")
        db.execute("INSERT INTO meta VALUES ('schema', 'another tool')")
    with pytest.raises(StoreError, match="schema 'another tool'"):
        ResultStore(foreign)
    out = _cli("--only", "fisher.tengrad", "--out", bad.parent)
    assert out.returncode == 2 and "left untouched" in out.stderr
    assert bad.read_bytes() == b"not a database, but someone's data"


def test_user_modules_by_path_by_name_and_by_entry_point(tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "CHECKS", dict(registry.CHECKS))
    monkeypatch.setattr(registry, "_LOADED", dict(registry._LOADED))
    path = _user_module(tmp_path, "userpath")
    registry.load_modules([str(path), str(path)])  # twice: loaded (and registered) once
    assert {"userpath.sine_bounded", "userpath.uniform_mean"} <= set(registry.CHECKS)
    _user_module(tmp_path, "username")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.load_modules(["username_checks"])
    assert "username.sine_bounded" in registry.CHECKS

    class EntryPoint:  # what importlib.metadata gives for [project.entry-points."theorytools.checks"]
        value = "userep_checks"

        def load(self):
            import importlib
            return importlib.import_module(self.value)

    _user_module(tmp_path, "userep")
    monkeypatch.setattr(registry, "entry_points", lambda group: [EntryPoint()] if group == registry.ENTRY_POINTS else [])
    assert [c.name for c in registry.select("userep.")] == ["userep.sine_bounded", "userep.uniform_mean"]
    with pytest.raises(ValueError, match="no such file"):
        registry.load_modules([str(tmp_path / "missing.py")])
    with pytest.raises(ValueError, match="not an importable module"):
        registry.load_modules(["no_such_module_anywhere"])


def test_cli_runs_user_checks_and_reports_its_version(tmp_path):
    module = _user_module(tmp_path, "usercli")
    out = _cli("--only", "usercli.", "--module", module, "--out", tmp_path / "report")
    assert out.returncode == 0, out.stderr
    statuses = [r["status"] for r in _report(tmp_path / "report")]
    assert statuses == ["PASS"] * 7
    version = _cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("theorytools-verify 0.")
    bad = _cli("--module", tmp_path / "nope.py")
    assert bad.returncode == 2 and "no such file" in bad.stderr


def test_the_report_lists_the_papers_errata_with_the_command_that_reproduces_each(tmp_path):
    from verification.report import write_report

    results = run_checks("quick", "fisher.section13,fisher.kl_is_locally")
    write_report(results, tmp_path, {"profile": "quick", "seed": 0, "modules": []})
    doc = json.loads((tmp_path / "report.json").read_text())
    assert [e["check"] for e in doc["errata"]] == ["fisher.section13_quadratic_model"]  # the KL check has no erratum
    assert doc["errata"][0]["command"] == "theorytools-verify --only fisher.section13_quadratic_model --seed 0"
    md = (tmp_path / "report.md").read_text()
    assert "## Errata" in md and "sign misprint" in md
    # every paper's findings are registered
    families = {c.family for c in registry.select(None) if c.erratum}
    assert {"quadratic", "tango", "deeplinear", "fisher"} <= families


def test_simulate_on_a_dask_cluster_is_bit_identical(dask_client):
    import numpy as np

    from theorytools.quadratic import Constant, random_problem, simulate

    p = random_problem(5, 10.0, "I", "random", seed=0)
    kw = dict(k=[0, 3, 30], runs=5000, seed=11, progress=False)
    serial = simulate(p, Constant(0.5 / p.lambda_1), workers=1, **kw)
    threads = simulate(p, Constant(0.5 / p.lambda_1), **kw)  # default: the cores, BLAS on one thread
    remote = simulate(p, Constant(0.5 / p.lambda_1), client=dask_client, **kw)
    for other in (threads, remote):
        assert np.array_equal(other.mean, serial.mean) and np.array_equal(other.stderr, serial.stderr)
        assert np.array_equal(other.mc.block_means, serial.mc.block_means)


def test_the_readme_example_checks_a_users_theorem_both_ways(tmp_path, monkeypatch):
    """The README's "Check your own theorem": its module runs as user checks, its property test passes."""
    text = (ROOT / "README.md").read_text().split("## Check your own theorem", 1)[1].split("\n## ", 1)[0]
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    assert len(blocks) == 2
    (tmp_path / "my_checks.py").write_text(blocks[0])
    (tmp_path / "test_my_theorem.py").write_text(blocks[1])
    monkeypatch.setattr(registry, "CHECKS", dict(registry.CHECKS))
    registry.load_modules([str(tmp_path / "my_checks.py")])
    statuses = [r.verdict.status for r in run_checks("quick", "mine.")]
    assert statuses and set(statuses) == {"PASS"}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_my_theorem.py"],
                         cwd=tmp_path, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stdout + out.stderr


def test_without_workers_or_scheduler_nothing_imports_dask(tmp_path):
    code = ("import sys; from verification.__main__ import main; "
            f"main(['--only', 'fisher.tengrad', '--out', {str(tmp_path)!r}]); print('dask' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_the_store_refuses_unusable_places_and_rows_and_changes_nothing(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("data")
    with pytest.raises(StoreError, match="is a folder, not a result store"):
        ResultStore(tmp_path)
    with pytest.raises(StoreError, match="cannot create the folder"):
        ResultStore(afile / "results.sqlite")
    store = ResultStore(tmp_path / "results.sqlite")
    key, fp = ("fam.chk", "inst", "quick", 0), "f" * 64
    with pytest.raises(StoreError, match=r"the verdict of fam.chk \[inst\] cannot be stored.*plain data"):
        store.put(key, fp, lambda: 0)
    store.db.execute("INSERT INTO results VALUES (?, ?, ?, ?, ?, ?)", (*key, fp, b"\x80\x04damaged"))
    before = (tmp_path / "results.sqlite").read_bytes()
    with pytest.raises(StoreError, match=r"stored verdict of fam.chk \[inst\] \(profile quick, seed 0\) is damaged"):
        store.get(key, fp)
    assert store.get(key, "another fingerprint") is None  # a stale row is recomputed, not read
    store.close()
    assert (tmp_path / "results.sqlite").read_bytes() == before and afile.read_text() == "data"
