"""Lab 2: A map/reduce sum over simulated machines."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from distlib.labs.lab02_compute._common import _check_positive_int, _check_seconds, _plain_log_axes
from distlib.node import Node
from distlib.sim import Constant, Simulation
from distlib.sim.network import Latency

__all__ = [
    "DistributedSum",
    "Part",
    "PartialSum",
    "SumCoordinator",
    "SumWorker",
    "distributed_speedups",
    "plot_distributed",
    "predicted_makespan",
    "simulate_sum",
]


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
