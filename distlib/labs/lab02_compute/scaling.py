"""Lab 2: Scaled speedup (Gustafson)."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from distlib.compute import SpeedupReport, measure_speedup
from distlib.labs.lab02_compute._common import _check_positive_int, _plain_log_axes

__all__ = [
    "ScaledSpeedup",
    "measure_scaled_speedup",
    "plot_laws",
]


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
