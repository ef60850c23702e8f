"""CI runs what the README tells a newcomer to run (DEVELOPERS.md: ".ci/run must call exactly the README's test
command"; issue 15: CI also runs the README's main command in a clean environment of its own)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _command_after(text: str, lead: str) -> str:
    block = text.split(lead, 1)[1]
    return re.search(r"```bash\n(.+?)\n```", block, re.S).group(1).strip()


def test_ci_runs_the_readme_commands():
    readme = (ROOT / "README.md").read_text()
    main_cmd = _command_after(readme, "One command installs and runs the main job")
    test_cmd = _command_after(readme, "One command installs and runs the tests")
    lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_cmd in lines, f"the README's test command is not a line of .ci/run: {test_cmd}"
    assert any(ln.endswith(f"&& {main_cmd})") for ln in lines), f".ci/run does not run the README's main command: {main_cmd}"
    assert "--quick" in main_cmd and "[dev]" not in main_cmd
