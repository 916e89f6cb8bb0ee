"""``distcourse publish DIR``: the student edition of the course.

A course has two repositories. This one is the instructor's: ``solutions/`` (every answer and
every hidden test), ``course/`` (nbgrader's configuration, the gradebook, submissions), the test
suite. Students get another, written by this command and opened by their Binder badge: the
student labs, the library, ``binder/``, a student README and a ``pyproject.toml`` to install it
with; nothing else.

Publishing is checked before anything is written: the labs must be up to date with
``solutions/`` (else students would get stale exercises), and no file of the edition may contain
nbgrader's solution or hidden-test markers, nor a line that appears only in a solution or a
hidden test. (The library's reference implementations are part of the course: a line that is in
``distlib/`` too is not a leak of ``solutions/``; the instructor's guide lists which exercises
the library answers in some form.) The edition is assembled in a scratch folder beside ``DIR``
and moved in only when the checks pass. An existing ``DIR`` (a clone of the student repository,
say) keeps its ``.git`` and every file the edition does not write; the edition's own files are
replaced only with ``--force``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import shutil
import tempfile
from pathlib import Path

from distlib.course.commands import release, run_guarded, say
from distlib.course.nbg import Course, CourseError

__all__ = ["EDITION", "leaked_lines", "publish", "secret_lines"]

# What the student edition holds (top-level names); nothing else is written.
EDITION = ("README.md", "pyproject.toml", ".gitignore", "binder", "distlib", "labs")

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
_BLOCK = re.compile(
    r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END (?:SOLUTION|HIDDEN TESTS)", re.S
)
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.egg-info")


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _text(cell: dict) -> str:
    src = cell.get("source", "")
    return src if isinstance(src, str) else "".join(src)


def _lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines() if line.strip()}


def secret_lines(course: Course, *, shown: set[str], minimum: int = 20) -> dict[str, str]:
    """Lines that only a solution or a hidden test holds -> where they come from.

    A line counts when it is at least ``minimum`` characters long (stripped) and is not in
    ``shown`` (what the edition shows anyway: the student labs, the library's source).
    """
    found: dict[str, str] = {}
    for lab in course.lab_names():
        for path in course.source_notebooks(lab):
            for cell in _cells(path):
                gid = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id", "?")
                for kind, block in _BLOCK.findall(_text(cell)):
                    where = f"{lab} {gid} ({'solution' if kind == 'SOLUTION' else 'hidden test'})"
                    for line in _lines(block):
                        if len(line) >= minimum and line not in shown:
                            found.setdefault(line, where)
    return found


def leaked_lines(folder: Path, secrets: dict[str, str]) -> list[str]:
    """Every file of ``folder`` holding a secret line, and every notebook holding one of
    nbgrader's solution or hidden-test markers: ``file: what`` per leak."""
    leaks = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if ".git" in path.relative_to(folder).parts:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        rel = path.relative_to(folder)
        if path.suffix == ".ipynb":
            with contextlib.suppress(ValueError, AttributeError):
                text = "\n".join(_text(c) for c in json.loads(text).get("cells", []))
            # (the library's course tooling names the markers in its code: only notebooks
            # may not hold them)
            leaks += [f"{rel}: {m!r}" for m in MARKERS if m in text]
        for line in _lines(text) & secrets.keys():
            leaks.append(f"{rel}: a line of {secrets[line]}: {line[:60]!r}")
    return leaks


def _library_lines(root: Path) -> set[str]:
    shown: set[str] = set()
    for path in (root / "distlib").rglob("*.py"):
        shown |= _lines(path.read_text(encoding="utf-8"))
    return shown


def _lab_lines(labs: Path) -> set[str]:
    shown: set[str] = set()
    for path in labs.rglob("*.ipynb"):
        for cell in _cells(path):
            shown |= _lines(_text(cell))
    return shown


def _student_pyproject(text: str) -> str:
    """pyproject.toml without the instructor's tool sections (pytest, ruff)."""
    out, keep = [], True
    for line in text.splitlines():
        if line.startswith("["):
            keep = not line.startswith("[tool.") or line.startswith("[tool.setuptools")
        if keep:
            out.append(line)
    return "\n".join(out).rstrip() + "\n"


def _lab_table(readme: str) -> str:
    """The table of labs from the course README (its '## The labs' section)."""
    match = re.search(r"## The labs\n\n(\|.*?)\n\n", readme, re.S)
    return match.group(1) if match else ""


STUDENT_README = """\
# Distributed systems, hands on: the labs

[![Open the labs on Binder](https://mybinder.org/badge_logo.svg)]({binder})

Eight JupyterLab labs in which you build distributed protocols (Raft, Paxos, two-phase commit,
replication, clocks, failure detectors) on a simulated network that loses, duplicates and
reorders messages, partitions and crashes nodes, and a checker judges every run.

**One click:** the badge above opens the labs in JupyterLab on Binder, with nothing to install.

**On your own machine** (Python 3.11 or newer), from a clone of this repository:

```
python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/jupyter lab labs/
```

## The labs

{labs}

Each lab is one notebook in `labs/<lab>/`. Read the walkthrough, run the cells, and answer the
exercises in the cells that say `YOUR CODE HERE` (and `YOUR ANSWER HERE` for written answers).
The test cells below each exercise check your answer; your instructor grades the notebook you
hand in with more tests of the same rules. To check a whole notebook from a terminal:

```
.venv/bin/distcourse validate labs/lab01-models/lab01-models.ipynb
```

It names each failing test cell with its error and lists the written answers still to do.

## What is here

| folder | what it holds |
|---|---|
| `labs/` | the lab notebooks |
| `distlib/` | the library the labs use: nodes, the simulated network, protocols, checkers |
| `binder/` | the configuration Binder builds the environment from |

`distlib/` holds the course's reference implementations of the protocols, which the walkthroughs
run and which you are welcome to read. An exercise asks you to write a rule yourself: a graded
answer must be your own code (a class that inherits or calls the library's version of the method
it asks for earns nothing), and your instructor may compare submissions.
"""

GITIGNORE = """\
__pycache__/
*.py[cod]
*.egg-info/
.venv/
.ipynb_checkpoints/
dask-worker-space/
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``publish`` command to a ``distcourse`` sub-parser collection."""
    p = sub.add_parser(
        "publish", help="write the student edition (labs, library, binder; no answers) to DIR"
    )
    p.add_argument("folder", metavar="DIR", type=Path, help="where to write the student edition")
    p.add_argument("--repo", metavar="OWNER/NAME", help="the student repository, for the badge")
    p.add_argument(
        "--force", action="store_true", help="replace the edition's files already in DIR"
    )
    p.set_defaults(
        func=run_guarded(lambda a: publish(Course.find(), a.folder, force=a.force, repo=a.repo))
    )


def publish(course: Course, target: Path, *, force: bool = False, repo: str | None = None) -> int:
    """Write the student edition of ``course`` into ``target``; return an exit code."""
    target = Path(target).resolve()
    root = course.root.resolve()
    if target == root or root in target.parents:
        raise CourseError(
            f"{target} is inside the course repository: publish the student edition to a "
            "folder of its own (a clone of the student repository, for example)"
        )
    if target.exists() and not target.is_dir():
        raise CourseError(f"{target} exists and is not a folder")
    present = sorted(p.name for p in target.iterdir()) if target.is_dir() else []
    ours = [name for name in present if name in EDITION]
    if ours and not force:
        raise CourseError(
            f"{target} already holds {', '.join(ours)}; pass --force to replace the student "
            "edition's files there (other files and .git are left alone)"
        )
    if repo is not None and not re.fullmatch(r"[\w.-]+/[\w.-]+", repo):
        raise CourseError(f"--repo must look like OWNER/NAME, not {repo!r}")
    if release(course, check=True) != 0:
        raise CourseError(
            "labs/ is out of date with solutions/ (see above): run distcourse release first"
        )

    binder = f"https://mybinder.org/v2/gh/{repo or 'OWNER/REPOSITORY'}/HEAD?urlpath=lab/tree/labs"
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".publish-", dir=target.parent) as tmp:
        stage = Path(tmp)
        shutil.copytree(root / "labs", stage / "labs", ignore=_IGNORE)
        shutil.copytree(root / "distlib", stage / "distlib", ignore=_IGNORE)
        shutil.copytree(root / "binder", stage / "binder", ignore=_IGNORE)
        pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
        (stage / "pyproject.toml").write_text(_student_pyproject(pyproject), encoding="utf-8")
        readme = (root / "README.md").read_text(encoding="utf-8")
        (stage / "README.md").write_text(
            STUDENT_README.format(binder=binder, labs=_lab_table(readme)), encoding="utf-8"
        )
        (stage / ".gitignore").write_text(GITIGNORE, encoding="utf-8")

        shown = _lab_lines(stage / "labs") | _library_lines(stage)
        leaks = leaked_lines(stage, secret_lines(course, shown=shown))
        if leaks:
            raise CourseError(
                f"the student edition would reveal {len(leaks)} solution or hidden-test "
                "line(s); nothing was written:\n  " + "\n  ".join(leaks[:10])
            )
        target.mkdir(exist_ok=True)
        for name in EDITION:
            dest = target / name
            if dest.is_dir() and not dest.is_symlink():
                shutil.rmtree(dest)
            elif dest.exists() or dest.is_symlink():
                dest.unlink()
            shutil.move(str(stage / name), dest)
    kept = [name for name in present if name not in EDITION and name != ".git"]
    say(f"published the student edition to {target}: {', '.join(EDITION)}")
    if kept:
        say(f"left alone in {target}: {', '.join(kept)}")
    if repo is None:
        say("the README's Binder badge says OWNER/REPOSITORY: pass --repo OWNER/NAME to fill it")
    return 0
