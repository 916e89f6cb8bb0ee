"""The Simulation runtime: drives :class:`~distlib.node.Node` objects over a simulated network.

The runtime keeps its own event queue, a heap of ``(time, seq, callback, argument)`` entries: a
message in flight is an entry whose callback delivers it, a timer one whose callback fires it
(unless it was cancelled or the node crashed meanwhile), a call scheduled with
:meth:`Simulation.after` one whose callback makes the call. ``seq`` counts entries as they are
scheduled, so events at the same instant happen in the order they were scheduled. One seeded RNG
per concern (the network, each node incarnation) makes a run reproducible: the same seed gives the
same trace, byte for byte.

``sim.env`` is a simpy environment that shares the simulation's clock, free for raw simpy
processes (queueing models, workload generators): :meth:`Simulation.run` takes the next event of
either queue in time order (simpy's first when both fall at the same instant) and sets simpy's
clock before anything outside the runtime can read it (a scheduled call, a simpy process, the end
of a run). Run the system with ``sim.run``, never ``sim.env.run``: simpy alone does not see the
runtime's queue.

The simulation performs what handlers decide; it never decides protocol behaviour itself. It
keeps the runtime contract of :mod:`distlib.node`: a node's message to itself is delivered by the
runtime (never lost or partitioned), timers carry payloads, and observers registered with
:meth:`Simulation.observe` see every node after every handler step.

Only simpy's public API is used (``env.now``, ``env.peek()``, ``env.step()``, ``env.run()``).
"""

from __future__ import annotations

import itertools
import math
import os
import random
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from heapq import heappop, heappush
from pathlib import Path
from typing import Any, TypeVar, overload

import simpy

from distlib.disk import CrashPoint, Disk
from distlib.history import History, Operation
from distlib.node import CancelTimer, Complete, Invoke, Node, NodeContext, Note, Send, SetTimer
from distlib.sim.network import (
    DEFAULT_LATENCY,
    DEFAULT_REORDER_DELAY,
    Latency,
    Link,
    Network,
    Uniform,
)
from distlib.trace import RawEvent, Trace, msg_type

__all__ = ["NodeError", "Observer", "Simulation", "SimulationError"]


class SimulationError(Exception):
    """The simulation was asked to do something impossible (unknown node, bad time, ...)."""


class NodeError(SimulationError):
    """A node's handler raised; the message says which node, which handler and when.

    In a notebook it is shown short: the message, the line of *your* code that raised (the
    last frame outside the library and simpy) and the original exception, without the frames
    of the runtime in between. The whole chained traceback is one attribute away:
    :attr:`full_traceback` (or ``%tb``).
    """

    def __init__(self, message: str, *, node: str, event: str, time: float) -> None:
        super().__init__(message)
        self.node = node
        self.event = event
        self.time = time

    @property
    def full_traceback(self) -> str:
        """The whole traceback, the runtime's frames and the original exception's included."""
        return "".join(traceback.format_exception(self))

    def your_line(self) -> str | None:
        """Where the original exception was raised in code outside the library and simpy:
        ``file, line N, in function`` and the source line, or None."""
        cause = self.__cause__
        if cause is None:
            return None
        frames = [f for f in traceback.extract_tb(cause.__traceback__) if not _runtime_frame(f)]
        if not frames:
            return None
        f = frames[-1]
        place = "a notebook cell" if "ipykernel_" in f.filename else f.filename
        text = f"{place}, line {f.lineno}, in {f.name}"
        return text + (f":  {f.line.strip()}" if f.line else "")

    def _render_traceback_(self) -> list[str]:
        """What IPython shows instead of the traceback (IPython's documented hook)."""
        lines = [f"NodeError: {self}"]
        where = self.your_line()
        if where is not None:
            lines.append(f"  in your code: {where}")
        lines.append(
            "  (the runtime's frames are hidden: print(err.full_traceback) or %tb shows them all)"
        )
        return lines


def _runtime_frame(frame: traceback.FrameSummary) -> bool:
    """A frame of this library (its labs' helpers included) or of simpy: not a student's."""
    name = frame.filename
    return name.startswith((_LIBRARY, _SIMPY, "<frozen "))


_LIBRARY = str(Path(__file__).resolve().parents[1]) + os.sep
_SIMPY = str(Path(simpy.__file__).resolve().parent) + os.sep


NodeFactory = Callable[[], Node]
N = TypeVar("N", bound=Node)

#: An observer: ``fn(name, node, event)`` after every handler step of every node, where ``event``
#: is ``"on_start"``, ``"on_message"``, ``"on_timer"`` or ``"call"``. What it raises stops the run
#: and reaches the caller of :meth:`Simulation.run` unchanged (a checker's verdict, say).
Observer = Callable[[str, Node, str], None]


#: One entry of the runtime's event queue: ``(time, seq, callback, argument)``; the event is
#: ``callback(argument)`` at ``time``. ``seq`` (unique, increasing) orders entries of one instant.
Entry = tuple[float, int, Callable[[Any], None], Any]


def _ignore(_event: RawEvent) -> None:
    """The recorder of a simulation whose trace is off."""


@dataclass(slots=True)
class _Slot:
    """The runtime's bookkeeping for one node name, across crashes."""

    name: str
    factory: NodeFactory
    client: bool
    ctx: NodeContext
    node: Node | None = None
    up: bool = False
    incarnation: int = 0
    timers: dict[str, int] = field(default_factory=dict)
    ops: dict[int, Operation] = field(default_factory=dict)
    # The node's own clock: ``base + rate * (now - anchor)`` once skewed, else now.
    skewed: bool = False
    rate: float = 1.0
    base: float = 0.0
    anchor: float = 0.0

    def clock(self, now: float) -> float:
        """What this node's clock reads at simulated time ``now``."""
        return self.base + self.rate * (now - self.anchor) if self.skewed else now


class Simulation:
    """A seeded, simulated distributed system.

    >>> sim = Simulation(seed=1, latency=Uniform(0.01, 0.02), loss=0.1)
    >>> sim.add_node("a", PingNode)            # a Node class, or any zero-argument factory
    >>> sim.partition(["a"], ["b", "c"])       # connectivity changes are traced
    >>> sim.at(2.0, sim.heal)                  # and can be scheduled
    >>> sim.run(until=5.0)                     # or until=predicate, or run() to quiescence
    >>> print(sim.trace.listing())

    The network keyword arguments set every link's default (see
    :class:`distlib.sim.network.Network`): ``latency`` (a :class:`~distlib.sim.network.Latency`
    or seconds), the probabilities ``loss``, ``duplicate`` and ``reorder``, and ``reorder_delay``,
    the extra delay of a reordered message.

    ``durability`` sets how every node's storage (a :class:`~distlib.disk.Disk`) keeps writes:
    ``"write"`` (the default: each write is durable at once) or ``"sync"`` (durable only at
    ``self.sync()``; a crash loses what was written since). ``torn`` (sync only) is the
    probability that a crash tears the unsynced writes instead of losing them all.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        trace: bool = True,
        latency: Latency | float = DEFAULT_LATENCY,
        loss: float = 0.0,
        duplicate: float = 0.0,
        reorder: float = 0.0,
        reorder_delay: Latency | float = DEFAULT_REORDER_DELAY,
        durability: str = "write",
        torn: float = 0.0,
    ) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise TypeError(f"seed must be an int, not {seed!r}")
        if durability not in ("write", "sync"):
            raise ValueError(f'durability is "write" or "sync", not {durability!r}')
        Disk(sync=durability == "sync", torn=torn)  # check torn before anything is built
        self.seed = seed
        self.durability = durability
        self.torn = torn
        self.env = simpy.Environment()
        self._queue: list[Entry] = []  # the runtime's own events, a heap (see the module doc)
        self._seq = itertools.count()
        self._now: float = self.env.now
        self.network = Network(
            latency=latency,
            loss=loss,
            duplicate=duplicate,
            reorder=reorder,
            reorder_delay=reorder_delay,
        )
        self.trace = Trace(enabled=trace)
        self.history = History()
        self.rng = random.Random(f"{seed}/network")
        self._slots: dict[str, _Slot] = {}
        self._mid = 0
        self._timer_token = 0
        self._delivered = self._dropped = self._duplicated = self._timers = self._local = 0
        #: Optional ``f(src, dst, msg) -> msg | None`` called on every message a node sends,
        #: before the network model: return the message (or a rewritten one) to let it go on,
        #: None to drop it. It models an adversary who owns the network (see sim.adversary).
        self.interceptor: Callable[[str, str, Any], Any] | None = None
        self._deliver_cb = self._deliver  # one bound method each, reused for every event
        self._deliver_self_cb = self._deliver_self
        self._fire_cb = self._fire
        self._call_cb = self._call
        self._log: Callable[[RawEvent], None] = self.trace.recorder() if trace else _ignore
        self._observers: list[Observer] = []  # changed in place only (the event loop holds it)

    def observe(self, fn: Observer) -> Observer:
        """Call ``fn(name, node, event)`` after every handler step of every node, from now on.

        The step's actions are already performed (its messages are in flight, its timers set), so
        ``fn`` sees the node as the rest of the system will. Harnesses and checkers watch nodes
        this way; they never patch a node's methods. Returns ``fn`` (usable as a decorator);
        :meth:`unobserve` removes it. An observer may schedule calls (:meth:`after`), not simpy
        events: simpy's clock is set for calls, not for observers.
        """
        if not callable(fn):
            raise TypeError(f"an observer must be callable as fn(name, node, event), not {fn!r}")
        self._observers.append(fn)
        return fn

    def unobserve(self, fn: Observer) -> None:
        """Stop calling the observer ``fn`` (no error if it was not observing)."""
        if fn in self._observers:
            self._observers.remove(fn)

    @property
    def stats(self) -> dict[str, int]:
        """Counts of messages sent over the network, delivered, dropped and duplicated, of a node's
        messages to itself (``local``: delivered by the runtime) and of timers fired."""
        return {
            "sent": self._mid - self._local,
            "local": self._local,
            "delivered": self._delivered,
            "dropped": self._dropped,
            "duplicated": self._duplicated,
            "timers": self._timers,
        }

    # -- building the system --------------------------------------------------------------

    def add_node(
        self,
        name: str,
        factory: NodeFactory | type[Node],
        *,
        client: bool = False,
        start: bool = True,
    ) -> None:
        """Add a node called ``name``, built by ``factory()`` now and at every restart.

        ``client=True`` marks a client: it is not among the servers' ``peers`` and is not put
        into a partition group unless named. The node boots (``on_start``) at the current time.
        """
        if not isinstance(name, str) or not name:
            raise TypeError(f"a node's name must be a non-empty string, not {name!r}")
        if name in self._slots:
            raise SimulationError(f"there is already a node called {name!r}")
        if not callable(factory):
            raise TypeError(f"node {name!r}: factory must be a Node class or a callable")
        disk = Disk(sync=self.durability == "sync", torn=self.torn)
        ctx = NodeContext(id=name, storage=disk)
        self._slots[name] = _Slot(name, factory, client, ctx)
        if start:
            self.after(0.0, self._boot, name, "start")

    def add_nodes(self, names: Iterable[str], factory: NodeFactory | type[Node], **kw: Any) -> None:
        """Add several nodes built by the same factory."""
        for name in names:
            self.add_node(name, factory, **kw)

    def add_client(self, name: str, factory: NodeFactory | type[Node]) -> None:
        """Add a client node (see :class:`distlib.client.Client`)."""
        self.add_node(name, factory, client=True)

    @property
    def names(self) -> list[str]:
        """Every node name (servers and clients), in the order they were added."""
        return list(self._slots)

    @property
    def servers(self) -> list[str]:
        """The names of the non-client nodes."""
        return [s.name for s in self._slots.values() if not s.client]

    @property
    def nodes(self) -> dict[str, Node | None]:
        """Live node objects by name; ``None`` for a node that is down."""
        return {name: s.node for name, s in self._slots.items()}

    @overload
    def node(self, name: str) -> Node: ...
    @overload
    def node(self, name: str, kind: type[N]) -> N: ...
    def node(self, name: str, kind: type[Node] = Node) -> Node:
        """The live node called ``name`` (error if unknown or down).

        ``kind`` names the class the caller expects, for the type checker and for a clear error
        when the node is something else: ``sim.node("s1", RaftNode).current_term``.
        """
        slot = self._slot(name)
        if slot.node is None:
            raise SimulationError(f"node {name!r} is down at t={self.now:g}")
        if not isinstance(slot.node, kind):
            raise SimulationError(
                f"node {name!r} is a {type(slot.node).__name__}, not a {kind.__name__}"
            )
        return slot.node

    def storage(self, name: str) -> Disk:
        """The durable storage of node ``name`` (it outlives crashes)."""
        return self._disk(self._slot(name))

    @staticmethod
    def _disk(slot: _Slot) -> Disk:
        disk = slot.ctx.storage
        assert isinstance(disk, Disk)  # add_node gives every node a Disk
        return disk

    def is_up(self, name: str) -> bool:
        return self._slot(name).up

    @property
    def now(self) -> float:
        """The current simulated time, in seconds."""
        return self._now

    def _slot(self, name: str) -> _Slot:
        try:
            return self._slots[name]
        except (KeyError, TypeError):
            raise SimulationError(
                f"unknown node {name!r} (known: {', '.join(self._slots) or 'none'})"
            ) from None

    def _check_names(self, names: Iterable[str], what: str) -> list[str]:
        names = list(names)
        unknown = [n for n in names if n not in self._slots]
        if unknown:
            raise SimulationError(
                f"{what} names unknown node(s) {', '.join(map(repr, unknown))} "
                f"(known: {', '.join(self._slots) or 'none'})"
            )
        return names

    # -- scheduling -------------------------------------------------------------------------

    def after(self, delay: float, fn: Callable[..., Any], *args: Any) -> None:
        """Call ``fn(*args)`` ``delay`` simulated seconds from now."""
        if not isinstance(delay, int | float) or delay != delay:
            raise TypeError(f"delay must be a number of seconds, not {delay!r}")
        if delay < 0:
            raise SimulationError(
                f"cannot schedule {getattr(fn, '__name__', fn)} with a negative delay ({delay})"
            )
        heappush(self._queue, (self._now + delay, next(self._seq), self._call_cb, (fn, args)))

    def _call(self, call: tuple[Callable[..., Any], tuple[Any, ...]]) -> None:
        """The event of a call scheduled with :meth:`after` (simpy's clock is set first: the
        call may start simpy processes)."""
        fn, args = call
        fn(*args)

    def at(self, time: float, fn: Callable[..., Any], *args: Any) -> None:
        """Call ``fn(*args)`` at simulated time ``time`` (not in the past)."""
        if time < self.now:
            raise SimulationError(f"cannot schedule at t={time}: it is already t={self.now}")
        self.after(time - self.now, fn, *args)

    def run(
        self,
        until: float | Callable[[], bool] | None = None,
        *,
        duration: float | None = None,
        limit: float | None = None,
    ) -> bool:
        """Run the simulation.

        * ``run(until=5.0)``: up to simulated time 5.0 (absolute); ``run(duration=1.0)``: for one
          more simulated second;
        * ``run(until=predicate, limit=t)``: until ``predicate()`` is true (checked after every
          event) or time ``limit`` passes (default: 1000 s from now). Returns whether it held;
        * ``run()``: until nothing is left to happen (quiescence). A system whose timers keep
          firing never quiesces: after ``limit`` (default 1000 s from now) this raises.
        """
        if self.env.now != self._now:
            raise SimulationError(
                f"sim.env's clock reads t={self.env.now:g}, the simulation's t={self._now:g}: "
                "run the system with sim.run(), not sim.env.run()"
            )
        if duration is not None:
            if until is not None:
                raise TypeError("give either until= or duration=, not both")
            until = self.now + duration
        if until is None or callable(until):
            horizon = self.now + 1000.0 if limit is None else limit
            if horizon < self.now:
                raise SimulationError(f"limit t={horizon} is in the past (now t={self.now})")
            try:
                if self._advance(horizon, True, until):
                    return True
                quiet = not self._queue and self.env.peek() == math.inf
            finally:
                self._sync_env(self._now)
            if until is not None:
                if self._now < horizon:  # (by the difference, as simpy's run(until=...) would)
                    self._move_clock(self._now + (horizon - self._now))
                return bool(until())
            if not quiet:
                raise SimulationError(
                    f"the run did not quiesce by t={horizon:g}: timers keep firing. "
                    "Pass until=<time> or until=<predicate> instead."
                )
            return True
        if not isinstance(until, int | float):
            raise TypeError(f"until must be a time, a predicate or None, not {until!r}")
        if until < self.now:
            raise SimulationError(f"cannot run until t={until}: it is already t={self.now}")
        if until > self.now:
            # Time moves by the difference, as simpy's run(until=...) moves its clock.
            now = self._now
            end = now + (until - now)
            try:
                self._advance(end, False, None)
            except BaseException:
                self._sync_env(self._now)
                raise
            self._move_clock(end)
        return True

    def _move_clock(self, time: float) -> None:
        """Move the clock to ``time`` (no event is due before it)."""
        self._now = time
        self._sync_env(time)

    def _sync_env(self, time: float) -> None:
        """Set simpy's clock to ``time``, the runtime's, before code outside the runtime reads it.

        No simpy event is due before ``time``. simpy's ``run(until=t)`` moves its clock by the
        difference, to ``now + (t - now)``, which from some ``now`` lands a rounding step off
        ``time`` whatever ``t`` is; from anywhere past ``time / 2`` the difference is exact
        (Sterbenz's lemma), so a clock further back goes three quarters of the way first."""
        env = self.env
        now = env.now
        if time <= now:
            return
        if now + (time - now) != time:
            env.run(until=0.75 * time)  # (now < time / 2 here: the difference would be exact)
        env.run(until=time)

    def _advance(self, limit: float, inclusive: bool, pred: Callable[[], bool] | None) -> bool:
        """Perform events in time order, both the runtime's and simpy's (simpy's first at the same
        instant), while they fall before ``limit`` (or at it, if ``inclusive``); with a
        predicate, stop as soon as ``pred()`` holds after an event and return True."""
        queue = self._queue
        env = self.env
        call, deliver, fire = self._call_cb, self._deliver_cb, self._fire_cb
        slots, log, observers = self._slots, self._log, self._observers
        while True:
            t_env = env.peek()
            net = self.network
            # The runtime's events before both simpy's next event and the limit: the hot loop.
            bound = t_env if t_env < limit else limit
            while queue and queue[0][0] < bound:
                time, _, fn, arg = heappop(queue)
                self._now = time
                if fn is deliver:
                    # The common case of _deliver, inlined (a call per message costs a tenth of
                    # a run): the receiver is up, and no partition, cut or isolation stops it.
                    _, _, src, dst, mid, msg, _, _ = arg
                    slot = slots[dst]
                    if not slot.up or (
                        (net.groups is not None or net.cuts or net.isolated)
                        and net.blocked(src, dst) is not None
                    ):
                        fn(arg)  # (_deliver drops it, saying why)
                    else:
                        self._delivered += 1
                        log((time, "deliver", src, dst, mid, msg, "", None))
                        node = slot.node
                        slot.ctx.now = slot.clock(time) if slot.skewed else time
                        try:
                            node.on_message(src, msg)  # type: ignore[union-attr]
                        except CrashPoint as point:
                            self._crash_point(slot, point)
                            if pred is not None and pred():
                                return True
                            continue
                        except Exception as exc:
                            self._failed(slot, "on_message", (src, msg), exc)
                        actions = node._actions  # type: ignore[union-attr]
                        if actions:
                            node._actions = []  # type: ignore[union-attr]
                            self._perform(slot, actions)
                        if observers and node is slot.node:
                            for observer in tuple(observers):
                                observer(dst, node, "on_message")  # type: ignore[arg-type]
                    if pred is not None and pred():
                        return True
                    continue
                if fn is fire:
                    # The common case of _fire, inlined likewise: a live timer without payload
                    # on a clock that is not skewed.
                    slot, incarnation, tname, token, payload, due = arg
                    if (
                        payload is not None
                        or due is not None
                        or slot.incarnation != incarnation
                        or not slot.up
                        or slot.timers.get(tname) != token
                    ):
                        fn(arg)
                    else:
                        del slot.timers[tname]
                        self._timers += 1
                        log((time, "timer", slot.name, None, None, None, tname, None))
                        node = slot.node
                        slot.ctx.now = slot.clock(time) if slot.skewed else time
                        try:
                            node.on_timer(tname)
                        except CrashPoint as point:
                            self._crash_point(slot, point)
                            if pred is not None and pred():
                                return True
                            continue
                        except Exception as exc:
                            self._failed(slot, "on_timer", (tname,), exc)
                        actions = node._actions
                        if actions:
                            node._actions = []
                            self._perform(slot, actions)
                        if observers and node is slot.node:
                            for observer in tuple(observers):
                                observer(slot.name, node, "on_timer")
                    if pred is not None and pred():
                        return True
                    continue
                if fn is call:  # code outside the runtime: it may read or use simpy's clock
                    self._sync_env(time)
                    fn(arg)
                    if pred is not None and pred():
                        return True
                    break  # it may have scheduled simpy events: look at simpy's queue again
                fn(arg)
                if pred is not None and pred():
                    return True
            else:
                t_own = queue[0][0] if queue else math.inf
                t_env = env.peek()  # (outside code may have scheduled simpy events meanwhile)
                if t_env <= t_own:
                    if t_env > limit or (t_env == limit and not inclusive) or t_env == math.inf:
                        return False
                    if t_env < self._now:
                        raise SimulationError(
                            f"a simpy event is due at t={t_env:g}, before now (t={self._now:g}): "
                            "simpy's clock is set only for calls made with sim.at or sim.after, "
                            "so start simpy processes there (or between runs), not in an "
                            "observer, a predicate or an interceptor"
                        )
                    self._now = t_env
                    env.step()
                else:
                    if t_own > limit or (t_own == limit and not inclusive):
                        return False
                    time, _, fn, arg = heappop(queue)
                    self._now = time
                    if fn is call:
                        self._sync_env(time)
                    fn(arg)
                if pred is not None and pred():
                    return True

    def call(self, name: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` inside node ``name`` now, as if it were one of its handlers.

        What ``fn`` records (sends, timers, notes) is performed at once and an exception becomes
        a :class:`NodeError`, exactly as for a handler. Returns what ``fn`` returns (None if the
        node crashed at a crash point inside it). Use it to poke a node from outside, e.g.
        ``sim.call("n1", sim.node("n1").submit, "x")``.
        """
        slot = self._slot(name)
        if not slot.up:
            raise SimulationError(f"node {name!r} is down at t={self.now:g}: cannot call it")
        return self._handle(
            slot, f"call {getattr(fn, '__name__', 'function')}", fn, *args, event="call"
        )

    # -- faults -----------------------------------------------------------------------------

    def crash(self, name: str, *, reason: str = "") -> None:
        """Crash ``name`` now: its object, volatile state and timers are gone; storage stays
        (in ``durability="sync"`` mode, as of its last sync). ``reason`` goes into the trace."""
        slot = self._slot(name)
        if not slot.up:
            raise SimulationError(f"node {name!r} is already down at t={self.now:g}")
        slot.up = False
        slot.node = None
        slot.timers.clear()
        lost = self._disk(slot).crash(random.Random(f"{self.seed}/{name}/{slot.incarnation}/disk"))
        detail = f"crashed {reason}".rstrip()
        if lost:
            detail += f"; unsynced writes lost: {', '.join(lost)}"
        self.trace.record(self.now, "crash", name, detail=detail)

    def restart(self, name: str) -> None:
        """Restart a crashed node: a fresh object from its factory, with its old storage."""
        slot = self._slot(name)
        if slot.up:
            raise SimulationError(f"node {name!r} is up at t={self.now:g}: crash it before restart")
        self._boot(name, "restart")

    def set_clock(self, name: str, *, rate: float | None = None, jump: float = 0.0) -> None:
        """Skew node ``name``'s clock from now on: it runs ``rate`` times as fast as simulated
        time (1.0 is a perfect clock; 1.1 gains 0.1 s a second) and jumps by ``jump`` seconds
        at once (back if negative). The node sees it as ``self.now``, and its timers fire by it:
        a timer of 1 s on a clock at rate 2 fires after 0.5 simulated seconds. Timers already
        armed keep their time. Traced as a ``clock`` event; it outlives crashes (the clock is
        the machine's)."""
        slot = self._slot(name)
        if rate is not None and (
            not isinstance(rate, int | float) or isinstance(rate, bool) or not rate > 0
        ):
            raise ValueError(f"a clock rate must be a positive number, not {rate!r}")
        if not isinstance(jump, int | float) or isinstance(jump, bool) or jump != jump:
            raise TypeError(f"a clock jump must be a number of seconds, not {jump!r}")
        now = self._now
        slot.base = slot.clock(now) + jump
        slot.anchor = now
        if rate is not None:
            slot.rate = float(rate)
        slot.skewed = slot.rate != 1.0 or slot.base != now
        detail = f"clock rate {slot.rate:g}" + (f", jumped {jump:+g} s" if jump else "")
        self.trace.record(now, "clock", name, detail=detail)

    def clock(self, name: str) -> float:
        """What node ``name``'s clock reads now (``sim.now`` unless :meth:`set_clock` skewed it)."""
        return self._slot(name).clock(self._now)

    def partition(self, *groups: Iterable[str]) -> None:
        """Split the servers into groups that cannot reach each other.

        Servers not named form one more group together; clients not named can reach everyone.
        """
        seen: dict[str, int] = {}
        for i, group in enumerate(groups):
            for n in self._check_names(group, "partition"):
                if n in seen:
                    raise SimulationError(f"partition names node {n!r} in two groups")
                seen[n] = i
        rest = len(groups)
        for slot in self._slots.values():
            if slot.name not in seen and not slot.client:
                seen[slot.name] = rest
        self.network.groups = seen
        shown = " | ".join(",".join(g) for g in (list(g) for g in groups))
        self.trace.record(self.now, "net", detail=f"partition {shown}")

    def cut(self, src: str, dst: str, *, both: bool = False) -> None:
        """Cut the link ``src -> dst`` (one way unless ``both=True``)."""
        self._check_names([src, dst], "cut")
        self.network.cuts.add((src, dst))
        if both:
            self.network.cuts.add((dst, src))
        self.trace.record(self.now, "net", detail=f"cut {src} {'<->' if both else '->'} {dst}")

    def isolate(self, name: str) -> None:
        """Disconnect ``name`` from everyone, both ways (until :meth:`reconnect` or heal)."""
        self._check_names([name], "isolate")
        self.network.isolated.add(name)
        self.trace.record(self.now, "net", detail=f"isolate {name}")

    def reconnect(self, name: str) -> None:
        """Undo :meth:`isolate` for ``name``."""
        self._check_names([name], "reconnect")
        self.network.isolated.discard(name)
        self.trace.record(self.now, "net", detail=f"reconnect {name}")

    def heal(self) -> None:
        """Remove every partition, cut and isolation."""
        self.network.groups = None
        self.network.cuts.clear()
        self.network.isolated.clear()
        self.trace.record(self.now, "net", detail="heal")

    # -- the engine -------------------------------------------------------------------------

    def _boot(self, name: str, kind: str) -> None:
        slot = self._slots[name]
        if slot.up:
            return
        if kind == "restart":
            slot.incarnation += 1
        node = slot.factory()
        if not isinstance(node, Node):
            raise SimulationError(f"node {name!r}: the factory returned {node!r}, not a Node")
        ctx = slot.ctx
        ctx.peers = tuple(s.name for s in self._slots.values() if not s.client and s.name != name)
        ctx.rng = random.Random(f"{self.seed}/{name}/{slot.incarnation}")
        ctx.now = slot.clock(self._now)
        node.attach(ctx)
        slot.node = node
        slot.up = True
        slot.timers.clear()
        self.trace.record(
            self._now,
            kind,
            name,
            detail="started" if kind == "start" else f"restarted (incarnation {slot.incarnation})",
        )
        self._handle(slot, "on_start", node.on_start)

    def _handle(
        self,
        slot: _Slot,
        what: str,
        fn: Callable[..., Any],
        *args: Any,
        event: str = "",
        clock: float | None = None,
    ) -> Any:
        """Run one handler, perform the actions it recorded, then tell the observers. Returns
        what the handler returned (None if the node crashed at a crash point inside it)."""
        if clock is not None:
            slot.ctx.now = clock
        else:
            slot.ctx.now = slot.clock(self._now) if slot.skewed else self._now
        try:
            result = fn(*args)
        except CrashPoint as point:
            self._crash_point(slot, point)
            return None
        except Exception as exc:
            # (A call's ``what`` names it already; a handler's arguments are shown after it.)
            self._failed(slot, what, () if event == "call" else args, exc)
        node = slot.node
        actions = node._actions  # type: ignore[union-attr]
        if actions:
            node._actions = []  # type: ignore[union-attr]
            self._perform(slot, actions)
        if self._observers and node is slot.node:
            for observer in tuple(self._observers):
                observer(slot.name, node, event or what)  # type: ignore[arg-type]
        return result

    def _crash_point(self, slot: _Slot, point: CrashPoint) -> None:
        """An armed crash point on the node's disk fired: what the handler did before the write
        happens (its messages leave), then the node crashes. Before a sync, the handler has
        written and not yet replied: the crash falls between a write and its reply."""
        node = slot.node
        assert node is not None
        actions, node._actions = node._actions, []
        self._perform(slot, actions)
        self.crash(slot.name, reason=f"at a crash point, before {point.before}")

    def _failed(self, slot: _Slot, what: str, args: tuple[Any, ...], exc: Exception) -> None:
        """Trace a handler's exception and raise it as a NodeError naming node and event."""
        where = what if not args else f"{what}{args!r}"
        now = self._now
        self.trace.record(
            now, "error", slot.name, detail=f"{where} raised {type(exc).__name__}: {exc}"
        )
        raise NodeError(
            f"node {slot.name!r} raised {type(exc).__name__}: {exc} in {where} at t={now:.6f}",
            node=slot.name,
            event=what,
            time=now,
        ) from exc

    def _perform(self, slot: _Slot, actions: list[Any]) -> None:
        name = slot.name
        i, n = 0, len(actions)
        while i < n:
            act = actions[i]
            cls = act.__class__
            if cls is Send:  # this send and the ones right after it
                i = self._transmit(name, actions, i)
                continue
            i += 1
            if cls is SetTimer:
                self._timer_token = token = self._timer_token + 1
                slot.timers[act.name] = token
                if slot.skewed:  # the timer runs on the node's own clock: a fast one fires early
                    due = slot.ctx.now + act.delay  # by the clock the handler read
                    delay = act.delay / slot.rate
                else:
                    due, delay = None, act.delay
                timer = (slot, slot.incarnation, act.name, token, act.payload, due)
                heappush(self._queue, (self._now + delay, next(self._seq), self._fire_cb, timer))
            elif cls is CancelTimer:
                slot.timers.pop(act.name, None)
            elif cls is Note:
                self._log((self._now, "note", name, None, None, None, act.text, act.data))
            elif cls is Invoke:
                op = self.history.invoke(name, act.f, act.input, time=self._now)
                slot.ops[act.op] = op
                self.trace.record(
                    self._now,
                    "invoke",
                    name,
                    detail=f"op {op.id}: {op.f}({'' if op.input is None else repr(op.input)})",
                )
            elif cls is Complete:
                op = slot.ops.pop(act.op)
                self.history.complete(op, act.output, time=self._now, status=act.status)
                self.trace.record(
                    self._now,
                    "complete",
                    name,
                    detail=f"op {op.id}: {op.f} -> {op.output!r} ({op.status})",
                )
            else:  # pragma: no cover - Node only records the classes above
                raise SimulationError(f"node {name!r} recorded an unknown action {act!r}")

    def _fire(self, timer: tuple[_Slot, int, str, int, Any, float | None]) -> None:
        slot, incarnation, tname, token, payload, due = timer
        if slot.incarnation != incarnation or not slot.up or slot.timers.get(tname) != token:
            return  # cancelled, replaced, or the node crashed since
        del slot.timers[tname]
        self._timers += 1
        self._log((self._now, "timer", slot.name, None, None, None, tname, None))
        on_timer = slot.node.on_timer  # type: ignore[union-attr]
        # On a skewed clock, rounding can leave the reading a hair before the timer's due time;
        # the node must see its timer as due (else "not yet: wait the rest" never ends).
        clock = None
        if due is not None:
            reading = slot.clock(self._now)
            if due - 1e-9 < reading < due:
                clock = due
        if payload is None:
            self._handle(slot, "on_timer", on_timer, tname, clock=clock)
        else:
            self._handle(slot, "on_timer", on_timer, tname, payload, clock=clock)

    def inject(self, src: str, dst: str, msg: Any, *, reason: str = "injected") -> None:
        """Put ``msg`` on the network now as if ``src`` had sent it to ``dst``.

        The receiver cannot tell it from an honest message; the trace marks it with a ``net``
        event (``reason``) just before its ``send``. The interceptor does not see it.
        """
        self._check_names([src, dst], "inject")
        self.trace.record(self.now, "net", detail=f"{reason} {msg_type(msg)} {src}->{dst}")
        self._transmit(src, [Send(dst, msg)], 0, intercept=False)

    def _transmit(self, src: str, actions: list[Any], i: int, intercept: bool = True) -> int:
        """Put ``actions[i]`` and the :class:`Send` actions right after it on the network, as
        ``src`` sent them; return the index of the first action after them."""
        # The hot path of every run: keep it lean (no per-message closures or dict updates, what
        # every message needs looked up once).
        slots = self._slots
        log = self._log
        rng = self.rng
        random = rng.random
        queue = self._queue
        seq = self._seq
        deliver = self._deliver_cb
        now = self._now
        mid = self._mid
        net = self.network
        # Only an interceptor (code outside the runtime) can change the network during a batch:
        # these are looked up again after it runs.
        links, default = net.links, net.default
        connected = net.groups is None and not net.cuts and not net.isolated
        last: Link | None = None
        loss = reorder = duplicate = low = span = 0.0
        latency: Latency = default.latency
        uniform = False
        # (An interceptor may replace itself: it is looked up again after each call.)
        interceptor = self.interceptor if intercept else None
        n = len(actions)
        while i < n:
            act = actions[i]
            if act.__class__ is not Send:
                break
            i += 1
            dst, msg = act.dst, act.msg
            if dst not in slots:
                self._mid = mid
                known = ", ".join(slots)
                raise SimulationError(
                    f"node {src!r} sent {msg_type(msg)} to unknown node {dst!r} (known: {known})"
                )
            mid += 1
            # The send event doubles as the message in flight (one tuple fewer per message).
            sent = (now, "send", src, dst, mid, msg, "", None)
            log(sent)
            if src == dst:  # the runtime delivers a node's message to itself: no network, no loss
                self._local += 1
                arg = (sent, slots[src].incarnation)
                heappush(queue, (now + 0.0, next(seq), self._deliver_self_cb, arg))
                continue
            if interceptor is not None:
                self._mid = mid  # (the count is stored at the end of the batch, and before this)
                out = interceptor(src, dst, msg)
                interceptor = self.interceptor
                links, default = net.links, net.default
                connected = net.groups is None and not net.cuts and not net.isolated
                if out is None:
                    self._dropped += 1
                    log((now, "drop", src, dst, mid, msg, "intercepted", None))
                    continue
                if out is not msg:
                    what = f"interceptor rewrites {msg_type(msg)} {src}->{dst} #{mid}"
                    log((now, "net", None, None, None, None, what, None))
                    msg = out
                    sent = (now, "send", src, dst, mid, msg, "", None)
            if not connected:
                reason = net.blocked(src, dst)
                if reason is not None:
                    self._dropped += 1
                    log((now, "drop", src, dst, mid, msg, reason, None))
                    continue
            link = links.get((src, dst), default) if links else default
            if link is not last:  # (a handler's messages mostly share one link's settings)
                last, latency = link, link.latency
                loss, reorder, duplicate = link.loss, link.reorder, link.duplicate
                # Uniform.sample is inlined below: the same draw, the same sum.
                uniform = latency.__class__ is Uniform
                if isinstance(latency, Uniform):
                    low, span = latency.low, latency.high - latency.low
            if loss and random() < loss:
                self._dropped += 1
                log((now, "drop", src, dst, mid, msg, "loss", None))
                continue
            delay = low + span * random() if uniform else latency.sample(rng)
            if reorder and random() < reorder:
                delay += link.reorder_delay.sample(rng)
            heappush(queue, (now + delay, next(seq), deliver, sent))
            if duplicate and random() < duplicate:
                self._duplicated += 1
                log((now, "dup", src, dst, mid, msg, "", None))
                delay = latency.sample(rng)
                heappush(queue, (now + delay, next(seq), deliver, sent))
        self._mid = mid
        return i

    def _deliver_self(self, arg: tuple[tuple[Any, ...], int]) -> None:
        sent, incarnation = arg
        _, _, src, dst, mid, msg, _, _ = sent
        if self._slots[dst].incarnation != incarnation:  # it crashed since: the message died too
            self._log((self._now, "drop", src, dst, mid, msg, "node restarted", None))
            return
        self._deliver(sent)

    def _deliver(self, sent: tuple[Any, ...]) -> None:
        _, _, src, dst, mid, msg, _, _ = sent
        slot = self._slots[dst]
        now = self._now
        if not slot.up:
            self._dropped += 1
            self._log((now, "drop", src, dst, mid, msg, "node down", None))
            return
        net = self.network
        if net.groups is not None or net.cuts or net.isolated:
            reason = net.blocked(src, dst)
            if reason is not None:
                self._dropped += 1
                self._log((now, "drop", src, dst, mid, msg, reason, None))
                return
        self._delivered += 1
        self._log((now, "deliver", src, dst, mid, msg, "", None))
        # (The common case, receiver up and no partition, is inlined in _advance.)
        self._handle(slot, "on_message", slot.node.on_message, src, msg)  # type: ignore[union-attr]
