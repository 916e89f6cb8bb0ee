"""The README's promises: two set-up commands, and CI runs the test command verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```\n(.+?)\n```", section, flags=re.S)


def test_readme_has_exactly_two_setup_commands():
    """The set-up section gives exactly two one-line commands: open the labs, run the tests."""
    cmds = commands()
    assert len(cmds) == 2, f"expected two set-up commands, found {len(cmds)}: {cmds}"
    assert all("\n" not in c for c in cmds)
    assert "jupyter lab labs/" in cmds[0]
    assert "pytest" in cmds[1] and ".[test]" in cmds[1]


def test_ci_runs_the_readme_test_command():
    """.ci/run contains the README's test command verbatim, so CI tests what readers run."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands()[1] in ci.splitlines()
