"""Lab 2: Scripts: the article's example as a real program."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from distlib.labs.lab02_compute._common import _check_seconds

__all__ = [
    "ARTICLE_SCRIPT",
    "ScriptRun",
    "article_script",
    "run_script",
]

#: The article's example, exactly as printed there.
ARTICLE_SCRIPT = """\
from multiprocessing import Pool
def sum_func(x):
    return x + 1
if __name__ == '__main__':
    num_list = [1, 2, 3, 4, 5]
    pool = Pool(processes=4)
    result = pool.map(sum_func, num_list)
    print(result)
"""


def article_script(*, guard: bool = True, start_method: str | None = None) -> str:
    """The article's script; without its ``__main__`` guard if ``guard=False``.

    ``start_method`` ("fork", "spawn" or "forkserver") adds a first line that selects it, so the
    same program can be tried under each method on one platform. Without the guard, the body of
    the guarded block moves to the top level, as a beginner who drops the ``if`` would write it.
    """
    if start_method is not None and start_method not in ("fork", "spawn", "forkserver"):
        raise ValueError(
            f"start_method must be 'fork', 'spawn', 'forkserver' or None, not {start_method!r}"
        )
    lines = ARTICLE_SCRIPT.splitlines()
    if not guard:
        at = lines.index("if __name__ == '__main__':")
        lines = lines[:at] + [line.removeprefix("    ") for line in lines[at + 1 :]]
    if start_method is not None:
        # force=True: a worker that imports the script again runs this line again too
        lines.insert(
            0,
            "import multiprocessing; "
            f"multiprocessing.set_start_method({start_method!r}, force=True)",
        )
    return "\n".join(lines) + "\n"


_EXCEPTION_LINE = re.compile(r"^(\w+(?:\.\w+)*(?:Error|Exception|Interrupt)):\s*(.*)$")
_WARNING_LINE = re.compile(r":\d+: (\w+Warning): (.*)$")


def _stderr_problems(stderr: str) -> list[str]:
    """ "Kind: message" for every exception and warning line in a script's stderr."""
    lines = stderr.splitlines()
    found = []
    for i, line in enumerate(lines):
        m = _EXCEPTION_LINE.match(line) or _WARNING_LINE.search(line)
        if not m:
            continue
        message = m.group(2).strip()
        if not message:  # an indented paragraph on the next lines (as multiprocessing's is)
            rest = itertools.dropwhile(lambda ln: not ln.strip(), lines[i + 1 :])
            indented = itertools.takewhile(lambda ln: ln.strip() and ln[:1].isspace(), rest)
            message = " ".join(ln.strip() for ln in indented)
        found.append(f"{m.group(1)}: {message}")
    return found


@dataclass(frozen=True, slots=True)
class ScriptRun:
    """What a script run with :func:`run_script` did."""

    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool
    seconds: float

    @property
    def errors(self) -> list[str]:
        """The exceptions and warnings reported on stderr, as "Kind: message", in order."""
        return _stderr_problems(self.stderr)

    def summary(self) -> str:
        """A few lines: how it ended, what it printed, what went to stderr."""
        if self.timed_out:
            head = f"still running after {self.seconds:.1f} s: killed (with its child processes)"
        else:
            head = f"exit code {self.returncode} after {self.seconds:.1f} s"
        lines = [head, f"  stdout: {self.stdout.strip()!r}"]
        errors = self.errors
        if errors:
            kinds: dict[str, int] = {}
            for e in errors:
                kinds[e] = kinds.get(e, 0) + 1
            for text, count in kinds.items():
                lines.append(f"  stderr: {count} x {text[:150]}")
        elif self.stderr.strip():
            lines.append(f"  stderr: {self.stderr.strip()[:150]!r}")
        else:
            lines.append("  stderr: (empty)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def run_script(
    source: str,
    *,
    timeout: float = 10.0,
    dev_mode: bool = False,
    name: str = "article.py",
) -> ScriptRun:
    """Run ``source`` as a script file in a fresh Python, with a time limit.

    The file is written to a temporary folder and run by this Python (``sys.executable``) as
    ``__main__``, exactly as ``python article.py`` would. ``dev_mode`` adds ``-X dev`` (warnings
    such as ResourceWarning are shown). Output is captured, never passed on. On timeout the whole
    process group is killed, so workers the script started die too.
    """
    if not isinstance(source, str):
        raise TypeError(f"source must be the text of a Python script, not {type(source).__name__}")
    timeout = _check_seconds(timeout, "timeout")
    with tempfile.TemporaryDirectory(prefix="distlib-script-") as folder:
        path = os.path.join(folder, name)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(source)
        command = [sys.executable, *(["-X", "dev"] if dev_mode else []), path]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        posix = os.name == "posix"
        start = time.perf_counter()
        proc = subprocess.Popen(
            command,
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=posix,
        )
        timed_out = False
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc, posix)
            out, err = proc.communicate()
        except BaseException:  # e.g. Ctrl-C in the notebook: leave nothing running
            _kill_group(proc, posix)
            proc.communicate()
            raise
        seconds = time.perf_counter() - start
    return ScriptRun(
        returncode=None if timed_out else proc.returncode,
        stdout=out,
        stderr=err,
        timed_out=timed_out,
        seconds=seconds,
    )


def _kill_group(proc: subprocess.Popen, posix: bool) -> None:
    if posix:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    else:  # pragma: no cover - Windows has no process groups of this kind
        proc.kill()
