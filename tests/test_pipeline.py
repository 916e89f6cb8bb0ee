"""The course pipeline, end to end, for every lab in solutions/.

For each lab a throw-away copy of the course is made and four submissions are graded:

* ``alice`` hands in the solution notebook: full marks, and no cell raises;
* ``bob`` hands in the untouched student copy: zero;
* ``carol`` hands in the student copy with every test cell rewritten to ``pass``: zero, because
  test cells are restored from the source before grading;
* ``eve`` hands in the solution with one test cell deleted: the cell is put back and graded.

Feedback is generated for alice and bob and must not reveal hidden tests; nor may labs/.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from distlib.course.commands import collect, feedback, grade, release, validate
from distlib.course.nbg import Course, CourseError

ROOT = Path(__file__).resolve().parents[1]
LABS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())


def make_course(tmp: Path, labs: list[str]) -> Course:
    """A scratch copy of the course (config, sources, releases) under ``tmp``."""
    (tmp / "course").mkdir(parents=True)
    shutil.copy(ROOT / "course" / "nbgrader_config.py", tmp / "course")
    for lab in labs:
        shutil.copytree(ROOT / "solutions" / lab, tmp / "solutions" / lab)
        if (ROOT / "labs" / lab).is_dir():
            shutil.copytree(ROOT / "labs" / lab, tmp / "labs" / lab)
    return Course(tmp)


def kernel_sees_this_checkout() -> None:
    """Kernels started by nbgrader import the distlib of this checkout."""
    path = os.environ.get("PYTHONPATH", "")
    if str(ROOT) not in path.split(os.pathsep):
        os.environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + path if path else "")


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def grade_id(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def is_test(cell: dict) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell["cell_type"] == "code" and meta.get("grade") and not meta.get("solution")


HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)


def hidden_lines(source_nb: dict) -> list[str]:
    """Lines of hidden test code specific enough to recognise in a leak (and not also found
    outside the hidden blocks)."""
    sources = ["".join(cell["source"]) for cell in source_nb["cells"]]
    visible = "\n".join(HIDDEN.sub("", src) for src in sources)
    lines = []
    for src in sources:
        for block in HIDDEN.findall(src):
            lines += [
                ln.strip()
                for ln in block.splitlines()
                if len(ln.strip()) > 25 and ln.strip() not in visible
            ]
    return lines


def write(path: Path, nb: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb), encoding="utf-8")


def cell_grades(course: Course, lab: str, student: str) -> dict[str, tuple[float, float]]:
    """grade_id -> (score, max_score) for every graded cell of a submission."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(f"sqlite:///{course.course_dir / 'gradebook.db'}") as gb:
        for nb in gb.find_submission(lab, student).notebooks:
            for g in nb.grades:
                out[g.name] = (float(g.score), float(g.max_score))
    return out


@pytest.fixture(scope="module", params=LABS)
def graded(request, tmp_path_factory):
    """A lab graded for four students, with feedback; yields (course, lab, source notebook)."""
    lab = request.param
    kernel_sees_this_checkout()
    course = make_course(tmp_path_factory.mktemp(lab), [lab])
    (source_path,) = course.source_notebooks(lab)
    name = source_path.name
    source = load(source_path)
    student_copy = load(course.labs / lab / name)
    inbox = course.root / "inbox"
    write(inbox / "alice" / name, source)
    write(inbox / "bob" / name, student_copy)
    carol = copy.deepcopy(student_copy)
    for cell in carol["cells"]:
        if is_test(cell):
            cell["source"] = "pass"
    write(inbox / "carol" / name, carol)
    eve = copy.deepcopy(source)
    victim = next(grade_id(c) for c in eve["cells"] if is_test(c))
    eve["cells"] = [c for c in eve["cells"] if grade_id(c) != victim]
    write(inbox / "eve" / name, eve)
    assert collect(course, lab, inbox) == 0
    assert grade(course, lab) == 0, "grading should succeed for every submission"
    assert feedback(course, lab) == 0
    return course, lab, source, victim


def auto_points(grades: dict[str, tuple[float, float]], source: dict) -> tuple[float, float]:
    tests = {grade_id(c) for c in source["cells"] if is_test(c)}
    got = sum(s for gid, (s, _) in grades.items() if gid in tests)
    top = sum(m for gid, (_, m) in grades.items() if gid in tests)
    return got, top


def test_lab_has_graded_exercises(graded):
    """Every lab has at least four autograded test cells, each with points."""
    _, lab, source, _ = graded
    tests = [c for c in source["cells"] if is_test(c)]
    assert len(tests) >= 4, f"{lab} has only {len(tests)} autograded test cells"
    assert all(c["metadata"]["nbgrader"].get("points", 0) > 0 for c in tests)


def test_solution_gets_full_marks(graded):
    """Autograding the solution notebook gives every test cell its full points."""
    course, lab, source, _ = graded
    grades = cell_grades(course, lab, "alice")
    lost = {
        gid: g
        for gid, g in grades.items()
        if g[0] < g[1] and gid in {grade_id(c) for c in source["cells"] if is_test(c)}
    }
    assert not lost, f"{lab}: the solution lost points in {lost}"


def test_solution_runs_without_errors(graded):
    """No cell of the autograded solution notebook shows an error."""
    course, lab, _source, _ = graded
    (nb_path,) = (course.autograded / "alice" / lab).glob("*.ipynb")
    errors = []
    for cell in load(nb_path)["cells"]:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" or (
                out.get("output_type") == "stream" and out.get("name") == "stderr"
            ):
                first = "".join(cell["source"]).splitlines()[:1]
                errors.append(f"{first}: {out.get('ename', 'stderr')} {out.get('evalue', '')}")
    assert not errors, f"{lab}: the solution notebook has errors:\n" + "\n".join(errors)


def test_student_copy_fails_only_where_exercises_are_unfinished(graded):
    """Run as handed out, the student copy raises only because of unanswered exercises."""
    course, lab, _, _ = graded
    (nb_path,) = (course.autograded / "bob" / lab).glob("*.ipynb")
    unexpected = []
    for cell in load(nb_path)["cells"]:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                text = " ".join(
                    [out.get("ename", ""), out.get("evalue", ""), *out.get("traceback", [])]
                )
                if "NotImplementedError" not in text:
                    first = "".join(cell["source"]).splitlines()[:1]
                    unexpected.append(f"{first}: {out.get('ename')}: {out.get('evalue')}")
            elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                unexpected.append(f"stderr: {out.get('text', '')[:200]}")
    assert not unexpected, (
        f"{lab}: the untouched student copy fails for reasons other than unfinished exercises:\n"
        + "\n".join(unexpected)
    )


def test_release_scores_zero(graded):
    """The untouched student copy scores zero on every autograded cell."""
    course, lab, source, _ = graded
    got, top = auto_points(cell_grades(course, lab, "bob"), source)
    assert top > 0 and got == 0, f"{lab}: the unanswered student copy scored {got} of {top}"


def test_tests_rewritten_to_pass_score_zero(graded):
    """A submission whose test cells were replaced by `pass` still scores zero."""
    course, lab, source, _ = graded
    got, top = auto_points(cell_grades(course, lab, "carol"), source)
    assert got == 0, f"{lab}: rewriting test cells to `pass` earned {got} of {top} points"


def test_deleted_test_cell_is_restored_and_graded(graded):
    """A test cell the student deleted is put back at grading and scored."""
    course, lab, _source, victim = graded
    grades = cell_grades(course, lab, "eve")
    assert victim in grades, f"{lab}: the deleted cell {victim} was not graded"
    score, top = grades[victim]
    assert score == top > 0, f"{lab}: restored cell {victim} scored {score} of {top}"


def test_no_hidden_tests_in_feedback(graded):
    """Feedback HTML shows no hidden test code (nor its markers)."""
    course, lab, source, _ = graded
    secrets = hidden_lines(source)
    assert secrets, f"{lab} has no hidden tests"
    for student in ("alice", "bob"):
        (html,) = (course.feedback / student / lab).glob("*.html")
        text = html.read_text(encoding="utf-8")
        import html as htmlmod

        plain = htmlmod.unescape(re.sub(r"<[^>]+>", "", text))
        for marker in ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert marker not in plain, f"{lab}: {student}'s feedback contains {marker!r}"
        leaked = [ln for ln in secrets if ln in plain]
        assert not leaked, f"{lab}: {student}'s feedback reveals hidden test lines: {leaked[:3]}"


def test_student_copy_has_no_solutions_or_hidden_tests(graded):
    """labs/ holds no solution code and no hidden test line of the lab."""
    _course, lab, source, _ = graded
    text = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "labs" / lab).rglob("*.ipynb"))
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS"):
        assert marker not in text, f"labs/{lab} contains {marker!r}"
    leaked = [ln for ln in hidden_lines(source) if json.dumps(ln)[1:-1] in text]
    assert not leaked, f"labs/{lab} reveals hidden test lines: {leaked[:3]}"


def test_first_cell_is_the_setup_cell(graded):
    """Every lab's first code cell is the shared setup cell (with the shadowing check)."""
    from distlib.course.labs import setup_cell

    _, lab, source, _ = graded
    first = next(c for c in source["cells"] if c["cell_type"] == "code")
    assert "".join(first["source"]) == setup_cell(lab)


def test_student_copies_are_up_to_date():
    """labs/ is exactly what nbgrader generates from solutions/ (distcourse release --check)."""
    kernel_sees_this_checkout()
    assert release(Course(ROOT), check=True) == 0


# -- instructor's command line: bad input and nothing overwritten ------------------------------


@pytest.fixture
def scratch(tmp_path):
    kernel_sees_this_checkout()
    return make_course(tmp_path, ["lab01-models"])


def test_unknown_lab_is_named(scratch):
    """An unknown lab is one clear error listing the known labs."""
    with pytest.raises(CourseError, match=r"unknown lab 'lab99'.*known labs: lab01-models"):
        grade(scratch, "lab99")


def test_collect_reports_bad_files_and_keeps_the_rest(scratch, capsys):
    """Malformed notebooks and odd student ids are reported; the others are collected."""
    src = scratch.source_notebooks("lab01-models")[0]
    inbox = scratch.root / "inbox"
    inbox.mkdir()
    shutil.copy(src, inbox / "ann.ipynb")
    (inbox / "broken.ipynb").write_text('{"cells": [', encoding="utf-8")
    shutil.copy(src, inbox / "sam smith!.ipynb")
    assert collect(scratch, "lab01-models", inbox) == 0
    err = capsys.readouterr().err
    assert "broken.ipynb: not a valid notebook" in err
    assert "'sam smith!' is not a usable student id" in err
    assert [p.name for p in scratch.submitted.iterdir()] == ["ann"]


def test_collect_never_overwrites_without_force(scratch, capsys):
    """Collecting again keeps the first submission unless --force is given."""
    src = scratch.source_notebooks("lab01-models")[0]
    inbox = scratch.root / "inbox"
    inbox.mkdir()
    shutil.copy(src, inbox / "ann.ipynb")
    collect(scratch, "lab01-models", inbox)
    target = scratch.submitted / "ann" / "lab01-models" / src.name
    target.write_text(target.read_text(encoding="utf-8").replace("Lab 1", "Lab one"))
    collect(scratch, "lab01-models", inbox)
    assert "Lab one" in target.read_text(encoding="utf-8"), "a submission was overwritten"
    assert "pass --force" in capsys.readouterr().err
    collect(scratch, "lab01-models", inbox, force=True)
    assert "Lab one" not in target.read_text(encoding="utf-8")


def test_stripped_and_looping_submissions(scratch, capsys):
    """A notebook without nbgrader metadata is reported, an infinite loop costs only its cell,
    and a second grading run keeps existing grades without --force."""
    src = scratch.source_notebooks("lab01-models")[0]
    nb = load(src)
    inbox = scratch.root / "inbox"
    stripped = copy.deepcopy(nb)
    for cell in stripped["cells"]:
        cell["metadata"] = {}
    write(inbox / "gina.ipynb", stripped)
    looping = copy.deepcopy(nb)
    for cell in looping["cells"]:
        if grade_id(cell) == "lab01_replicas":
            cell["source"] = "def replicas_needed(a, target):\n    while True:\n        pass\n"
    write(inbox / "dave.ipynb", looping)
    collect(scratch, "lab01-models", inbox)
    assert grade(scratch, "lab01-models", timeout=5) == 1  # gina could not be graded
    err = capsys.readouterr().err
    assert "gina: lab01-models.ipynb has no nbgrader metadata" in err
    grades = cell_grades(scratch, "lab01-models", "dave")
    assert grades["lab01_replicas_tests"][0] == 0, "the looping answer must score 0"
    others = {
        k: v
        for k, v in grades.items()
        if k != "lab01_replicas_tests" and k != "lab01_written_centralized"
    }
    assert all(s == m for s, m in others.values()), f"other cells should keep full marks: {others}"
    csv_file = scratch.grades / "lab01-models.csv"
    before = csv_file.read_text(encoding="utf-8")
    assert "dave," in before and "gina,,," in before
    csv_file.write_text(before + "# kept\n", encoding="utf-8")
    grade(scratch, "lab01-models", students=["dave"])
    assert csv_file.read_text(encoding="utf-8").endswith("# kept\n"), "grades were overwritten"
    assert "already graded" in capsys.readouterr().out


def test_validate_exit_codes(scratch):
    """validate exits 0 on the solution and 1 on the unanswered student copy."""
    assert validate(scratch.source_notebooks("lab01-models")[0], course=scratch) == 0
    assert validate(scratch.labs / "lab01-models" / "lab01-models.ipynb", course=scratch) == 1
