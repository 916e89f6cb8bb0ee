"""``distcourse start``: a student's own copy of the labs, and JupyterLab on it.

The notebooks in ``labs/`` are tracked by git: if a student worked in them, JupyterLab's autosave
would change tracked files, ``git pull`` would conflict and ``distcourse release --check`` would
report the labs out of date. So a student works in a folder of their own, ``work/`` (ignored
by git): ``start`` copies into it every lab file it does not hold yet — never overwriting one,
so a later release adds new labs (and new files) and leaves the student's work alone — then
opens JupyterLab there, configured for a student: nbgrader's instructor tools and JupyterLab's
news pop-up switched off (:data:`STUDENT_DISABLED`), the Validate button kept. Instructors
start JupyterLab themselves, from ``course/``, to get the formgrader.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from distlib.course.nbg import CourseError

__all__ = [
    "STUDENT_DISABLED",
    "WORK",
    "copy_labs",
    "labs_root",
    "register",
    "start",
    "student_config",
    "student_environment",
]

#: The student's folder, beside labs/ (listed in .gitignore).
WORK = "work"

#: JupyterLab plugins a student does not need: nbgrader's instructor tools (the formgrader,
#: assignment creation, the course and exchange lists, and the "Nbgrader" menu that would be
#: left empty) and JupyterLab's "get notified about Jupyter news?" pop-up. nbgrader's Validate
#: button stays.
STUDENT_DISABLED = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
    "@jupyter/nbgrader:assignment-list",
    "@jupyter/nbgrader:menu",
    "@jupyterlab/apputils-extension:announcements",
)

#: nbgrader's server extensions behind those tools.
STUDENT_SERVER_OFF = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
    "nbgrader.server_extensions.assignment_list",
)


def student_config(folder: Path) -> Path:
    """Write the Jupyter configuration of a student's JupyterLab into ``folder`` (a page
    config that switches off :data:`STUDENT_DISABLED`, a server config that switches off
    :data:`STUDENT_SERVER_OFF`) and return it: a folder for ``JUPYTER_CONFIG_PATH``."""
    (folder / "labconfig").mkdir(parents=True, exist_ok=True)
    off = dict.fromkeys(STUDENT_DISABLED, True)
    page = {"disabledExtensions": off, "lockedExtensions": off}  # locked: not re-enabled in the UI
    (folder / "labconfig" / "page_config.json").write_text(json.dumps(page, indent=1) + "\n")
    server = {"ServerApp": {"jpserver_extensions": dict.fromkeys(STUDENT_SERVER_OFF, False)}}
    (folder / "jupyter_server_config.json").write_text(json.dumps(server, indent=1) + "\n")
    return folder


def student_environment(config: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with ``config`` first on the Jupyter
    configuration path, so that JupyterLab started with it is a student's."""
    env = dict(os.environ if base is None else base)
    rest = env.get("JUPYTER_CONFIG_PATH")
    env["JUPYTER_CONFIG_PATH"] = str(config) + (os.pathsep + rest if rest else "")
    return env


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
    config = student_config(work / ".jupyter-student")
    return subprocess.call(
        [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={work}"],
        env=student_environment(config),
    )


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
