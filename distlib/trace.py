"""Trace: the record of everything that happened in a run.

Runtimes append :class:`Event` objects; people and checkers read them. A trace can be filtered
(:meth:`Trace.filter`), printed as a canonical listing (:meth:`Trace.listing`: the same seed gives
the same listing byte for byte), counted (:meth:`Trace.message_counts`) and drawn as a space-time
diagram (:meth:`Trace.diagram`, which imports matplotlib only when called).

Event kinds:

======== ===========================================================================
start    a node booted (``node``)
send     ``node`` sent ``msg`` to ``peer``; ``mid`` numbers the message
deliver  message ``mid`` from ``node`` reached ``peer``
drop     message ``mid`` from ``node`` to ``peer`` was lost; ``detail`` says why
         (loss, partition, cut, isolated, node down)
dup      the network duplicated message ``mid``; the copy has its own ``deliver``/``drop``
timer    the timer ``detail`` of ``node`` fired
crash    ``node`` crashed (volatile state and timers lost)
restart  ``node`` restarted from its storage
net      a connectivity change (partition, cut, isolate, heal); ``detail`` describes it
note     ``node`` annotated the run (``detail``, with ``data``)
invoke   client ``node`` invoked an operation (``detail``)
complete client ``node`` finished an operation (``detail``)
error    a handler of ``node`` raised; ``detail`` says which handler and what
======== ===========================================================================
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

__all__ = ["Event", "RawEvent", "Trace", "msg_type"]

#: What a runtime records, cheaply, before anyone reads the trace:
#: ``(time, kind, node, peer, mid, msg, detail, data)``, the fields of :class:`Event` in order.
RawEvent = tuple[float, str, str | None, str | None, int | None, Any, str, dict[str, Any] | None]
RAW_FIELDS = 8

MESSAGE_KINDS = frozenset({"send", "deliver", "drop", "dup"})


def msg_type(msg: Any) -> str:
    """A message's type: its class name, a dict's ``"type"``, a tuple's leading string, or the
    text of a short string message."""
    if isinstance(msg, str):
        return msg if len(msg) <= 24 else msg[:21] + "..."
    if isinstance(msg, dict):
        kind = msg.get("type")
        if isinstance(kind, str):
            return kind
        return "dict"
    if isinstance(msg, tuple) and msg and isinstance(msg[0], str) and not hasattr(msg, "_fields"):
        return msg[0]
    return type(msg).__name__


def _short(msg: Any) -> str:
    """A deterministic one-line rendering of a message."""
    if is_dataclass(msg) and not isinstance(msg, type):
        inner = ", ".join(f"{f.name}={getattr(msg, f.name)!r}" for f in fields(msg))
        text = f"{type(msg).__name__}({inner})"
    else:
        text = repr(msg)
    return text if len(text) <= 160 else text[:157] + "..."


@dataclass(slots=True)
class Event:
    """One thing that happened at ``time`` (seconds of simulated time)."""

    seq: int
    time: float
    kind: str
    node: str | None = None
    peer: str | None = None
    mid: int | None = None
    msg: Any = None
    detail: str = ""
    data: dict[str, Any] | None = None

    @property
    def type(self) -> str | None:
        """The message type of a message event, else None."""
        return msg_type(self.msg) if self.kind in MESSAGE_KINDS else None

    def involves(self, name: str) -> bool:
        return self.node == name or self.peer == name

    def line(self) -> str:
        """The event as one line of the canonical listing."""
        t = f"{self.time:12.6f}"
        if self.kind in MESSAGE_KINDS:
            what = f"{self.node} -> {self.peer}  #{self.mid} {_short(self.msg)}"
            if self.detail:
                what += f"  ({self.detail})"
        elif self.kind == "note" and self.data:
            extra = ", ".join(f"{k}={v!r}" for k, v in self.data.items())
            what = f"{self.node}: {self.detail} [{extra}]"
        else:
            what = f"{self.node}: {self.detail}" if self.node is not None else self.detail
        return f"{t}  {self.kind:<8} {what}".rstrip()


class Trace:
    """An ordered list of events with queries. Runtimes append; everyone else reads."""

    def __init__(self, events: Iterable[Event] = (), *, enabled: bool = True) -> None:
        self._events: list[Event] = list(events)
        # A runtime's own trace records raw events (cheap) and builds Events when read. They are
        # kept flat, RAW_FIELDS values per event, in one list: a list of tuples would hand the
        # garbage collector one more object to scan per event, again and again as a run grows.
        self._raw: list[Any] | None = None if self._events else []
        self.enabled = enabled

    # -- recording (runtimes) ---------------------------------------------------------------

    def record(
        self,
        time: float,
        kind: str,
        node: str | None = None,
        peer: str | None = None,
        mid: int | None = None,
        msg: Any = None,
        detail: str = "",
        data: dict[str, Any] | None = None,
    ) -> None:
        """Append one event (runtimes only)."""
        if self.enabled:
            self.recorder()((time, kind, node, peer, mid, msg, detail, data))

    def recorder(self) -> Callable[[RawEvent], None]:
        """A fast append for runtimes, taking ``(time, kind, node, peer, mid, msg, detail,
        data)`` tuples."""
        if self._raw is None:
            raise RuntimeError("a filtered trace is read-only")
        return self._raw.extend

    @property
    def events(self) -> list[Event]:
        """The events, in the order they happened."""
        raw = self._raw
        if raw is not None and len(self._events) < len(raw) // RAW_FIELDS:
            events = self._events
            n = RAW_FIELDS
            events.extend(
                Event(i, *raw[i * n : i * n + n]) for i in range(len(events), len(raw) // n)
            )
        return self._events

    # -- reading -----------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self._raw) // RAW_FIELDS if self._raw is not None else len(self._events)

    def __getitem__(self, i: int) -> Event:
        return self.events[i]

    def filter(
        self,
        kind: str | Iterable[str] | None = None,
        *,
        node: str | None = None,
        type: str | type | None = None,
        since: float | None = None,
        until: float | None = None,
        where: Callable[[Event], bool] | None = None,
    ) -> Trace:
        """Events matching every given condition, as a new trace.

        ``kind``: one kind or several; ``node``: events involving that node (either end of a
        message); ``type``: message type name or class; ``since``/``until``: a time window
        (inclusive); ``where``: any predicate on the event.
        """
        kinds = {kind} if isinstance(kind, str) else set(kind) if kind is not None else None
        tname = type if isinstance(type, str) or type is None else type.__name__
        out = []
        for e in self.events:
            if kinds is not None and e.kind not in kinds:
                continue
            if node is not None and not e.involves(node):
                continue
            if tname is not None and e.type != tname:
                continue
            if since is not None and e.time < since:
                continue
            if until is not None and e.time > until:
                continue
            if where is not None and not where(e):
                continue
            out.append(e)
        return Trace(out)

    def notes(self, node: str | None = None) -> list[tuple[float, str, str, dict[str, Any]]]:
        """Annotations as ``(time, node, text, data)``."""
        return [
            (e.time, e.node or "", e.detail, dict(e.data or {}))
            for e in self.filter("note", node=node)
        ]

    def message_counts(self, by: str = "type", *, local: bool = False) -> Counter[str]:
        """Messages *sent* over the network, counted ``by`` "type", "node" (sender), "link" or
        "kind". A node's messages to itself never cross the network (the runtime delivers them):
        they are left out unless ``local=True``."""
        events = [e for e in self.events if e.kind in MESSAGE_KINDS and (local or e.node != e.peer)]
        if by == "kind":
            return Counter(e.kind for e in events)
        sends = [e for e in events if e.kind == "send"]
        if by == "type":
            return Counter(e.type for e in sends if e.type is not None)
        if by == "node":
            return Counter(e.node for e in sends if e.node is not None)
        if by == "link":
            return Counter(f"{e.node}->{e.peer}" for e in sends)
        raise ValueError(
            f"message_counts(by=...) takes 'type', 'node', 'link' or 'kind', not {by!r}"
        )

    def listing(self, limit: int | None = None) -> str:
        """The canonical text listing: one line per event, deterministic for a given seed."""
        events = self.events if limit is None else self.events[:limit]
        lines = [e.line() for e in events]
        if limit is not None and len(self.events) > limit:
            lines.append(f"... {len(self.events) - limit} more events")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.listing()

    def __repr__(self) -> str:
        return f"<Trace of {len(self.events)} events>"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # IPython shows the head of the listing
        p.text(self.listing(limit=60))

    @property
    def nodes(self) -> list[str]:
        """Every node named in the trace, in order of first appearance."""
        seen: dict[str, None] = {}
        for e in self.events:
            for name in (e.node, e.peer):
                if name is not None:
                    seen.setdefault(name, None)
        return list(seen)
