"""The student edition (`distcourse publish`): the labs, the library and Binder, no answers."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from distlib.course.nbg import Course, CourseError
from distlib.course.publish import EDITION, publish

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END (SOLUTION|HIDDEN TESTS)", re.S)


def cell_text(cell: dict) -> str:
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


def lines_of(text: str) -> set[str]:
    return {ln.strip() for ln in text.splitlines() if ln.strip()}


def answers_and_hidden_tests() -> dict[str, str]:
    """Every distinctive line of every solution block and hidden-test block in solutions/:
    20 characters or more, and not also shown by the student labs or the library's source
    (the library's reference implementations are published on purpose)."""
    shown = set()
    for path in (ROOT / "labs").rglob("*.ipynb"):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            shown |= lines_of(cell_text(cell))
    for path in (ROOT / "distlib").rglob("*.py"):
        shown |= lines_of(path.read_text(encoding="utf-8"))
    secrets = {}
    for path in (ROOT / "solutions").rglob("*.ipynb"):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            for kind, block, _ in BLOCK.findall(cell_text(cell)):
                for line in lines_of(block):
                    if len(line) >= 20 and line not in shown:
                        secrets[line] = f"{path.parent.name} ({kind.lower()})"
    return secrets


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    target = tmp_path_factory.mktemp("student") / "edition"
    assert publish(Course(ROOT), target, repo="a-teacher/distsys-labs") == 0
    return target


def test_edition_holds_only_the_student_files(edition):
    """The edition is the labs, the library, binder/, a README, pyproject and .gitignore: no
    solutions, no course folder (gradebook, nbgrader configuration), no tests."""
    assert sorted(p.name for p in edition.iterdir()) == sorted(EDITION)
    names = {p.name for p in edition.rglob("*")}
    for forbidden in ("gradebook.db", "nbgrader_config.py", "test_pipeline.py", "mistakes"):
        assert forbidden not in names, f"the student edition contains {forbidden}"
    assert "[tool.pytest" not in (edition / "pyproject.toml").read_text(encoding="utf-8")
    readme = (edition / "README.md").read_text(encoding="utf-8")
    assert "mybinder.org/v2/gh/a-teacher/distsys-labs/HEAD" in readme
    assert "lab07-raft" in readme and "solutions/" not in readme


def test_edition_reveals_no_solution_or_hidden_test_line(edition):
    """No file of the edition holds a line that only a solution or a hidden test has, and no
    notebook holds nbgrader's solution or hidden-test markers."""
    secrets = answers_and_hidden_tests()
    assert len(secrets) > 200, f"only {len(secrets)} distinctive lines: the scan is too weak"
    leaks = []
    for path in edition.rglob("*"):
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if path.suffix == ".ipynb":
            text = "\n".join(cell_text(c) for c in json.loads(text)["cells"])
            leaks += [
                f"{path.name}: {m}" for m in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS") if m in text
            ]
        leaks += [
            f"{path.relative_to(edition)}: {secrets[ln]}: {ln}"
            for ln in lines_of(text) & secrets.keys()
        ]
    assert not leaks, "the student edition leaks:\n" + "\n".join(leaks[:10])


def test_publish_refuses_to_leak(tmp_path, monkeypatch):
    """A solution line that has reached the library is caught, and nothing is written."""
    import distlib.course.publish as pub

    secret = "return sum(1 for every_answer in the_solution_only)  # distinctive"
    monkeypatch.setattr(pub, "secret_lines", lambda course, shown, minimum=20: {secret: "lab99"})
    monkeypatch.setattr(pub, "_library_lines", lambda root: set())
    real_copytree = shutil.copytree

    def copytree(src, dst, *args, **kw):
        out = real_copytree(src, dst, *args, **kw)
        if Path(dst).name == "distlib":
            (Path(dst) / "leaky.py").write_text(secret + "\n", encoding="utf-8")
        return out

    monkeypatch.setattr(pub.shutil, "copytree", copytree)
    with pytest.raises(CourseError, match=r"(?s)would reveal 1 .*leaky\.py.*lab99"):
        publish(Course(ROOT), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_publish_keeps_what_it_does_not_own(edition, tmp_path):
    """Publishing again needs --force, which replaces only the edition's own files: the
    student repository's .git and other files stay. Publishing inside the course is refused."""
    target = tmp_path / "clone"
    shutil.copytree(edition, target)
    (target / ".git").mkdir()
    (target / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (target / "NOTES.md").write_text("the TA's notes\n")
    (target / "labs" / "stray.txt").write_text("old\n")
    with pytest.raises(CourseError, match="pass --force"):
        publish(Course(ROOT), target)
    assert publish(Course(ROOT), target, force=True) == 0
    assert (target / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert (target / "NOTES.md").read_text() == "the TA's notes\n"
    assert not (target / "labs" / "stray.txt").exists(), "labs/ must be exactly the release"
    with pytest.raises(CourseError, match="inside the course repository"):
        publish(Course(ROOT), ROOT / "build" / "edition")


@pytest.mark.full
def test_binder_builds_the_edition(edition):
    """repo2docker reads the edition's binder/ and plans the build: Python 3.11, the pinned
    requirements, then postBuild (which installs the course)."""
    exe = Path(sys.executable).parent / "repo2docker"
    assert exe.exists(), "repo2docker is missing: install the test extra (jupyter-repo2docker)"
    done = subprocess.run(
        [str(exe), "--no-build", "--no-run", "--debug", str(edition)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    plan = done.stdout + done.stderr
    assert "binder/requirements.txt" in plan, plan[-2000:]
    assert "./binder/postBuild" in plan, plan[-2000:]
    assert "python=3.11" in plan, plan[-2000:]


@pytest.mark.full
def test_a_lab_runs_in_the_edition(edition):
    """Lab 1, run from the edition with the edition's own library, fails only where the
    exercises are unanswered."""
    import nbformat
    from nbclient import NotebookClient

    path = edition / "labs" / "lab01-models" / "lab01-models.ipynb"
    nb = nbformat.read(path, as_version=4)
    probe = nbformat.v4.new_code_cell("import distlib\nprint('DISTLIB', distlib.__file__)")
    nb.cells.insert(0, probe)
    env = {**os.environ, "PYTHONPATH": str(edition)}
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    old = dict(os.environ)
    os.environ.update(env)
    try:
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    where = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    assert f"DISTLIB {edition}" in where, f"the lab did not use the edition's library: {where}"
    unexpected = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and "NotImplementedError" not in (
                out.get("ename", "") + out.get("evalue", "") + "".join(out.get("traceback", []))
            ):
                unexpected.append(f"{cell.source.splitlines()[:1]}: {out.get('ename')}")
    assert not unexpected, "the lab fails in the edition: " + "; ".join(unexpected)
