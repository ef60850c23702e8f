"""Execute the notebooks while the rest of the site builds (a small Sphinx extension).

The notebooks are stored without outputs.  myst-nb would execute them one after the other while it reads them, after
the gallery and the API pages, in the build's own time.  This extension starts them when the build starts, in a worker
thread that only waits on the kernels (``notebook_runner_workers`` kernels at a time), so that they run beside
sphinx-gallery and autodoc, on the other core; when Sphinx reads a notebook it waits for that notebook's result and hands the executed
notebook to myst-nb (``source-read``), which renders it as it is (``nb_execution_mode = "off"``).

A notebook that fails (a cell raises, one of its ``assert`` statements included) fails the build, naming the
notebook and the cell.  Executed notebooks are kept in ``executed_notebooks`` in the doctree folder (``-d``) and
reused while the notebook is unchanged, unless ``notebook_runner_fresh`` is set (``THEORYTOOLS_DOCS_FRESH=1``).  The
kernel is ``sys.executable -m ipykernel_launcher``, the interpreter that runs the build (as in
``tests/test_notebooks.py``), with the repository root as its working directory.
"""

from __future__ import annotations

import hashlib
import json
import sys
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[2]
FOLDER = "notebooks"  # the notebooks' folder inside the source folder
CELL_TIMEOUT_S = 600


def _kernel_manager_class():
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import KernelManager
    from traitlets import default

    class ThisInterpreterKernelSpecManager(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return KernelSpec(name=kernel_name, display_name=f"Python ({sys.executable})", language="python",
                              argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"])

    class ThisInterpreterKernelManager(KernelManager):
        @default("kernel_spec_manager")
        def _default_kernel_spec_manager(self):
            return ThisInterpreterKernelSpecManager(parent=self)

    return ThisInterpreterKernelManager


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _execute(path: Path, cached: Path, key: str) -> str:
    """Execute the notebook at ``path``; return the executed notebook as JSON text (and keep it in ``cached``)."""
    import nbclient
    import nbformat

    with warnings.catch_warnings():  # the notebooks predate cell ids (nbformat 4.4): not a problem of the build
        warnings.simplefilter("ignore")
        nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                                     kernel_manager_class=_kernel_manager_class(),
                                     extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no "running over TCP" notice
                                     resources={"metadata": {"path": str(REPO)}})
    client.execute()
    nb.metadata["theorytools_source_key"] = key
    text = nbformat.writes(nb)
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(text, encoding="utf-8")
    return text


def start(app) -> None:
    src = Path(app.srcdir) / FOLDER
    cache = Path(app.doctreedir) / "executed_notebooks"
    app.notebook_runs = runs = {}  # on the app, not the env: futures are not pickled
    pool = ThreadPoolExecutor(max_workers=app.config.notebook_runner_workers, thread_name_prefix="notebook")
    app.notebook_runner_pool = pool
    for path in sorted(src.glob("*.ipynb")):
        key = _key(path.read_text(encoding="utf-8"))
        cached = cache / path.name
        if not app.config.notebook_runner_fresh and cached.exists():
            text = cached.read_text(encoding="utf-8")
            if json.loads(text).get("metadata", {}).get("theorytools_source_key") == key:
                done: Future = Future()
                done.set_result(text)
                runs[f"{FOLDER}/{path.stem}"] = done
                continue
        runs[f"{FOLDER}/{path.stem}"] = pool.submit(_execute, path, cached, key)
    executing = sum(not f.done() for f in runs.values())
    if executing:
        logger.info(f"[notebook_runner] executing {executing} notebooks, {app.config.notebook_runner_workers} at a time")


def substitute(app, docname: str, source: list) -> None:
    run = getattr(app, "notebook_runs", {}).get(docname)
    if run is None:
        return
    try:
        source[0] = run.result()
    except Exception as exc:  # CellExecutionError (a failing cell), a kernel that died, a timeout
        raise ExtensionError(f"notebook {docname}.ipynb failed to execute: {exc}") from exc


def finish(app, exception) -> None:
    pool = getattr(app, "notebook_runner_pool", None)
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def setup(app):
    app.add_config_value("notebook_runner_fresh", False, "env")
    app.add_config_value("notebook_runner_workers", 2, "env")
    app.connect("builder-inited", start, priority=100)  # before sphinx-gallery's (priority 500), so they overlap
    app.connect("source-read", substitute)
    app.connect("build-finished", finish)
    return {"version": "1", "parallel_read_safe": False, "parallel_write_safe": True}  # threads do not survive -j's fork
