"""nbgrader preprocessors the course adds to grading and feedback.

* :class:`DropWarnings` (autograde, after execution): removes stderr output made only of Python
  warnings from test cells, so a library's deprecation notice cannot zero a correct answer
  (nbgrader scores any stderr output as a failure). Real errors still fail the cell.
* :class:`StripHiddenTests` (feedback): removes hidden test code from the notebook rendered for the
  student, and shortens error tracebacks in test cells to their last line, so the hidden tests
  are not revealed through a traceback either.
"""

from __future__ import annotations

import re

from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade, is_solution

__all__ = ["DropWarnings", "StripHiddenTests", "is_warning_text", "strip_hidden"]

# "path/file.py:12: DeprecationWarning: message" and the indented source line that follows it.
_WARNING_LINE = re.compile(r"^\S.*:\d+: [A-Za-z_]*Warning: ")

BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"


def is_warning_text(text: str) -> bool:
    """True when ``text`` is nothing but Python warning messages (and their source lines)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or not _WARNING_LINE.match(lines[0]):
        return False
    return all(_WARNING_LINE.match(line) or line.startswith((" ", "\t")) for line in lines)


def strip_hidden(source: str) -> str:
    """``source`` without its hidden-test blocks (markers included)."""
    out, hidden = [], False
    for line in source.splitlines():
        if line.strip().startswith(BEGIN_HIDDEN):
            hidden = True
            continue
        if line.strip().startswith(END_HIDDEN):
            hidden = False
            continue
        if not hidden:
            out.append(line)
    return "\n".join(out).rstrip()


def _is_test_cell(cell) -> bool:
    return cell.cell_type == "code" and is_grade(cell) and not is_solution(cell)


class DropWarnings(NbGraderPreprocessor):
    """Remove warning-only stderr output from autograded test cells."""

    def preprocess_cell(self, cell, resources, index):
        if _is_test_cell(cell) and cell.get("outputs"):
            kept = [
                out
                for out in cell.outputs
                if not (
                    out.get("output_type") == "stream"
                    and out.get("name") == "stderr"
                    and is_warning_text(out.get("text", ""))
                )
            ]
            if len(kept) != len(cell.outputs):
                self.log.info(
                    "Dropped warning output from cell %s", cell.metadata.nbgrader.get("grade_id")
                )
                cell.outputs = kept
        return cell, resources


class StripHiddenTests(NbGraderPreprocessor):
    """Hide hidden tests in feedback: drop their code and reduce tracebacks to one line."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and BEGIN_HIDDEN in cell.source:
            cell.source = strip_hidden(cell.source) + "\n# (hidden tests ran here)"
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    out["traceback"] = [f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"]
        return cell, resources
