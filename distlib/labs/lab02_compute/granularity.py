"""Lab 2: Granularity: wall time against chunk size."""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from distlib.compute import CostModel, Pool
from distlib.labs.lab02_compute._common import _check_positive_int

__all__ = [
    "Granularity",
    "calibrate",
    "measure_granularity",
    "plot_granularity",
]


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
