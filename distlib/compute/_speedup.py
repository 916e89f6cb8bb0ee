"""Measuring parallel speedup, and the two laws it is compared with.

Amdahl's law: a job whose serial fraction is ``s`` (the part no worker can share) runs at most
``S(N) = 1 / (s + (1 - s) / N)`` times faster on N workers, never more than ``1 / s``.
Gustafson's law looks at it the other way: if the parallel part grows with N while the serial
part stays fixed, the scaled speedup is ``S(N) = s + (1 - s) * N``.

:func:`measure_speedup` times a job on the serial backend and on 1..N workers, and
:class:`SpeedupReport` fits ``s`` to the measurements and draws them against the fitted Amdahl
curve. Times are wall-clock and therefore noisy; nothing here asserts on them. The deterministic
companion for exercises is :class:`distlib.compute.CostModel`.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from distlib.compute._pool import _MISSING, Pool


def _check_workers(workers: float) -> None:
    if isinstance(workers, bool) or not isinstance(workers, numbers.Real) or workers < 1:
        raise ValueError(f"workers must be a number >= 1, got {workers!r}")


def _check_fraction(serial_fraction: float) -> None:
    if (
        isinstance(serial_fraction, bool)
        or not isinstance(serial_fraction, numbers.Real)
        or not 0 <= serial_fraction <= 1
    ):
        raise ValueError(f"serial_fraction must be between 0 and 1, got {serial_fraction!r}")


def amdahl_speedup(workers: float, serial_fraction: float) -> float:
    """Amdahl's law: the speedup on ``workers`` workers of a job with this serial fraction."""
    _check_workers(workers)
    _check_fraction(serial_fraction)
    return 1.0 / (serial_fraction + (1.0 - serial_fraction) / workers)


def gustafson_speedup(workers: float, serial_fraction: float) -> float:
    """Gustafson's law: the scaled speedup when the parallel work grows with ``workers``."""
    _check_workers(workers)
    _check_fraction(serial_fraction)
    return serial_fraction + (1.0 - serial_fraction) * workers


def fit_serial_fraction(workers: Sequence[float], speedups: Sequence[float]) -> float:
    """Least-squares estimate of Amdahl's serial fraction from measured speedups.

    Amdahl's law is a straight line in ``x = 1/N``, ``y = 1/S``: ``y = s + (1 - s) x``, which
    passes through (1, 1). Least squares for its one parameter gives
    ``s = sum((1 - x)(y - x)) / sum((1 - x)^2)``, clamped to [0, 1] (noise can push it out).
    At least one measurement must use more than one worker.
    """
    workers = list(workers)
    speedups = list(speedups)
    if len(workers) != len(speedups):
        raise ValueError(
            f"workers and speedups must have the same length, got {len(workers)} and "
            f"{len(speedups)}"
        )
    for n in workers:
        _check_workers(n)
    for value in speedups:
        if not isinstance(value, numbers.Real) or not value > 0:
            raise ValueError(f"speedups must be positive numbers, got {value!r}")
    num = den = 0.0
    for n, speedup in zip(workers, speedups, strict=True):
        x, y = 1.0 / n, 1.0 / speedup
        num += (1.0 - x) * (y - x)
        den += (1.0 - x) ** 2
    if den == 0.0:
        raise ValueError("need a measurement with more than one worker to fit a serial fraction")
    return min(1.0, max(0.0, num / den))


@dataclass(frozen=True, slots=True)
class SpeedupReport:
    """Wall times of one job: serial, and on each number of workers.

    Build it from your own timings (``SpeedupReport(serial_time=2.0, workers=(1, 2, 4),
    times=(2.1, 1.1, 0.6))``) or get one from :func:`measure_speedup`.
    """

    serial_time: float
    workers: tuple[int, ...]
    times: tuple[float, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "workers", tuple(self.workers))
        object.__setattr__(self, "times", tuple(self.times))
        if len(self.workers) != len(self.times) or not self.workers:
            raise ValueError("workers and times must be non-empty and of the same length")
        for t in (self.serial_time, *self.times):
            if not isinstance(t, numbers.Real) or not t > 0:
                raise ValueError(f"times must be positive numbers of seconds, got {t!r}")
        for n in self.workers:
            _check_workers(n)

    @property
    def speedups(self) -> tuple[float, ...]:
        """``serial_time / time`` for each number of workers."""
        return tuple(self.serial_time / t for t in self.times)

    @property
    def efficiencies(self) -> tuple[float, ...]:
        """Speedup divided by the number of workers (1.0 is perfect use of every worker)."""
        return tuple(s / n for s, n in zip(self.speedups, self.workers, strict=True))

    @property
    def serial_fraction(self) -> float:
        """Amdahl's serial fraction fitted to the speedups (see :func:`fit_serial_fraction`)."""
        return fit_serial_fraction(self.workers, self.speedups)

    def table(self) -> str:
        """The measurements as a text table, with the fitted serial fraction when there is one."""
        lines = [
            f"serial: {self.serial_time:.4f} s",
            f"{'workers':>7}  {'time (s)':>9}  {'speedup':>7}  {'efficiency':>10}",
        ]
        for n, t, s, e in zip(
            self.workers, self.times, self.speedups, self.efficiencies, strict=True
        ):
            lines.append(f"{n:>7}  {t:>9.4f}  {s:>7.2f}  {e:>10.0%}")
        if any(n > 1 for n in self.workers):
            s = self.serial_fraction
            bound = "unbounded" if s == 0 else f"{1 / s:.1f}"
            lines.append(f"fitted serial fraction s = {s:.3f} (Amdahl's limit 1/s: {bound})")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def plot(self, ax: Any = None) -> Any:
        """Draw the measured speedups, the fitted Amdahl curve and the ideal line; see
        :func:`plot_speedup`."""
        return plot_speedup(self, ax=ax)


def plot_speedup(report: SpeedupReport, ax: Any = None) -> Any:
    """Plot measured speedup against workers, with the ideal line and the fitted Amdahl curve.

    Draws on ``ax`` if given (a matplotlib Axes), else on a new figure; returns the Axes.
    matplotlib is imported here, not when distlib is.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.8))
    top = max(report.workers)
    xs = [1 + (top - 1) * i / 100 for i in range(101)]
    ax.plot(xs, xs, linestyle="--", color="0.5", label="ideal: S = N")
    if top > 1:
        s = report.serial_fraction
        ax.plot(
            xs,
            [amdahl_speedup(x, s) for x in xs],
            color="tab:blue",
            label=f"Amdahl, fitted s = {s:.3f}",
        )
    ax.plot(report.workers, report.speedups, "o", color="tab:red", label="measured")
    ax.set_xlabel("workers N")
    ax.set_ylabel("speedup S = T(serial) / T(N)")
    ax.set_xticks(sorted(set(report.workers)))
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float | complex) or isinstance(b, float | complex):
        try:
            return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
        except TypeError:
            return False
    try:
        return bool(a == b)
    except Exception:  # e.g. numpy arrays: compare as lists
        return bool(getattr(a, "tolist", lambda: a)() == getattr(b, "tolist", lambda: b)())


def measure_speedup(
    fn: Callable[[Any], Any],
    items: Iterable[Any],
    *,
    reducer: Callable[[Any, Any], Any] | None = None,
    combine: Callable[[Any, Any], Any] | None = None,
    initial: Any = _MISSING,
    workers: int | Sequence[int] | None = None,
    backend: str = "process",
    start_method: str | None = None,
    cluster_options: dict[str, Any] | None = None,
    chunksize: int | None = None,
    repeat: int = 3,
    check: bool = True,
) -> SpeedupReport:
    """Time a map (or, with ``reducer``, a map_reduce) serially and on 1..N workers.

    ``workers`` is N (try 1, 2, ..., N; default: the CPUs available) or an explicit list of
    worker counts. For each count a pool is started first (not timed) and the job runs once
    untimed, to warm up and to check that its result equals the serial one (floats to 1e-9;
    ``check=False`` skips it); then the best of ``repeat`` timed runs is kept, the usual way to
    filter out other programs' noise. With ``backend="dask"`` every count starts its own
    LocalCluster (seconds each). Returns a :class:`SpeedupReport`.
    """
    from distlib.compute._pool import default_workers

    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise ValueError(f"repeat must be a positive integer, got {repeat!r}")
    if workers is None:
        counts = list(range(1, default_workers() + 1))
    elif isinstance(workers, int):
        if isinstance(workers, bool) or workers < 1:
            raise ValueError(f"workers must be a positive integer, got {workers!r}")
        counts = list(range(1, workers + 1))
    else:
        counts = list(workers)
        if not counts or any(
            isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in counts
        ):
            raise ValueError(f"workers must be positive integers, got {workers!r}")
    if backend == "serial":
        raise ValueError("backend is what is compared with the serial run: 'process' or 'dask'")
    items = list(items)

    def run(pool: Pool) -> Any:
        if reducer is None:
            return pool.map(fn, items, chunksize=chunksize)
        return pool.map_reduce(
            fn, reducer, items, combine=combine, initial=initial, chunksize=chunksize
        )

    def best(pool: Pool) -> tuple[float, Any]:
        result = run(pool)  # warm-up, and the result to compare
        fastest = math.inf
        for _ in range(repeat):
            start = time.perf_counter()
            run(pool)
            fastest = min(fastest, time.perf_counter() - start)
        return fastest, result

    with Pool("serial") as pool:
        serial_time, expected = best(pool)
    times = []
    for n in counts:
        options: dict[str, Any] = {"workers": n}
        if backend == "process":
            options["start_method"] = start_method
        elif cluster_options is not None:
            options["cluster_options"] = cluster_options
        with Pool(backend, **options) as pool:
            elapsed, result = best(pool)
        if check and not _same(result, expected):
            raise ValueError(
                f"with {n} workers the result differs from the serial run ({result!r:.200} vs "
                f"{expected!r:.200}); is the function deterministic and the reducer associative?"
            )
        times.append(elapsed)
    return SpeedupReport(serial_time=serial_time, workers=tuple(counts), times=tuple(times))
