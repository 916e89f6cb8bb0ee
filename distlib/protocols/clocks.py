"""Logical and physical clocks: Lamport clocks, vector clocks, and clocks that drift.

What is here:

* :class:`LamportClock` and :class:`VectorClock`, immutable and hashable values: every operation
  returns a new clock, so a clock can sit in a message, a set or a dict key;
* :class:`Order`, the answer of :meth:`VectorClock.compare` (before, after, equal, concurrent);
* :class:`PhysicalClock`, a local hardware clock with an offset and a rate (drift);
* :class:`ClockNode`, a small protocol whose nodes do local events and exchange messages, stamp
  every event with all three clocks and note the stamps in the trace (a space-time diagram
  shows them next to each event);
* :func:`timestamps`, which computes the Lamport and vector timestamp of every send, delivery
  and local event of *any* trace from the message events alone, and :func:`noted_timestamps`,
  which reads back what :class:`ClockNode` stamped (the two agree: a lab can check one against
  the other);
* :func:`misordered`, the causally related pairs that a timestamp puts in the wrong order (with
  skewed, drifting physical clocks, ordering by local wall-clock time gets causality wrong where
  Lamport and vector clocks do not).

The facts come from Lamport, "Time, Clocks, and the Ordering of Events in a Distributed
System" (CACM 1978) and from Fidge (1988) and Mattern (1989) for vector clocks. Drawing the
diagram is left to :meth:`distlib.Trace.diagram`; running simulations to :mod:`distlib.sim`, and
the seeded drift experiment to :func:`distlib.labs.lab03_consistency.drift_demo`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from distlib.node import Node

__all__ = [
    "ClockMessage",
    "ClockNode",
    "LamportClock",
    "Order",
    "PhysicalClock",
    "TimedEvent",
    "VectorClock",
    "misordered",
    "noted_timestamps",
    "timestamps",
]


# --------------------------------------------------------------------------------------------
# Lamport clocks


def _check_count(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{what} must be an int, not {value!r}")
    if value < 0:
        raise ValueError(f"{what} must not be negative (got {value})")
    return value


@dataclass(frozen=True, slots=True, order=True)
class LamportClock:
    """A Lamport clock: one counter per process, an immutable value.

    >>> c = LamportClock()          # LamportClock(time=0)
    >>> c = c.tick()                # a local event: time 1
    >>> c, stamp = c.send()         # a send is an event too: time 2, and the message carries 2
    >>> c.receive(7)                # on receipt: max(own, stamp) + 1 = 8
    LamportClock(time=8)

    If event a happens before event b then ``C(a) < C(b)`` (the clock condition); the converse
    does not hold, which is what vector clocks add. Ties between processes are broken by the
    process name to get a total order (Lamport 1978 §3).
    """

    time: int = 0

    def __post_init__(self) -> None:
        _check_count(self.time, "a Lamport clock's time")

    def tick(self) -> LamportClock:
        """The clock after one local event."""
        # Lamport 1978, IR1: each process increments its clock between two successive events.
        return LamportClock(self.time + 1)

    def send(self) -> tuple[LamportClock, int]:
        """The clock after a send event, and the timestamp the message carries."""
        # Lamport 1978, IR2(a): a message carries the sender's clock at the send event.
        after = self.tick()
        return after, after.time

    def receive(self, stamp: int | LamportClock) -> LamportClock:
        """The clock after receiving a message stamped ``stamp``: ``max(own, stamp) + 1``."""
        if isinstance(stamp, LamportClock):
            stamp = stamp.time
        _check_count(stamp, "a message's Lamport timestamp")
        # Lamport 1978, IR2(b): on receipt, move past both the own clock and the message's stamp.
        return LamportClock(max(self.time, stamp) + 1)

    def __int__(self) -> int:
        return self.time


# --------------------------------------------------------------------------------------------
# Vector clocks


class Order(StrEnum):
    """How two vector timestamps relate (the answer of :meth:`VectorClock.compare`)."""

    BEFORE = "before"
    AFTER = "after"
    EQUAL = "equal"
    CONCURRENT = "concurrent"


class VectorClock:
    """A vector clock: one counter per node, an immutable and hashable value.

    >>> a = VectorClock().increment("a")             # VectorClock(a=1)
    >>> b = VectorClock(b=2)
    >>> a.compare(b)                                 # neither saw the other
    <Order.CONCURRENT: 'concurrent'>
    >>> m = a.merge(b).increment("a")                # a receives b's message: VectorClock(a=2, b=2)
    >>> b.happens_before(m), m["b"], m["z"]
    (True, 2, 0)

    A missing node counts as 0, so ``VectorClock(a=1, b=0) == VectorClock(a=1)``. The order is
    the pointwise one: ``u <= v`` when every entry of u is at most v's; ``u < v`` (u happened
    before v) when also ``u != v``. Two events are concurrent when neither is ``<=`` the other
    (Mattern 1989 §4; Fidge 1988).
    """

    __slots__ = ("_entries",)
    _entries: tuple[tuple[str, int], ...]

    def __init__(
        self, counts: Mapping[str, int] | Iterable[tuple[str, int]] | None = None, /, **named: int
    ) -> None:
        items: dict[str, int] = {}
        if counts is not None:
            if isinstance(counts, VectorClock):
                counts = counts.as_dict()
            try:
                pairs = counts.items() if isinstance(counts, Mapping) else list(counts)
                items.update(pairs)
            except (TypeError, ValueError):
                raise TypeError(
                    f"a VectorClock is built from a mapping node -> count, not {counts!r}"
                ) from None
        items.update(named)
        for node, count in items.items():
            if not isinstance(node, str):
                raise TypeError(f"vector clock entries are keyed by node name (str), not {node!r}")
            _check_count(count, f"the vector clock entry for {node!r}")
        object.__setattr__(self, "_entries", tuple(sorted((n, c) for n, c in items.items() if c)))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a VectorClock is immutable: increment() and merge() return new ones")

    def __reduce__(self) -> tuple[Any, ...]:
        return (VectorClock, (dict(self._entries),))

    # -- reading ---------------------------------------------------------------------------

    def __getitem__(self, node: str) -> int:
        """The count for ``node`` (0 if it has none)."""
        for name, count in self._entries:
            if name == node:
                return count
        return 0

    def as_dict(self) -> dict[str, int]:
        """The non-zero entries as a plain dict."""
        return dict(self._entries)

    def nodes(self) -> tuple[str, ...]:
        """The nodes with a non-zero entry, sorted."""
        return tuple(n for n, _ in self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self.nodes())

    def __len__(self) -> int:
        return len(self._entries)

    # -- operations ----------------------------------------------------------------------

    def increment(self, node: str) -> VectorClock:
        """The clock after an event at ``node``: that node's entry goes up by one."""
        if not isinstance(node, str):
            raise TypeError(f"increment() needs a node name (str), not {node!r}")
        counts = self.as_dict()
        # Mattern 1989 §4: before each event a process increments its own component.
        counts[node] = counts.get(node, 0) + 1
        return VectorClock._trusted(counts)

    def merge(self, other: VectorClock) -> VectorClock:
        """The pointwise maximum of two clocks (what a receiver learns from a message)."""
        other = _as_vector(other, "merge")
        counts = self.as_dict()
        # Mattern 1989 §4: on receipt, take the componentwise maximum with the message's vector.
        for node, count in other._entries:
            counts[node] = max(counts.get(node, 0), count)
        return VectorClock._trusted(counts)

    @classmethod
    def _trusted(cls, counts: dict[str, int]) -> VectorClock:
        """Build from counts already known to be valid (skips the checks of ``__init__``)."""
        clock = object.__new__(cls)
        object.__setattr__(clock, "_entries", tuple(sorted(counts.items())))
        return clock

    def receive(self, stamp: VectorClock, node: str) -> VectorClock:
        """The clock of ``node`` after receiving a message stamped ``stamp``: merge, then tick."""
        return self.merge(stamp).increment(node)

    def compare(self, other: VectorClock) -> Order:
        """How self relates to other: BEFORE, AFTER, EQUAL or CONCURRENT (an :class:`Order`)."""
        other = _as_vector(other, "compare")
        le, ge = self._le(other), other._le(self)
        if le and ge:
            return Order.EQUAL
        if le:
            return Order.BEFORE
        if ge:
            return Order.AFTER
        return Order.CONCURRENT

    def happens_before(self, other: VectorClock) -> bool:
        """True when the event stamped self happened before the one stamped other (self < other)."""
        return self.compare(other) is Order.BEFORE

    def concurrent(self, other: VectorClock) -> bool:
        """True when neither event happened before the other (and they differ)."""
        return self.compare(other) is Order.CONCURRENT

    def _le(self, other: VectorClock) -> bool:
        return all(count <= other[node] for node, count in self._entries)

    # -- comparisons: the pointwise partial order --------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VectorClock):
            return NotImplemented
        return self._entries == other._entries

    def __hash__(self) -> int:
        return hash(("VectorClock", self._entries))

    def __le__(self, other: VectorClock) -> bool:
        return self._le(_as_vector(other, "<="))

    def __lt__(self, other: VectorClock) -> bool:
        other = _as_vector(other, "<")
        return self._le(other) and self != other

    def __ge__(self, other: VectorClock) -> bool:
        return _as_vector(other, ">=")._le(self)

    def __gt__(self, other: VectorClock) -> bool:
        return _as_vector(other, ">") < self

    def __repr__(self) -> str:
        if all(n.isidentifier() for n, _ in self._entries):
            inner = ", ".join(f"{n}={c}" for n, c in self._entries)
        else:
            inner = repr(dict(self._entries))
        return f"VectorClock({inner})"

    def __str__(self) -> str:
        return "{" + ",".join(f"{n}:{c}" for n, c in self._entries) + "}"


def _as_vector(other: Any, what: str) -> VectorClock:
    if not isinstance(other, VectorClock):
        raise TypeError(f"{what} needs another VectorClock, not {type(other).__name__}")
    return other


# --------------------------------------------------------------------------------------------
# Physical clocks


@dataclass(frozen=True, slots=True)
class PhysicalClock:
    """A node's local hardware clock: ``read(t) = offset + rate * t`` at true time ``t``.

    ``offset`` is how far ahead (positive) or behind the clock was at t = 0; ``rate`` is local
    seconds per true second, so ``rate = 1 + 50e-6`` gains 50 microseconds a second (50 ppm of
    drift, a typical quartz figure). Two nodes' clocks disagree by their offsets plus the drift
    accumulated since; synchronisation (NTP) only bounds that disagreement.
    """

    offset: float = 0.0
    rate: float = 1.0

    def __post_init__(self) -> None:
        for name in ("offset", "rate"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
                raise TypeError(f"a physical clock's {name} must be a number, not {value!r}")
        if self.rate <= 0:
            raise ValueError(f"a physical clock's rate must be positive (got {self.rate})")

    def read(self, true_time: float) -> float:
        """What this clock shows at ``true_time``."""
        return self.offset + self.rate * true_time

    @classmethod
    def drawn(cls, rng: Any, *, max_offset: float, max_drift: float) -> PhysicalClock:
        """A clock with offset in ``[-max_offset, max_offset]`` and rate in ``1 ± max_drift``."""
        if max_offset < 0 or max_drift < 0:
            raise ValueError("max_offset and max_drift must not be negative")
        if max_drift >= 1:
            raise ValueError(
                f"max_drift is a fraction of a second per second, below 1 ({max_drift})"
            )
        return cls(rng.uniform(-max_offset, max_offset), 1.0 + rng.uniform(-max_drift, max_drift))


# --------------------------------------------------------------------------------------------
# A protocol that stamps its events


@dataclass(frozen=True, slots=True)
class ClockMessage:
    """A message stamped with the sender's clocks at the send event."""

    lamport: int
    vector: VectorClock
    wall: float
    seq: int


class ClockNode(Node):
    """A node that does random local events and sends, stamping each event with three clocks.

    Every ``1/rate`` seconds on average it does an event: with probability ``send_probability``
    it sends a :class:`ClockMessage` to a random peer, otherwise it does a local event. Every send,
    receive and local event is noted in the trace as ``"<event> L<lamport> <vector>"`` with data
    ``event``, ``lamport``, ``vector``, ``wall`` (the local physical clock reading), and
    ``peer`` for sends and receives, so a space-time diagram labels each event with its stamps.

    The physical clock is ``clock`` if given, else one drawn from the node's RNG with
    ``max_offset`` and ``max_drift`` (see :class:`PhysicalClock`). Clocks live in
    ``self.storage``: a restarted node carries on from where it was. ``events`` bounds how many
    events the node starts itself (``None``: no bound).
    """

    def __init__(
        self,
        *,
        rate: float = 10.0,
        send_probability: float = 0.6,
        events: int | None = None,
        clock: PhysicalClock | None = None,
        max_offset: float = 0.0,
        max_drift: float = 0.0,
    ) -> None:
        super().__init__()
        if not rate > 0:
            raise ValueError(f"rate must be a positive number of events per second, not {rate}")
        if not 0.0 <= send_probability <= 1.0:
            raise ValueError(f"send_probability must be in [0, 1], not {send_probability}")
        if events is not None and events < 0:
            raise ValueError(f"events must not be negative (got {events})")
        if max_offset < 0 or max_drift < 0:
            raise ValueError("max_offset and max_drift must not be negative")
        self.rate = rate
        self.send_probability = send_probability
        self.events = events
        self.fixed_clock = clock
        self.max_offset = max_offset
        self.max_drift = max_drift

    # State kept in storage so that a restart does not turn the clocks back.
    @property
    def lamport(self) -> LamportClock:
        clock: LamportClock = self.storage["lamport"]
        return clock

    @property
    def vector(self) -> VectorClock:
        clock: VectorClock = self.storage["vector"]
        return clock

    @property
    def physical(self) -> PhysicalClock:
        clock: PhysicalClock = self.storage["physical"]
        return clock

    def wall(self) -> float:
        """This node's physical clock reading now."""
        return self.physical.read(self.now)

    def on_start(self) -> None:
        s = self.storage
        s.setdefault("lamport", LamportClock())
        s.setdefault("vector", VectorClock())
        s.setdefault("started", 0)
        s.setdefault("sent", 0)
        if "physical" not in s:
            s["physical"] = self.fixed_clock or PhysicalClock.drawn(
                self.rng, max_offset=self.max_offset, max_drift=self.max_drift
            )
        self._schedule()

    def _schedule(self) -> None:
        if self.events is None or self.storage["started"] < self.events:
            self.set_timer("event", self.rng.expovariate(self.rate))

    def on_timer(self, name: str) -> None:
        if name != "event":
            return
        self.storage["started"] += 1
        if self.peers and self.rng.random() < self.send_probability:
            dst = self.rng.choice(self.peers)
            self._stamp("send", peer=dst)
            self.storage["sent"] += 1
            msg = ClockMessage(
                self.lamport.time, self.vector, round(self.wall(), 9), self.storage["sent"]
            )
            self.send(dst, msg)
        else:
            self._stamp("local")
        self._schedule()

    def on_message(self, src: str, msg: Any) -> None:
        if not isinstance(msg, ClockMessage):
            return
        self._stamp("receive", peer=src, stamp=msg)

    def _stamp(
        self, event: str, *, peer: str | None = None, stamp: ClockMessage | None = None
    ) -> None:
        s = self.storage
        if stamp is None:
            s["lamport"] = s["lamport"].tick()  # Lamport 1978, IR1
            s["vector"] = s["vector"].increment(self.id)  # Mattern 1989 §4
        else:
            s["lamport"] = s["lamport"].receive(stamp.lamport)  # Lamport 1978, IR2(b)
            s["vector"] = s["vector"].receive(stamp.vector, self.id)  # Mattern 1989 §4
        data: dict[str, Any] = {
            "event": event,
            "lamport": s["lamport"].time,
            "vector": s["vector"],
            "wall": round(self.wall(), 9),
        }
        if peer is not None:
            data["peer"] = peer
        short = {"send": "send", "receive": "recv", "local": "local"}[event]
        self.note(f"{short} L{s['lamport'].time} {s['vector']}", **data)


# --------------------------------------------------------------------------------------------
# Timestamps of the events of a trace


@dataclass(frozen=True, slots=True)
class TimedEvent:
    """One event of one node with its timestamps.

    ``kind`` is "send", "receive" or "local"; ``time`` is the true (simulated) time, ``wall`` the
    node's physical clock reading if known; ``peer`` the other end of a message and ``mid`` its
    number in the trace (when known); ``seq`` the trace position of the event it comes from.
    """

    seq: int
    time: float
    node: str
    kind: str
    lamport: int
    vector: VectorClock
    peer: str | None = None
    wall: float | None = None
    mid: int | None = None

    def happens_before(self, other: TimedEvent) -> bool:
        """True when this event happened before ``other`` (by their vector timestamps)."""
        return self.vector.happens_before(other.vector)

    def __str__(self) -> str:
        peer = f" {'to' if self.kind == 'send' else 'from'} {self.peer}" if self.peer else ""
        return f"t={self.time:.4f} {self.node} {self.kind}{peer}: L={self.lamport} V={self.vector}"


def _is_local_note(event: Any) -> bool:
    return event.kind == "note" and (event.data or {}).get("event") == "local"


def timestamps(
    trace: Any, *, local: Callable[[Any], bool] | None = _is_local_note
) -> list[TimedEvent]:
    """Compute the Lamport and vector timestamp of every event in ``trace``.

    Works on the trace of any protocol, from the message events alone: every ``send`` is an
    event of its sender and every ``deliver`` an event (a receive) of its receiver. ``local``
    picks which other trace events count as local events of their node (default: the notes a
    :class:`ClockNode` writes for its local events; ``None``: no local events). Dropped messages
    have a send and no receive; a duplicated message is received twice.

    Returns the events in trace order. On a :class:`ClockNode` run the result equals what the
    nodes stamped themselves (:func:`noted_timestamps`), which makes a good check of either.
    """
    lamport: dict[str, LamportClock] = {}
    vector: dict[str, VectorClock] = {}
    stamps: dict[int, tuple[int, VectorClock]] = {}
    out: list[TimedEvent] = []
    for e in trace:
        if e.kind == "send":
            node = e.node
            lamport[node] = lamport.get(node, LamportClock()).tick()  # Lamport 1978, IR1
            vector[node] = vector.get(node, VectorClock()).increment(node)  # Mattern 1989 §4
            stamps[e.mid] = (lamport[node].time, vector[node])
            out.append(
                TimedEvent(
                    e.seq, e.time, node, "send", lamport[node].time, vector[node], e.peer, mid=e.mid
                )
            )
        elif e.kind == "deliver":
            node = e.peer
            if e.mid not in stamps:
                raise ValueError(
                    f"the trace delivers message #{e.mid} without its send: pass a whole trace, "
                    "not one filtered by node or time"
                )
            lt, vt = stamps[e.mid]
            lamport[node] = lamport.get(node, LamportClock()).receive(lt)  # Lamport 1978, IR2(b)
            vector[node] = vector.get(node, VectorClock()).receive(vt, node)  # Mattern 1989 §4
            out.append(
                TimedEvent(
                    e.seq,
                    e.time,
                    node,
                    "receive",
                    lamport[node].time,
                    vector[node],
                    e.node,
                    mid=e.mid,
                )
            )
        elif local is not None and e.node is not None and local(e):
            node = e.node
            lamport[node] = lamport.get(node, LamportClock()).tick()
            vector[node] = vector.get(node, VectorClock()).increment(node)
            out.append(TimedEvent(e.seq, e.time, node, "local", lamport[node].time, vector[node]))
    return out


def noted_timestamps(trace: Any) -> list[TimedEvent]:
    """The events a :class:`ClockNode` run stamped itself, read back from the trace's notes."""
    out = []
    for e in trace:
        data = e.data or {}
        if e.kind != "note" or data.get("event") not in ("send", "receive", "local"):
            continue
        if not isinstance(data.get("vector"), VectorClock):
            continue
        out.append(
            TimedEvent(
                e.seq,
                e.time,
                e.node,
                data["event"],
                data["lamport"],
                data["vector"],
                data.get("peer"),
                data.get("wall"),
            )
        )
    return out


def misordered(
    events: Iterable[TimedEvent], key: str | Callable[[TimedEvent], Any] = "wall"
) -> list[tuple[TimedEvent, TimedEvent]]:
    """Pairs ``(a, b)`` where a happened before b but ``key`` puts b first (or level with a).

    ``key`` is "wall" (the local physical clocks), "lamport", "time" (true time) or a function of
    an event. Happens-before is decided by the vector timestamps. Lamport timestamps never
    misorder a causal pair (the clock condition); wall clocks that are skewed do.
    """
    if isinstance(key, str):
        if key not in ("wall", "lamport", "time"):
            raise ValueError(f"key must be 'wall', 'lamport', 'time' or a function, not {key!r}")
        name = key

        def key(ev: TimedEvent) -> Any:
            value = getattr(ev, name)
            if value is None:
                raise ValueError(f"event {ev} has no {name} timestamp")
            return value

    items = list(events)
    keys = [key(e) for e in items]
    bad = []
    for i, a in enumerate(items):
        for j, b in enumerate(items):
            if i != j and a.vector.happens_before(b.vector) and not keys[i] < keys[j]:
                bad.append((a, b))
    return bad
