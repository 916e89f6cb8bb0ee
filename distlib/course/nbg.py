"""Finding the course and talking to nbgrader's Python API.

Everything nbgrader-specific that ``distcourse`` needs sits here: locating the repository from
any directory inside it, loading ``course/nbgrader_config.py`` (nbgrader itself only reads it from
the current directory), and running nbgrader's converters with the log captured, so that a
failure becomes one clear line instead of a page of traceback.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Course", "CourseError", "find_root"]

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
LAB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


class CourseError(Exception):
    """A problem the user can fix, reported as one line by ``distcourse``."""


def find_root(start: Path | None = None) -> Path:
    """The repository root: the nearest folder above ``start`` with course/nbgrader_config.py."""
    env = os.environ.get("DISTCOURSE_ROOT")
    if env:
        root = Path(env).resolve()
        if not (root / "course" / "nbgrader_config.py").is_file():
            raise CourseError(f"DISTCOURSE_ROOT={env} has no course/nbgrader_config.py")
        return root
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "course" / "nbgrader_config.py").is_file() and (folder / "solutions").is_dir():
            return folder
    raise CourseError(
        f"{here} is not inside the course repository (no course/nbgrader_config.py above it): "
        "run distcourse from the repository, or set DISTCOURSE_ROOT"
    )


@contextlib.contextmanager
def _chdir(path: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


@dataclass
class Course:
    """The course repository: its folders, labs and nbgrader configuration."""

    root: Path

    @classmethod
    def find(cls, start: Path | None = None) -> Course:
        return cls(find_root(start))

    # -- folders -------------------------------------------------------------------------------

    @property
    def course_dir(self) -> Path:
        return self.root / "course"

    @property
    def solutions(self) -> Path:
        return self.root / "solutions"

    @property
    def labs(self) -> Path:
        return self.root / "labs"

    @property
    def submitted(self) -> Path:
        return self.course_dir / "submitted"

    @property
    def autograded(self) -> Path:
        return self.course_dir / "autograded"

    @property
    def feedback(self) -> Path:
        return self.course_dir / "feedback"

    @property
    def grades(self) -> Path:
        return self.course_dir / "grades"

    def lab_names(self) -> list[str]:
        """Every lab with a source folder in solutions/, in teaching order."""
        return sorted(
            p.name
            for p in self.solutions.iterdir()
            if p.is_dir() and not p.name.startswith((".", "_"))
        )

    def check_lab(self, lab: str) -> str:
        """``lab`` itself if it is a known lab, else a CourseError listing the known ones."""
        if not LAB_ID.match(lab or ""):
            raise CourseError(f"{lab!r} is not a valid lab name")
        if not (self.solutions / lab).is_dir():
            known = ", ".join(self.lab_names()) or "none"
            raise CourseError(f"unknown lab {lab!r} (known labs: {known})")
        return lab

    def source_notebooks(self, lab: str) -> list[Path]:
        return sorted((self.solutions / lab).glob("*.ipynb"))

    def submissions(self, lab: str) -> dict[str, list[Path]]:
        """Submitted notebooks of ``lab`` by student id."""
        out: dict[str, list[Path]] = {}
        if not self.submitted.is_dir():
            return out
        for student in sorted(self.submitted.iterdir()):
            notebooks = sorted((student / lab).glob("*.ipynb"))
            if notebooks:
                out[student.name] = notebooks
        return out

    # -- nbgrader ------------------------------------------------------------------------------

    def config(self, **overrides: Any):
        """The course's nbgrader Config, with ``{"Section.option": value}`` overrides."""
        from traitlets.config import Config
        from traitlets.config.loader import PyFileConfigLoader

        loader = PyFileConfigLoader("nbgrader_config.py", path=str(self.course_dir))
        config = loader.load_config()
        extra = Config()
        for key, value in overrides.items():
            section, option = key.split(".", 1)
            extra[section][option] = value
        config.merge(extra)
        return config

    @contextlib.contextmanager
    def api(self, **overrides: Any) -> Iterator[Any]:
        """nbgrader's API object, used from the course folder (where nbgrader expects to be)."""
        import logging

        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        # nbgrader logs every step (and a "critical" note about the JupyterHub exchange folder,
        # which a local course does not use); distcourse prints its own summaries instead and
        # reads nbgrader's captured log when something fails.
        logger = logging.getLogger("traitlets")
        level = logger.level
        logger.setLevel(logging.CRITICAL + 1)
        _tools_on_path()
        try:
            with _chdir(self.course_dir), self.quiet():
                config = self.config(**overrides)
                coursedir = CourseDirectory(config=config)
                yield NbGraderAPI(coursedir=coursedir, config=config)
        finally:
            logger.setLevel(level)

    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        """Send nbgrader's and the kernels' chatter on stderr to course/.distcourse.log.

        nbgrader, SQLAlchemy and every kernel it starts write warnings to the terminal that say
        nothing to an instructor; distcourse prints its own one-line summaries instead.
        """
        import sys
        import warnings

        log = self.course_dir / ".distcourse.log"
        sys.stderr.flush()
        saved = os.dup(2)
        with open(log, "a", encoding="utf-8") as fh, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            os.dup2(fh.fileno(), 2)
            try:
                yield
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
                os.close(saved)


def _tools_on_path() -> None:
    """nbgrader runs helper programs (``alembic``) by name: make sure this environment's
    scripts folder is on PATH even when the virtual environment was not activated."""
    import sys

    scripts = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if scripts not in path.split(os.pathsep):
        os.environ["PATH"] = scripts + (os.pathsep + path if path else "")


def read_notebook(path: Path) -> dict:
    """Parse a notebook file, raising CourseError that names the file when it is not one."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise CourseError(f"{path}: no such notebook") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CourseError(f"{path}: not a valid notebook (JSON error: {exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise CourseError(f"{path}: not a valid notebook (no list of cells)")
    return data


def nbgrader_cells(nb: dict) -> list[dict]:
    """The cells of ``nb`` that carry nbgrader metadata."""
    return [c for c in nb["cells"] if isinstance(c.get("metadata", {}).get("nbgrader"), dict)]


def last_error_line(log: str | None, error: str | None = None) -> str:
    """The most useful single line of an nbgrader failure."""
    for text in (error, log):
        if not text:
            continue
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        for line in reversed(lines):
            if "[ERROR]" in line or "Error" in line or "error" in line:
                return line.split("] ", 1)[-1][:300]
        if lines:
            return lines[-1][:300]
    return "nbgrader failed without a message"
