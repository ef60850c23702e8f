"""The documentation site (issue 19) and the docstrings it is built from.

* ``test_the_site_builds_with_no_warning``: the README's build command, ``sphinx-build -W --keep-going -b html docs
  ...``, from scratch (``THEORYTOOLS_DOCS_FRESH=1``: every notebook and every gallery example executed again), so a
  broken page, docstring, notebook or example fails the suite; then the generated pages are compared with the
  registries and the packages' ``__all__``.  The build also executes the six notebooks (myst-nb, a failing cell fails
  the build): ``tests/test_notebooks.py`` then only checks that they are stored without outputs, so the suite does not
  execute them twice.
* ``test_every_public_name_has_a_runnable_example_and_cites_its_paper``: every name of the documented packages'
  ``__all__`` has a numpydoc ``Examples`` section with a doctest (the README's test command runs them:
  ``--doctest-modules`` on ``theorytools`` and ``verification``); in the four topic packages, its docstring or its
  module's cites a seed file (``001_7d31b3ff3a2f0401.txt``).
"""

from __future__ import annotations

import html
import importlib
import importlib.util
import inspect
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

from api_pages import PACKAGES, home, kind, public_names  # noqa: E402

#: What the site build needs (the ``docs`` extra, which ``dev`` installs).  tests/test_notebooks.py executes the
#: notebooks itself when one of them is missing.
DOCS_MODULES = ("sphinx", "myst_nb", "numpydoc", "sphinx_gallery", "pydata_sphinx_theme")
BUILD_TIMEOUT_S = 1200
TOPICS = ("theorytools.quadratic", "theorytools.tango", "theorytools.deeplinear", "theorytools.fisher")
SEED = re.compile(r"\d{3}_[0-9a-f]{16}\.txt")
#: Public names that are values, not functions, classes or modules: a value has no docstring of its own (``__doc__``
#: would be its type's); each is documented on its API page by the ``#:`` comment of the module that defines it.
DATA = {
    "theorytools.montecarlo.METHODS": "a tuple of names (the interval methods of MonteCarloResult.ci)",
    "theorytools.montecarlo.MIN_BOOTSTRAP_BLOCKS": "an int (a threshold)",
    "theorytools.montecarlo.BLOCK": "an int (runs per block)",
    "theorytools.montecarlo.DEFAULT_CHUNK_BLOCKS": "an int (blocks per chunk)",
    "theorytools.tango.GAMMA_RULES": "a tuple of names (the gamma rules of gamma_from_samples)",
    "theorytools.fisher.PARAMS": "a tuple of names (the Gaussian's coordinate systems)",
    "verification.CHECKS": "a dict (the registry: check name -> Check), listed on the paper pages",
}


def _text(path: Path) -> str:
    """The visible text of an HTML page, whitespace collapsed."""
    raw = path.read_text(encoding="utf-8")
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", raw)).split())


def _docs_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in DOCS_MODULES)


@pytest.mark.skipif(not _docs_available(), reason="the site build needs the docs extra (pip install -e '.[docs]')")
def test_the_site_builds_with_no_warning(tmp_path):
    out_dir = tmp_path / "html"
    env = {**os.environ, "THEORYTOOLS_DOCS_FRESH": "1"}
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-d",
                          str(tmp_path / "doctrees"), "docs", str(out_dir)],
                         cwd=ROOT, capture_output=True, text=True, env=env, timeout=BUILD_TIMEOUT_S)
    seconds = time.perf_counter() - t0
    problems = [line for line in (out.stdout + out.stderr).splitlines()
                if ("WARNING" in line or "ERROR" in line or "Error" in line) and "IPKernelApp" not in line]
    assert out.returncode == 0, (f"sphinx-build failed after {seconds:.0f} s:\n" + "\n".join(problems[:60])
                                 + "\n...\n" + out.stderr[-3000:])

    from verification.audit import proofs_of
    from verification.hunt import BOUNDS
    from verification.registry import CHECKS, load_all

    load_all()
    # every check on its paper's page (the one its source cites first; "engine" when it cites none)
    papers = {"001_7d31b3ff3a2f0401.txt": "martens", "000_3b01ec78f4f92394.txt": "tango",
              "003_34787a2226c5cf0a.txt": "deeplinear", "002_add1c097d251ec63.txt": "shrestha"}
    pages = {name: _text(out_dir / "papers" / f"{name}.html") for name in [*papers.values(), "engine"]}
    for c in CHECKS.values():
        seed = SEED.search(c.source)
        page = papers.get(seed.group(0), "engine") if seed else "engine"
        assert c.name in pages[page], f"check {c.name} missing from papers/{page}.html"
    # the errata, the proof audit, the readings and the bounds, each from its registry
    errata, audit = _text(out_dir / "errata.html"), _text(out_dir / "audit.html")
    readings, bounds = _text(out_dir / "readings.html"), _text(out_dir / "tutorials" / "hunt.html")
    for c in CHECKS.values():
        if c.erratum is not None:
            assert c.name in errata and f"theorytools-verify --only {c.name}" in errata, c.name
        for r in c.readings:
            assert f"{r.seed}, line {r.line}" in readings, (c.name, r.seed, r.line)
    assert "NOT certified" not in errata, "a certificate failed when the site was built"
    for p in proofs_of():
        assert p.check in audit and f"{p.seed}:{p.line}" in audit, p.statement
    for b in BOUNDS.values():
        assert b.name in bounds, b.name
    # the API reference: a page per public name (in the package that defines it), the data names on their package's
    for pkg, name, obj in public_names():
        where = home(pkg, obj)
        if kind(obj) == "data":
            assert f"{name}" in _text(out_dir / "api" / f"{pkg}.html"), f"{pkg}.{name}"
        else:
            assert (out_dir / "api" / "generated" / f"{where}.{name}.html").exists(), f"{where}.{name}"
    # the notebooks, executed cell by cell (docs/_ext/notebook_runner.py keeps them with the doctrees) and rendered,
    # and the gallery, one figure per paper
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        executed = json.loads((tmp_path / "doctrees" / "executed_notebooks" / nb.name).read_text(encoding="utf-8"))
        counts = [c.get("execution_count") for c in executed["cells"] if c["cell_type"] == "code"]
        assert counts and None not in counts, f"{nb.name}: cells not executed"
        assert (out_dir / "notebooks" / f"{nb.stem}.html").exists(), nb.name
    for example in sorted((ROOT / "examples").glob("plot_*.py")):
        assert (out_dir / "_images" / f"sphx_glr_{example.stem}_001.png").exists(), example.name
    print(f"site built in {seconds:.0f} s")


def test_the_test_command_runs_the_doctests():
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert {"tests", "theorytools", "verification"} <= set(config["testpaths"])
    assert "--doctest-modules" in config["addopts"].split()
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(dep.startswith("theorytools[") and "docs" in dep for dep in extras["dev"]), "dev must install docs"


def _missing() -> dict:
    """``{qualified name: what is missing}`` over the documented packages' ``__all__`` (each object once, under the
    package that defines it)."""
    from numpydoc.docscrape import NumpyDocString

    out, seen = {}, set()
    for pkg, name, obj in public_names():
        where = home(pkg, obj)
        qualified = f"{where}.{name}"
        if qualified in seen:
            continue
        seen.add(qualified)
        if kind(obj) == "data":
            assert qualified in DATA, f"{qualified} is a value: give it an entry in DATA with a reason, or make it " \
                                      "a function or class with a docstring"
            continue
        doc = inspect.getdoc(obj) or ""
        problems = []
        try:
            examples = "\n".join(NumpyDocString(doc)["Examples"])
        except Exception as exc:  # noqa: BLE001 - a docstring numpydoc cannot parse
            problems.append(f"numpydoc cannot parse it ({type(exc).__name__}: {exc})")
            examples = ""
        if not examples.strip():
            problems.append("no Examples section")
        elif ">>>" not in examples:
            problems.append("its Examples section has no doctest (>>>)")
        if where in TOPICS:
            module = obj if inspect.ismodule(obj) else sys.modules.get(getattr(obj, "__module__", ""), None)
            if not SEED.search(doc) and not SEED.search(getattr(module, "__doc__", "") or ""):
                problems.append("cites no seed file (e.g. 001_7d31b3ff3a2f0401.txt §14.2), nor does its module")
        if problems:
            out[qualified] = "; ".join(problems)
    return out


def test_every_public_name_has_a_runnable_example_and_cites_its_paper():
    pytest.importorskip("numpydoc", reason="numpydoc parses the docstrings (the docs extra)")
    missing = _missing()
    assert not missing, f"{len(missing)} public names lack a runnable example or a citation:\n" + "\n".join(
        f"  {name}: {why}" for name, why in sorted(missing.items()))


def test_the_data_exemptions_are_public_values():
    names = {f"{home(p, o)}.{n}" for p, n, o in public_names() if kind(o) == "data"}
    assert set(DATA) == names, f"stale exemptions: {sorted(set(DATA) - names)}"
    assert PACKAGES[0] == "theorytools" and all(importlib.import_module(p).__all__ for p in PACKAGES)
