"""The explorer: every interleaving of a small system's steps, breadth-first or depth-first.

The nodes are the same :class:`~distlib.node.Node` classes the simulation runs; only the runtime
differs. From a state the explorer may deliver any message in flight (in any order), drop or
duplicate it (each within a budget), fire any armed timer (timers fire in any order: only the
order of a node's own handlers is kept), crash an up node (within a budget; its storage stays)
and restart a crashed one. Time does not pass on its own: a node's ``self.now`` is its logical
clock, which moves to a timer's due time when that timer fires, so "has my deadline passed?"
checks behave as they would when the timer fires in a simulation.

A node's random draws come from ``random.Random(0)`` fresh at each handler, so a step always
leads to the same state (and states that hold the same fields are the same state).
"""

from __future__ import annotations

import enum
import itertools
import pickle
import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass, replace
from types import MappingProxyType
from typing import Any

from distlib.disk import Disk, durable_copy
from distlib.explore._state import (
    ExploreError,
    Slot,
    State,
    Step,
    Timer,
    canonical,
    clone,
    freeze,
    node_key,
    thaw,
)
from distlib.history import History, Operation
from distlib.node import CancelTimer, Complete, Invoke, Node, NodeContext, Note, Send, SetTimer
from distlib.progress import make_progress

__all__ = ["Explorer", "Property", "Result", "View"]

NodeFactory = Callable[[], Node]


class _Note:
    """A trace-like holder of the facts a state keeps, for the checkers (``trace.notes()``)."""

    def __init__(self, notes: list[tuple[float, str, str, dict[str, Any]]]) -> None:
        self._notes = notes
        self.events: list[Any] = []

    def notes(self, node: str | None = None) -> list[tuple[float, str, str, dict[str, Any]]]:
        return [n for n in self._notes if node is None or n[1] == node]


class View:
    """What a property sees of a state: shaped like a :class:`~distlib.sim.Simulation` where the
    checkers need it (``names``, ``servers``, ``storage(name)``, ``trace.notes()``), plus the
    live nodes (``nodes``: name -> node or None) and the recorded facts (``ghost``)."""

    def __init__(self, explorer: Explorer, state: State) -> None:
        self._explorer = explorer
        self.state = state
        self.names = list(explorer.names)
        self.servers = [n for n in explorer.names if n not in explorer.clients]
        self.nodes = dict(zip(explorer.names, state.nodes, strict=True))
        self.ghost = state.ghost
        notes = [
            (0.0, fact[1], fact[2], dict(fact[3]))
            for fact in sorted(state.ghost, key=repr)
            if isinstance(fact, tuple) and len(fact) == 4 and fact[0] == "note"
        ]
        self.trace = _Note(notes)

    def storage(self, name: str) -> Mapping[str, Any]:
        return MappingProxyType(self.state.slots[self._explorer.index[name]].disk)

    def is_up(self, name: str) -> bool:
        return self.state.slots[self._explorer.index[name]].node is not None

    def history(self) -> History:
        """The clients' operations so far (kept when a property has ``history=True``), timed
        by the order of their events: call and return times are ranks, not seconds."""
        events = sorted(
            (f for f in self.ghost if type(f) is tuple and f and f[0] == "history"),
            key=lambda f: (f[-1], f[1] != "invoke", f[2], f[3]),
        )
        out = History()
        open_ops: dict[tuple[str, int], Operation] = {}
        for _, kind, client, op, a, b, when in events:
            if kind == "invoke":
                open_ops[(client, op)] = out.invoke(client, a, b, time=when)
            elif (client, op) in open_ops:
                out.complete(open_ops.pop((client, op)), a, time=when, status=b)
        return out


@dataclass(frozen=True)
class Property:
    """A named check of a state. ``kind`` "invariant": ``check(view)`` returns None or "" when
    the state is fine, else what is wrong (an :class:`~distlib.check.consensus.InvariantResult`
    works too); "goal": ``check(view)`` returns True in a state that reaches the goal."""

    name: str
    check: Callable[[View], Any]
    kind: str = "invariant"
    #: note texts the check reads from ``view.trace.notes()`` (kept in the state as facts)
    notes: frozenset[str] = frozenset()
    #: ``record(view) -> facts`` the check reads from ``view.ghost``
    record: Callable[[View], Iterable[Any]] | None = None
    #: whether the check reads the clients' history (``view.history()``)
    history: bool = False
    #: what the check reads, by which its answers are kept: "storage" (storage and facts only),
    #: "nodes" (the nodes' fields too) or "state" (anything: asked again in every state)
    reads: str = "nodes"

    def __post_init__(self) -> None:
        if self.kind not in ("invariant", "goal"):
            raise ValueError(f'a property is an "invariant" or a "goal", not {self.kind!r}')
        if self.reads not in ("storage", "nodes", "state"):
            raise ValueError(
                f'property {self.name!r}: reads is "storage", "nodes" or "state", not '
                f"{self.reads!r}"
            )
        if not callable(self.check):
            raise TypeError(f"property {self.name!r}: check must be callable as check(view)")


def _failure(outcome: Any) -> str:
    """What an invariant's answer says is wrong ("" when nothing is)."""
    if outcome is None or outcome is True:
        return ""
    if outcome is False:
        return "violated"
    ok = getattr(outcome, "ok", None)
    if ok is not None:
        return "" if ok else str(outcome)
    return str(outcome)


@dataclass
class Result:
    """What a search found.

    ``verdict`` is "ok" (every reachable state within the bounds satisfies every invariant),
    "violated" (``violation`` names the property and ``trace`` is a shortest path to it, for a
    breadth-first search; ``violated`` names the property) or "incomplete" (a budget ran out
    first; nothing was violated so far).
    ``goals`` maps each goal to the path that first reached it, or None.
    """

    verdict: str
    states: int
    distinct: int
    depth: int
    seconds: float
    violation: str = ""
    violated: str = ""
    trace: list[Step] = field(default_factory=list)
    goals: dict[str, list[Step] | None] = field(default_factory=dict)
    exhausted: bool = True
    explorer: Explorer | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.verdict != "violated"

    def __str__(self) -> str:
        head = {
            "ok": "no violation: every reachable state checked",
            "incomplete": "no violation found, but the search stopped at a bound",
            "violated": f"{self.violated} violated after {len(self.trace)} steps",
        }[self.verdict]
        lines = [
            f"{head} ({self.distinct:,} distinct states, {self.states:,} visited, depth "
            f"{self.depth}, {self.seconds:.2f} s)"
        ]
        if self.violation:
            lines.append(f"  {self.violation}")
        for i, step in enumerate(self.trace, 1):
            lines.append(f"  {i:>3}. {step}")
        for goal, path in self.goals.items():
            reached = "not reached" if path is None else f"reached in {len(path)} steps"
            lines.append(f"  goal {goal!r}: {reached}")
        return "\n".join(lines)

    def replay(self, **options: Any) -> Any:
        """The counterexample taken again through the same handlers and recorded as an ordinary
        trace: a :class:`~distlib.explore.Replay` with its ``trace``, the ``states`` after each
        step and the property the last step broke (see :meth:`Explorer.replay`)."""
        if self.explorer is None:
            raise ExploreError("this result has no explorer to replay it with")
        return self.explorer.replay(self.trace, violated=self.violated, **options)

    def widget(self, **options: Any) -> Any:
        """Walk this search's state space by hand in a notebook, the counterexample one click
        away (see :func:`distlib.explore.explore_widget`)."""
        if self.explorer is None:
            raise ExploreError("this result has no explorer to explore with")
        from distlib.explore._widget import explore_widget

        return explore_widget(self.explorer, self, **options)


class Explorer:
    """Exhaustive exploration of the nodes ``nodes`` (name -> Node class or factory).

    Fault budgets (each 0 by default, so only message order and timer order vary): ``drops`` and
    ``duplicates``: how many messages may be lost or duplicated in one path; ``crashes``: how many
    crashes (each crashed node may restart later); ``crashable``: which nodes may crash (default:
    every non-client). ``timers``: how many times each node's timers may fire in one path (a
    retrying protocol has infinitely many states without such a bound), or a dict of such
    counts by node name (0 for the nodes not named); None for no bound.
    ``clients``: names among ``nodes`` that are clients (not in the servers' ``peers``).
    ``properties``: :class:`Property` objects (invariants and goals). ``record``: a function
    ``record(view) -> iterable`` of hashable facts to remember in the state (a "ghost" variable:
    what was ever committed, say), which properties read as ``view.ghost``; ``notes``: note
    texts kept as facts (``("note", node, text, data)``) so that the checkers that read trace
    notes see them. ``storage``: what each named node's storage holds at the start (name ->
    mapping; the node boots from it, as after a restart): a search may begin in the middle of a
    story, say where Figure 8 of the Raft paper leaves its servers. ``durability``: "always"
    (every write is durable at once) or "sync" (writes are durable at the node's ``sync()``; a
    crash brings back the last synced storage, as with ``Simulation(durability="sync")``).
    ``symmetry``: groups of interchangeable nodes (same factory, storage and budgets), such as
    ``[("s1", "s2", "s3")]``: two states that differ only by a renaming of the nodes within
    groups count as one (symmetry reduction). Names are renamed wherever a node's fields, its
    storage, a message or a recorded fact hold them as whole strings; the properties must not
    single out a node of a group. ``fifo``: each link delivers its messages in the order they
    were sent (as over TCP): only the oldest message of a link may be delivered, dropped or
    duplicated (the copy goes to the back of the link), instead of any message in flight.
    """

    def __init__(
        self,
        nodes: Mapping[str, NodeFactory | type[Node]],
        *,
        clients: Iterable[str] = (),
        properties: Sequence[Property] = (),
        drops: int = 0,
        duplicates: int = 0,
        crashes: int = 0,
        crashable: Iterable[str] | None = None,
        timers: int | Mapping[str, int | None] | None = 2,
        record: Callable[[View], Iterable[Any]] | None = None,
        notes: Iterable[str] = (),
        storage: Mapping[str, Mapping[str, Any]] | None = None,
        durability: str = "always",
        symmetry: Iterable[Iterable[str]] = (),
        fifo: bool = False,
    ) -> None:
        if not nodes:
            raise ExploreError("the explorer needs at least one node")
        for name, factory in nodes.items():
            if not isinstance(name, str) or not name:
                raise ExploreError(f"a node's name must be a non-empty string, not {name!r}")
            if not callable(factory):
                raise ExploreError(
                    f"node {name!r}: give a Node class or a factory, not {factory!r}"
                )
        for what, value in (("drops", drops), ("duplicates", duplicates), ("crashes", crashes)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ExploreError(f"{what} must be a count >= 0, not {value!r}")
        budgets = timers if isinstance(timers, Mapping) else {}
        for budget in [timers] if not isinstance(timers, Mapping) else list(timers.values()):
            if budget is not None and (not isinstance(budget, int) or budget < 0):
                raise ExploreError(f"a timer budget is a count >= 0 or None, not {budget!r}")
        self.names: tuple[str, ...] = tuple(nodes)
        self.index = {name: i for i, name in enumerate(self.names)}
        self.factories = [nodes[n] for n in self.names]
        self.clients = frozenset(clients)
        if durability not in ("always", "sync"):
            raise ExploreError(f'durability is "always" or "sync", not {durability!r}')
        #: "sync": writes are durable only at the node's ``self.sync()``; a crash loses the rest
        self.durability = durability
        stored = dict(storage or {})
        unknown_storage = set(stored) - set(self.names)
        if unknown_storage:
            raise ExploreError(f"storage names unknown nodes {sorted(unknown_storage)}")
        for name, items in stored.items():
            if not isinstance(items, Mapping):
                raise ExploreError(f"storage[{name!r}] must be a mapping, not {items!r}")
            canonical(dict(items), f"storage[{name!r}]")  # names a value it cannot compare
        #: what each node's storage holds at the start (it boots from it)
        self.storage: dict[str, dict[str, Any]] = {n: dict(stored.get(n, {})) for n in self.names}
        unknown = self.clients - set(self.names)
        if unknown:
            raise ExploreError(f"clients {sorted(unknown)} are not among the nodes")
        if not isinstance(fifo, bool):
            raise ExploreError(f"fifo is True or False, not {fifo!r}")
        #: whether each link delivers in order (the network maps (src, dst) to a queue)
        self.fifo = fifo
        self.symmetry: tuple[tuple[str, ...], ...] = tuple(
            tuple(group) for group in symmetry if len(tuple(group)) > 1
        )
        servers = [n for n in self.names if n not in self.clients]
        self.peers = {n: tuple(s for s in servers if s != n) for n in self.names}
        self.properties = list(properties)
        for p in self.properties:
            if not isinstance(p, Property):
                raise ExploreError(f"properties must be Property objects, not {p!r}")
        self.drops, self.duplicates, self.crashes = drops, duplicates, crashes
        self.crashable = frozenset(servers if crashable is None else crashable)
        unknown_timers = set(budgets) - set(self.names)
        if unknown_timers:
            raise ExploreError(f"timers names unknown nodes {sorted(unknown_timers)}")
        #: how many times each node's timers may fire in one path (None: no bound)
        self.timer_budget: tuple[int | None, ...] = tuple(
            budgets.get(n, 0) if isinstance(timers, Mapping) else timers for n in self.names
        )
        self._check_symmetry()
        #: each renaming of the symmetric groups but the identity, as name -> name
        self._renamings: list[dict[str, str]] = _renamings(self.symmetry)
        self._renamed: dict[Any, Any] = {}  # (renaming, kind, value) -> renamed, cached
        recorders = [f for f in [record, *(p.record for p in self.properties)] if f is not None]
        self.record: Callable[[View], Iterable[Any]] | None = None
        if recorders:

            def record_all(view: View) -> list[Any]:
                return [fact for f in recorders for fact in f(view)]

            self.record = record_all
        self.note_texts = frozenset(notes).union(*(p.notes for p in self.properties))
        #: whether clients' invocations and completions are kept (a property reads the history)
        self.keep_history = any(p.history for p in self.properties)
        self._stamp = 0  # the time of the history events of the step being taken
        self.messages: dict[Any, Any] = {}  # canonical message -> a message object
        # Messages and timer payloads are numbered as they are first met: the state holds the
        # numbers, so comparing and hashing states never walks a message's fields.
        self._message_ids: dict[Any, int] = {}  # canonical message -> its number
        self._message_objects: list[Any] = []  # number -> a message object
        self._id_of_object: dict[int, int] = {}  # id(message object) -> its number
        # Node and disk states are numbered the same way (by their canonical encodings).
        self._value_ids: dict[Any, int] = {}
        self._values: list[Any] = []
        # A node's part of a state (its number and its storage's) is numbered too: a state's
        # key holds one number per node.
        self._slot_ids: dict[tuple[int | None, int], int] = {}
        self._slot_parts: list[tuple[int | None, int]] = []  # number -> (node, storage)
        self._unions: dict[Any, frozenset[Any]] = {}  # (facts, facts added) -> all of them
        self._disk_keys: dict[tuple[int, ...], tuple[int, ...]] = {}  # slot numbers -> disks
        # The transition cache: a handler's outcome depends only on the node's fields, its
        # storage, its clock and the event, so each distinct (node state, event) pair runs once.
        self._outcomes: dict[Any, _Outcome] = {}
        self._verdicts: dict[Any, tuple[str, str]] = {}  # invariant results by what they read
        self._facts: dict[Any, frozenset[Any]] = {}  # record() results by nodes and storage
        self._fresh = False  # True: run every handler (replays, determinism checks)
        self._checks = 0  # steps re-run to check determinism
        self._rng = random.Random(0)
        self._chain = 0  # messages to oneself handled within the current step
        self._keys: dict[bytes, Any] = {}  # frozen node or disk -> its canonical key
        self._rng_start = self._rng.getstate()
        self._listen: Callable[[str, str, list[Any]], None] | None = None  # replay's recorder
        # Enabled steps with their moves (see _enabled), made once: by (message head, whether
        # its destination is up, whether a drop / a duplicate is left), by (node index, armed
        # timers) and by (kind, node index) for crashes and restarts.
        self._pairs: dict[Any, Any] = {}

    def _check_symmetry(self) -> None:
        seen: set[str] = set()
        for group in self.symmetry:
            for name in group:
                if name not in self.index:
                    raise ExploreError(f"symmetry names unknown node {name!r}")
                if name in seen:
                    raise ExploreError(f"node {name!r} is in two symmetry groups")
                seen.add(name)
            first = group[0]
            i = self.index[first]
            for name in group[1:]:
                j = self.index[name]
                differs = [
                    what
                    for what, a, b in (
                        ("factory", self.factories[i], self.factories[j]),
                        ("storage", self.storage[first], self.storage[name]),
                        ("timer budget", self.timer_budget[i], self.timer_budget[j]),
                        ("crashable", first in self.crashable, name in self.crashable),
                        ("client", first in self.clients, name in self.clients),
                    )
                    if a != b
                ]
                if differs:
                    raise ExploreError(
                        f"nodes {first!r} and {name!r} are not interchangeable (they differ in "
                        f"{', '.join(differs)}), so they cannot be in one symmetry group"
                    )

    def identity(self, state: State) -> Any:
        """What the search compares states by: the state's key, or under ``symmetry`` the set
        of its keys under every renaming of the nodes within groups (the same set for states
        that differ only by such a renaming)."""
        if not self._renamings:
            return state.key
        if state._orbit is None:
            state._orbit = frozenset(
                [state.key, *(self._renamed_key(state, r) for r in self._renamings)]
            )
        return state._orbit

    def _renamed_key(self, state: State, renaming: dict[str, str]) -> Any:
        """``state.key`` of the state in which every node is renamed by ``renaming``."""
        where = [self.index[renaming.get(name, name)] for name in self.names]  # old i -> new
        n = len(self.names)
        rid = id(renaming)

        def number(kind: str, value_id: int | None) -> int | None:
            if value_id is None:
                return None
            cached = self._renamed.get((rid, kind, value_id))
            if cached is None:
                if kind == "value":
                    cached = self._number(_rename(self._values[value_id], renaming))
                else:
                    msg = _rename(self._message_objects[value_id], renaming)
                    cached = self._message_id(msg, "a renamed message")
                self._renamed[(rid, kind, value_id)] = cached
            return cached

        numbers: list[Any] = [None] * n
        timers: list[Any] = [None] * n
        clocks: list[float] = [0.0] * n
        fired_old = state.spent[3]
        fired: list[int] = [0] * n
        for i in range(n):
            j = where[i]
            slot = state.slots[i]
            disk_key = number("value", slot.disk_key)
            assert disk_key is not None
            numbers[j] = self._slot_number(number("value", slot.node_key), disk_key)
            timers[j] = frozenset(
                Timer(renaming.get(t.name, t.name), number("message", t.payload), t.due)
                for t in state.timers[i]
            )
            clocks[j] = state.clocks[i]
            fired[j] = fired_old[i]
        network: frozenset[Any]
        if self.fifo:
            network = frozenset(
                (
                    (renaming.get(src, src), renaming.get(dst, dst)),
                    tuple(number("message", mid) for mid in queue),
                )
                for (src, dst), queue in state.network.items()
            )
        else:
            network = frozenset(
                (
                    (renaming.get(src, src), renaming.get(dst, dst), number("message", mid)),
                    count,
                )
                for (src, dst, mid), count in state.network.items()
            )
        ghost_key = (rid, "ghost", state.ghost)
        ghost = self._renamed.get(ghost_key)
        if ghost is None:
            ghost = self._renamed[ghost_key] = frozenset(
                _rename(fact, renaming) for fact in state.ghost
            )
        drops, dups, crashes, _ = state.spent
        return (
            tuple(numbers),
            tuple(timers),
            tuple(clocks),
            network,
            ghost,
            (drops, dups, crashes, tuple(fired)),
        )

    # -- building states ---------------------------------------------------------------------

    def initial(self) -> State:
        """Every node built and started (``on_start``, in name order); nothing in flight."""
        n = len(self.names)
        slots = []
        for name in self.names:
            disk = Disk(self.storage[name].items())._live
            synced = None if self.durability == "always" else durable_copy(disk)
            slots.append(self._down(disk, synced, self._disk_number(disk, synced, name)))
        state = State(
            slots=tuple(slots),
            numbers=tuple(slot.number for slot in slots),
            timers=(frozenset(),) * n,
            clocks=(0.0,) * n,
            network={},
            ghost=frozenset(),
            spent=(0, 0, 0, (0,) * n),
            incarnations=(0,) * n,
        )
        for name in self.names:
            self._chain = 0
            state = self._boot(state, name)
        return self._remember(state)

    def _number(self, value: Any) -> int:
        """The number of a node's or disk's canonical encoding (the same number for equals)."""
        number = self._value_ids.get(value)
        if number is None:
            number = self._value_ids[value] = len(self._values)
            self._values.append(value)
        return number

    def _slot_number(self, node_key: int | None, disk_key: int) -> int:
        """The number of a node's part of a state: of its number and its storage's."""
        pair = (node_key, disk_key)
        number = self._slot_ids.get(pair)
        if number is None:
            number = self._slot_ids[pair] = len(self._slot_parts)
            self._slot_parts.append(pair)
        return number

    def _down(self, disk: dict[str, Any], synced: dict[str, Any] | None, disk_key: int) -> Slot:
        """The slot of a node that is down, with this storage."""
        return Slot(None, None, None, disk, disk_key, synced, self._slot_number(None, disk_key))

    def _message_id(self, msg: Any, where: str) -> int:
        """The number of ``msg`` (by its canonical encoding), numbering it if it is new."""
        number = self._id_of_object.get(id(msg))
        if number is not None and self._message_objects[number] is msg:
            return number
        key = canonical(msg, where)
        number = self._message_ids.get(key)
        if number is None:
            number = self._message_ids[key] = len(self._message_objects)
            self._message_objects.append(msg)
            self._id_of_object[id(msg)] = number
            self.messages[key] = msg
        return number

    def _context(self, state: State, i: int, disk: Any) -> NodeContext:
        name = self.names[i]
        rng = self._rng
        rng.setstate(self._rng_start)  # every handler draws the same numbers from the same state
        return NodeContext(
            id=name, peers=self.peers[name], now=state.clocks[i], rng=rng, storage=disk
        )

    def _boot(self, state: State, name: str) -> State:
        i = self.index[name]
        factory = self.factories[i]
        node = factory()
        if not isinstance(node, Node):
            raise ExploreError(f"node {name!r}: the factory returned {node!r}, not a Node")
        outcome = self._execute(state, i, node, "on_start", node.on_start)
        return self._apply(state, i, outcome)

    def _handle(self, state: State, i: int, event: tuple[Any, ...], network: Any = None) -> State:
        """The state after node ``i`` handles ``event`` (("m", src, message number) or ("t",
        timer name, payload number)): from the transition cache when the node, its storage and
        its clock were met with this event before, else by running the handler on a copy.
        ``network``: the messages in flight, if not ``state``'s (the delivered one taken out: a
        fresh dict, which the handler's sends are added to in place)."""
        slot = state.slots[i]
        frozen = slot.frozen
        ident = frozen if frozen is not None else slot.node_key
        key = (i, ident, slot.disk_key, state.clocks[i], event)
        fresh = self._fresh or self._listen is not None
        outcome = None if fresh else self._outcomes.get(key)
        if outcome is None:
            old = slot.node
            assert old is not None
            node = self._copy(state, i, old)
            if event[0] == "m":
                src, msg = event[1], self._message_objects[event[2]]
                outcome = self._execute(
                    state, i, node, "on_message", lambda: node.on_message(src, msg)
                )
            elif event[2] is None:
                timer = event[1]
                outcome = self._execute(state, i, node, "on_timer", lambda: node.on_timer(timer))
            else:
                timer, payload = event[1], self._message_objects[event[2]]
                on_timer: Any = node.on_timer  # a timer with a payload: on_timer(name, payload)
                outcome = self._execute(
                    state, i, node, "on_timer", lambda: on_timer(timer, payload)
                )
            if not fresh:
                self._outcomes[key] = outcome
        return self._apply(state, i, outcome, network)

    def _execute(
        self, state: State, i: int, node: Node, what: str, handler: Callable[[], None]
    ) -> _Outcome:
        """Run one handler of node ``i`` (already a private copy): what it changed and did."""
        name = self.names[i]
        slot = state.slots[i]
        disk = Disk(slot.disk.items(), sync=slot.synced is not None)
        if slot.synced is not None:
            disk._synced = durable_copy(slot.synced)
        node._ctx = self._context(state, i, disk)
        node._actions = []
        try:
            handler()
        except Exception as exc:
            raise _HandlerFailed(name, what, exc) from exc
        actions: list[Any] = node._actions
        node._actions = []
        if self._listen is not None:
            self._listen(name, what, actions)
        ctx: Any = node._ctx
        ctx.storage = MappingProxyType(disk._live)
        ctx.rng = _IDLE_RNG  # (properties draw nothing)
        sends: list[tuple[str, int]] = []
        local: list[tuple[str, str, int]] = []
        timer_ops: list[tuple[str, int | None, float | None]] = []
        facts: list[Any] = []
        history: list[tuple[Any, ...]] = []
        for act in actions:
            cls = act.__class__
            if cls is Send:
                if act.dst not in self.index:
                    raise _HandlerFailed(
                        name,
                        what,
                        ExploreError(f"sent {type(act.msg).__name__} to unknown node {act.dst!r}"),
                    )
                number = self._message_id(act.msg, f"a message {name} sent")
                if act.dst == name:  # delivered by the runtime right after this handler
                    local.append(("m", name, number))
                else:
                    sends.append((act.dst, number))
            elif cls is SetTimer:
                payload = act.payload
                pid = (
                    None
                    if payload is None
                    else self._message_id(payload, f"the payload of {name}'s timer {act.name!r}")
                )
                timer_ops.append((act.name, pid, float(act.delay)))
            elif cls is CancelTimer:
                timer_ops.append((act.name, None, None))
            elif cls is Note:
                if act.text in self.note_texts:
                    canonical(act.data, f"note {act.text!r} of {name}")  # names a bad value
                    facts.append(("note", name, act.text, _thaw_items(act.data)))
            elif cls is Invoke:
                if self.keep_history:
                    history.append(("invoke", name, act.op, act.f, _hashable(act.input)))
            elif cls is Complete and self.keep_history:
                history.append(("complete", name, act.op, _hashable(act.output), act.status))
        frozen = freeze(node)
        nkey = None if frozen is None else self._keys.get(frozen)
        if nkey is None:
            nkey = self._number(node_key(name, node))
            if frozen is not None:
                self._keys[frozen] = nkey
        live, synced = disk._live, disk._synced
        dkey = self._disk_number(live, synced, name)
        links: tuple[Any, ...]
        if self.fifo:
            links = tuple(((name, dst), number) for dst, number in sends)
        else:
            links = tuple((name, dst, number) for dst, number in sends)
        return _Outcome(
            Slot(node, frozen, nkey, live, dkey, synced, self._slot_number(nkey, dkey)),
            tuple(sends),
            links,
            tuple(timer_ops),
            frozenset(facts),
            local,
            tuple(history),
        )

    def _disk_number(self, live: dict[str, Any], synced: dict[str, Any] | None, name: str) -> int:
        """The number of a disk's state: what it holds (and, in sync mode, what it synced)."""
        value = live if synced is None else (live, synced)
        try:
            dbytes = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        except Exception:
            return self._number(("disk", canonical(value, f"{name}'s storage")))
        dkey = self._keys.get(dbytes)
        if dkey is None:
            dkey = self._keys[dbytes] = self._number(
                ("disk", canonical(value, f"{name}'s storage"))
            )
        return dkey

    def _apply(self, state: State, i: int, outcome: _Outcome, network: Any = None) -> State:
        """The state after node ``i``'s handler had ``outcome``; then the messages it sent
        itself are handled, within the same step (the runtime contract: a message to oneself
        arrives before anything from the network, which takes time)."""
        name = self.names[i]
        owned = network is not None  # a fresh dict, the caller's: changed in place
        if network is None:
            network = state.network
            if outcome.sends:
                network = dict(network)
                owned = True
        if outcome.sends:
            if self.fifo:
                for link, number in outcome.links:
                    network[link] = (*network.get(link, ()), number)
            else:
                for link in outcome.links:
                    network[link] = network.get(link, 0) + 1
        all_timers = state.timers
        if outcome.timer_ops:
            timers = all_timers[i]
            after = outcome.armed.get(timers)
            if after is None:
                after = outcome.armed[timers] = self._arm(timers, state.clocks[i], outcome)
            if after is not timers:
                all_timers = (*all_timers[:i], after, *all_timers[i + 1 :])
        j = i + 1  # (the tuples are rebuilt inline: this runs for every step taken)
        slot = outcome.slot
        new = State(
            (*state.slots[:i], slot, *state.slots[j:]),
            (*state.numbers[:i], slot.number, *state.numbers[j:]),
            all_timers,
            state.clocks,
            network,
            self._union(state.ghost, outcome.facts) if outcome.facts else state.ghost,
            state.spent,
            state.incarnations,
            state.depth,
        )
        if outcome.history:
            new.ghost = new.ghost | {("history", *event, self._stamp) for event in outcome.history}
        for event in outcome.local:
            _depth_guard(self, name)
            # The state in between is dropped: its network, if ours, is the next one's.
            new = self._handle(new, i, event, new.network if owned else None)
        return new

    def _union(self, ghost: frozenset[Any], facts: frozenset[Any]) -> frozenset[Any]:
        """``ghost | facts``, one object for each pair met (whose hash is then computed once)."""
        pair = (ghost, facts)
        union = self._unions.get(pair)
        if union is None:
            union = ghost | facts
            if union == ghost:
                union = ghost
            self._unions[pair] = union
        return union

    @staticmethod
    def _arm(timers: frozenset[Timer], clock: float, outcome: _Outcome) -> frozenset[Timer]:
        """The armed timers after ``outcome``'s timer operations, at ``clock``."""
        armed = {t.name: t for t in timers}
        for tname, pid, delay in outcome.timer_ops:
            if delay is None:
                armed.pop(tname, None)
            else:
                armed[tname] = Timer(tname, pid, clock + delay)
        after = frozenset(armed.values())
        return timers if after == timers else after

    def _remember(self, state: State) -> State:
        """Add the facts ``record`` sees in ``state`` to its ghost."""
        if self.record is None:
            return state
        key = state.numbers
        facts = self._facts.get(key)
        if facts is None:
            facts = self._facts[key] = frozenset(self.record(View(self, state)))
        if facts <= state.ghost:
            return state
        state.ghost = state.ghost | facts
        state._key = None
        return state

    # -- steps -------------------------------------------------------------------------------

    def steps(self, state: State) -> list[Step]:
        """Every step enabled in ``state``, in a fixed order."""
        return [step for step, _ in self._enabled(state)]

    # A move is how the explorer takes a step: the step's kind, the node's index and, for a
    # message, its link (the network's key: (src, dst, number), or (src, dst) with ``fifo``),
    # its number, its source and the event its delivery is (see _handle); for a timer, the
    # armed Timer and the event its firing is. The (step, move) pairs are made once and kept
    # (a Step is immutable), so listing a state's steps builds no new objects, and the search
    # takes a move without parsing its step (take() parses and checks a caller's step).

    def _enabled(self, state: State) -> list[tuple[Step, tuple[Any, ...]]]:
        """Every step enabled in ``state`` with its move, in the order of :meth:`steps`."""
        out: list[tuple[Step, tuple[Any, ...]]] = []
        drops, dups, crashes, fired = state.spent
        can_drop, can_dup = drops < self.drops, dups < self.duplicates
        slots, index, pairs = state.slots, self.index, self._pairs
        if self.fifo:
            heads = [(src, dst, queue[0]) for (src, dst), queue in sorted(state.network.items())]
        else:
            heads = sorted(state.network)
        for head in heads:
            up = slots[index[head[1]]].node is not None
            key: Any = (head, up, can_drop, can_dup)
            entry = pairs.get(key)
            if entry is None:
                entry = pairs[key] = self._message_pairs(head, up, can_drop, can_dup)
            out.extend(entry)
        can_crash = crashes < self.crashes
        for i, name in enumerate(self.names):
            if slots[i].node is None:
                out.append(self._node_pair("restart", i))
                continue
            budget = self.timer_budget[i]
            if budget is None or fired[i] < budget:
                timers = state.timers[i]
                if timers:
                    key = (i, timers)
                    entry = pairs.get(key)
                    if entry is None:
                        entry = pairs[key] = self._timer_pairs(i, timers)
                    out.extend(entry)
            if can_crash and name in self.crashable:
                out.append(self._node_pair("crash", i))
        return out

    def _message_pairs(
        self, head: tuple[str, str, int], up: bool, can_drop: bool, can_dup: bool
    ) -> list[tuple[Step, tuple[Any, ...]]]:
        src, dst, number = head
        msg = self._message_objects[number]
        link = (src, dst) if self.fifo else head
        i = self.index[dst]
        kinds = [k for k, on in (("deliver", up), ("drop", can_drop), ("duplicate", can_dup)) if on]
        event = ("m", src, number)
        return [(Step(kind, dst, src, msg), (kind, i, link, number, src, event)) for kind in kinds]

    def _timer_pairs(self, i: int, timers: frozenset[Timer]) -> list[tuple[Step, tuple[Any, ...]]]:
        name, objects = self.names[i], self._message_objects
        out = []
        for t in sorted(timers, key=_timer_order):
            payload = None if t.payload is None else objects[t.payload]
            move = ("timer", i, t, ("t", t.name, t.payload))
            out.append((Step("timer", name, timer=t.name, payload=payload), move))
        return out

    def _node_pair(self, kind: str, i: int) -> tuple[Step, tuple[Any, ...]]:
        key = (kind, i)
        pair: tuple[Step, tuple[Any, ...]] | None = self._pairs.get(key)
        if pair is None:
            pair = self._pairs[key] = (Step(kind, self.names[i]), key)
        return pair

    def take(self, state: State, step: Step) -> State:
        """The state after ``step`` (``state`` is unchanged)."""
        self._stamp_for(state)
        return self._after(state, self._move(state, step))

    def _stamp_for(self, state: State) -> None:
        if self.keep_history:
            # A history's events are timed by rank: one past the latest event so far, so two
            # paths whose histories order their events alike reach the same state.
            self._stamp = 1 + max(
                (fact[-1] for fact in state.ghost if fact[0] == "history"), default=-1
            )

    def _after(self, state: State, move: tuple[Any, ...]) -> State:
        """The state after ``move`` (``self._stamp`` set for ``state``), one step deeper."""
        self._chain = 0
        new = self._do(state, move)
        new.depth = state.depth + 1
        return self._remember(new)

    def _move(self, state: State, step: Step) -> tuple[Any, ...]:
        """``step``'s move, once it is checked to be enabled in ``state``."""
        kind = step.kind
        i = self.index.get(step.node)
        if i is None:
            raise ExploreError(f"step {step} names unknown node {step.node!r}")
        if kind in ("deliver", "drop", "duplicate"):
            number = self._message_id(step.msg, "a message")
            src = step.src or ""
            if self.fifo:
                link: tuple[Any, ...] = (src, step.node)
                queue = state.network.get(link, ())
                if not queue or queue[0] != number:
                    raise ExploreError(f"step {step}: not the oldest message on its link")
            else:
                link = (src, step.node, number)
                if not state.network.get(link, 0):
                    raise ExploreError(f"step {step}: no such message in flight")
            if kind == "deliver" and state.slots[i].node is None:
                raise ExploreError(f"step {step}: {step.node} is down")
            return (kind, i, link, number, step.src, ("m", step.src, number))
        if kind == "timer":
            timer = next((t for t in state.timers[i] if t.name == step.timer), None)
            if state.slots[i].node is None or timer is None:
                raise ExploreError(f"step {step}: no such timer armed")
            return (kind, i, timer, ("t", timer.name, timer.payload))
        if kind == "crash":
            if state.slots[i].node is None:
                raise ExploreError(f"step {step}: {step.node} is already down")
            return (kind, i)
        if kind == "restart":
            if state.slots[i].node is not None:
                raise ExploreError(f"step {step}: {step.node} is up")
            return (kind, i)
        raise ExploreError(f"unknown step kind {kind!r}")

    def _do(self, state: State, move: tuple[Any, ...]) -> State:
        """The state after ``move``, an enabled one (depth and recorded facts not updated)."""
        kind, i = move[0], move[1]
        if kind == "deliver":  # (the commonest move first)
            network = dict(state.network)  # a fresh copy: _apply adds the sends to it in place
            _take_off(network, move[2], self.fifo)
            return self._handle(state, i, move[5], network)
        drops, dups, crashes, fired = state.spent
        if kind == "timer":
            timer = move[2]
            j = i + 1
            before = State(
                state.slots,
                state.numbers,
                (*state.timers[:i], state.timers[i] - {timer}, *state.timers[j:]),
                (*state.clocks[:i], max(state.clocks[i], timer.due), *state.clocks[j:]),
                state.network,
                state.ghost,
                (drops, dups, crashes, (*fired[:i], fired[i] + 1, *fired[j:])),
                state.incarnations,
                state.depth,
            )
            return self._handle(before, i, move[3])
        if kind == "crash":
            slot = state.slots[i]
            if slot.synced is None:
                down = self._down(slot.disk, None, slot.disk_key)
            else:  # the writes since the last sync are lost
                kept = durable_copy(slot.synced)
                dkey = self._disk_number(kept, slot.synced, self.names[i])
                down = self._down(kept, slot.synced, dkey)
            return _with(
                state,
                slots=_replace(state.slots, i, down),
                numbers=_replace(state.numbers, i, down.number),
                timers=_replace(state.timers, i, frozenset()),
                spent=(drops, dups, crashes + 1, fired),
                incarnations=_replace(state.incarnations, i, state.incarnations[i] + 1),
            )
        if kind == "restart":
            return self._boot(state, self.names[i])
        # a drop or a duplicate
        network = dict(state.network)
        link, number = move[2], move[3]
        if kind == "duplicate":
            spent = (drops, dups + 1, crashes, fired)
            if self.fifo:
                network[link] = (*network[link], number)
            else:
                network[link] += 1
        else:
            spent = (drops + 1, dups, crashes, fired)
            _take_off(network, link, self.fifo)
        return State(
            state.slots,
            state.numbers,
            state.timers,
            state.clocks,
            network,
            state.ghost,
            spent,
            state.incarnations,
            state.depth,
        )

    @staticmethod
    def _copy(state: State, i: int, old: Node) -> Node:
        frozen = state.slots[i].frozen
        return clone(old) if frozen is None else thaw(type(old), frozen)

    # -- checking ----------------------------------------------------------------------------

    def check(self, state: State, parent: State | None = None) -> tuple[str, str]:
        """The first invariant ``state`` breaks and what is wrong, or ("", ""). An invariant's
        answer is kept by what it reads (the nodes' states, storage and recorded facts; only
        storage and facts for ``reads="storage"``), so it is not asked twice about the same
        thing; ``reads="state"`` asks it in every state."""
        view: View | None = None
        for index, p in enumerate(self.properties):
            if p.kind != "invariant":
                continue
            if p.reads == "storage":
                disks = self._disk_keys.get(state.numbers)
                if disks is None:
                    disks = self._disk_keys[state.numbers] = state.disk_keys
                key: Any = (index, disks, state.ghost)
            elif p.reads == "nodes":
                key = (index, state.numbers, state.ghost)
            else:
                key = None
            verdict = None if key is None else self._verdicts.get(key)
            if verdict is None:
                if view is None:
                    view = View(self, state)
                problem = _failure(p.check(view))
                verdict = (p.name, problem) if problem else ("", "")
                if key is not None:
                    self._verdicts[key] = verdict
            if verdict[0]:
                return verdict
        return "", ""

    def _goals(self, state: State, pending: set[str]) -> list[str]:
        view = View(self, state)
        return [p.name for p in self.properties if p.name in pending and p.check(view)]

    # -- searching ---------------------------------------------------------------------------

    def search(
        self,
        *,
        strategy: str = "bfs",
        max_depth: int | None = None,
        max_states: int | None = None,
        max_seconds: float | None = None,
        progress: Any = False,
    ) -> Result:
        """Explore from the initial state; stop at the first invariant violated.

        ``strategy`` "bfs" (breadth-first: the counterexample is a shortest one) or "dfs"
        (depth-first: less memory, reaches deep states sooner). Bounds: ``max_depth`` steps per
        path, ``max_states`` distinct states, ``max_seconds`` of wall time. ``progress``: True
        for a tqdm counter of the states (a widget in a notebook, a text bar on a terminal's
        stderr; see :mod:`distlib.progress` for "text" and "widget"), or a function
        ``progress(distinct, depth, seconds)`` called every second or so.
        """
        if callable(progress):
            return self._search(strategy, max_depth, max_states, max_seconds, progress)
        bar = make_progress(progress, total=None, label="explore", unit="state")
        shown = [0]

        def report(distinct: int, depth: int, seconds: float) -> None:
            bar.update(distinct - shown[0])
            shown[0] = distinct
            bar.note(f"depth {depth}")

        ok = False
        try:
            result = self._search(strategy, max_depth, max_states, max_seconds, report)
            report(result.distinct, result.depth, result.seconds)
            ok = True
        finally:
            bar.close(ok=ok)
        return result

    def _search(
        self,
        strategy: str,
        max_depth: int | None,
        max_states: int | None,
        max_seconds: float | None,
        report: Callable[[int, int, float], None] | None,
    ) -> Result:
        if strategy not in ("bfs", "dfs"):
            raise ExploreError(f'strategy is "bfs" or "dfs", not {strategy!r}')
        start = time.perf_counter()
        pending = {p.name for p in self.properties if p.kind == "goal"}
        goals: dict[str, list[Step] | None] = dict.fromkeys(pending)
        try:
            root = self.initial()
        except _HandlerFailed as failed:
            return self._failed_result([], failed, start, goals)
        parents: dict[Any, tuple[Any, Step | None]] = {}
        root_key = self.identity(root)
        parents[root_key] = (None, None)
        frontier: deque[State] = deque([root])
        visited = 1
        deepest = 0
        exhausted = True
        last_report = start

        def path(key: Any) -> list[Step]:
            steps: list[Step] = []
            while True:
                parent, step = parents[key]
                if step is None:
                    return steps[::-1]
                steps.append(step)
                key = parent

        prop, problem = self.check(root)
        if prop:
            return self._result("violated", visited, 1, 0, start, goals, prop, problem, [])
        for name in self._goals(root, pending):
            goals[name] = []
            pending.discard(name)
        pop = frontier.popleft if strategy == "bfs" else frontier.pop
        plain = not self._renamings  # no symmetry: a state's identity is its key
        record = self.record is not None
        while frontier:
            state = pop()
            deepest = max(deepest, state.depth)
            if max_depth is not None and state.depth >= max_depth:
                exhausted = False
                continue
            skey = self.identity(state)
            self._stamp_for(state)
            depth = state.depth + 1
            for step, move in self._enabled(state):
                try:  # (what _after does)
                    self._chain = 0
                    nxt = self._do(state, move)
                    nxt.depth = depth
                    if record:
                        nxt = self._remember(nxt)
                except _HandlerFailed as failed:
                    return self._failed_result(
                        [*path(skey), step], failed, start, goals, visited + 1, len(parents)
                    )
                visited += 1
                key = nxt.key if plain else self.identity(nxt)
                known = len(parents)
                parents.setdefault(key, (skey, step))  # (hashes the key once)
                if len(parents) == known:  # seen before
                    continue
                self._check_determinism(state, step, nxt.key)
                prop, problem = self.check(nxt, state)
                if prop:
                    return self._result(
                        "violated",
                        visited,
                        len(parents),
                        nxt.depth,
                        start,
                        goals,
                        prop,
                        problem,
                        path(key),
                    )
                if pending:
                    for name in self._goals(nxt, pending):
                        goals[name] = path(key)
                        pending.discard(name)
                frontier.append(nxt)
            now = time.perf_counter()
            if report is not None and now - last_report >= 1.0:
                last_report = now
                report(len(parents), deepest, now - start)
            if max_states is not None and len(parents) >= max_states:
                exhausted = not frontier
                break
            if max_seconds is not None and now - start >= max_seconds:
                exhausted = not frontier
                break
        verdict = "ok" if exhausted else "incomplete"
        result = self._result(verdict, visited, len(parents), deepest, start, goals, "", "", [])
        result.exhausted = exhausted
        return result

    def _check_determinism(self, state: State, step: Step, key: Any) -> None:
        """Take the first few hundred steps twice: a node that reads the wall clock, the global
        random module or anything else outside its state gives two different states."""
        if self._checks >= 300:
            return
        self._checks += 1
        self._fresh = True
        try:
            again = self.take(state, step).key
        finally:
            self._fresh = False
        if again != key:
            name = step.node
            i = self.index[name]
            values = self._values
            first, second = self._slot_parts[key[0][i]][0], self._slot_parts[again[0][i]][0]
            first = values[first] if first is not None else None
            second = values[second] if second is not None else None
            field_ = _first_difference(first, second)
            raise ExploreError(
                f"node {name!r} is not deterministic: the step '{step}' taken twice from the same "
                f"state gave two different states ({field_}). Handlers must use only the node's "
                "own fields, self.now, self.rng and self.storage: no time.time(), no global "
                "random, no iteration over sets of objects that hash by id"
            )

    def _result(
        self,
        verdict: str,
        visited: int,
        distinct: int,
        depth: int,
        start: float,
        goals: dict[str, list[Step] | None],
        prop: str,
        problem: str,
        trace: list[Step],
    ) -> Result:
        return Result(
            verdict=verdict,
            states=visited,
            distinct=distinct,
            depth=depth,
            seconds=time.perf_counter() - start,
            violation=problem,
            violated=prop,
            trace=trace,
            goals=goals,
            exhausted=verdict == "ok",
            explorer=self,
        )

    def _failed_result(
        self,
        trace: list[Step],
        failed: _HandlerFailed,
        start: float,
        goals: dict[str, Any],
        visited: int = 0,
        distinct: int = 0,
    ) -> Result:
        problem = f"{failed.node}'s {failed.what} raised {type(failed.exc).__name__}: {failed.exc}"
        return self._result(
            "violated",
            visited,
            distinct,
            len(trace),
            start,
            goals,
            "handlers do not raise",
            problem,
            trace,
        )

    # -- counterexamples in the simulation ----------------------------------------------------

    def replay(self, steps: Sequence[Step], *, violated: str = "") -> Any:
        """Take ``steps`` again and record them as a trace (see :func:`distlib.explore.replay`)."""
        from distlib.explore._replay import replay

        return replay(self, steps, violated=violated)


_IDLE_RNG = random.Random(0)


def _deliver(node: Node, src: str, msg: Any) -> Callable[[], None]:
    return lambda: node.on_message(src, msg)


def _depth_guard(explorer: Explorer, name: str) -> bool:
    """Refuse a chain of more than 1,000 messages a node sends itself within one step."""
    explorer._chain += 1
    if explorer._chain > 1000:
        explorer._chain = 0
        raise _HandlerFailed(
            name,
            "on_message",
            ExploreError("sent itself messages more than 1,000 times in a row (a loop?)"),
        )
    return True


class _HandlerFailed(Exception):
    def __init__(self, node: str, what: str, exc: Exception) -> None:
        super().__init__(f"{node}'s {what} raised {type(exc).__name__}: {exc}")
        self.node, self.what, self.exc = node, what, exc


def _take_off(network: dict[Any, Any], link: Any, fifo: bool) -> None:
    """Take one copy of the message on ``link`` out of ``network``, in place: the oldest of the
    link's queue with ``fifo``, else one of the multiset's copies (delivered or dropped)."""
    if fifo:
        queue = network[link]
        if len(queue) == 1:
            del network[link]
        else:
            network[link] = queue[1:]
    elif network[link] == 1:
        del network[link]
    else:
        network[link] -= 1


def _replace(values: tuple[Any, ...], i: int, value: Any) -> tuple[Any, ...]:
    return (*values[:i], value, *values[i + 1 :])


def _with(state: State, **changes: Any) -> State:
    fields_: dict[str, Any] = {
        "slots": state.slots,
        "numbers": state.numbers,
        "timers": state.timers,
        "clocks": state.clocks,
        "network": state.network,
        "ghost": state.ghost,
        "spent": state.spent,
        "incarnations": state.incarnations,
        "depth": state.depth,
    }
    fields_.update(changes)
    return State(**fields_)


def _renamings(groups: tuple[tuple[str, ...], ...]) -> list[dict[str, str]]:
    """Every renaming that permutes the names within each group, but the identity."""
    out: list[dict[str, str]] = [{}]
    for group in groups:
        out = [
            {**r, **{a: b for a, b in zip(group, perm, strict=True) if a != b}}
            for r in out
            for perm in itertools.permutations(group)
        ]
    return [r for r in out if r]


def _rename(value: Any, renaming: dict[str, str]) -> Any:
    """``value`` (a canonical encoding, a message or a fact) with every string that is a key
    of ``renaming`` replaced, and dicts and sets put back in canonical order."""
    t = type(value)
    if t is str:
        return renaming.get(value, value)
    if t in _PLAIN:
        return value
    if t is tuple:
        items = tuple(_rename(v, renaming) for v in value)
        if items and items[0] in ("dict", "set") and type(items[0]) is str:
            return (items[0], *_sorted_any(list(items[1:])))
        return items
    if t is frozenset:
        return frozenset(_rename(v, renaming) for v in value)
    if isinstance(value, tuple):  # a named tuple
        return t(*(_rename(v, renaming) for v in value))
    if is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in fields(value):
            old = getattr(value, f.name)
            new = _rename(old, renaming)
            if new is not old and new != old:
                changes[f.name] = new
        return replace(value, **changes) if changes else value
    if isinstance(value, enum.Enum):
        return value
    if t is list:
        return [_rename(v, renaming) for v in value]
    if t is dict:
        return {_rename(k, renaming): _rename(v, renaming) for k, v in value.items()}
    return value


_PLAIN = (int, float, complex, bytes, bool, type(None))


def _sorted_any(items: list[Any]) -> list[Any]:
    try:
        return sorted(items)
    except TypeError:
        return sorted(items, key=repr)


def _hashable(value: Any) -> Any:
    """``value`` if it hashes, else its canonical encoding (a history event is a fact)."""
    try:
        hash(value)
    except TypeError:
        return canonical(value, "a client's operation")
    return value


def _timer_order(timer: Timer) -> tuple[float, str]:
    return (timer.due, timer.name)


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What one handler did, from one node state, storage, clock and event: the node's slot
    after it (the node, its frozen copy and number, its storage and that storage's number; never
    changed again: states share it), the messages sent to others as (destination, message number),
    the timers set as (name, payload number, delay) or cancelled as (name, None, None), the
    note facts kept, and the messages it sent itself (numbers), which are handled next."""

    slot: Slot  # the node's part of the states it leads to (never changed again)
    sends: tuple[tuple[str, int], ...]
    #: the sends as the network's keys: (src, dst, number), or with fifo ((src, dst), number)
    links: tuple[Any, ...]
    timer_ops: tuple[tuple[str, int | None, float | None], ...]
    facts: frozenset[Any]
    local: list[tuple[str, str, int]]  # the events of the messages it sent itself
    history: tuple[tuple[Any, ...], ...]  # invocations and completions, without their times
    #: the node's armed timers after the handler, by those before it (the clock is the same)
    armed: dict[frozenset[Timer], frozenset[Timer]] = field(default_factory=dict)


def _thaw_items(data: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """A note's data as sorted (key, value) pairs, values kept hashable."""
    out = []
    for k in sorted(data):
        v = data[k]
        try:
            hash(v)
        except TypeError:
            v = canonical(v)
        out.append((k, v))
    return tuple(out)


def _first_difference(a: Any, b: Any, where: str = "") -> str:
    """Where two canonical encodings first differ, for an error message."""
    if type(a) is tuple and type(b) is tuple and len(a) == len(b):
        for j, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                label = x[0] if type(x) is tuple and len(x) == 2 and isinstance(x[0], str) else j
                return _first_difference(x, y, f"{where}/{label}")
    return f"at {where or 'the top'}: {a!r:.80} vs {b!r:.80}"
