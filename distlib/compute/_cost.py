"""A deterministic cost model of a chunked map, for reasoning (and grading) about chunk size.

Real timings are noisy; this model is not. It charges each chunk of ``size`` items
``per_chunk + size * (per_item + per_task)`` seconds on its worker: ``per_item`` is the useful
work, ``per_task`` the overhead every item carries (a call, pickling its argument and result),
``per_chunk`` the overhead every chunk carries (a message each way, scheduling). Chunks are handed
out in order to whichever worker is free first, as :class:`distlib.compute.Pool` does. Tiny
chunks pay ``per_chunk`` too often; huge chunks leave workers idle at the end. The model leaves
out start-up, the caller's own work and contention between workers.
"""

from __future__ import annotations

import heapq
import math
import numbers
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ChunkRun:
    """One chunk in a predicted schedule: which worker ran which items, from when to when."""

    chunk: int
    worker: int
    first_item: int
    size: int
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class CostModel:
    """Predicted wall time of ``map`` over ``n_items`` items for a given chunk size.

    >>> model = CostModel(per_item=1e-3, per_task=1e-5, per_chunk=5e-3, workers=4)
    >>> round(model.predict(1000, chunksize=250), 4)
    0.2575
    """

    per_item: float
    per_task: float = 0.0
    per_chunk: float = 0.0
    workers: int = 1

    def __post_init__(self) -> None:
        for name in ("per_item", "per_task", "per_chunk"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Real)
                or value < 0  # not `0 <= value`: numbers.Real declares only < and <=
                or not value < math.inf
            ):
                raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}")
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise ValueError(f"workers must be a positive integer, got {self.workers!r}")

    def _check(self, n_items: int, chunksize: int | None = None) -> None:
        if isinstance(n_items, bool) or not isinstance(n_items, int) or n_items < 0:
            raise ValueError(f"n_items must be an integer >= 0, got {n_items!r}")
        if chunksize is not None and (
            isinstance(chunksize, bool) or not isinstance(chunksize, int) or chunksize < 1
        ):
            raise ValueError(f"chunksize must be a positive integer, got {chunksize!r}")

    def chunk_time(self, size: int) -> float:
        """Seconds a worker spends on one chunk of ``size`` items."""
        return self.per_chunk + size * (self.per_item + self.per_task)

    def serial_time(self, n_items: int) -> float:
        """The useful work alone, done in one loop: ``n_items * per_item``."""
        self._check(n_items)
        return n_items * self.per_item

    def predict(self, n_items: int, chunksize: int) -> float:
        """Predicted wall time of the map: when the last chunk finishes."""
        self._check(n_items, chunksize)
        if n_items == 0:
            return 0.0
        chunks = math.ceil(n_items / chunksize)
        full = self.chunk_time(chunksize)
        last = self.chunk_time(n_items - (chunks - 1) * chunksize)
        # Equal full chunks go out in rounds of `workers`; the last (possibly shorter) chunk
        # starts in round (chunks - 1) // workers; the other full chunks end with their round.
        end_last = ((chunks - 1) // self.workers) * full + last
        end_full = ((chunks - 2) // self.workers + 1) * full if chunks >= 2 else 0.0
        return max(end_last, end_full)

    def speedup(self, n_items: int, chunksize: int) -> float:
        """``serial_time / predict``: what the chunk size buys over a plain loop."""
        predicted = self.predict(n_items, chunksize)
        return self.serial_time(n_items) / predicted if predicted > 0 else 1.0

    def schedule(self, n_items: int, chunksize: int) -> list[ChunkRun]:
        """The predicted schedule, chunk by chunk (the same end as :meth:`predict`)."""
        self._check(n_items, chunksize)
        free = [(0.0, w) for w in range(self.workers)]
        runs = []
        for chunk, first in enumerate(range(0, n_items, chunksize)):
            size = min(chunksize, n_items - first)
            start, worker = heapq.heappop(free)
            end = start + self.chunk_time(size)
            runs.append(ChunkRun(chunk, worker, first, size, start, end))
            heapq.heappush(free, (end, worker))
        return runs

    def best_chunksize(self, n_items: int) -> int:
        """The chunk size with the least predicted time (the smallest such size on a tie).

        Exact, and fast for large n_items: sizes that give the same number of chunks form a
        range on which the predicted time is the larger of two straight lines, so only the
        ends of each range and the point where the lines cross need checking.
        """
        self._check(n_items)
        if n_items == 0:
            return 1
        unit = self.per_item + self.per_task
        best_size, best_time = 1, math.inf
        low = 1
        while low <= n_items:
            chunks = math.ceil(n_items / low)
            high = n_items if chunks == 1 else math.ceil(n_items / (chunks - 1)) - 1
            candidates = {low, high}
            if unit > 0 and chunks >= 2:
                rounds_full = (chunks - 2) // self.workers + 1
                rounds_last = (chunks - 1) // self.workers
                gap = rounds_full - rounds_last
                cross = (self.per_chunk * (1 - gap) + n_items * unit) / (unit * (gap + chunks - 1))
                if math.isfinite(cross):  # a vanishing unit cost (e.g. 5e-324) overflows
                    for size in (math.floor(cross), math.ceil(cross)):
                        if low <= size <= high:
                            candidates.add(size)
            for size in sorted(candidates):
                t = self.predict(n_items, size)
                if t < best_time * (1 - 1e-12):
                    best_size, best_time = size, t
            low = high + 1
        return best_size

    def plot(self, n_items: int, ax: Any = None) -> Any:
        """Predicted time against chunk size (log scale), with the best size marked."""
        import matplotlib.pyplot as plt

        self._check(n_items)
        if ax is None:
            _, ax = plt.subplots(figsize=(5.5, 3.8))
        steps = 200
        sizes = sorted(
            {max(1, round(n_items ** (i / steps))) for i in range(steps + 1)} | {n_items or 1}
        )
        ax.plot(sizes, [self.predict(n_items, c) for c in sizes], color="tab:blue")
        best = self.best_chunksize(n_items)
        ax.plot([best], [self.predict(n_items, best)], "o", color="tab:red", label=f"best: {best}")
        ax.axhline(self.serial_time(n_items), linestyle="--", color="0.5", label="serial loop")
        ax.set_xscale("log")
        ax.set_xlabel("chunk size (items)")
        ax.set_ylabel("predicted time (s)")
        ax.set_title(f"{n_items} items on {self.workers} workers")
        ax.grid(alpha=0.3)
        ax.legend()
        return ax
