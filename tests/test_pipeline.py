"""The course pipeline, end to end, for every lab in solutions/.

For each lab a throw-away copy of the course is made and these submissions are graded together:

* ``alice`` hands in the solution notebook: full marks, and no cell raises;
* ``bob`` hands in the untouched student copy: zero;
* ``carol`` hands in the student copy with every test cell rewritten to ``pass``: zero, because
  test cells are restored from the source before grading;
* ``eve`` hands in the solution with every test cell deleted: they are put back and graded, full
  marks;
* ``dan`` hands in the solution with every walkthrough cell (no nbgrader metadata) replaced by
  ``pass``: full marks, since tests depend only on solution cells and on what they import;
* ``holly`` hands in a hollow submission (every class and function of the solution cells emptied
  to ``pass``): zero, though the classes derive from the library's reference implementations;
* ``mallory`` is holly plus, before every test cell, a cell rebinding every name the test
  mentions: still zero;
* ``mistakeN`` hands in round N of the lab's plausible wrong answers (tests/mistakes/labNN.py):
  every exercise given a wrong answer loses points, every other exercise keeps full marks;
* ``stubs0`` and ``stubs1`` leave alternate exercises as the student copy's stub: the answered
  exercises keep full marks (one exercise's bug costs only its own points).

Feedback is generated for alice and bob and must not reveal hidden tests; nor may labs/.
"""

from __future__ import annotations

import ast
import builtins
import copy
import importlib.util
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
MISTAKES = Path(__file__).resolve().parent / "mistakes"


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


def source_of(cell: dict) -> str:
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


def meta(cell: dict) -> dict:
    found = cell.get("metadata", {}).get("nbgrader")
    return found if isinstance(found, dict) else {}


def grade_id(cell: dict) -> str | None:
    return meta(cell).get("grade_id")


def is_test(cell: dict) -> bool:
    m = meta(cell)
    return cell["cell_type"] == "code" and bool(m.get("grade")) and not m.get("solution")


def is_exercise(cell: dict) -> bool:
    """A code cell the student answers in (autograded by the test cells after it)."""
    m = meta(cell)
    return cell["cell_type"] == "code" and bool(m.get("solution")) and not m.get("grade")


def is_free(cell: dict) -> bool:
    """A walkthrough code cell: no nbgrader metadata, so the student may change it."""
    return cell["cell_type"] == "code" and not meta(cell)


HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)


def hidden_lines(source_nb: dict) -> list[str]:
    """Lines of hidden test code specific enough to recognise in a leak (and not also found
    outside the hidden blocks)."""
    sources = [source_of(cell) for cell in source_nb["cells"]]
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


# -- building the submissions -------------------------------------------------------------------


def lab_mistakes(lab: str) -> tuple[dict[str, list[tuple[str, str]]], dict[str, list[str]]]:
    """The lab's plausible wrong answers: (MISTAKES, TESTS) from tests/mistakes/labNN.py."""
    path = MISTAKES / f"{lab.split('-')[0]}.py"
    if not path.is_file():
        return {}, {}
    spec = importlib.util.spec_from_file_location(f"mistakes_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.MISTAKES), dict(getattr(module, "TESTS", {}))


def exercises(source: dict, tests_of: dict[str, list[str]]) -> dict[str, list[str]]:
    """Each exercise's solution-cell grade_id -> the grade_ids of the test cells that judge it."""
    test_ids = {grade_id(c) for c in source["cells"] if is_test(c)}
    out = {}
    for cell in source["cells"]:
        if is_exercise(cell):
            gid = grade_id(cell)
            out[gid] = list(tests_of.get(gid, [f"{gid}_tests"]))
            unknown = [t for t in out[gid] if t not in test_ids]
            assert not unknown, f"exercise {gid}: no test cell called {unknown}"
    return out


def replace_cells(nb: dict, sources: dict[str, str]) -> dict:
    """A copy of ``nb`` whose cells named in ``sources`` (by grade_id) get those sources."""
    out = copy.deepcopy(nb)
    for cell in out["cells"]:
        if grade_id(cell) in sources:
            cell["source"] = sources[grade_id(cell)]
    return out


class _Hollow(ast.NodeTransformer):
    def visit_ClassDef(self, node):
        node.body = [ast.Pass()]
        return node

    def visit_FunctionDef(self, node):
        node.body = [ast.Pass()]
        return node

    visit_AsyncFunctionDef = visit_FunctionDef


def hollow(code: str) -> str:
    """``code`` with every class and function emptied to ``pass``; imports kept, nothing else."""
    tree = ast.parse(code)
    keep = (ast.Import, ast.ImportFrom, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    tree.body = [_Hollow().visit(node) for node in tree.body if isinstance(node, keep)]
    return ast.unparse(tree) or "pass"


def bound_names(code: str) -> set[str]:
    """Names a cell binds anywhere (assignments, imports, defs, arguments, loop variables)."""
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def top_level_names(code: str) -> set[str]:
    """Names a cell defines at module level (what later cells can use)."""
    names = set()
    for node in ast.parse(code).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        else:
            names |= {
                n.id
                for n in ast.walk(node)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
            }
    return names


def mentioned_names(code: str) -> set[str]:
    return {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name)} | bound_names(code)


def free_names(code: str) -> set[str]:
    """Global names a cell reads without binding them itself (builtins excluded)."""
    loaded = {
        n.id
        for n in ast.walk(ast.parse(code))
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }
    return loaded - bound_names(code) - set(dir(builtins))


def answer_names(source: dict) -> set[str]:
    """Names the solution cells define: the student's answers."""
    names = set()
    for cell in source["cells"]:
        if is_exercise(cell):
            names |= top_level_names(source_of(cell))
    return names


def rebinding_cell(test_code: str, keep: set[str]) -> dict:
    """A walkthrough cell that rebinds every name ``test_code`` mentions (but ``keep``) to a
    function that accepts anything and returns an empty list."""
    names = sorted(
        n for n in mentioned_names(test_code) - keep - set(dir(builtins)) if not n.startswith("__")
    )
    lines = ["def _anything(*args, **kwargs):", "    return []", ""]
    lines += [f"{n} = _anything" for n in names]
    return {
        "cell_type": "code",
        "metadata": {},
        "source": "\n".join(lines),
        "outputs": [],
        "execution_count": None,
    }


def submissions(source: dict, student_copy: dict, lab: str) -> dict[str, dict]:
    """Every submission graded for ``lab``, by student id."""
    wrong, tests_of = lab_mistakes(lab)
    names = exercises(source, tests_of)
    stubs = {grade_id(c): source_of(c) for c in student_copy["cells"] if is_exercise(c)}
    subs = {"alice": source, "bob": student_copy}

    carol = copy.deepcopy(student_copy)
    for cell in carol["cells"]:
        if is_test(cell):
            cell["source"] = "pass"
    subs["carol"] = carol

    eve = copy.deepcopy(source)
    eve["cells"] = [c for c in eve["cells"] if not is_test(c)]
    subs["eve"] = eve

    dan = copy.deepcopy(source)
    for cell in dan["cells"]:
        if is_free(cell):
            cell["source"] = "pass"
    subs["dan"] = dan

    holly = replace_cells(
        source,
        {
            gid: hollow(source_of(c))
            for c in source["cells"]
            if is_exercise(c)
            for gid in [grade_id(c)]
        },
    )
    subs["holly"] = holly
    keep = answer_names(source)
    mallory = copy.deepcopy(holly)
    cells = []
    for cell in mallory["cells"]:
        if is_test(cell):
            cells.append(rebinding_cell(source_of(cell), keep))
        cells.append(cell)
    mallory["cells"] = cells
    subs["mallory"] = mallory

    rounds = max((len(v) for v in wrong.values()), default=0)
    for k in range(rounds):
        chosen = {gid: answers[k][1] for gid, answers in wrong.items() if k < len(answers)}
        subs[f"mistake{k}"] = replace_cells(source, chosen)
    order = list(names)
    for parity in (0, 1):
        subs[f"stubs{parity}"] = replace_cells(
            source, {gid: stubs[gid] for i, gid in enumerate(order) if i % 2 == parity}
        )
    return subs


#: The lab the quick run takes through the whole pipeline; the full run (--full) takes them all.
QUICK_LAB = "lab03-consistency"


@pytest.fixture(
    scope="module",
    params=[lab if lab == QUICK_LAB else pytest.param(lab, marks=pytest.mark.full) for lab in LABS],
)
def graded(request, tmp_path_factory):
    """A lab graded for every submission above, with feedback for alice and bob."""
    lab = request.param
    kernel_sees_this_checkout()
    course = make_course(tmp_path_factory.mktemp(lab), [lab])
    (source_path,) = course.source_notebooks(lab)
    name = source_path.name
    source = load(source_path)
    student_copy = load(course.labs / lab / name)
    inbox = course.root / "inbox"
    for student, nb in submissions(source, student_copy, lab).items():
        write(inbox / student / name, nb)
    assert collect(course, lab, inbox) == 0
    assert grade(course, lab, jobs=2) == 0, "grading should succeed for every submission"
    # Feedback only for alice and bob (it takes time): the others' autograded copies move aside.
    aside = course.root / "graded-aside"
    aside.mkdir()
    for student in os.listdir(course.autograded):
        if student not in ("alice", "bob"):
            shutil.move(course.autograded / student, aside / student)
    assert feedback(course, lab) == 0
    return course, lab, source


def auto_points(grades: dict[str, tuple[float, float]], source: dict) -> tuple[float, float]:
    tests = {grade_id(c) for c in source["cells"] if is_test(c)}
    got = sum(s for gid, (s, _) in grades.items() if gid in tests)
    top = sum(m for gid, (_, m) in grades.items() if gid in tests)
    return got, top


def lost_points(course: Course, lab: str, student: str, source: dict) -> dict:
    tests = {grade_id(c) for c in source["cells"] if is_test(c)}
    return {
        gid: g
        for gid, g in cell_grades(course, lab, student).items()
        if gid in tests and g[0] < g[1]
    }


def test_lab_has_graded_exercises(graded):
    """Every lab has at least four autograded test cells, each with points."""
    _, lab, source = graded
    tests = [c for c in source["cells"] if is_test(c)]
    assert len(tests) >= 4, f"{lab} has only {len(tests)} autograded test cells"
    assert all(meta(c).get("points", 0) > 0 for c in tests)


def test_solution_gets_full_marks(graded):
    """Autograding the solution notebook gives every test cell its full points."""
    course, lab, source = graded
    lost = lost_points(course, lab, "alice", source)
    assert not lost, f"{lab}: the solution lost points in {lost}"


def test_solution_runs_without_errors(graded):
    """No cell of the autograded solution notebook shows an error."""
    course, lab, _source = graded
    (nb_path,) = (course.autograded / "alice" / lab).glob("*.ipynb")
    errors = []
    for cell in load(nb_path)["cells"]:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" or (
                out.get("output_type") == "stream" and out.get("name") == "stderr"
            ):
                first = source_of(cell).splitlines()[:1]
                errors.append(f"{first}: {out.get('ename', 'stderr')} {out.get('evalue', '')}")
    assert not errors, f"{lab}: the solution notebook has errors:\n" + "\n".join(errors)


def test_student_copy_fails_only_where_exercises_are_unfinished(graded):
    """Run as handed out, the student copy raises only because of unanswered exercises."""
    course, lab, _ = graded
    (nb_path,) = (course.autograded / "bob" / lab).glob("*.ipynb")
    unexpected = []
    for cell in load(nb_path)["cells"]:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                text = " ".join(
                    [out.get("ename", ""), out.get("evalue", ""), *out.get("traceback", [])]
                )
                if "NotImplementedError" not in text:
                    first = source_of(cell).splitlines()[:1]
                    unexpected.append(f"{first}: {out.get('ename')}: {out.get('evalue')}")
            elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                unexpected.append(f"stderr: {out.get('text', '')[:200]}")
    assert not unexpected, (
        f"{lab}: the untouched student copy fails for reasons other than unfinished exercises:\n"
        + "\n".join(unexpected)
    )


@pytest.mark.parametrize(
    ("student", "what"),
    [
        ("bob", "the unanswered student copy"),
        ("carol", "the student copy with its test cells rewritten to `pass`"),
        ("holly", "a hollow submission (classes and functions emptied to `pass`)"),
        ("mallory", "a hollow submission that rebinds every name the tests mention"),
    ],
)
def test_empty_work_scores_zero(graded, student, what):
    """Nothing a student did not write earns points: not the stubs, not rewritten tests, not
    the library's reference answers inherited by empty subclasses, not rebound helpers."""
    course, lab, source = graded
    grades = cell_grades(course, lab, student)
    got, top = auto_points(grades, source)
    earned = {
        g: s
        for g, s in grades.items()
        if s[0] > 0 and g in {grade_id(c) for c in source["cells"] if is_test(c)}
    }
    assert top > 0 and got == 0, f"{lab}: {what} scored {got} of {top}: {earned}"


@pytest.mark.parametrize(
    ("student", "what"),
    [
        ("eve", "every test cell deleted"),
        ("dan", "every walkthrough cell replaced by `pass`"),
    ],
)
def test_correct_work_keeps_full_marks(graded, student, what):
    """A correct submission keeps full marks whatever happened to cells that are not answers:
    deleted test cells are put back where they belong, and tests need no walkthrough cell."""
    course, lab, source = graded
    lost = lost_points(course, lab, student, source)
    assert not lost, f"{lab}: the solution with {what} lost points in {lost}"


def test_every_lab_lists_plausible_wrong_answers(graded):
    """tests/mistakes/labNN.py gives wrong answers for every autograded exercise of the lab."""
    _, lab, source = graded
    wrong, tests_of = lab_mistakes(lab)
    names = exercises(source, tests_of)
    assert wrong, f"{lab}: no tests/mistakes/{lab.split('-')[0]}.py with MISTAKES"
    unknown = sorted(set(wrong) - set(names))
    assert not unknown, f"{lab}: mistakes for unknown exercises {unknown}"
    missing = sorted(set(names) - set(wrong))
    assert not missing, f"{lab}: no wrong answers written for {missing}"


def test_each_wrong_answer_loses_points_for_its_own_exercise_only(graded):
    """Every plausible wrong answer loses points on its exercise's test cells, and no exercise
    with a correct answer loses any in the same submission."""
    course, lab, source = graded
    wrong, tests_of = lab_mistakes(lab)
    names = exercises(source, tests_of)
    kept, charged = [], []
    for k in range(max((len(v) for v in wrong.values()), default=0)):
        grades = cell_grades(course, lab, f"mistake{k}")
        for gid, tests in names.items():
            got = sum(grades[t][0] for t in tests)
            top = sum(grades[t][1] for t in tests)
            if k < len(wrong.get(gid, ())):
                if got >= top:
                    kept.append(f"{gid}: {wrong[gid][k][0]!r}")
            elif got < top:
                charged.append(f"{gid} lost {top - got:g} in round {k}")
    assert not kept, f"{lab}: wrong answers that keep full marks: {kept}"
    assert not charged, f"{lab}: correct answers charged for another exercise's bug: {charged}"


def test_an_unanswered_exercise_costs_only_its_own_points(graded):
    """With alternate exercises left unanswered, each answered exercise keeps full marks."""
    course, lab, source = graded
    _, tests_of = lab_mistakes(lab)
    names = list(exercises(source, tests_of).items())
    charged = []
    for parity in (0, 1):
        grades = cell_grades(course, lab, f"stubs{parity}")
        for i, (gid, tests) in enumerate(names):
            lost = [t for t in tests if grades[t][0] < grades[t][1]]
            if i % 2 == parity and len(lost) < len(tests):
                charged.append(f"{gid} unanswered, yet {set(tests) - set(lost)} kept points")
            if i % 2 != parity and lost:
                charged.append(f"{gid} answered, yet lost {lost} when others were unanswered")
    assert not charged, f"{lab}: " + "; ".join(charged)


def test_test_cells_need_only_answers_and_their_own_imports():
    """A test cell reads no global name but those it imports or defines itself, the names the
    solution cells define, and builtins: nothing a walkthrough or locked cell could rebind."""
    problems = []
    for lab in LABS:
        (path,) = (ROOT / "solutions" / lab).glob("*.ipynb")
        source = load(path)
        allowed = answer_names(source)
        for cell in source["cells"]:
            if is_test(cell):
                extra = free_names(source_of(cell)) - allowed
                if extra:
                    problems.append(f"{lab} {grade_id(cell)}: {sorted(extra)}")
    assert not problems, "test cells read globals they do not import:\n" + "\n".join(problems)


def test_no_hidden_tests_in_feedback(graded):
    """Feedback HTML shows no hidden test code (nor its markers)."""
    course, lab, source = graded
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
    _course, lab, source = graded
    text = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "labs" / lab).rglob("*.ipynb"))
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS"):
        assert marker not in text, f"labs/{lab} contains {marker!r}"
    leaked = [ln for ln in hidden_lines(source) if json.dumps(ln)[1:-1] in text]
    assert not leaked, f"labs/{lab} reveals hidden test lines: {leaked[:3]}"


def test_first_cell_is_the_setup_cell(graded):
    """Every lab's first code cell is the shared setup cell (with the shadowing check)."""
    from distlib.course.labs import setup_cell

    _, lab, source = graded
    first = next(c for c in source["cells"] if c["cell_type"] == "code")
    assert source_of(first) == setup_cell(lab)


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
    rows = csv_rows(scratch, "lab01-models")
    assert rows["dave"]["score"] and rows["gina"]["score"] == "", rows
    assert rows["gina"]["status"].startswith("not graded")
    grade(scratch, "lab01-models", students=["dave"])
    assert "already graded" in capsys.readouterr().out
    assert_csv_matches_gradebook(scratch, "lab01-models")


def csv_rows(course: Course, lab: str) -> dict[str, dict[str, str]]:
    import csv

    with open(course.grades / f"{lab}.csv", encoding="utf-8", newline="") as fh:
        return {row["student"]: row for row in csv.DictReader(fh)}


def assert_csv_matches_gradebook(course: Course, lab: str) -> None:
    """Every student with a submission has one CSV row, with the gradebook's score."""
    from nbgrader.api import Gradebook, MissingEntry

    rows = csv_rows(course, lab)
    assert set(rows) == set(course.submissions(lab)), (
        f"CSV rows {sorted(rows)} but submissions from {sorted(course.submissions(lab))}"
    )
    with Gradebook(f"sqlite:///{course.course_dir / 'gradebook.db'}") as gb:
        for student, row in rows.items():
            try:
                sub = gb.find_submission(lab, student)
            except MissingEntry:
                assert row["score"] == "", f"{student} has a CSV score but no gradebook entry"
                continue
            assert row["score"] == f"{float(sub.score):g}", (student, row, sub.score)
            assert row["max_score"] == f"{float(sub.max_score):g}", (student, row)


@pytest.mark.full
def test_regrading_one_student_keeps_everyone_elses_row(scratch, capsys):
    """`grade --force --student X` regrades X and keeps the other rows; the CSV is rewritten
    from the gradebook after every grade, so a student graded later is never missing from it;
    a notebook that patches the library is flagged for review beside its score."""
    src = scratch.source_notebooks("lab01-models")[0]
    nb = load(src)
    inbox = scratch.root / "inbox"
    write(inbox / "ann.ipynb", nb)
    patched = copy.deepcopy(nb)
    patched["cells"].append(
        {
            "cell_type": "code",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
            "source": "import distlib.testing.grading as g\ng.own_answer = lambda *a, **k: None\n",
        }
    )
    write(inbox / "ben.ipynb", patched)
    collect(scratch, "lab01-models", inbox)
    grade(scratch, "lab01-models")
    out = capsys.readouterr()
    assert "ben: for review: cell" in out.err and "distlib.testing.grading.own_answer" in out.err
    assert_csv_matches_gradebook(scratch, "lab01-models")
    rows = csv_rows(scratch, "lab01-models")
    assert "own_answer" in rows["ben"]["flags"] and rows["ann"]["flags"] == ""

    grade(scratch, "lab01-models", force=True, students=["ann"])
    rows = csv_rows(scratch, "lab01-models")
    assert set(rows) == {"ann", "ben"}, f"--force --student ann dropped rows: {sorted(rows)}"
    assert_csv_matches_gradebook(scratch, "lab01-models")

    write(scratch.root / "late" / "cy.ipynb", load(scratch.labs / "lab01-models" / src.name))
    collect(scratch, "lab01-models", scratch.root / "late")
    grade(scratch, "lab01-models")
    rows = csv_rows(scratch, "lab01-models")
    assert set(rows) == {"ann", "ben", "cy"} and rows["cy"]["score"] == "0", rows
    assert_csv_matches_gradebook(scratch, "lab01-models")
    assert not list(scratch.grades.glob(".*.tmp")), "the CSV's temporary file was left behind"


def test_review_flags_only_code_that_patches_the_library():
    """The review scan flags assignments to the library's modules, classes and builtins, and
    nothing in any solution notebook."""
    from distlib.course.review import flags

    for lab in LABS:
        (path,) = (ROOT / "solutions" / lab).glob("*.ipynb")
        assert flags(load(path)) == [], f"{lab}: the solution notebook is flagged"
    code = (
        "import builtins\nfrom distlib.protocols.paxos import PaxosNode\n"
        "from distlib.testing import grading\n"
        "PaxosNode.on_prepare = None\nbuiltins.len = None\nsetattr(grading, 'own_answer', 1)\n"
        "del grading.own_function\nimport sys\nsys.modules['distlib'] = None\n"
        "sim = 1\nsim.value = 2\n"
    )
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": code}]}
    found = [f.what for f in flags(nb)]
    assert found == [
        "assigns to distlib.protocols.paxos.PaxosNode.on_prepare",
        "assigns to builtins.len",
        "calls setattr on distlib.testing.grading",
        "deletes distlib.testing.grading.own_function",
        "writes to sys.modules",
    ], found


def test_validate_exit_codes_and_plain_output(scratch, capsys):
    """validate exits 0 on the solution and 1 on the unanswered student copy; it prints plain
    text naming each failing test cell and its error, and lists unanswered written answers
    apart from failed tests."""
    assert validate(scratch.source_notebooks("lab01-models")[0], course=scratch) == 0
    out = capsys.readouterr().out
    assert "every visible test passes" in out and "not answered yet" not in out
    assert validate(scratch.labs / "lab01-models" / "lab01-models.ipynb", course=scratch) == 1
    out = capsys.readouterr().out
    for bad in ("<span", "</", "&lt;", "\x1b["):
        assert bad not in out, f"validate printed markup {bad!r}:\n{out}"
    assert "4 test cell(s) failed" in out, out
    for gid in ("lab01_availability_tests", "lab01_retry_tests"):
        assert f"- {gid}:" in out, out
    assert "NodeError: node 'client' raised NotImplementedError" in out, out
    assert "1 written answer(s) not answered yet (graded by hand): lab01_written_centralized" in out
