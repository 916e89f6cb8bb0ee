"""The launcher between the grader and ``bwrap`` (``python -I path/to/_launch.py``).

It sets the resource limits, puts itself in a new ``pids`` cgroup where the machine allows, starts
the sandbox, passes the grader's interrupts on to the kernel inside it, stops the whole sandbox
at the wall-clock limit, and writes what it stopped (a JSON report) for the grader. It imports
nothing but the standard library: it starts once per graded submission.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path


def _join_pids_cgroup(limit: int) -> Path | None:
    """Put this process in a new pids cgroup allowing ``limit`` tasks; None if none can be made."""
    for base in (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")):
        if not (base / "cgroup.procs").exists():
            continue
        if base == Path("/sys/fs/cgroup") and "pids" not in _read(base / "cgroup.controllers"):
            continue
        group = base / f"distcourse-{uuid.uuid4().hex[:12]}"
        try:
            group.mkdir()
            (group / "pids.max").write_text(str(limit))
            (group / "cgroup.procs").write_text(str(os.getpid()))
            return group
        except OSError:
            with contextlib.suppress(OSError):
                group.rmdir()
    return None


def _children(pid: int) -> list[int]:
    """The direct children of process ``pid`` (from /proc)."""
    found = []
    text = _read(Path("/proc") / str(pid) / "task" / str(pid) / "children")
    if text.strip():
        return [int(p) for p in text.split()]
    for entry in Path("/proc").iterdir():  # no children file: read every process's parent
        if entry.name.isdigit():
            stat = _read(entry / "stat")
            with contextlib.suppress(ValueError, IndexError):
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found or [pid]


def _resident_kb(pids: list[str]) -> int:
    """The resident memory of these processes together, in kB (from /proc)."""
    total = 0
    for pid in pids:
        for line in _read(Path("/proc") / pid / "status").splitlines():
            if line.startswith("VmRSS:"):
                with contextlib.suppress(ValueError, IndexError):
                    total += int(line.split()[1])
                break
    return total


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _leave_cgroup(group: Path | None) -> None:
    if group is None:
        return
    parent = group.parent
    with contextlib.suppress(OSError):
        (parent / "cgroup.procs").write_text(str(os.getpid()))
    for _ in range(50):
        pids = _read(group / "cgroup.procs").split()
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(OSError, ValueError):
                os.kill(int(pid), signal.SIGKILL)
        time.sleep(0.02)
    with contextlib.suppress(OSError):
        group.rmdir()


def main(argv: list[str] | None = None) -> int:
    import resource

    parser = argparse.ArgumentParser(prog="python -m distlib.course._launch")
    parser.add_argument("--report", required=True, type=Path)
    parser.add_argument("--memory-mb", type=int, required=True)
    parser.add_argument("--cpu-s", type=int, required=True)
    parser.add_argument("--processes", type=int, required=True)
    parser.add_argument("--file-mb", type=int, required=True)
    parser.add_argument("--wall-s", type=int, required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    events: list[str] = []
    peaks: dict[str, float] = {}

    def save() -> None:
        report = {"events": events, "peaks": peaks}
        args.report.write_text(json.dumps(report), encoding="utf-8")

    group = _join_pids_cgroup(args.processes)
    mb = 1024 * 1024
    for which, value in (
        (resource.RLIMIT_AS, args.memory_mb * mb),
        (resource.RLIMIT_CPU, args.cpu_s),
        (resource.RLIMIT_FSIZE, args.file_mb * mb),
        (resource.RLIMIT_NPROC, args.processes),
        (resource.RLIMIT_CORE, 0),
    ):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(which, (value, value))
    # bwrap tells the sandboxed process's pid on an info pipe; the grader interrupts a cell with
    # SIGINT to this launcher's process group, and the launcher passes it on to that process
    # alone (bwrap itself, in its own process group, would die of it).
    info_read, info_write = os.pipe()
    if command[:1] == ["bwrap"]:
        command = [command[0], "--info-fd", str(info_write), *command[1:]]

    def own_group() -> None:
        os.setpgid(0, 0)
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    child = subprocess.Popen(
        command, preexec_fn=own_group, pass_fds=(info_write,), stdout=sys.stderr
    )
    os.close(info_write)
    inner: list[int] = []

    def interrupt(signum, frame):
        # bwrap's init (pid 1 inside) ignores SIGINT: the kernel is its child.
        for pid in _children(inner[0]) if inner else [child.pid]:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGINT)

    def stop(signum, frame):  # the grader shuts the kernel down
        child.kill()

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, stop)
    with os.fdopen(info_read, "rb") as fh:  # bwrap writes one JSON object, then keeps it open
        text = b""
        while b"}" not in text:
            chunk = fh.read1(4096)
            if not chunk:
                break
            text += chunk
        with contextlib.suppress(ValueError):
            inner.append(int(json.loads(text.decode() or "{}").get("child-pid", 0)) or child.pid)
    deadline = time.monotonic() + args.wall_s
    peak_tasks = peak_kb = 0
    code = child.poll()
    while code is None:
        if group is not None:
            with contextlib.suppress(ValueError):
                peak_tasks = max(peak_tasks, int(_read(group / "pids.current") or 0))
            peak_kb = max(peak_kb, _resident_kb(_read(group / "cgroup.procs").split()))
        if time.monotonic() >= deadline:
            child.kill()
            child.wait()
            events.append(
                f"time limit: the notebook ran past the wall-clock limit ({args.wall_s} s) and "
                "was stopped"
            )
            code = 137
            break
        with contextlib.suppress(subprocess.TimeoutExpired):
            code = child.wait(timeout=0.25)
    else:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        if usage.ru_utime + usage.ru_stime >= args.cpu_s - 1:
            events.append(
                f"CPU time limit: the kernel used {args.cpu_s} CPU seconds and was stopped"
            )
        elif code not in (0, -signal.SIGTERM, -signal.SIGKILL):
            events.append(f"the kernel ended with exit status {code}")
    if group is not None:  # sampled four times a second: a lower bound on the true peaks
        peaks["rss_mb"] = round(peak_kb / 1024, 1)
        peaks["tasks"] = peak_tasks
    save()
    _leave_cgroup(group)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
