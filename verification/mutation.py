"""Mutation testing: does the suite catch plausible wrong formulas?

Each topic lists *mutants* in ``verification/mutants/<topic>.py``: an exact piece of library source
and the plausible mistake that replaces it (an off-by-one, a transpose, a missing square, a wrong
constant, a dropped factor).  For each mutant, one at a time, a private copy of the repository is
edited and measured two ways:

* **suite** -- the verification suite's quick profile (seed 0) reports a FAIL (``theorytools-verify
  --quick`` would exit 1), or errors, or runs past the time limit;
* **tests** -- ``pytest -x`` fails (only for the mutants the suite missed, unless ``--all-tests``).

Run on demand, not in CI (minutes per topic)::

    python -m verification.mutation --topic quadratic --jobs 2 --tests --json mutation.json
    python -m verification.mutation --topic tango --checks tango --list my_mutants.py   # an independent list

Prints the kill rates (suite alone; suite or tests) and every survivor with its description.
A mutant marked ``equivalent`` (no observable quantity changes) is listed but excluded from the rates.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("theorytools", "verification", "tests", "notebooks", "pyproject.toml")

#: Run in the mutated copy: the quick profile, without figures; prints the FAILed checks as JSON.
_SUITE = """
import json, sys, warnings, theorytools
assert theorytools.__file__.startswith(sys.argv[1]), theorytools.__file__
warnings.simplefilter("ignore")
from verification.runner import run_checks
failed = sorted({r.check for r in run_checks("quick", only=sys.argv[2] or None, seed=0) if r.verdict.status == "FAIL"})
print(json.dumps(failed))
"""


@dataclass(frozen=True)
class Mutant:
    """``old`` (which must occur exactly once in ``file``) replaced by ``new``."""

    file: str  # relative to the repository root
    old: str
    new: str
    why: str  # the mistake it models
    equivalent: str = ""  # non-empty: why no observable quantity changes (excluded from the rates)

    def apply(self, root: Path) -> str:
        """Write the mutated file under ``root``; return the original text (for :meth:`restore`)."""
        path = root / self.file
        text = path.read_text()
        count = text.count(self.old)
        if count != 1:
            raise ValueError(f"mutant {self.why!r}: {self.old!r} occurs {count} times in {self.file} (must be once)")
        path.write_text(text.replace(self.old, self.new))
        return text

    def restore(self, root: Path, original: str) -> None:
        (root / self.file).write_text(original)


def load_mutants(topic: str, path: Path | None = None) -> list[Mutant]:
    """The topic's own list, or the ``MUTANTS`` of the Python file ``path`` (an independent list written by
    someone who has not read the topic's own, for an unbiased kill rate)."""
    if path is None:
        return list(importlib.import_module(f"verification.mutants.{topic}").MUTANTS)
    spec = importlib.util.spec_from_file_location(f"_mutant_list_{Path(path).stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.MUTANTS)


def _run(cmd, cwd: Path, timeout: float):
    env = {**os.environ, "PYTHONPATH": str(cwd), "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
        return proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired:
        return None, "", f"timed out after {timeout:.0f} s"


def suite_verdict(root: Path, timeout: float, checks: str = "") -> dict:
    """``{"killed": bool, "by": [failed checks] or the error}`` for the tree at ``root``; ``checks`` restricts
    the run (the --only syntax) -- valid for a topic's mutants since topics never import each other."""
    rc, out, err = _run([sys.executable, "-c", _SUITE, str(root), checks], root, timeout)
    if rc is None:
        return {"killed": True, "by": [err]}
    if rc != 0:  # the suite itself crashed: theorytools-verify would not exit 0 either
        return {"killed": True, "by": [f"suite raised: {err.strip().splitlines()[-1] if err.strip() else rc}"]}
    failed = json.loads(out.strip().splitlines()[-1])
    return {"killed": bool(failed), "by": failed}


def tests_verdict(root: Path, timeout: float) -> dict:
    # The 50-seed false-FAIL test is 50 suite runs: it measures the suite's calibration, not formulas.
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "tests",
           "--deselect", "tests/test_verification.py::test_quick_profile_has_no_false_fail_over_50_seeds"]
    rc, out, err = _run(cmd, root, timeout)
    if rc is None:
        return {"killed": True, "by": [err]}
    failed = [ln.split(" ")[1] for ln in out.splitlines() if ln.startswith("FAILED ") or ln.startswith("ERROR ")]
    return {"killed": rc != 0, "by": failed[:3]}


def _copy_tree(dest: Path) -> Path:
    for name in COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints"))
        else:
            shutil.copy2(src, dest / name)
    return dest


def measure(mutants: list[Mutant], jobs: int = 2, tests: bool = False, all_tests: bool = False,
            timeout: float = 600.0, checks: str = "", log=print) -> list[dict]:
    """Run every mutant; return one record per mutant (in input order)."""
    tmp = Path(tempfile.mkdtemp(prefix="theorytools-mutation-"))
    copies = [_copy_tree(tmp / f"w{i}") for i in range(jobs)]
    free = list(copies)

    def one(args):
        i, m = args
        root = free.pop()
        try:
            original = m.apply(root)
            try:
                t0 = time.perf_counter()
                rec = {"index": i, **asdict(m), "suite": suite_verdict(root, timeout, checks)}
                if all_tests or (tests and not rec["suite"]["killed"]):
                    rec["tests"] = tests_verdict(root, timeout)
                rec["seconds"] = round(time.perf_counter() - t0, 1)
            finally:
                m.restore(root, original)
        finally:
            free.append(root)
        status = "killed" if rec["suite"]["killed"] else "SURVIVED"
        extra = f", tests {'killed' if rec['tests']['killed'] else 'SURVIVED'}" if "tests" in rec else ""
        log(f"[{i:3d}] suite {status}{extra} ({rec['seconds']} s): {m.file}: {m.why}")
        return rec

    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(one, enumerate(mutants)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def rates(records: list[dict]) -> dict:
    """Kill rates over the non-equivalent mutants: suite alone, and suite or tests (where tests ran)."""
    live = [r for r in records if not r["equivalent"]]
    suite = sum(r["suite"]["killed"] for r in live)
    either = sum(r["suite"]["killed"] or r.get("tests", {}).get("killed", False) for r in live)
    out = {"mutants": len(live), "equivalent": len(records) - len(live), "suite_killed": suite,
           "suite_rate": suite / len(live) if live else 1.0, "suite_or_tests_killed": either,
           "suite_or_tests_rate": either / len(live) if live else 1.0}
    with_tests = [r for r in live if "tests" in r]
    if len(with_tests) == len(live):
        out["tests_rate"] = sum(r["tests"]["killed"] for r in live) / len(live) if live else 1.0
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m verification.mutation", description=__doc__.split("\n\n")[0])
    ap.add_argument("--topic", default="quadratic", help="mutant list verification/mutants/TOPIC.py")
    ap.add_argument("--list", type=Path, help="measure the MUTANTS of this Python file instead of the topic's own list")
    ap.add_argument("--jobs", type=int, default=2, help="mutants measured at once (default 2)")
    ap.add_argument("--tests", action="store_true", help="run the tests on the mutants the suite missed")
    ap.add_argument("--all-tests", action="store_true", help="run the tests on every mutant (tests-alone rate)")
    ap.add_argument("--only", help="substring of the mutated file or description")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per run before it counts as killed")
    ap.add_argument("--checks", default="", help="restrict the suite to these checks (--only syntax, e.g. 'tango,montecarlo'); "
                    "default: the whole quick profile")
    ap.add_argument("--json", type=Path, help="write the records and rates here")
    args = ap.parse_args(argv)
    mutants = load_mutants(args.topic, args.list)
    if args.only:
        mutants = [m for m in mutants if args.only in m.file or args.only in m.why]
    for m in mutants:  # fail fast on a stale list, before any run
        text = (ROOT / m.file).read_text()
        if text.count(m.old) != 1:
            raise SystemExit(f"stale mutant {m.why!r}: {m.old!r} occurs {text.count(m.old)} times in {m.file}")
    t0 = time.perf_counter()
    records = measure(mutants, args.jobs, args.tests, args.all_tests, args.timeout, args.checks)
    summary = rates(records)
    print(f"\n{args.topic}: {summary['mutants']} mutants (+{summary['equivalent']} equivalent), "
          f"{time.perf_counter() - t0:.0f} s")
    print(f"  suite alone:    {summary['suite_killed']}/{summary['mutants']} = {summary['suite_rate']:.1%}")
    if args.tests or args.all_tests:
        print(f"  suite or tests: {summary['suite_or_tests_killed']}/{summary['mutants']} = {summary['suite_or_tests_rate']:.1%}")
    if "tests_rate" in summary:
        print(f"  tests alone:    {summary['tests_rate']:.1%}")
    for r in records:
        if not r["suite"]["killed"]:
            tag = "equivalent: " + r["equivalent"] if r["equivalent"] else (
                "tests " + ("killed" if r.get("tests", {}).get("killed") else "missed") if "tests" in r else "survived")
            print(f"  survivor [{r['index']}] {r['file']}: {r['why']} ({tag})")
    if args.json:
        args.json.write_text(json.dumps({"topic": args.topic, "rates": summary, "records": records}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
