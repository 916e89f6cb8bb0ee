"""Lab 3's clock experiments: stamped runs for space-time diagrams, and drifting wall clocks.

:func:`stamped_run` runs a few :class:`~distlib.protocols.clocks.ClockNode` nodes for a handful
of events each, so that a space-time diagram can show every event with its Lamport and vector
stamp. :func:`drift_demo` runs them longer with skewed, drifting physical clocks and counts the
causally related pairs that ordering by local wall-clock time puts backwards (Lamport timestamps
never do). The clocks and the stamping protocol live in :mod:`distlib.protocols.clocks`; this
module only builds and runs simulations of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from distlib.protocols.clocks import (
    ClockNode,
    PhysicalClock,
    TimedEvent,
    misordered,
    noted_timestamps,
)
from distlib.sim import Simulation, Uniform

__all__ = ["DriftReport", "drift_demo", "events_of", "stamped_run"]


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
    ``sim.trace.diagram()`` labels each event ``send L3 {a:2,b:1}``.
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
            lambda name=name: ClockNode(
                rate=rate, send_probability=send_probability, events=events, clock=fixed.get(name)
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
