"""nbgrader preprocessors the course adds to grading and feedback.

* :class:`DropWarnings` (autograde, after execution): removes stderr output made only of Python
  warnings from test cells, so a library's deprecation notice cannot zero a correct answer
  (nbgrader scores any stderr output as a failure). Real errors still fail the cell.
* :class:`RestoreCells` (autograde, sanitizing): nbgrader's OverwriteCells, except that cells a
  student deleted are put back exactly where the source notebook has them: test cells (with
  their hidden tests), locked scaffold and import cells, and written answers. nbgrader's own
  restoration inserts a missing test cell after the previous *graded* cell, which can put it
  before the cells it needs, and fails with a KeyError when the previous source cell is a locked
  read-only cell; it never restores locked cells that are not graded.
* :class:`StripHiddenTests` (feedback): removes hidden test code from the notebook rendered for the
  student, and shortens error tracebacks in test cells to their last line, so the hidden tests
  are not revealed through a traceback either.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from nbformat.notebooknode import NotebookNode
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.preprocessors import NbGraderPreprocessor, OverwriteCells
from nbgrader.utils import is_grade, is_solution

__all__ = ["DropWarnings", "RestoreCells", "StripHiddenTests", "is_warning_text", "strip_hidden"]

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


def _grade_id(cell) -> str | None:
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta.get("grade_id") if isinstance(meta, dict) else None


class RestoreCells(OverwriteCells):
    """OverwriteCells that puts every deleted cell back where the source notebook has it.

    The submission is cut into groups: each cell the source knows (by grade_id) starts a group,
    and the student's own cells (no nbgrader metadata) stay in the group of the cell above them.
    The groups are laid out in the source's order, and each source cell that is missing is put
    back in its place: graded cells as nbgrader restores them (with the note that they were
    missing), locked cells with their source. A deleted solution cell stays deleted (that is the
    student's answer). When the source notebook cannot be read, nbgrader's own restoration runs.
    """

    def _source_order(self, resources) -> list[str] | None:
        from nbgrader.coursedir import CourseDirectory

        info = resources["nbgrader"]
        coursedir = CourseDirectory(config=self.config)
        path = (
            Path(coursedir.root)
            / coursedir.source_directory
            / info["assignment"]
            / f"{info['notebook']}.ipynb"
        )
        try:
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        except (OSError, ValueError, KeyError, TypeError):
            self.log.warning("Cannot read the source notebook %s: cells restored by nbgrader", path)
            return None
        return [gid for gid in map(_grade_id, cells) if gid]

    def add_missing_grade_cells(self, nb, resources):
        order = self._source_order(resources)
        if order is None:
            return super().add_missing_grade_cells(nb, resources)
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        sources = {cell.name: cell for cell in source_nb.source_cells}
        graded = {cell.name: cell for cell in source_nb.grade_cells}
        solutions = {cell.name for cell in source_nb.solution_cells}

        head: list = []
        groups: dict[str, list] = {}
        current = head
        for cell in nb.cells:
            gid = _grade_id(cell)
            if gid is not None and gid in sources and gid not in groups:
                current = groups[gid] = [cell]
            else:
                current.append(cell)

        cells = list(head)
        for gid in order:
            if gid in groups:
                cells.extend(groups.pop(gid))
                continue
            source = sources.get(gid)
            if source is None:
                continue
            if gid in graded:
                self.log.warning("Missing cell %s put back where the source has it", gid)
                cells.append(
                    self.missing_cell_transform(
                        source, graded[gid].max_score, is_solution=gid in solutions
                    )
                )
            elif source.locked and gid not in solutions:
                self.log.warning("Missing locked cell %s put back where the source has it", gid)
                cells.append(self._locked_cell(source))
        for rest in groups.values():  # cells the source order does not name (none expected)
            cells.extend(rest)
        nb.cells = cells
        return nb, resources

    @staticmethod
    def _locked_cell(source) -> NotebookNode:
        cell = {
            "cell_type": source.cell_type,
            "metadata": {
                "deletable": False,
                "editable": False,
                "nbgrader": {
                    "grade": False,
                    "grade_id": source.name,
                    "locked": True,
                    "checksum": source.checksum,
                    "cell_type": source.cell_type,
                    "solution": False,
                    "schema_version": 3,
                },
            },
            "source": source.source,
        }
        if source.cell_type == "code":
            cell["execution_count"] = None
            cell["outputs"] = []
        return MetadataValidator().upgrade_cell_metadata(NotebookNode(cell))
