"""Execute every ``notebooks/*.ipynb`` and check that notebooks are stored without outputs.

Each notebook is one derivation that ends in ``assert`` statements, so executing it is a test
(DESIGN.md: "Notebooks are executed by the test suite; keep them short, one derivation each,
outputs stripped in git").

The site build of ``tests/test_docs.py`` executes them too (myst-nb renders them with their outputs, and a failing
cell fails the build): where the ``docs`` extra is installed (``dev`` installs it) the execution here is skipped, so the
suite runs each notebook once; ``THEORYTOOLS_NOTEBOOKS=1`` executes them here as well.

The kernel is launched as ``sys.executable -m ipykernel_launcher``, i.e. with the interpreter
running pytest, whatever ``python3`` kernelspec happens to be installed (an installed spec whose
argv says plain ``python`` would pick up whichever interpreter is first on PATH).  This works in a
fresh virtual environment created from ``pyproject.toml`` with the ``dev`` extra, without
installing a kernelspec.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="notebook tests need the dev extra (nbformat)")
nbclient = pytest.importorskip("nbclient", reason="notebook tests need the dev extra (nbclient)")
pytest.importorskip("ipykernel", reason="notebook tests need the dev extra (ipykernel)")

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager  # noqa: E402  (after the skips)
from jupyter_client.manager import KernelManager  # noqa: E402
from traitlets import default  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_S = 300
#: tests/test_docs.py builds the site, executing every notebook, when these are installed (its DOCS_MODULES)
EXECUTED_BY_THE_SITE_BUILD = (all(importlib.util.find_spec(m) is not None for m in
                                  ("sphinx", "myst_nb", "numpydoc", "sphinx_gallery", "pydata_sphinx_theme"))
                              and os.environ.get("THEORYTOOLS_NOTEBOOKS", "") in ("", "0"))


class _ThisInterpreterKernelSpecManager(KernelSpecManager):
    """Every kernel name resolves to an ipykernel running under ``sys.executable``."""

    def get_kernel_spec(self, kernel_name):
        return KernelSpec(
            name=kernel_name,
            display_name=f"Python ({sys.executable})",
            language="python",
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        )


class ThisInterpreterKernelManager(KernelManager):
    @default("kernel_spec_manager")
    def _default_kernel_spec_manager(self):
        return _ThisInterpreterKernelSpecManager(parent=self)


def _execute(nb):
    """Run ``nb`` in place (cwd = repository root); raises ``CellExecutionError`` on any error."""
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        kernel_manager_class=ThisInterpreterKernelManager,
        resources={"metadata": {"path": str(REPO)}},
    )
    client.execute()
    return nb


def test_notebooks_exist():
    assert NOTEBOOKS, f"no notebooks found under {REPO / 'notebooks'}"


def test_kernel_uses_this_interpreter():
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("import sys, os; print(sys.executable); print(os.getcwd())"))
    out = _execute(nb).cells[0].outputs[0]["text"].splitlines()
    assert Path(out[0]).resolve() == Path(sys.executable).resolve()
    assert Path(out[1]).resolve() == REPO


@pytest.mark.skipif(EXECUTED_BY_THE_SITE_BUILD, reason="executed by the site build (tests/test_docs.py)")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path):
    nb = nbformat.read(path, as_version=4)
    _execute(nb)  # executes a copy in memory; nothing is written back to disk
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("output_type") == "error"]
    assert not errors, f"{path.name}: {errors[0].get('ename')}: {errors[0].get('evalue')}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_stored_without_outputs(path):
    raw = json.loads(path.read_text(encoding="utf-8"))
    nbformat.validate(nbformat.reads(json.dumps(raw), as_version=4))
    assert raw["metadata"].get("kernelspec", {}).get("name") == "python3", f"{path.name}: kernelspec name"
    dirty = [
        i
        for i, c in enumerate(raw["cells"])
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]
    assert not dirty, f"{path.name}: code cells {dirty} carry outputs or execution counts; strip them before committing"
