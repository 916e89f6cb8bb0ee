"""The README's promises: two set-up commands and the full test run, each one line, and CI runs
the test commands verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```\n(.+?)\n```", section, flags=re.S)


def test_readme_has_exactly_two_setup_commands_and_the_full_run():
    """The set-up section gives two one-line commands (open one's own copy of the labs; install
    and run the quick tests) and one more for the full test run."""
    cmds = commands()
    assert len(cmds) == 3, f"expected two set-up commands and the full run, found {cmds}"
    assert all("\n" not in c for c in cmds)
    assert "distcourse start" in cmds[0]  # opens JupyterLab on the student's own copy
    assert "pytest" in cmds[1] and ".[test]" in cmds[1] and "--full" not in cmds[1]
    assert cmds[2].endswith("python -m pytest --full")


def test_ci_runs_the_readme_test_commands():
    """.ci/run contains the README's test command verbatim, so CI tests what readers run, and
    runs what only the full run adds."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert commands()[1] in ci
    assert ".venv/bin/python -m pytest --full -m full" in ci
