"""Lab 2's experiments: the article's Pool script run for real, word counts, task granularity,
scaled speedup, and a map/reduce over simulated machines.

Five groups of runners, each adding to :mod:`distlib.compute` what the lab needs beyond it:

* **Scripts** (:func:`article_script`, :func:`run_script`). The article's ``multiprocessing.Pool``
  example only behaves as a real program does when it *is* a program: a file that the spawn and
  forkserver start methods import again in every worker. :func:`run_script` runs such a file in a
  fresh interpreter with a time limit and kills its whole process group on expiry, so a script
  that hangs (an unguarded pool under spawn keeps replacing workers that die on start) costs
  seconds and leaves no process behind.
* **Word count** (:func:`synthetic_corpus`, :func:`words`, :func:`line_counts`, :func:`traffic`).
  A seeded English-like text, a tokenizer, the per-line mapper, and the number of pickled bytes
  that travel back with and without combining each chunk where it was computed.
* **Granularity** (:func:`measure_granularity`, :func:`calibrate`, :func:`plot_granularity`).
  Wall time of ``Pool.map`` against chunk size beside a plain loop, and a
  :class:`~distlib.compute.CostModel` fitted to those measurements.
* **Scaled speedup** (:func:`measure_scaled_speedup`, :class:`ScaledSpeedup`,
  :func:`plot_laws`). Gustafson's view: the work grows with the workers; measured and set
  beside Amdahl's fixed-size speedup.
* **A map/reduce across simulated machines** (:func:`simulate_sum`, :func:`distributed_speedups`,
  :func:`predicted_makespan`, :func:`plot_distributed`). A coordinator node sends each of N
  worker nodes a part of the numbers, each worker sums its part and replies, and the coordinator
  adds the partial sums. Nodes are pure :class:`~distlib.node.Node` automata: computing and
  sending take simulated time (timers), so the run shows when per-message costs and latency
  swamp the computation.

Timings from the first four groups are wall-clock and noisy; nothing here asserts on them. The
simulated runs are deterministic: same arguments, same numbers. Plots import matplotlib lazily.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
import numbers
import os
import pickle
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from distlib.compute import CostModel, Pool, SpeedupReport, measure_speedup
from distlib.node import Node
from distlib.sim import Constant, Simulation
from distlib.sim.network import Latency

__all__ = [
    "ARTICLE_SCRIPT",
    "DistributedSum",
    "Granularity",
    "Part",
    "PartialSum",
    "ScaledSpeedup",
    "ScriptRun",
    "SumCoordinator",
    "SumWorker",
    "Traffic",
    "article_script",
    "calibrate",
    "distributed_speedups",
    "line_counts",
    "measure_granularity",
    "measure_scaled_speedup",
    "plot_distributed",
    "plot_granularity",
    "plot_laws",
    "predicted_makespan",
    "run_script",
    "simulate_sum",
    "synthetic_corpus",
    "traffic",
    "words",
]


def _check_positive_int(value: object, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")


def _check_seconds(value: object, what: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not 0 <= float(value) < math.inf
    ):
        raise ValueError(f"{what} must be a finite number of seconds >= 0, got {value!r}")
    return float(value)


# --------------------------------------------------------------------------------------------
# Scripts: the article's example as a real program.

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


# --------------------------------------------------------------------------------------------
# Word count.

# A small vocabulary; words are drawn with Zipf weights (the r-th word about 1/r as often as the
# first), as in real text, so a few words are very common and most are rare.
_VOCABULARY_TEXT = (
    "the of a to and in is node message that it for each time on with as leader replica by "
    "network log be are from server client this write read not an or request term all at vote "
    "quorum one state majority commit it's clock crash data can when two copy other than "
    "timeout reply partition order only key value lock failure system value's never until "
    "before after every process worker chunk map reduce pool task result sum count word line "
    "machine latency throughput disk memory cpu core thread file graph"
)
_VOCABULARY = tuple(_VOCABULARY_TEXT.split())


def synthetic_corpus(lines: int = 1000, *, words_per_line: int = 12, seed: int = 0) -> list[str]:
    """``lines`` lines of seeded English-like text (capitalised sentences, some punctuation)."""
    _check_positive_int(lines, "lines")
    _check_positive_int(words_per_line, "words_per_line")
    rng = random.Random(seed)
    weights = [1.0 / rank for rank in range(1, len(_VOCABULARY) + 1)]
    out = []
    for _ in range(lines):
        chosen = rng.choices(_VOCABULARY, weights, k=words_per_line)
        if rng.random() < 0.3:
            cut = rng.randrange(1, words_per_line)
            chosen[cut - 1] += ","
        chosen[0] = chosen[0].capitalize()
        out.append(" ".join(chosen) + rng.choice(".!?."))
    return out


_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")


def words(line: str) -> list[str]:
    """The words of a line: lower-cased runs of letters, apostrophes inside a word kept.

    >>> words("It's the Leader's log, not the log.")
    ["it's", 'the', "leader's", 'log', 'not', 'the', 'log']
    """
    return _WORD.findall(line.lower())


def line_counts(line: str) -> dict[str, int]:
    """The mapper of word count: how often each word occurs in one line (a plain dict)."""
    counts: dict[str, int] = {}
    for word in words(line):
        counts[word] = counts.get(word, 0) + 1
    return counts


@dataclass(frozen=True, slots=True)
class Traffic:
    """Bytes that travel back to the caller for one map/reduce, with and without a combiner."""

    items: int
    chunks: int
    without_combine: int
    with_combine: int

    @property
    def ratio(self) -> float:
        """How many times fewer bytes travel when each chunk is combined on its worker."""
        return self.without_combine / self.with_combine if self.with_combine else math.inf

    def __str__(self) -> str:
        return (
            f"{self.items} items in {self.chunks} chunks: {self.without_combine:,} bytes back "
            f"without combining, {self.with_combine:,} with ({self.ratio:.0f} x fewer)"
        )


def traffic(
    mapper: Callable[[Any], Any],
    combine: Callable[[Any, Any], Any],
    items: Iterable[Any],
    *,
    chunksize: int,
) -> Traffic:
    """Pickled size of the replies of a chunked map/reduce, computed here in this process.

    Without a combiner every chunk sends back the list of its mapped values; with one it sends
    the single value its items fold into. (The mapped values are fresh for each fold, so an
    in-place combiner does not disturb the count.)
    """
    _check_positive_int(chunksize, "chunksize")
    items = list(items)
    plain = combined = chunks = 0
    for start in range(0, len(items), chunksize):
        chunk = items[start : start + chunksize]
        chunks += 1
        plain += len(pickle.dumps([mapper(x) for x in chunk], pickle.HIGHEST_PROTOCOL))
        acc = mapper(chunk[0])
        for x in chunk[1:]:
            acc = combine(acc, mapper(x))
        combined += len(pickle.dumps(acc, pickle.HIGHEST_PROTOCOL))
    return Traffic(len(items), chunks, plain, combined)


# --------------------------------------------------------------------------------------------
# Granularity: wall time against chunk size.


@dataclass(frozen=True, slots=True)
class Granularity:
    """Best-of-``repeat`` wall times of one map: a plain loop, and the pool per chunk size."""

    n_items: int
    workers: int
    loop_time: float
    chunksizes: tuple[int, ...]
    times: tuple[float, ...]

    def table(self) -> str:
        """The measurements as text, with the slowdown (or speedup) against the loop."""
        lines = [
            f"{self.n_items} items, {self.workers} workers; plain loop: "
            f"{self.loop_time * 1e3:.2f} ms",
            f"{'chunksize':>9}  {'chunks':>6}  {'time (ms)':>9}  {'vs loop':>9}",
        ]
        for c, t in zip(self.chunksizes, self.times, strict=True):
            ratio = t / self.loop_time
            word = f"{ratio:.1f} x slower" if ratio >= 1 else f"{1 / ratio:.1f} x faster"
            lines.append(f"{c:>9}  {math.ceil(self.n_items / c):>6}  {t * 1e3:>9.2f}  {word:>9}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _best_time(run: Callable[[], Any], repeat: int) -> float:
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def measure_granularity(
    fn: Callable[[Any], Any],
    items: Iterable[Any],
    chunksizes: Sequence[int],
    *,
    pool: Pool,
    repeat: int = 3,
) -> Granularity:
    """Time ``[fn(x) for x in items]`` and ``pool.map(fn, items, chunksize=c)`` for each c.

    Each is run once untimed (to warm up), then ``repeat`` times; the best time is kept. The
    pool is the caller's (start it once, close it after).
    """
    if not isinstance(pool, Pool):
        raise TypeError(f"pool must be a distlib.compute.Pool, not {type(pool).__name__}")
    if pool.closed:
        raise ValueError("the pool is closed; pass an open one")
    _check_positive_int(repeat, "repeat")
    sizes = list(chunksizes)
    if not sizes:
        raise ValueError("chunksizes must name at least one chunk size")
    for c in sizes:
        _check_positive_int(c, "every chunk size")
    items = list(items)
    if not items:
        raise ValueError("items must not be empty")

    def loop() -> list[Any]:
        return [fn(x) for x in items]

    loop()
    loop_time = _best_time(loop, repeat)
    pool.map(fn, items)
    times = []
    for c in sizes:
        times.append(_best_time(functools.partial(pool.map, fn, items, chunksize=c), repeat))
    return Granularity(len(items), pool.workers, loop_time, tuple(sizes), tuple(times))


def _coefficients(n_items: int, chunksize: int, workers: int) -> tuple[float, float]:
    """(A, B) with ``CostModel.predict == A * per_chunk + B * (per_item + per_task)``.

    For a given chunking, the chunk that ends last is the same whatever the costs (a worker with
    the most chunks also has the most items), so the prediction is linear in the two costs.
    """
    a = CostModel(per_item=0.0, per_chunk=1.0, workers=workers).predict(n_items, chunksize)
    b = CostModel(per_item=1.0, workers=workers).predict(n_items, chunksize)
    return a, b


def calibrate(result: Granularity) -> CostModel:
    """A :class:`CostModel` fitted to measured times.

    ``per_item`` is the loop's time per item. ``per_chunk`` and ``per_task`` are fitted by least
    squares on relative error (each measurement weighs as much as any other, whether it took a
    millisecond or a second), and clamped at zero. The fitted ``per_chunk`` lumps together
    everything a chunk costs anywhere: pickling, the pipe, and the caller's own bookkeeping.
    """
    if not isinstance(result, Granularity):
        raise TypeError(f"calibrate needs a Granularity, not {type(result).__name__}")
    n, w = result.n_items, result.workers
    per_item = result.loop_time / n
    rows = []
    for c, t in zip(result.chunksizes, result.times, strict=True):
        a, b = _coefficients(n, c, w)
        # t ≈ a * per_chunk + b * (per_item + per_task), divided through by t
        rows.append((a / t, b / t, (t - b * per_item) / t))

    def solve(use_chunk: bool, use_task: bool) -> tuple[float, float]:
        saa = sum(r[0] * r[0] for r in rows)
        sbb = sum(r[1] * r[1] for r in rows)
        sab = sum(r[0] * r[1] for r in rows)
        say = sum(r[0] * r[2] for r in rows)
        sby = sum(r[1] * r[2] for r in rows)
        if use_chunk and use_task:
            det = saa * sbb - sab * sab
            if det > 1e-12 * saa * sbb:
                return (say * sbb - sby * sab) / det, (sby * saa - say * sab) / det
            use_task = False
        if use_chunk:
            return max(0.0, say / saa), 0.0
        return 0.0, max(0.0, sby / sbb)

    per_chunk, per_task = solve(True, True)
    if per_task < 0:
        per_chunk, per_task = solve(True, False)
    elif per_chunk < 0:
        per_chunk, per_task = solve(False, True)
    return CostModel(per_item=per_item, per_task=per_task, per_chunk=per_chunk, workers=w)


def plot_granularity(result: Granularity, model: CostModel | None = None, ax: Any = None) -> Any:
    """Measured time against chunk size (log-log), the loop's time, and a model's prediction."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4))
    n = result.n_items
    if model is not None:
        steps = 120
        sizes = sorted({max(1, round(n ** (i / steps))) for i in range(steps + 1)})
        ax.plot(
            sizes,
            [model.predict(n, c) for c in sizes],
            color="tab:blue",
            label="cost model (fitted)",
        )
    ax.plot(result.chunksizes, result.times, "o", color="tab:red", label="Pool.map, measured")
    ax.axhline(result.loop_time, linestyle="--", color="0.4", label="plain loop, measured")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("chunk size (items per message)")
    ax.set_ylabel("wall time (s)")
    ax.set_title(f"{n} tiny tasks on {result.workers} workers")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return ax


def _plain_log_axes(ax: Any, *, x_base: int = 2, y: bool = True) -> None:
    """Log scales whose tick labels read 1, 2, 4, ... rather than 2^0, 2^1, 2^2."""
    from matplotlib.ticker import FuncFormatter

    plain = FuncFormatter(lambda value, _pos: f"{value:g}")
    ax.set_xscale("log", base=x_base)
    ax.xaxis.set_major_formatter(plain)
    if y:
        ax.set_yscale("log", base=x_base)
        ax.yaxis.set_major_formatter(plain)


# --------------------------------------------------------------------------------------------
# Scaled speedup (Gustafson).


@dataclass(frozen=True, slots=True)
class ScaledSpeedup:
    """Wall times of a job whose size grows with the workers: N workers get N times the items.

    ``serial_times[i]`` is the plain serial run of the job sized for ``workers[i]``, ``times[i]``
    the pool's run of that job on ``workers[i]`` workers.
    """

    workers: tuple[int, ...]
    serial_times: tuple[float, ...]
    times: tuple[float, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "workers", tuple(self.workers))
        object.__setattr__(self, "serial_times", tuple(self.serial_times))
        object.__setattr__(self, "times", tuple(self.times))
        if not self.workers or not len(self.workers) == len(self.serial_times) == len(self.times):
            raise ValueError("workers, serial_times and times must be non-empty and equally long")
        for t in (*self.serial_times, *self.times):
            if isinstance(t, bool) or not isinstance(t, numbers.Real) or not t > 0:
                raise ValueError(f"times must be positive numbers of seconds, got {t!r}")
        for n in self.workers:
            _check_positive_int(n, "every worker count")

    @property
    def speedups(self) -> tuple[float, ...]:
        """Scaled speedup ``serial time of the N-sized job / its time on N workers``."""
        return tuple(s / t for s, t in zip(self.serial_times, self.times, strict=True))

    @property
    def serial_fraction(self) -> float:
        """Gustafson's serial fraction fitted by least squares to ``S = s + (1 - s) N``.

        ``N - S = s (N - 1)``, so ``s = sum((N - 1)(N - S)) / sum((N - 1)^2)``, clamped to [0, 1].
        """
        num = sum((n - 1) * (n - s) for n, s in zip(self.workers, self.speedups, strict=True))
        den = sum((n - 1) ** 2 for n in self.workers)
        if den == 0:
            raise ValueError("need a measurement with more than one worker to fit")
        return min(1.0, max(0.0, num / den))

    def table(self) -> str:
        lines = [f"{'workers':>7}  {'serial (s)':>10}  {'pool (s)':>9}  {'scaled speedup':>14}"]
        for n, s, t, sp in zip(
            self.workers, self.serial_times, self.times, self.speedups, strict=True
        ):
            lines.append(f"{n:>7}  {s:>10.4f}  {t:>9.4f}  {sp:>14.2f}")
        if any(n > 1 for n in self.workers):
            lines.append(f"fitted serial fraction (Gustafson) s = {self.serial_fraction:.3f}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def measure_scaled_speedup(
    fn: Callable[[Any], Any],
    items_per_worker: Iterable[Any],
    *,
    workers: int | Sequence[int] = 2,
    repeat: int = 3,
    start_method: str | None = None,
) -> ScaledSpeedup:
    """Time a map whose items grow with the workers: N workers map N copies of the items.

    ``workers`` is N (try 1..N) or a list of counts. Each count is one
    :func:`~distlib.compute.measure_speedup` on the grown job (serial, then that many workers).
    """
    base = list(items_per_worker)
    if not base:
        raise ValueError("items_per_worker must not be empty")
    if isinstance(workers, int):  # a bool is refused here, as no positive int
        _check_positive_int(workers, "workers")
        counts = list(range(1, workers + 1))
    else:
        counts = list(workers)
        if not counts:
            raise ValueError("workers must name at least one worker count")
        for n in counts:
            _check_positive_int(n, "every worker count")
    serial, times = [], []
    for n in counts:
        report = measure_speedup(
            fn, base * n, workers=[n], repeat=repeat, start_method=start_method
        )
        serial.append(report.serial_time)
        times.append(report.times[0])
    return ScaledSpeedup(tuple(counts), tuple(serial), tuple(times))


def plot_laws(
    strong: SpeedupReport,
    weak: ScaledSpeedup | None = None,
    *,
    up_to: int = 32,
    ax: Any = None,
) -> Any:
    """Amdahl's and Gustafson's curves, extrapolated from fitted serial fractions, with the
    measured speedups (fixed-size and scaled) as points; the ideal ``S = N`` dashed."""
    import matplotlib.pyplot as plt

    from distlib.compute import amdahl_speedup, gustafson_speedup

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4))
    xs = [1 + (up_to - 1) * i / 200 for i in range(201)]
    ax.plot(xs, xs, linestyle="--", color="0.5", label="ideal: S = N")
    s = strong.serial_fraction
    ax.plot(
        xs,
        [amdahl_speedup(x, s) for x in xs],
        color="tab:blue",
        label=f"Amdahl, fixed size, s = {s:.2f}",
    )
    ax.plot(strong.workers, strong.speedups, "o", color="tab:blue", label="measured, fixed size")
    if weak is not None:
        g = weak.serial_fraction
        ax.plot(
            xs,
            [gustafson_speedup(x, g) for x in xs],
            color="tab:orange",
            label=f"Gustafson, scaled, s = {g:.2f}",
        )
        ax.plot(weak.workers, weak.speedups, "s", color="tab:orange", label="measured, scaled")
    _plain_log_axes(ax)
    ax.set_xlabel("workers N")
    ax.set_ylabel("speedup S")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="small")
    return ax


# --------------------------------------------------------------------------------------------
# A map/reduce sum over simulated machines.


@dataclass(frozen=True, slots=True)
class Part:
    """Coordinator to worker: sum these numbers (part ``index`` of the input)."""

    index: int
    numbers: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PartialSum:
    """Worker to coordinator: the sum of part ``index``."""

    index: int
    total: int


class SumWorker(Node):
    """Sums the part it receives, taking ``per_item`` simulated seconds per number, and replies
    after ``per_message`` more seconds (preparing the reply)."""

    def __init__(self, *, per_item: float, per_message: float) -> None:
        super().__init__()
        self.per_item = per_item
        self.per_message = per_message
        self.part: Part | None = None
        self.coordinator: str | None = None

    def on_message(self, src: str, msg: Any) -> None:
        if isinstance(msg, Part):
            self.part = msg
            self.coordinator = src
            self.set_timer("computed", len(msg.numbers) * self.per_item + self.per_message)

    def on_timer(self, name: str) -> None:
        if name == "computed" and self.part is not None and self.coordinator is not None:
            self.send(self.coordinator, PartialSum(self.part.index, sum(self.part.numbers)))


class SumCoordinator(Node):
    """Splits ``numbers`` into one contiguous part per worker and adds up the partial sums.

    The coordinator does one thing at a time. Sending part i costs it ``per_message`` plus
    ``per_item_sent`` per number (pickling, copying to the network card), so the parts leave one
    after another; handling each reply costs ``per_message``. When the last reply is handled it
    notes ``"sum ready"`` with the total and sets ``finished`` to the time.
    """

    def __init__(
        self,
        numbers: Sequence[int],
        workers: Sequence[str],
        *,
        per_message: float,
        per_item_sent: float,
    ) -> None:
        super().__init__()
        self.numbers = tuple(numbers)
        self.workers = tuple(workers)
        self.per_message = per_message
        self.per_item_sent = per_item_sent
        self.parts = _split_evenly(self.numbers, len(self.workers))
        self.total = 0
        self.pending = len(self.workers)
        self.busy_until = 0.0
        self.finished: float | None = None

    def on_start(self) -> None:
        leaves = 0.0
        for i, part in enumerate(self.parts):
            leaves += self.per_message + len(part) * self.per_item_sent
            self.set_timer(f"send {i}", leaves)
        self.busy_until = leaves

    def on_timer(self, name: str) -> None:
        if name.startswith("send "):
            i = int(name.removeprefix("send "))
            self.send(self.workers[i], Part(i, self.parts[i]))
        elif name == "done":
            self.finished = self.now
            self.note("sum ready", total=self.total)

    def on_message(self, src: str, msg: Any) -> None:
        if isinstance(msg, PartialSum):
            self.busy_until = max(self.now, self.busy_until) + self.per_message
            self.total += msg.total
            self.pending -= 1
            if self.pending == 0:
                self.set_timer("done", self.busy_until - self.now)


def _split_evenly(items: Sequence[Any], parts: int) -> list[tuple[Any, ...]]:
    """``parts`` contiguous tuples whose sizes differ by at most one (the larger ones first)."""
    _check_positive_int(parts, "parts")
    size, extra = divmod(len(items), parts)
    out, start = [], 0
    for i in range(parts):
        stop = start + size + (1 if i < extra else 0)
        out.append(tuple(items[start:stop]))
        start = stop
    return out


@dataclass(frozen=True, slots=True)
class DistributedSum:
    """One simulated run: its makespan against the same sum done by one machine alone."""

    machines: int
    n_items: int
    makespan: float
    serial_time: float
    total: int
    sim: Simulation | None

    @property
    def speedup(self) -> float:
        """``serial_time / makespan``: below 1, distributing made it slower."""
        return self.serial_time / self.makespan


def simulate_sum(
    n_items: int,
    machines: int,
    *,
    per_item: float,
    per_message: float = 1e-4,
    per_item_sent: float = 1e-6,
    latency: Latency | None = None,
    seed: int = 0,
    trace: bool = True,
) -> DistributedSum:
    """Sum ``range(n_items)`` on ``machines`` simulated workers; see :class:`SumCoordinator`.

    Costs are simulated seconds: ``per_item`` to add one number, ``per_message`` of the sender's
    time per message (and of the coordinator's per reply), ``per_item_sent`` of the
    coordinator's time per number shipped, and the network's ``latency`` (default: a constant
    1 ms) per message. The serial baseline adds the numbers on one machine: ``n_items *
    per_item``, no messages.
    """
    _check_positive_int(n_items, "n_items")
    _check_positive_int(machines, "machines")
    per_item = _check_seconds(per_item, "per_item")
    per_message = _check_seconds(per_message, "per_message")
    per_item_sent = _check_seconds(per_item_sent, "per_item_sent")
    if per_item == 0:
        raise ValueError("per_item must be positive: a sum of free additions has no speedup")
    if latency is None:
        latency = Constant(1e-3)
    names = [f"w{i + 1}" for i in range(machines)]
    sim = Simulation(seed=seed, latency=latency, trace=trace)
    sim.add_nodes(names, lambda: SumWorker(per_item=per_item, per_message=per_message))
    sim.add_node(
        "coord",
        lambda: SumCoordinator(
            range(n_items), names, per_message=per_message, per_item_sent=per_item_sent
        ),
    )
    sim.run()
    coord = sim.node("coord", SumCoordinator)
    if coord.finished is None:  # pragma: no cover - the network here loses nothing
        raise RuntimeError("the coordinator never got every partial sum")
    return DistributedSum(
        machines, n_items, coord.finished, n_items * per_item, coord.total, sim if trace else None
    )


def predicted_makespan(
    n_items: int,
    machines: int,
    *,
    per_item: float,
    per_message: float = 1e-4,
    per_item_sent: float = 1e-6,
    latency: float = 1e-3,
) -> float:
    """The makespan :func:`simulate_sum` gives with a constant latency, as a formula.

    With parts of ``s = n / N`` numbers (N machines dividing n), part i leaves the coordinator at
    ``(i + 1)(o + s b)`` and its reply arrives ``2L + s c + o`` later; replies come at least
    ``o`` apart, so none waits, and the last is handled ``o`` after it arrives:
    ``T = N o + n b + 2 L + s c + 2 o``. (With uneven parts, the first ones are one number
    longer; the formula below follows them exactly.)
    """
    sizes = [len(p) for p in _split_evenly(range(n_items), machines)]
    leaves = 0.0
    arrivals = []
    for size in sizes:
        leaves += per_message + size * per_item_sent
        arrivals.append(leaves + latency + size * per_item + per_message + latency)
    busy_until = leaves  # the coordinator handles replies once every part is sent
    for arrives in sorted(arrivals):
        busy_until = max(busy_until, arrives) + per_message
    return busy_until


def distributed_speedups(
    machine_counts: Iterable[int], n_items: int, *, per_item: float, **options: Any
) -> list[DistributedSum]:
    """:func:`simulate_sum` for each machine count (traces off), in order."""
    return [
        simulate_sum(n_items, m, per_item=per_item, trace=False, **options) for m in machine_counts
    ]


def plot_distributed(
    curves: Mapping[str, Sequence[DistributedSum]], *, ax: Any = None, title: str | None = None
) -> Any:
    """Speedup against the number of machines, one line per labelled sweep (log-log)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4))
    top = 1
    for label, runs in curves.items():
        xs = [r.machines for r in runs]
        top = max(top, *xs)
        ax.plot(xs, [r.speedup for r in runs], "o-", markersize=3, label=label)
    ax.plot([1, top], [1, top], linestyle="--", color="0.6", label="ideal: S = N")
    ax.axhline(1.0, color="0.3", linewidth=0.8)
    _plain_log_axes(ax, y=False)
    ax.set_yscale("log")
    ax.set_xlabel("machines N")
    ax.set_ylabel("speedup over one machine alone")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="small")
    return ax
