"""Nodes: protocol logic as deterministic automata, with no I/O of their own.

A protocol is a :class:`Node` subclass. The runtime calls its handlers, one at a time:

* ``on_start()`` when the node boots, and again after every restart (read ``self.storage`` there);
* ``on_message(src, msg)`` when a message arrives;
* ``on_timer(name)`` when a timer set with :meth:`Node.set_timer` fires, or
  ``on_timer(name, payload)`` if the timer was set with a payload.

Handlers only *decide*. What they want done (send a message, set a timer, note something in the
trace) is recorded as an :class:`Action`, and the runtime performs it after the handler returns.
So a node never touches simpy, sockets, threads, the wall clock or the global ``random``: it sees
time as ``self.now``, randomness as ``self.rng`` and durable state as ``self.storage``, all three
injected by whichever runtime drives it. The same class runs in :class:`distlib.Simulation`, in a
unit test that feeds it one message at a time (:meth:`Node.attach`), or in any other runtime.

What every runtime promises a node (the runtime contract):

* handlers run one at a time, and the actions a handler recorded are performed after it returns;
* a message a node sends to itself is delivered by the runtime, never by the network: it cannot be
  lost, duplicated or cut off by a partition, and it arrives after the current handler, at the
  same time;
* a timer carries an optional payload back to ``on_timer``, so no data need be encoded in its name;
* an observer (``sim.observe(fn)``) sees every node after every handler step, once that step's
  actions are performed: harnesses and checkers watch nodes this way instead of patching them.

Crash semantics (enforced by runtimes): a crash throws the node object away, with every field and
timer; ``storage`` survives, and the restarted node is a fresh object built by the same factory.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Action",
    "CancelTimer",
    "Complete",
    "Invoke",
    "Node",
    "NodeContext",
    "Note",
    "Send",
    "SetTimer",
]


# --------------------------------------------------------------------------------------------
# Actions: what a handler asks the runtime to do. (Plain slotted classes rather than frozen
# ones: a busy simulation creates hundreds of thousands of them, and freezing costs time.)


@dataclass(slots=True)
class Send:
    """Send ``msg`` to node ``dst``."""

    dst: str
    msg: Any


@dataclass(slots=True)
class SetTimer:
    """Fire ``on_timer(name)`` after ``delay`` seconds (replacing a pending timer of that name).

    With a ``payload`` (anything but None) the runtime calls ``on_timer(name, payload)``.
    """

    name: str
    delay: float
    payload: Any = None


@dataclass(slots=True)
class CancelTimer:
    """Forget the pending timer called ``name`` (no error if there is none)."""

    name: str


@dataclass(frozen=True, slots=True)
class Note:
    """An annotation for the trace, e.g. ``Note("became leader", {"term": 3})``."""

    text: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Invoke:
    """A client operation begins (recorded in the run's history)."""

    op: int
    f: str
    input: Any


@dataclass(frozen=True, slots=True)
class Complete:
    """A client operation ends with ``output`` and ``status`` ("ok", "fail" or "unknown")."""

    op: int
    output: Any
    status: str


Action = Send | SetTimer | CancelTimer | Note | Invoke | Complete


# --------------------------------------------------------------------------------------------
# The context a runtime injects.


@dataclass(slots=True)
class NodeContext:
    """What a runtime gives a node: its name, its peers, a clock, an RNG and durable storage.

    Runtimes keep one context per node name and move the clock forward before each handler.
    ``storage`` is the same mapping across crashes and restarts; everything else in the node is
    volatile.
    """

    id: str
    peers: tuple[str, ...] = ()
    now: float = 0.0
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    storage: MutableMapping[str, Any] = field(default_factory=dict)


class Node:
    """Base class of every protocol node. Subclasses override the ``on_*`` handlers.

    Inside a handler use ``self.id``, ``self.peers``, ``self.now``, ``self.rng`` and
    ``self.storage``, and the actions :meth:`send`, :meth:`broadcast`, :meth:`set_timer`,
    :meth:`cancel_timer` and :meth:`note`. Do not do I/O, sleep, or use the global ``random``.

    ``__init__`` of a subclass takes the protocol's own configuration (call ``super().__init__()``);
    the runtime attaches the context afterwards, so ``self.id`` is not available in ``__init__``.
    """

    def __init__(self) -> None:
        self._ctx: NodeContext | None = None
        self._actions: list[Action] = []

    # -- wiring (used by runtimes and tests) -----------------------------------------------

    def attach(self, ctx: NodeContext | None = None, /, **kwargs: Any) -> Node:
        """Give this node its context; returns ``self``.

        Runtimes pass a :class:`NodeContext`. In a unit test, pass fields directly:
        ``node.attach(id="a", peers=("b", "c"))``; the RNG defaults to ``random.Random(0)``.
        """
        if ctx is None:
            ctx = NodeContext(**kwargs)
        elif kwargs:
            raise TypeError("attach() takes a NodeContext or keyword fields, not both")
        if not isinstance(ctx.id, str):
            raise TypeError(f"a node's name must be a string, not {ctx.id!r}")
        ctx.peers = tuple(ctx.peers)
        for peer in ctx.peers:
            if not isinstance(peer, str):
                raise TypeError(f"a peer's name must be a string, not {peer!r}")
        self._ctx = ctx
        return self

    def take_actions(self) -> list[Action]:
        """Return and clear the actions recorded since the last call (runtimes call this)."""
        actions, self._actions = self._actions, []
        return actions

    @property
    def context(self) -> NodeContext:
        ctx = self._ctx
        if ctx is None:
            raise self._unattached()
        return ctx

    def _unattached(self) -> RuntimeError:
        return RuntimeError(
            f"{type(self).__name__} is not attached to a runtime yet: add it to a "
            "Simulation, or call node.attach(id=..., peers=...) in a test"
        )

    # -- what handlers read ------------------------------------------------------------------
    # (Each reads the context directly rather than through ``self.context``: handlers read
    # these all the time, and a property calling a property costs twice.)

    @property
    def id(self) -> str:
        """This node's name."""
        ctx = self._ctx
        if ctx is None:
            raise self._unattached()
        return ctx.id

    @property
    def peers(self) -> tuple[str, ...]:
        """The other nodes of the system (not clients, not this node), in a fixed order."""
        ctx = self._ctx
        if ctx is None:
            raise self._unattached()
        return ctx.peers

    @property
    def now(self) -> float:
        """The current time, in seconds, as the runtime's clock says."""
        ctx = self._ctx
        if ctx is None:
            raise self._unattached()
        return ctx.now

    @property
    def rng(self) -> random.Random:
        """This node's own seeded random number generator."""
        ctx = self._ctx
        if ctx is None:
            raise self._unattached()
        return ctx.rng

    @property
    def storage(self) -> MutableMapping[str, Any]:
        """Durable storage that survives a crash: write it *before* a reply that relies on it.

        In a runtime it is a :class:`~distlib.disk.Disk`: a write stores a copy of the value (so
        a later change to the node's own object is not durable until written again)."""
        ctx = self._ctx
        if ctx is None:
            raise self._unattached()
        return ctx.storage

    def sync(self) -> None:
        """Force storage to disk (``fsync``): needed where a simulation runs with
        ``durability="sync"``, harmless elsewhere. Call it after the writes a reply relies on."""
        sync = getattr(self.storage, "sync", None)
        if sync is not None:
            sync()

    # -- actions -------------------------------------------------------------------------------

    def send(self, dst: str, msg: Any) -> None:
        """Send ``msg`` to node ``dst`` (delivery is up to the network: it may be lost).

        A message to this node itself (``dst == self.id``) is delivered by the runtime after this
        handler: never lost, never blocked by a partition.
        """
        if not isinstance(dst, str):
            raise TypeError(f"{self.id}: send() needs a node name as destination, not {dst!r}")
        self._actions.append(Send(dst, msg))

    def broadcast(self, msg: Any, *, to: Iterable[str] | None = None) -> None:
        """Send ``msg`` to every peer (or to the names in ``to``), not to this node."""
        ctx = self._ctx
        if ctx is None:
            raise self._unattached()
        me = ctx.id
        if to is None:  # the runtime's peers: names already
            self._actions += [Send(dst, msg) for dst in ctx.peers if dst != me]
            return
        actions = self._actions
        for dst in to:
            if dst != me:
                if not isinstance(dst, str):
                    raise TypeError(f"{me}: broadcast() needs node names, not {dst!r}")
                actions.append(Send(dst, msg))

    def set_timer(self, name: str, delay: float, payload: Any = None) -> None:
        """Ask for ``on_timer(name)`` after ``delay`` seconds; replaces a timer of the same name.

        A ``payload`` other than None comes back as ``on_timer(name, payload)``: carry data there
        (a transaction id, a ballot), not in the timer's name. The name alone identifies the timer
        for replacing and cancelling.
        """
        if not isinstance(name, str):
            raise TypeError(f"{self.id}: a timer name must be a string, not {name!r}")
        if delay.__class__ is not float or not delay >= 0.0:  # (a float >= 0 needs no check)
            if not isinstance(delay, int | float) or delay != delay:
                raise TypeError(
                    f"{self.id}: timer {name!r} needs a number of seconds, not {delay!r}"
                )
            if delay < 0:
                raise ValueError(f"{self.id}: timer {name!r} has a negative delay ({delay})")
            delay = float(delay)
        self._actions.append(SetTimer(name, delay, payload))

    def cancel_timer(self, name: str) -> None:
        """Cancel the pending timer ``name``, if any."""
        if not isinstance(name, str):
            raise TypeError(f"{self.id}: a timer name must be a string, not {name!r}")
        self._actions.append(CancelTimer(name))

    def note(self, text: str, **data: Any) -> None:
        """Annotate the trace, e.g. ``self.note("became leader", term=3)``."""
        self._actions.append(Note(str(text), data))

    # -- handlers (override) ---------------------------------------------------------------

    def on_start(self) -> None:
        """Called when the node boots and after every restart."""

    def on_message(self, src: str, msg: Any) -> None:
        """Called when ``msg`` from ``src`` is delivered."""

    def on_timer(self, name: str) -> None:
        """Called when the timer ``name`` fires.

        A timer set with a payload fires ``on_timer(name, payload)``: a node that sets such timers
        declares ``def on_timer(self, name, payload=None)``.
        """

    def __repr__(self) -> str:
        name = self._ctx.id if self._ctx is not None else "unattached"
        return f"<{type(self).__name__} {name}>"
