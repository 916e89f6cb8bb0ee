"""Tests of the library's shape: the public API, the sans-I/O rule, lazy imports, shadowing."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import distlib
from distlib.course.labs import SHADOW_MESSAGE, setup_cell

ROOT = Path(__file__).resolve().parents[1]

PUBLIC = {
    "COURSE_LIBRARY",
    "Client",
    "Constant",
    "Event",
    "Exponential",
    "History",
    "Node",
    "NodeError",
    "Operation",
    "Simulation",
    "SimulationError",
    "Trace",
    "Uniform",
    "Workload",
    "__version__",
    "lab_setup",
}

#: Modules a protocol must never import: handlers decide, runtimes perform.
FORBIDDEN = {
    "simpy",
    "socket",
    "asyncio",
    "threading",
    "time",
    "multiprocessing",
    "subprocess",
    "selectors",
    "concurrent",
}
#: Layers above the protocols: protocols know nodes, not the runtimes that drive them.
RUNTIME_LAYERS = ("distlib.sim", "distlib.labs", "distlib.testing", "distlib.views")
#: From ``random`` only the Random class (a seeded generator to inject) may be used.
RANDOM_ALLOWED = {"Random"}


def test_public_api_is_pinned():
    """distlib.__all__ is exactly the documented public names, and each one exists."""
    assert set(distlib.__all__) == PUBLIC
    for name in distlib.__all__:
        assert hasattr(distlib, name), f"distlib.__all__ lists {name} but it is missing"


def pure_modules() -> list[Path]:
    mods = sorted((ROOT / "distlib" / "protocols").rglob("*.py"))
    return [*mods, ROOT / "distlib" / "node.py", ROOT / "distlib" / "client.py"]


def test_protocols_do_no_io():
    """No protocol module (nor node.py, client.py) imports simpy, sockets, threads, time or a
    runtime layer of distlib (sim, labs, testing, views)."""
    offenders = []
    for path in pure_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
                if node.module == "random":
                    bad = [a.name for a in node.names if a.name not in RANDOM_ALLOWED]
                    if bad:
                        offenders.append(f"{where}:{node.lineno} imports random.{bad[0]}")
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "random"
                and node.attr not in RANDOM_ALLOWED
            ):
                offenders.append(f"{where}:{node.lineno} uses the global random.{node.attr}")
                continue
            else:
                continue
            for name in names:
                if name.split(".")[0] in FORBIDDEN:
                    offenders.append(f"{where}:{node.lineno} imports {name}")
                elif name.startswith(RUNTIME_LAYERS):
                    offenders.append(f"{where}:{node.lineno} imports {name} (a runtime layer)")
    assert not offenders, "protocol logic must stay pure:\n" + "\n".join(offenders)


def test_the_scan_catches_a_forbidden_import(tmp_path, monkeypatch):
    """The sans-I/O scan reports a module that imports time (so it can fail)."""
    bad = tmp_path / "distlib" / "protocols"
    bad.mkdir(parents=True)
    (bad / "sleepy.py").write_text(
        "import time\nfrom simpy import Environment\nimport random\nx = random.random()\n"
        "from distlib.sim import Simulation\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "distlib" / "node.py").write_text("")
    (tmp_path / "distlib" / "client.py").write_text("")
    try:
        test_protocols_do_no_io()
    except AssertionError as err:
        assert "sleepy.py:1 imports time" in str(err) and "imports simpy" in str(err)
        assert "sleepy.py:4 uses the global random.random" in str(err)
        assert "sleepy.py:5 imports distlib.sim (a runtime layer)" in str(err)
    else:
        raise AssertionError("the scan missed a forbidden import")


def run_python(
    code: str, *, cwd: Path | None = None, path: list[str] | None = None, isolated: bool = False
):
    """Run ``code`` in a fresh interpreter; ``isolated`` hides site-packages (and so any
    installed copy of distlib)."""
    env = {"PYTHONPATH": ":".join(path or [str(ROOT)]), "PATH": "/usr/bin:/bin"}
    flags = ["-S"] if isolated else []
    return subprocess.run(
        [sys.executable, *flags, "-c", code],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def test_import_is_light():
    """import distlib pulls in neither matplotlib, ipywidgets, nbgrader nor dask."""
    out = run_python(
        "import sys, distlib; print(sorted(m for m in "
        "('matplotlib', 'ipywidgets', 'nbgrader', 'dask', 'numpy') "
        "if m in sys.modules))"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_setup_cell_runs_with_the_course_library():
    """The labs' setup cell succeeds and reports the library when ours is found, without a
    path (the grading machine's folders must not appear in students' feedback)."""
    out = run_python(setup_cell("lab01"))
    assert out.returncode == 0, out.stderr
    assert "distlib" in out.stdout and "ready for lab01" in out.stdout
    assert "/" not in out.stdout and "\\" not in out.stdout, out.stdout


def test_setup_cell_explains_a_shadowing_distlib(tmp_path):
    """With PyPI's packaging 'distlib' first on the path the setup cell says so, with the fix."""
    fake = tmp_path / "distlib"
    fake.mkdir()
    (fake / "__init__.py").write_text(
        textwrap.dedent('''
        """A stand-in for PyPI's packaging library of the same name."""
        __version__ = "0.3.9"
        class DistlibException(Exception):
            pass
    ''')
    )
    out = run_python(setup_cell("lab01"), cwd=tmp_path, path=[str(tmp_path), str(ROOT)])
    assert out.returncode != 0
    last = out.stderr.strip().splitlines()[-1]
    assert last == f"ImportError: {SHADOW_MESSAGE}", last
    assert "AttributeError" not in out.stderr


def test_setup_cell_explains_a_missing_library(tmp_path):
    """With no distlib installed at all the setup cell gives the same plain sentence."""
    out = run_python(setup_cell("lab01"), cwd=tmp_path, path=[str(tmp_path)], isolated=True)
    assert out.returncode != 0
    assert out.stderr.strip().splitlines()[-1] == f"ImportError: {SHADOW_MESSAGE}"


#: Protocol modules implementing a paper's algorithm, which must say where they depart from it.
PAPER_PROTOCOLS = (
    "raft",
    "paxos",
    "multipaxos",
    "twophase",
    "primary_backup",
    "quorum_replication",
)


@pytest.mark.parametrize("name", PAPER_PROTOCOLS)
def test_protocol_marks_its_deviations_from_the_paper(name):
    """A protocol from a paper lists its deviations in its docstring and marks each in the code
    with a ``Deviation`` comment or docstring line, so a reader comparing it with the paper
    knows which differences are deliberate."""
    module = importlib.import_module(f"distlib.protocols.{name}")
    assert "Deviations from" in (module.__doc__ or ""), f"{name}: no 'Deviations from' section"
    source = (ROOT / "distlib" / "protocols" / f"{name}.py").read_text(encoding="utf-8")
    body = source.split('"""', 2)[2]  # after the module docstring
    assert "Deviation" in body, f"{name}: no deviation is marked where it is made"


def test_tools_that_need_no_simulation_do_not_load_simpy():
    """import distlib and the lincheck command line leave simpy unloaded (the simulation's
    names are imported on first use), and those names still import as before."""
    out = run_python(
        "import sys, distlib, distlib.check.cli, distlib.course.cli; "
        "print('simpy' in sys.modules); from distlib import Simulation, Uniform; "
        "print('simpy' in sys.modules, Simulation.__name__, Uniform.__name__)"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True", "Simulation", "Uniform"], out.stdout
