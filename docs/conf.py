"""Sphinx configuration of the theorytools site.

Build it from the repository root (README, "Documentation"):

    sphinx-build -W --keep-going -b html docs docs/_build/html

Generated at build time, never edited by hand (and not in git): the API pages ``docs/api/<package>.rst`` and their
autosummary stubs (from each package's ``__all__``, ``_ext/api_pages.py``), the check tables, errata, proof audit,
readings and bounds (directives of ``_ext/registry_pages.py`` reading the registries), the notebooks
(``docs/notebooks/``, copied from ``notebooks/``, executed by ``_ext/notebook_runner.py``, rendered by myst-nb) and
the gallery (``docs/auto_examples/``, built by sphinx-gallery from ``examples/``).  The tutorials and the getting-started
page include the README's sections as they are.

Environment: ``THEORYTOOLS_DOCS_FRESH=1`` executes every notebook and example again instead of reusing the results of an
earlier build (``tests/test_docs.py`` sets it, so that the build tests the code as it is now).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(REPO))  # the checkout's packages, also when the build runs without an installed copy

import matplotlib  # noqa: E402

matplotlib.use("Agg")

from api_pages import write_api_pages  # noqa: E402

import theorytools  # noqa: E402

FRESH = os.environ.get("THEORYTOOLS_DOCS_FRESH", "") not in ("", "0")

project = "theorytools"
author = "the theorytools authors"
copyright = "theorytools authors, BSD-3-Clause"
release = version = theorytools.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax served from _static: the maths renders without a network (a CDN otherwise)
    "numpydoc",
    "myst_nb",
    "notebook_runner",
    "sphinx_gallery.gen_gallery",
    "registry_pages",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.json", "auto_examples/*.md5"]
root_doc = "index"
primary_domain = "py"

# -- the API reference, from __all__ ---------------------------------------------------------------------------------
write_api_pages(DOCS / "api")
autosummary_generate = True
autosummary_ignore_module_all = False  # a submodule with __all__ lists exactly those names
autodoc_typehints = "none"  # the numpydoc Parameters sections give the types
autodoc_member_order = "bysource"
autodoc_default_options = {}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set = set()  # the docstrings are checked by tests/test_docs.py, not by the build


def _summary_with_whole_literals(extract):
    """autosummary's one-line summary, extended to the end of a sentence that leaves no inline literal open.

    Sphinx 9 cuts a summary at the first ". " even inside ````d_0 -> ... -> d_L````: it means to re-parse each
    candidate and keep the first one without markup errors, but re-parses the whole paragraph instead, so the cut
    summary then fails as "Inline literal start-string without end-string"."""
    import re

    def balanced(text: str) -> bool:
        return text.count("``") % 2 == 0 and text.replace("``", "").count("`") % 2 == 0

    def extract_summary(doc, settings):
        summary = extract(doc, settings)
        if balanced(summary):
            return summary
        stanza = " ".join(line.strip() for line in "\n".join(doc).strip().split("\n\n")[0].splitlines())
        for end in re.finditer(r"\.(?=\s|$)", stanza):
            candidate = stanza[: end.end()]
            if balanced(candidate) and len(candidate) >= len(summary):
                return candidate
        return stanza

    return extract_summary


import sphinx.ext.autosummary as _autosummary  # noqa: E402

_autosummary.extract_summary = _summary_with_whole_literals(_autosummary.extract_summary)

# -- notebooks (myst-nb) ---------------------------------------------------------------------------------------------
# notebooks/ is outside the source folder: copy it in (mtime kept, so that an unchanged notebook is not re-read).
(DOCS / "notebooks").mkdir(exist_ok=True)
for nb in sorted((REPO / "notebooks").glob("*.ipynb")):
    target = DOCS / "notebooks" / nb.name
    if not target.exists() or target.read_bytes() != nb.read_bytes():
        shutil.copy2(nb, target)
for stale in (DOCS / "notebooks").glob("*.ipynb"):
    if not (REPO / "notebooks" / stale.name).exists():
        stale.unlink()
# stored without outputs: executed while the rest of the site builds (_ext/notebook_runner.py), one at a time, or
# taken from an earlier build's executed copy while unchanged; myst-nb renders the executed notebooks as they are
notebook_runner_fresh = FRESH
notebook_runner_workers = 1  # one kernel beside the main process: two cores busy, and the gallery's timings undisturbed
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]

# -- gallery (sphinx-gallery) ----------------------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(REPO / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "run_stale_examples": FRESH,
    "image_scrapers": ("matplotlib",),
    "show_memory": False,
    "min_reported_time": 1,
}

# -- HTML --------------------------------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"theorytools {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 7,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
# no left column on the pages without subpages: the generated tables get the width
html_sidebars = {"**": ["sidebar-nav-bs"], **{page: [] for page in ("index", "getting_started", "errata", "audit",
                                                                     "readings")}}
