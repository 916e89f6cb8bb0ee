"""Lab 3: clocks and consistency models, the runs and histories its notebook uses.

Clocks. :func:`stamped_run` runs a few :class:`~distlib.protocols.clocks.ClockNode` nodes for a
handful of events each, so that a space-time diagram can show every event with its Lamport and
vector stamp. :func:`drift_demo` runs them longer with skewed, drifting physical clocks and counts
the causally related pairs that ordering by local wall-clock time puts backwards (Lamport
timestamps never do). The clocks and the stamping protocol live in
:mod:`distlib.protocols.clocks`.

Histories. A history here is what clients of one register saw (see :mod:`distlib.history`):
``write`` operations with the written value as input, ``read`` operations with the value read as
output, each with its invocation and completion time. The register starts empty (``None``).

* :func:`make_history` builds one from short rows ``(client, f, value, call, ret)``;
* :func:`example_histories` gives one history for each rung of the ladder of consistency
  models (linearizable; sequentially consistent only; causally consistent only; eventually
  consistent only), each with a sentence saying why;
* :func:`random_history` draws small histories with occasional stale reads, for testing a
  classifier against a checker.

Deciding which model a history satisfies is left to :mod:`distlib.check`; drawing it to
:mod:`distlib.views`.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from distlib.history import History
from distlib.protocols.clocks import (
    ClockNode,
    PhysicalClock,
    TimedEvent,
    misordered,
    noted_timestamps,
)
from distlib.sim import Simulation, Uniform

__all__ = [
    "DriftReport",
    "Example",
    "drift_demo",
    "events_of",
    "example_histories",
    "make_history",
    "random_history",
    "stamped_run",
]


def _names(nodes: Iterable[str], what: str) -> list[str]:
    names = list(nodes)
    if len(names) < 2:
        raise ValueError(f"{what} needs at least two nodes to exchange messages, not {names}")
    return names


def stamped_run(
    *,
    nodes: Iterable[str] = ("a", "b", "c"),
    seed: int = 0,
    events: int = 4,
    rate: float = 10.0,
    send_probability: float = 0.6,
    latency: Any = None,
    clocks: dict[str, PhysicalClock] | None = None,
) -> Simulation:
    """Run :class:`ClockNode` nodes that each start ``events`` events; return the finished run.

    Every send, receive and local event is noted in the trace with its stamps, so
    ``spacetime(sim.trace)`` labels each event ``send L3 {a:2,b:1}``.
    :func:`distlib.protocols.clocks.noted_timestamps` reads them back. ``clocks`` fixes the
    physical clock of some nodes (default: perfect clocks). Seeded: same seed, same run.
    """
    names = _names(nodes, "stamped_run")
    if not isinstance(events, int) or events < 0:
        raise ValueError(f"events must be a non-negative int, not {events!r}")
    fixed = dict(clocks or {})
    unknown = set(fixed) - set(names)
    if unknown:
        raise ValueError(f"clocks names nodes that are not in the run: {sorted(unknown)}")
    sim = Simulation(seed=seed, latency=latency if latency is not None else Uniform(0.01, 0.05))
    for name in names:
        sim.add_node(
            name,
            functools.partial(
                ClockNode,
                rate=rate,
                send_probability=send_probability,
                events=events,
                clock=fixed.get(name),
            ),
        )
    sim.run()
    return sim


@dataclass(frozen=True, slots=True)
class DriftReport:
    """The outcome of :func:`drift_demo`: the stamped events, each node's physical clock, the
    causal pairs that wall-clock and Lamport order put backwards, and the run's trace."""

    events: list[TimedEvent]
    clocks: dict[str, PhysicalClock]
    wall_misordered: list[tuple[TimedEvent, TimedEvent]]
    lamport_misordered: list[tuple[TimedEvent, TimedEvent]]
    trace: Any

    def by(self, key: str = "wall") -> list[TimedEvent]:
        """The events sorted by "wall", "lamport" (ties broken by node name) or "time"."""
        if key == "lamport":
            return sorted(self.events, key=lambda e: (e.lamport, e.node))
        if key in ("wall", "time"):
            return sorted(self.events, key=lambda e: getattr(e, key))
        raise ValueError(f"key must be 'wall', 'lamport' or 'time', not {key!r}")

    def summary(self) -> str:
        """One sentence: how many events, and how many causal pairs each order gets wrong."""
        n = len(self.events)
        return (
            f"{n} events; ordering by local wall clocks puts {len(self.wall_misordered)} "
            f"causally related pairs in the wrong order, Lamport timestamps "
            f"{len(self.lamport_misordered)}"
        )


def drift_demo(
    *,
    nodes: Iterable[str] = ("a", "b", "c"),
    seed: int = 0,
    duration: float = 1.0,
    rate: float = 10.0,
    max_offset: float = 0.02,
    max_drift: float = 100e-6,
    latency: Any = None,
) -> DriftReport:
    """Run :class:`ClockNode` with skewed, drifting clocks and count wrongly ordered event pairs.

    Each node's physical clock starts up to ``max_offset`` seconds off true time and runs
    ``1 ± max_drift`` times too fast. Ordering events by local wall-clock stamps (what a
    "last write wins by timestamp" store does) puts some causally related pairs backwards,
    typically a receive stamped earlier than its send, whenever two clocks disagree by more
    than a message's latency; Lamport timestamps never do. Seeded: same seed, same report.
    """
    names = _names(nodes, "drift_demo")
    sim = Simulation(seed=seed, latency=latency if latency is not None else Uniform(0.001, 0.005))
    for name in names:
        sim.add_node(
            name,
            lambda: ClockNode(rate=rate, max_offset=max_offset, max_drift=max_drift),
        )
    sim.run(until=duration)
    events = noted_timestamps(sim.trace)
    clocks = {name: sim.storage(name)["physical"] for name in names}
    return DriftReport(
        events, clocks, misordered(events, "wall"), misordered(events, "lamport"), sim.trace
    )


def events_of(trace) -> list[tuple[str, str, int | None]]:
    """``(node, kind, message id)`` for every send, receive and local event of a trace, in order.

    Kind ``"send"`` and ``"receive"`` carry the message's number, ``"local"`` carries None; a
    duplicated message is received twice, a lost one never.
    """
    out: list[tuple[str, str, int | None]] = []
    for e in trace:
        if e.kind == "send":
            out.append((e.node, "send", e.mid))
        elif e.kind == "deliver":
            out.append((e.peer, "receive", e.mid))  # e.peer is the receiver
        elif e.kind == "note" and (e.data or {}).get("event") == "local":
            out.append((e.node, "local", None))
    return out


def make_history(rows: Iterable[tuple]) -> History:
    """A register history from rows ``(client, f, value, call, ret)``.

    ``f`` is "write" (``value`` is what was written) or "read" (``value`` is what was read);
    ``ret=None`` makes an operation whose outcome is unknown. Operations are numbered in row
    order.

    >>> h = make_history([("A", "write", 1, 0.0, 1.0), ("B", "read", 1, 0.5, 2.0)])
    """
    history = History()
    for row in rows:
        if len(row) != 5:
            raise ValueError(f"a row is (client, f, value, call, ret), not {row!r}")
        client, f, value, call, ret = row
        if f not in ("read", "write"):
            raise ValueError(f"a register operation is 'read' or 'write', not {f!r} (row {row})")
        op = history.invoke(client, f, value if f == "write" else None, time=call)
        if ret is None:
            history.complete(op, None, time=call, status="unknown")
        else:
            history.complete(op, value if f == "read" else None, time=ret)
    return history


@dataclass(frozen=True, slots=True)
class Example:
    """A hand-written history, the strongest model it satisfies, and why."""

    name: str
    history: History
    strongest: str
    why: str


def example_histories() -> dict[str, Example]:
    """One small register history for each consistency model, keyed by the model's name.

    Each satisfies its model and none stronger: "linearizable", "sequential" (sequentially
    consistent, not linearizable), "causal" (causally consistent, not sequentially) and
    "eventual" (converges, but not causally consistent).
    """
    examples = [
        Example(
            "linearizable",
            make_history(
                [
                    ("A", "write", 1, 0.0, 3.0),
                    ("B", "read", None, 0.5, 1.5),
                    ("C", "read", 1, 1.0, 2.0),
                    ("B", "read", 1, 3.5, 4.5),
                ]
            ),
            "linearizable",
            "B's first read overlaps the write, so it may take effect before it and see the empty "
            "register; C's overlapping read may come after it and see 1; B's last read starts "
            "after the write ended and sees 1.",
        ),
        Example(
            "sequential",
            make_history(
                [
                    ("A", "write", 1, 0.0, 1.0),
                    ("B", "read", None, 2.0, 3.0),
                    ("B", "read", 1, 4.0, 5.0),
                ]
            ),
            "sequential",
            "B reads the empty register after the write of 1 had finished: no order that "
            "respects real time explains it, but the order read, write, read keeps every "
            "client's own order, so it is sequentially consistent.",
        ),
        Example(
            "causal",
            make_history(
                [
                    ("A", "write", 1, 0.0, 1.0),
                    ("B", "write", 2, 0.0, 1.0),
                    ("C", "read", 1, 2.0, 3.0),
                    ("C", "read", 2, 4.0, 5.0),
                    ("D", "read", 2, 2.0, 3.0),
                    ("D", "read", 1, 4.0, 5.0),
                ]
            ),
            "causal",
            "C sees 1 then 2, D sees 2 then 1: no single order of the two writes explains both, "
            "so it is not sequentially consistent; but the writes are concurrent (neither "
            "writer saw the other's value), and causal consistency lets readers disagree on "
            "the order of concurrent writes.",
        ),
        Example(
            "eventual",
            make_history(
                [
                    ("A", "write", 1, 0.0, 1.0),
                    ("A", "write", 2, 2.0, 3.0),
                    ("C", "read", 2, 4.0, 5.0),
                    ("C", "read", 1, 6.0, 7.0),
                    ("C", "read", 2, 8.0, 9.0),
                    ("D", "read", 2, 8.0, 9.0),
                ]
            ),
            "eventual",
            "A wrote 2 after 1, so write(2) causally follows write(1); C, having seen 2, reads 1 "
            "again: that breaks causal consistency. Every replica still ends with 2, which is "
            "all eventual consistency promises.",
        ),
    ]
    return {e.name: e for e in examples}


def random_history(
    seed: int,
    *,
    clients: int = 3,
    ops: int = 6,
    stale: float = 0.35,
    write_fraction: float = 0.4,
) -> History:
    """A small random register history, mostly well behaved, with some reads gone wrong.

    Each of ``clients`` clients runs operations one after the other; ``ops`` operations in all
    (at least one of them a write), each lasting 0.2 to 2 time units with pauses of up to 1.
    Each operation takes effect at a random instant of its interval; a read returns the value
    of the write that took effect last before it, except with probability ``stale``, when it
    returns another value written by a write invoked before the read ended (or the empty
    register). Written values are 1, 2, 3, ... Seeded: same arguments, same history.
    """
    if clients < 1 or ops < 1:
        raise ValueError(f"a history needs clients >= 1 and ops >= 1 (got {clients}, {ops})")
    if not 0.0 <= stale <= 1.0 or not 0.0 <= write_fraction <= 1.0:
        raise ValueError("stale and write_fraction are probabilities in [0, 1]")
    rng = random.Random(seed)
    names = [chr(ord("A") + i) for i in range(clients)]
    free = dict.fromkeys(names, 0.0)
    planned = []  # (client, f, call, ret, point)
    for i in range(ops):
        client = rng.choice(names)
        call = free[client] + rng.uniform(0.0, 1.0)
        ret = call + rng.uniform(0.2, 2.0)
        free[client] = ret
        f = "write" if i == 0 or rng.random() < write_fraction else "read"
        planned.append((client, f, round(call, 2), round(ret, 2), rng.uniform(call, ret)))
    planned.sort(key=lambda p: p[2])
    value = 0
    writes = []  # (point, value, call)
    for _client, f, call, _ret, point in planned:
        if f == "write":
            value += 1
            writes.append((point, value, call))
    rows: list[tuple[str, str, int | None, float, float]] = []  # a read may return None
    value = 0
    for client, f, call, ret, point in planned:
        if f == "write":
            value += 1
            rows.append((client, "write", value, call, ret))
            continue
        before = [w for w in writes if w[0] < point]
        truth = max(before)[1] if before else None
        if rng.random() < stale:
            choices = [None] + [v for _, v, c in writes if c < ret]
            others = [v for v in choices if v != truth]
            if others:
                truth = rng.choice(others)
        rows.append((client, "read", truth, call, ret))
    return make_history(rows)
