"""``distcourse start``: a student's own copy of the labs, and JupyterLab on it.

The notebooks in ``labs/`` are tracked by git: if a student worked in them, JupyterLab's autosave
would change tracked files, ``git pull`` would conflict and ``distcourse release --check`` would
report the labs out of date. So a student works in a folder of their own, ``work/`` (ignored
by git): ``start`` copies into it every lab file it does not hold yet — never overwriting one,
so a later release adds new labs (and new files) and leaves the student's work alone — then
opens JupyterLab there.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from distlib.course.nbg import CourseError

__all__ = ["WORK", "copy_labs", "labs_root", "register", "start"]

#: The student's folder, beside labs/ (listed in .gitignore).
WORK = "work"


def labs_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: here) holding ``labs/`` and the
    course's ``distlib/``: the repository, or the student edition ``distcourse publish`` wrote."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "labs").is_dir() and (folder / "distlib").is_dir():
            return folder
    raise CourseError(
        f"{here} is not inside the course (no labs/ and distlib/ above it): run distcourse "
        "start from the folder you cloned"
    )


def copy_labs(labs: Path, work: Path) -> tuple[list[str], list[Path]]:
    """Copy every file of ``labs`` that ``work`` does not hold yet; never overwrite one.

    Returns the labs that are new in ``work`` (folder names) and every file copied.
    """
    if not labs.is_dir():
        raise CourseError(f"no labs/ folder at {labs}: run this from the course's repository")
    new_labs: list[str] = []
    copied: list[Path] = []
    for lab in sorted(p for p in labs.iterdir() if p.is_dir()):
        target = work / lab.name
        if not target.exists():
            new_labs.append(lab.name)
        for source in sorted(lab.rglob("*")):
            if not source.is_file() or ".ipynb_checkpoints" in source.parts:
                continue
            dest = target / source.relative_to(lab)
            if dest.exists():
                continue  # the student's copy, perhaps changed: never replaced
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest)
            copied.append(dest)
    return new_labs, copied


def start(root: Path | None = None, *, folder: Path | None = None, open_lab: bool = True) -> int:
    """Copy the labs into the work folder (see the module doc), say what changed, and open
    JupyterLab on it unless ``open_lab`` is False. Returns an exit code."""
    root = labs_root(root)
    work = folder if folder is not None else root / WORK
    first = not work.exists()
    work.mkdir(parents=True, exist_ok=True)
    new_labs, copied = copy_labs(root / "labs", work)
    where = _shown(work, root)
    if first:
        print(f"your copy of the labs is in {where}/ ({len(new_labs)} labs); work there")
    elif new_labs:
        print(f"new labs added to {where}/: {', '.join(new_labs)}")
    elif copied:
        print(f"new files added to {where}/: {', '.join(str(_shown(p, work)) for p in copied)}")
    else:
        print(f"{where}/ is up to date; your work is as you left it")
    if not open_lab:
        return 0
    return subprocess.call([sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={work}"])


def _shown(path: Path, base: Path) -> Path:
    try:
        return path.relative_to(base)
    except ValueError:
        return path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "start",
        help="copy the labs into your own work/ folder (never overwriting) and open JupyterLab",
    )
    p.add_argument("--folder", type=Path, help=f"the work folder (default: {WORK}/ in the course)")
    p.add_argument("--no-open", action="store_true", help="only copy; do not start JupyterLab")

    def run(args: argparse.Namespace) -> int:
        try:
            return start(folder=args.folder, open_lab=not args.no_open)
        except CourseError as err:
            print(f"distcourse: {err}", file=sys.stderr)
            return 2

    p.set_defaults(func=run)
