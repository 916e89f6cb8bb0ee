"""Grading untrusted notebooks: each submission's kernel runs in a sandbox.

While ``distcourse grade`` runs a student's notebook, the student's code runs with the grader's
privileges unless something stops it. On Linux this module stops it with bubblewrap (Debian's
``bubblewrap``, the ``bwrap`` command) and resource limits:

* **What the kernel sees.** The system's programs and libraries, the Python installation and
  the virtual environment, the ``distlib`` package: all read-only. A scratch copy of the one
  submission it grades, at the path where nbgrader expects it (writes there are thrown away). A
  private folder for its home, temporary files and the sockets to the grader. Nothing else of
  the machine: not ``solutions/``, not the gradebook, not other students' submissions, not the
  instructor's home; and every other path is read-only, so a write elsewhere fails.
* **Namespaces.** Its own network namespace (no network but its own loopback), its own PID,
  IPC and UTS namespaces, all capabilities dropped; it dies with the grader. The kernel talks to
  the grader over Unix sockets in a private folder (ZeroMQ's ``ipc`` transport), not over TCP.
* **Limits** (per submission, set so that every lab runs comfortably): address space, CPU time,
  processes (a ``pids`` cgroup where the machine offers one, and ``RLIMIT_NPROC``), file size,
  and a wall-clock limit beyond nbgrader's per-cell timeout.

A submission that hits a limit keeps the points of what ran before it; :class:`SandboxedExecute`
records why the run stopped (``.sandbox.json`` beside the graded notebook), and ``distcourse
grade`` prints that reason in its table.

Where no sandbox can be made (no ``bwrap``, macOS, Windows, a container without user
namespaces), grading still works unisolated and says so once; ``--sandbox require`` refuses.

:mod:`distlib.course._launch` is the small program between the grader and ``bwrap``: it sets
the limits, joins the cgroup, passes interrupts on and enforces the wall-clock limit.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = [
    "Limits",
    "SandboxKernelManager",
    "SandboxedExecute",
    "sandbox_problem",
]

REPORT = ".sandbox.json"  # written beside the graded notebook


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission's kernel (and every process it starts)."""

    memory_mb: int = 4096  # address space of each process (RLIMIT_AS)
    cpu_s: int = 900  # CPU seconds of each process (RLIMIT_CPU)
    processes: int = 256  # processes and threads at once (pids cgroup, RLIMIT_NPROC)
    file_mb: int = 256  # largest file it may write (RLIMIT_FSIZE)
    wall_s: int = 1200  # the whole notebook, beyond nbgrader's per-cell timeout


_PROBLEM: list[str | None] = []


def sandbox_problem() -> str | None:
    """Why no sandbox can be made on this machine (None when one can)."""
    if _PROBLEM:
        return _PROBLEM[0]
    problem = None
    if not sys.platform.startswith("linux"):
        problem = f"sandboxing needs Linux's namespaces (this is {sys.platform})"
    elif shutil.which("bwrap") is None:
        problem = "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    else:
        try:
            done = subprocess.run(
                [*_bwrap_base(), "--", "true"], capture_output=True, text=True, timeout=30
            )
            if done.returncode != 0:
                problem = f"bwrap cannot make a sandbox here: {done.stderr.strip()[:200]}"
        except (OSError, subprocess.SubprocessError) as exc:
            problem = f"bwrap cannot run: {exc}"
    _PROBLEM.append(problem)
    return problem


def _bwrap_base() -> list[str]:
    """bwrap with namespaces and the read-only system folders (no Python, no course)."""
    args = ["bwrap", "--unshare-all", "--die-with-parent", "--cap-drop", "ALL"]
    for top in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        path = Path(top)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), top]
        elif path.is_dir():
            args += ["--ro-bind", top, top]
    for name in (
        "ld.so.cache",
        "ld.so.conf",
        "ld.so.conf.d",
        "alternatives",
        "fonts",
        "localtime",
        "passwd",
        "group",
        "nsswitch.conf",
        "hosts",
        "mime.types",
        "ssl",
        "matplotlibrc",
    ):
        path = Path("/etc") / name
        if path.exists():
            args += ["--ro-bind", str(path), str(path)]
    args += ["--proc", "/proc", "--dev", "/dev"]
    return args


def _python_folders(course_root: Path) -> list[Path]:
    """Folders the kernel's Python needs read-only: the installation and the environment, and
    every other sys.path entry that is not part of the course (nor holds it)."""
    folders = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}
    folders.add(Path(sys.executable).resolve().parent.parent)
    for entry in sys.path:
        if not entry or not Path(entry).is_dir():
            continue
        path = Path(entry).resolve()
        if path == course_root or course_root in path.parents or path in course_root.parents:
            continue  # the course's own folders (tests/, the checkout): never in the sandbox
        system = ("/usr", "/tmp", "/proc", "/dev", "/etc", "/sys", "/run", "/var")
        if path == Path("/") or any(path == Path(s) or Path(s) in path.parents for s in system):
            continue
        folders.add(path)
    kept: list[Path] = []
    for folder in sorted(folders, key=lambda p: len(p.parts)):
        if not any(folder == k or k in folder.parents for k in kept):
            kept.append(folder)
    return kept


def bwrap_command(
    kernel_cmd: list[str], *, workdir: Path, scratch: Path, private: Path, pythonpath: str = ""
) -> list[str]:
    """The bwrap command line that runs ``kernel_cmd`` with ``scratch`` seen at ``workdir``.

    ``private`` (writable, at its own path) holds the kernel's home, temporary folder and
    matplotlib cache, and the grader's connection file and sockets. Everything else is
    read-only: the sandbox's root is remounted read-only after the binds.
    """
    for sub in ("home", "tmp", "matplotlib", "ipython", "jupyter"):
        (private / sub).mkdir(parents=True, exist_ok=True)
    import distlib

    args = _bwrap_base()
    library = Path(distlib.__file__).resolve().parent
    # The library alone is bound from the course's checkout: the rest of it (solutions/,
    # course/, tests/) stays out of sight, even when the checkout is on PYTHONPATH.
    for folder in _python_folders(library.parent):
        args += ["--ro-bind", str(folder), str(folder)]
    args += ["--ro-bind", str(library), str(library)]
    args += ["--bind", str(scratch), str(workdir)]
    args += ["--bind", str(private), str(private)]
    env = {
        "HOME": str(private / "home"),
        "PATH": os.pathsep.join(
            [str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]
        ),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "MPLCONFIGDIR": str(private / "matplotlib"),
        "IPYTHONDIR": str(private / "ipython"),
        "JUPYTER_RUNTIME_DIR": str(private / "jupyter"),
        "TMPDIR": str(private / "tmp"),
    }
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    for name in (
        "OPENBLAS_CORETYPE",
        "OPENBLAS_L2_SIZE",
        "PYTHONHASHSEED",
        "CI",
        "TZ",
        "MPLBACKEND",
        "NBGRADER_EXECUTION",
        "NBGRADER_VALIDATING",
    ):
        if name in os.environ:
            env[name] = os.environ[name]
    args += ["--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += ["--remount-ro", "/", "--chdir", str(workdir), "--", *kernel_cmd]
    return args


def _copy_font_cache(into: Path) -> None:
    """Give the sandbox a copy of matplotlib's font list, so that its first plot does not
    rebuild it (seconds, and a notice on stderr) in every submission."""
    into.mkdir(parents=True, exist_ok=True)
    home = os.environ.get("MPLCONFIGDIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "matplotlib",
    )
    for path in Path(home).glob("fontlist-*.json"):
        with contextlib.suppress(OSError):
            shutil.copy(path, into / path.name)


# -- the kernel manager -------------------------------------------------------------------------

try:
    from jupyter_client.manager import AsyncKernelManager
except ImportError:  # pragma: no cover - jupyter_client comes with nbgrader
    AsyncKernelManager = object  # type: ignore[assignment,misc]

# The run of the kernel most recently started in this process: what SandboxedExecute reports.
_LAST_RUN: dict = {}


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel runs in the sandbox, reached over Unix sockets."""

    limits = Limits()

    async def _async_pre_start_kernel(self, **kw):
        # _private is the grader's alone (the scratch copy, the launcher's report); its "box"
        # is the one folder the kernel may write besides its copy of the submission.
        self._private = Path(tempfile.mkdtemp(prefix="dcsb-"))
        box = self._private / "box"
        box.mkdir()
        self.transport = "ipc"
        self.connection_file = str(box / "kernel.json")
        self.ip = str(box / "k")
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        workdir = Path(kw.get("cwd") or os.getcwd()).resolve()
        scratch = self._private / "work"
        shutil.copytree(workdir, scratch, symlinks=True)
        report = self._private / "report.json"
        _copy_font_cache(self._private / "box" / "matplotlib")
        env = kw.get("env") or os.environ
        inner = bwrap_command(
            list(kernel_cmd),
            workdir=workdir,
            scratch=scratch,
            private=self._private / "box",
            pythonpath=env.get("PYTHONPATH", ""),
        )
        lim = self.limits
        launcher = [
            # By path, isolated: the launcher needs only the standard library, and importing the
            # distlib package first would cost every kernel about 0.2 s.
            sys.executable,
            "-I",
            str(Path(__file__).with_name("_launch.py")),
            "--report",
            str(report),
            "--memory-mb",
            str(lim.memory_mb),
            "--cpu-s",
            str(lim.cpu_s),
            "--processes",
            str(lim.processes),
            "--file-mb",
            str(lim.file_mb),
            "--wall-s",
            str(lim.wall_s),
            "--",
            *inner,
        ]
        _LAST_RUN.clear()
        _LAST_RUN.update(report=str(report), limits=asdict(lim), started=time.time())
        return await super()._async_launch_kernel(launcher, **kw)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        private = getattr(self, "_private", None)
        if private is not None and not restart:
            report = private / "report.json"
            if report.is_file():
                with contextlib.suppress(ValueError):
                    found = json.loads(report.read_text())
                    _LAST_RUN["events"] = found.get("events", [])
                    _LAST_RUN["peaks"] = found.get("peaks", {})
            shutil.rmtree(private, ignore_errors=True)


# -- the Execute preprocessor -------------------------------------------------------------------

try:
    from nbformat.notebooknode import NotebookNode
    from nbgrader.preprocessors import Execute
    from traitlets import CaselessStrEnum, Integer
except ImportError:  # pragma: no cover
    Execute = object


def _outputs_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts += [out.get("ename", ""), out.get("evalue", ""), out.get("text", "")]
    return "\n".join(p for p in parts if p)


_PATH_IN_ERROR = re.compile(r"\[Errno \d+\] [^:]+: '([^']+)'")


def _outside_paths(cell, folder: Path) -> list[str]:
    """Paths outside ``folder`` that a cell's file errors name (what the sandbox hid)."""
    found = []
    for out in cell.get("outputs", []):
        if out.get("output_type") != "error":
            continue
        if out.get("ename") not in (
            "FileNotFoundError",
            "PermissionError",
            "OSError",
            "NotADirectoryError",
            "IsADirectoryError",
        ):
            continue
        for path in _PATH_IN_ERROR.findall(out.get("evalue", "")):
            full = (folder / path).resolve() if not path.startswith("/") else Path(path)
            if full != folder and folder not in full.parents:
                found.append(path)
    return found


_DENIALS = (
    ("CellTimeoutError", "time limit: a cell ran past the per-cell timeout and was interrupted"),
    ("MemoryError", "memory limit: a cell ran out of memory"),
    ("Resource temporarily unavailable", "process limit: a cell could not start a process"),
    ("File too large", "file size limit: a cell wrote too large a file"),
    ("Network is unreachable", "network denied: a cell tried to open a connection"),
    ("Temporary failure in name resolution", "network denied: a cell tried to look up a host"),
    ("Read-only file system", "write denied: a cell tried to write outside its folder"),
    (
        "unable to open database file",
        "access denied: a cell tried to open a database outside its folder",
    ),
    ("Connection refused", "network denied: a connection was refused (no network in the sandbox)"),
)


class SandboxedExecute(Execute):
    """nbgrader's Execute, with the kernel in the sandbox and a report of what stopped it.

    ``sandbox``: ``auto`` (sandbox when the machine can, else say once that it runs
    unisolated), ``require`` (refuse to run unisolated) or ``off``. When the kernel dies (a
    limit killed it), the cells not yet run get an error output naming the reason, so the
    submission keeps the points of what ran and grading goes on.
    """

    sandbox = CaselessStrEnum(["auto", "require", "off"], default_value="auto").tag(config=True)
    memory_mb = Integer(Limits.memory_mb).tag(config=True)
    cpu_s = Integer(Limits.cpu_s).tag(config=True)
    processes = Integer(Limits.processes).tag(config=True)
    file_mb = Integer(Limits.file_mb).tag(config=True)
    wall_s = Integer(Limits.wall_s).tag(config=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._isolated = False
        if self.sandbox == "off":
            return
        problem = sandbox_problem()
        if problem is None:
            limits = Limits(self.memory_mb, self.cpu_s, self.processes, self.file_mb, self.wall_s)
            self.kernel_manager_class = type(
                "LimitedSandboxKernelManager", (SandboxKernelManager,), {"limits": limits}
            )
            self._isolated = True
        elif self.sandbox == "require":
            raise RuntimeError(f"no sandbox for grading: {problem} (--sandbox require)")

    def preprocess(self, nb, resources=None, km=None):
        from nbclient.exceptions import DeadKernelError

        self._current = None
        _LAST_RUN.clear()
        events: list[str] = []
        try:
            nb, resources = super().preprocess(nb, resources, km=km)
        except DeadKernelError:
            reason = self._stop_reason()
            events.append(reason)
            started = False
            for index, cell in enumerate(nb.cells):
                if index == self._current:
                    started = True
                if started and cell.cell_type == "code":
                    cell.outputs = [
                        *cell.get("outputs", []),
                        NotebookNode(
                            output_type="error",
                            ename="SandboxLimit",
                            evalue=reason,
                            traceback=[f"SandboxLimit: {reason}"],
                        ),
                    ]
        events += [e for e in _LAST_RUN.get("events", []) if e not in events]
        folder = Path((resources or {}).get("metadata", {}).get("path") or ".").resolve()
        for cell in nb.cells:
            text = _outputs_text(cell)
            for needle, what in _DENIALS:
                if needle in text and what not in events:
                    events.append(what)
            if self._isolated:
                for denied in _outside_paths(cell, folder):
                    what = f"access denied: {denied} (outside the submission's folder)"
                    if what not in events:
                        events.append(what)
        self._write_report(resources, events)
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        self._current = index
        return super().preprocess_cell(cell, resources, index)

    def _stop_reason(self) -> str:
        report = _LAST_RUN.get("report")
        if report and Path(report).is_file():
            try:
                found = json.loads(Path(report).read_text()).get("events", [])
                if found:
                    return found[-1]
            except ValueError:
                pass
        if _LAST_RUN.get("events"):
            return _LAST_RUN["events"][-1]
        return "the kernel died (a limit stopped it, or the code ended the process)"

    def _write_report(self, resources, events: list[str]) -> None:
        folder = (resources or {}).get("metadata", {}).get("path")
        if not folder:
            return
        data = {"isolated": self._isolated, "events": events, "peaks": _LAST_RUN.get("peaks", {})}
        if self._isolated:
            data["limits"] = {
                "memory_mb": self.memory_mb,
                "cpu_s": self.cpu_s,
                "processes": self.processes,
                "file_mb": self.file_mb,
                "wall_s": self.wall_s,
            }
        with contextlib.suppress(OSError):
            (Path(folder) / REPORT).write_text(json.dumps(data), encoding="utf-8")
