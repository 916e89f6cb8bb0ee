"""`distcourse start`: a student works in a folder of their own, so their edits never touch
tracked files; the copy is made once and never overwrites a student's file; a later release
adds only what is new, and says so."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from distlib.course.cli import main
from distlib.course.nbg import CourseError
from distlib.course.start import copy_labs, labs_root, start

ROOT = Path(__file__).resolve().parents[1]


def course_copy(tmp_path: Path) -> Path:
    """A minimal course tree: labs/ with two labs, and a distlib/ marker folder."""
    root = tmp_path / "course"
    (root / "distlib").mkdir(parents=True)
    for lab in ("lab01-models", "lab02-compute"):
        shutil.copytree(ROOT / "labs" / lab, root / "labs" / lab)
    return root


def test_start_copies_every_lab_once_and_never_overwrites_the_students_work(tmp_path, capsys):
    """The first start copies every lab into work/; a student's edit survives a second start,
    which reports that nothing changed."""
    root = course_copy(tmp_path)
    assert start(root, open_lab=False) == 0
    assert "your copy of the labs is in work/ (2 labs)" in capsys.readouterr().out
    notebook = root / "work" / "lab01-models" / "lab01-models.ipynb"
    assert (
        notebook.read_bytes()
        == (root / "labs" / "lab01-models" / "lab01-models.ipynb").read_bytes()
    )
    notebook.write_text("my answers")
    assert start(root, open_lab=False) == 0
    assert "up to date; your work is as you left it" in capsys.readouterr().out
    assert notebook.read_text() == "my answers"


def test_a_later_release_adds_only_the_new_lab_and_says_so(tmp_path, capsys):
    """A lab released after the first start is copied in, by name; the others are untouched."""
    root = course_copy(tmp_path)
    start(root, open_lab=False)
    mine = root / "work" / "lab02-compute" / "lab02-compute.ipynb"
    mine.write_text("work in progress")
    shutil.copytree(ROOT / "labs" / "lab03-consistency", root / "labs" / "lab03-consistency")
    capsys.readouterr()
    start(root, open_lab=False)
    assert "new labs added to work/: lab03-consistency" in capsys.readouterr().out
    assert (root / "work" / "lab03-consistency" / "lab03-consistency.ipynb").is_file()
    assert mine.read_text() == "work in progress"


def test_a_deleted_file_comes_back_but_nothing_else_changes(tmp_path):
    """copy_labs restores a file the student deleted and copies nothing they still have."""
    root = course_copy(tmp_path)
    copy_labs(root / "labs", root / "work")
    gone = root / "work" / "lab01-models" / "lab01-models.ipynb"
    gone.unlink()
    new, copied = copy_labs(root / "labs", root / "work")
    assert new == [] and copied == [gone]


def test_the_work_folder_is_ignored_by_git():
    """A student's work/ never shows up as a change in the repository."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(
        ["git", "check-ignore", "-q", "work/lab01-models/lab01-models.ipynb"], cwd=ROOT
    )
    assert out.returncode == 0, "work/ must be listed in .gitignore"


def test_start_outside_the_course_names_the_problem(tmp_path):
    """Run away from the course, start says where it looked and what to do."""
    with pytest.raises(CourseError, match="not inside the course"):
        labs_root(tmp_path)


def test_the_command_line_copies_without_opening_jupyterlab(tmp_path, monkeypatch, capsys):
    """`distcourse start --no-open` from inside the course copies the labs and exits 0."""
    root = course_copy(tmp_path)
    monkeypatch.chdir(root / "labs")
    assert main(["start", "--no-open"]) == 0
    assert (root / "work" / "lab01-models").is_dir()
