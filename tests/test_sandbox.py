"""Student code is untrusted: grading runs each submission in a sandbox.

The adversarial submissions below are graded through ``distcourse grade`` beside correct ones.
Each attack is a walkthrough cell appended to a correct solution of Lab 1, so a submission that
is contained keeps full marks and one that escaped would show it. Every attack is bounded (a
fixed number of forks, one allocation, sleeps of known length, one connection to this test's own
loopback listener), so even without a sandbox the test cannot harm the machine.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from distlib.course.commands import collect, grade
from distlib.course.nbg import Course
from distlib.course.sandbox import bwrap_command, sandbox_problem

ROOT = Path(__file__).resolve().parents[1]
LAB = "lab01-models"


def need_sandbox() -> None:
    """The sandbox tests run wherever bubblewrap works; CI installs it, so there they fail
    rather than skip when it is missing."""
    why = sandbox_problem()
    if why is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must be able to sandbox grading: {why}")
        pytest.skip(f"no sandbox on this machine: {why}")


def run_inside(code: str, tmp_path: Path, **limits) -> subprocess.CompletedProcess:
    """Run ``python -c code`` in the sandbox through the launcher, as grading would."""
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    private = tmp_path / "private"
    private.mkdir(exist_ok=True)
    scratch = private / "scratch"
    shutil.copytree(work, scratch, dirs_exist_ok=True)
    inner = bwrap_command(
        [sys.executable, "-c", code],
        workdir=work,
        scratch=scratch,
        private=private / "box",
        pythonpath=str(ROOT),
    )
    lim = {"memory_mb": 4096, "cpu_s": 60, "processes": 64, "file_mb": 16, "wall_s": 60}
    lim.update(limits)
    cmd = [sys.executable, "-m", "distlib.course._launch", "--report", str(private / "r.json")]
    for key, value in lim.items():
        cmd += [f"--{key.replace('_', '-')}", str(value)]
    done = subprocess.run(
        [*cmd, "--", *inner], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    done.stdout += done.stderr  # the launcher sends the sandbox's output to stderr
    return done


def test_the_sandbox_sees_only_the_library_and_its_folder(tmp_path):
    """Inside, the course's solutions, tests and gradebook are absent (of the checkout, only
    the library and a virtual environment inside it are there), the library imports from its
    read-only folder, and nothing outside the submission's folder can be written."""
    need_sandbox()
    code = (
        "import os, distlib, pathlib\n"
        f"root = pathlib.Path({str(ROOT)!r})\n"
        "print('SEEN', sorted(set(os.listdir(root)) - {'.venv'}))\n"
        "print('LIB', distlib.__file__)\n"
        "for target in [root / 'distlib' / 'x.py', root / 'pwned.txt', pathlib.Path('/pwned'),\n"
        "               pathlib.Path('/tmp/pwned')]:\n"
        "    try:\n"
        "        target.write_text('x')\n"
        "        print('WROTE', target)\n"
        "    except OSError as err:\n"
        "        print('DENIED', type(err).__name__)\n"
        "pathlib.Path('mine.txt').write_text('fine')\n"
        "print('HOME', os.environ['HOME'], sorted(os.environ)[:3])\n"
    )
    done = run_inside(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "SEEN ['distlib']" in done.stdout, done.stdout
    assert f"LIB {ROOT}/distlib/__init__.py" in done.stdout
    assert "WROTE" not in done.stdout and done.stdout.count("DENIED") == 4, done.stdout
    assert not (ROOT / "pwned.txt").exists() and not (ROOT / "distlib" / "x.py").exists()
    assert not (tmp_path / "work" / "mine.txt").exists(), "writes must go to the scratch copy"


def test_the_sandbox_has_no_network_and_bounded_processes(tmp_path):
    """A connection to a listener on this machine's loopback fails from inside, and a fork
    loop stops at the process limit (bounded at 150 forks here)."""
    need_sandbox()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    accepted = []

    def accept():
        with contextlib.suppress(OSError):
            accepted.append(listener.accept())

    thread = threading.Thread(target=accept)
    thread.start()
    code = (
        "import os, socket, time\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
        "    print('CONNECTED')\n"
        "except OSError as err:\n"
        "    print('NO NETWORK', type(err).__name__)\n"
        "made = 0\n"
        "try:\n"
        "    for _ in range(150):\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(3)\n"
        "            os._exit(0)\n"
        "        made += 1\n"
        "except OSError as err:\n"
        "    print('FORK STOPPED', made, type(err).__name__)\n"
    )
    done = run_inside(code, tmp_path, processes=40)
    thread.join()
    listener.close()
    assert "NO NETWORK" in done.stdout and not accepted, done.stdout + done.stderr
    assert "FORK STOPPED" in done.stdout, done.stdout + done.stderr
    made = int(done.stdout.split("FORK STOPPED")[1].split()[0])
    assert made < 40, f"{made} processes were started under a limit of 40"


# -- adversarial submissions graded through distcourse grade ------------------------------------

ATTACKS = {
    "snoop": (
        "import glob, pathlib\n"
        "for pattern in ['../../*/*/*.ipynb', '../../../submitted/*/*/*.ipynb',\n"
        "                '../../../../solutions/*/*.ipynb', '/root/*', '../../../../*']:\n"
        "    print(pattern, glob.glob(pattern))\n"
        "print(pathlib.Path('../../../submitted/alice/lab01-models/lab01-models.ipynb')"
        ".read_text()[:100])\n"
    ),
    "solutions": (
        "import pathlib\n"
        "print(pathlib.Path(COURSE_ROOT, 'solutions', 'lab01-models', 'lab01-models.ipynb')"
        ".read_text()[:100])\n"
    ),
    "writer": ("import pathlib\npathlib.Path(COURSE_ROOT, 'pwned.txt').write_text('was here')\n"),
    "grader": (
        "import sqlite3\n"
        "db = sqlite3.connect(COURSE_ROOT + '/course/gradebook.db')\n"
        "db.execute('update grade set auto_score = 0')\n"
        "db.commit()\n"
    ),
    "caller": (
        "import socket\n"
        "socket.create_connection(('127.0.0.1', LISTENER_PORT), timeout=2).sendall(b'hello')\n"
    ),
    "forker": (
        "import os, time\n"
        "children = []\n"
        "for _ in range(400):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        time.sleep(5)\n"
        "        os._exit(0)\n"
        "    children.append(pid)\n"
    ),
    "hog": "hoard = bytearray(12 * 1024 ** 3)\n",
    "sleeper": "import time\ntime.sleep(25)\n",
}
# What the grading report must name for each (a fragment of the line it prints).
REPORTED = {
    "snoop": "access denied",
    "solutions": "access denied",
    "writer": "write denied",
    "grader": "access denied: a cell tried to open a database",
    "caller": "network denied",
    "forker": "process limit",
    "hog": "memory limit",
    "sleeper": "time limit",
}


def fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def auto_scores(course: Course, student: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course.course_dir / 'gradebook.db'}") as gb:
        sub = gb.find_submission(LAB, student)
        return {
            g.name: float(g.score)
            for nb in sub.notebooks
            for g in nb.grades
            if g.auto_score is not None
        }


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):  # (every test using it is marked full: it grades ten notebooks)
    """Lab 1 graded for two honest students and one student per attack, in the sandbox."""
    need_sandbox()
    tmp = tmp_path_factory.mktemp("sandbox")
    (tmp / "course").mkdir()
    shutil.copy(ROOT / "course" / "nbgrader_config.py", tmp / "course")
    shutil.copytree(ROOT / "solutions" / LAB, tmp / "solutions" / LAB)
    shutil.copytree(ROOT / "labs" / LAB, tmp / "labs" / LAB)
    path = os.environ.get("PYTHONPATH", "")
    if str(ROOT) not in path.split(os.pathsep):
        os.environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + path if path else "")
    course = Course(tmp)
    (source,) = course.source_notebooks(LAB)
    solution = json.loads(source.read_text(encoding="utf-8"))

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(1.0)
    port = listener.getsockname()[1]
    calls: list = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                calls.append(listener.accept())
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()

    inbox = tmp / "inbox"
    inbox.mkdir()
    for student in ("alice", "bob"):
        (inbox / f"{student}.ipynb").write_text(json.dumps(solution), encoding="utf-8")
    for student, attack in ATTACKS.items():
        nb = copy.deepcopy(solution)
        code = f"COURSE_ROOT = {str(tmp)!r}\nLISTENER_PORT = {port}\n" + attack
        cells = [code] if student != "sleeper" else [code, code, code]
        for text in cells:
            nb["cells"].append(
                {
                    "cell_type": "code",
                    "metadata": {},
                    "outputs": [],
                    "execution_count": None,
                    "source": text,
                }
            )
        (inbox / f"{student}.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    collect(course, LAB, inbox)
    before = {
        "solutions": fingerprint(tmp / "solutions"),
        "submitted": fingerprint(course.submitted),
    }
    code = grade(
        course,
        LAB,
        jobs=2,
        timeout=30,
        sandbox="require",
        limits={"wall_s": 50, "memory_mb": 3072, "processes": 200},
    )
    stop.set()
    thread.join()
    listener.close()
    return course, tmp, before, code, calls


@pytest.mark.full
def test_adversarial_submissions_are_contained(attacked, capfd):
    """Nothing outside the sandbox changes: solutions and submissions are byte for byte the
    same, no file appears outside grading's own folders, no connection reaches this machine,
    and the honest students' grades are intact."""
    course, tmp, before, code, calls = attacked
    assert code == 0, "every submission should be graded"
    assert fingerprint(tmp / "solutions") == before["solutions"]
    assert fingerprint(course.submitted) == before["submitted"]
    assert not (tmp / "pwned.txt").exists()
    assert not calls, "a submission reached a listener on this machine"
    honest = auto_scores(course, "alice")
    assert honest == auto_scores(course, "bob") and all(honest.values()), honest
    snooped = json.dumps(
        json.loads(next((course.autograded / "snoop" / LAB).glob("*.ipynb")).read_text())["cells"][
            -1
        ]
    )
    assert "BEGIN SOLUTION" not in snooped and "nbgrader" not in snooped, snooped[:500]


@pytest.mark.full
@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_each_attack_is_graded_and_named(attacked, student):
    """Each attacker keeps the points of its correct answers (the attack ran after them), and
    the grading report names what the sandbox stopped or denied."""
    course, _tmp, _before, _code, _calls = attacked
    assert auto_scores(course, student) == auto_scores(course, "alice"), student
    report = json.loads((course.autograded / student / LAB / ".sandbox.json").read_text())
    assert report["isolated"] is True
    events = "; ".join(report["events"])
    assert REPORTED[student] in events, f"{student}: the report says {events!r}"
    csv_text = (course.grades / f"{LAB}.csv").read_text(encoding="utf-8")
    line = next(ln for ln in csv_text.splitlines() if ln.startswith(f"{student},"))
    assert REPORTED[student] in line, line


@pytest.mark.full
def test_honest_submissions_report_nothing(attacked):
    """A correct submission runs in the sandbox without any event, well inside the limits."""
    course = attacked[0]
    report = json.loads((course.autograded / "alice" / LAB / ".sandbox.json").read_text())
    assert report["events"] == [], report
    assert report["peaks"]["rss_mb"] < report["limits"]["memory_mb"] / 4, report


def course_with_one_solution(root: Path) -> Course:
    """A scratch course of Lab 1 with the solution collected as student ``ann``."""
    (root / "course").mkdir(parents=True)
    shutil.copy(ROOT / "course" / "nbgrader_config.py", root / "course")
    shutil.copytree(ROOT / "solutions" / LAB, root / "solutions" / LAB)
    course = Course(root)
    (source,) = course.source_notebooks(LAB)
    inbox = root / "inbox"
    inbox.mkdir()
    shutil.copy(source, inbox / "ann.ipynb")
    collect(course, LAB, inbox)
    return course


def test_without_a_sandbox_grading_says_so_or_refuses(tmp_path, monkeypatch, capsys):
    """Where no sandbox can be made, `--sandbox require` refuses before running anything, and
    the default grades unisolated after saying once, plainly, what that risks."""
    import distlib.course.sandbox as sandbox
    from distlib.course.nbg import CourseError

    monkeypatch.setattr(sandbox, "_PROBLEM", ["bubblewrap is not installed (test)"])
    course = course_with_one_solution(tmp_path)
    with pytest.raises(CourseError, match=r"cannot grade in a sandbox: bubblewrap is not"):
        grade(course, LAB, sandbox="require")
    assert not course.autograded.exists(), "nothing may run when the sandbox is required"
    capsys.readouterr()
    assert grade(course, LAB, jobs=1) == 0
    err = capsys.readouterr().err
    assert err.count("UNISOLATED") == 1, err
    assert "read other submissions and solutions/" in err
    report = json.loads((course.autograded / "ann" / LAB / ".sandbox.json").read_text())
    assert report["isolated"] is False


@pytest.mark.full
def test_a_correct_submission_scores_the_same_inside_and_outside(tmp_path):
    """The sandbox changes nothing for honest work: the same notebook gets the same score for
    every cell with and without it."""
    need_sandbox()
    scores = {}
    for mode in ("require", "off"):
        course = course_with_one_solution(tmp_path / mode)
        assert grade(course, LAB, jobs=1, sandbox=mode) == 0
        scores[mode] = auto_scores(course, "ann")
    assert scores["require"] == scores["off"] and all(scores["off"].values()), scores
