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

import pickle
import random
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from distlib.disk import Disk
from distlib.explore._state import (
    ExploreError,
    State,
    Step,
    Timer,
    canonical,
    clone,
    freeze,
    node_key,
    thaw,
)
from distlib.node import CancelTimer, Complete, Invoke, Node, NodeContext, Note, Send, SetTimer

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
        return MappingProxyType(self.state.disks[self._explorer.index[name]])

    def is_up(self, name: str) -> bool:
        return self.state.nodes[self._explorer.index[name]] is not None


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
    #: "storage" if the check reads only storage and facts (then it is skipped in a state
    #: where neither changed), "nodes" if it reads the nodes' fields too
    reads: str = "nodes"

    def __post_init__(self) -> None:
        if self.kind not in ("invariant", "goal"):
            raise ValueError(f'a property is an "invariant" or a "goal", not {self.kind!r}')
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
    notes see them.
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
        unknown = self.clients - set(self.names)
        if unknown:
            raise ExploreError(f"clients {sorted(unknown)} are not among the nodes")
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
        recorders = [f for f in [record, *(p.record for p in self.properties)] if f is not None]
        self.record: Callable[[View], Iterable[Any]] | None = None
        if recorders:

            def record_all(view: View) -> list[Any]:
                return [fact for f in recorders for fact in f(view)]

            self.record = record_all
        self.note_texts = frozenset(notes).union(*(p.notes for p in self.properties))
        self.messages: dict[Any, Any] = {}  # canonical message -> a message object
        self._checks = 0  # steps re-run to check determinism
        self._rng = random.Random(0)
        self._chain = 0  # messages to oneself handled within the current step
        self._keys: dict[bytes, Any] = {}  # frozen node or disk -> its canonical key
        self._rng_start = self._rng.getstate()
        self._listen: Callable[[str, str, list[Any]], None] | None = None  # replay's recorder

    # -- building states ---------------------------------------------------------------------

    def initial(self) -> State:
        """Every node built and started (``on_start``, in name order); nothing in flight."""
        n = len(self.names)
        state = State(
            nodes=(None,) * n,
            frozen=(None,) * n,
            node_keys=(None,) * n,
            disks=tuple({} for _ in range(n)),
            disk_keys=(("disk", canonical({})),) * n,
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
        return self._run(state, i, node, "on_start", lambda: node.on_start())

    def _run(
        self, state: State, i: int, node: Node, what: str, handler: Callable[[], None]
    ) -> State:
        """Run one handler of node ``i`` (already a private copy) and build the next state."""
        name = self.names[i]
        disk = Disk(state.disks[i].items())
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
        network = dict(state.network)
        local: list[Any] = []
        timers = {t.name: t for t in state.timers[i]}
        clock = state.clocks[i]
        ghost = state.ghost
        for act in actions:
            cls = act.__class__
            if cls is Send:
                if act.dst not in self.index:
                    raise _HandlerFailed(
                        name,
                        what,
                        ExploreError(f"sent {type(act.msg).__name__} to unknown node {act.dst!r}"),
                    )
                if act.dst == name:  # delivered by the runtime, right after this handler
                    local.append(act.msg)
                    continue
                key = canonical(act.msg, f"a message {name} sent")
                self.messages.setdefault(key, act.msg)
                link = (name, act.dst, key)
                network[link] = network.get(link, 0) + 1
            elif cls is SetTimer:
                payload = act.payload
                if payload is not None:
                    pkey = canonical(payload, f"the payload of {name}'s timer {act.name!r}")
                    self.messages.setdefault(pkey, payload)
                    payload = pkey
                timers[act.name] = Timer(act.name, payload, clock + act.delay)
            elif cls is CancelTimer:
                timers.pop(act.name, None)
            elif cls is Note:
                if act.text in self.note_texts:
                    canonical(act.data, f"note {act.text!r} of {name}")  # names a bad value
                    ghost = ghost | {("note", name, act.text, _thaw_items(act.data))}
            elif cls is Invoke or cls is Complete:
                pass  # client histories are not part of the state
        frozen = freeze(node)
        nkey = None if frozen is None else self._keys.get(frozen)
        if nkey is None:
            nkey = node_key(name, node)
            if frozen is not None:
                self._keys[frozen] = nkey
        live = disk._live
        try:
            dbytes = pickle.dumps(live, pickle.HIGHEST_PROTOCOL)
            dkey = self._keys.get(dbytes)
            if dkey is None:
                dkey = self._keys[dbytes] = ("disk", canonical(live, f"{name}'s storage"))
        except Exception:
            dkey = ("disk", canonical(live, f"{name}'s storage"))
        new = State(
            nodes=_replace(state.nodes, i, node),
            frozen=_replace(state.frozen, i, frozen),
            node_keys=_replace(state.node_keys, i, nkey),
            disks=_replace(state.disks, i, live),
            disk_keys=_replace(state.disk_keys, i, dkey),
            timers=_replace(state.timers, i, frozenset(timers.values())),
            clocks=state.clocks,
            network=network,
            ghost=ghost,
            spent=state.spent,
            incarnations=state.incarnations,
            depth=state.depth,
        )
        # The runtime contract: a node's message to itself arrives after the handler, before
        # anything from the network (which takes time): part of the same step here.
        for msg in local:
            if _depth_guard(self, name):
                new_node = self._copy(new, i, node)
                new = self._run(new, i, new_node, "on_message", _deliver(new_node, name, msg))
        return new

    def _remember(self, state: State) -> State:
        """Add the facts ``record`` sees in ``state`` to its ghost."""
        if self.record is None:
            return state
        facts = frozenset(self.record(View(self, state)))
        if facts <= state.ghost:
            return state
        state.ghost = state.ghost | facts
        state._key = None
        return state

    # -- steps -------------------------------------------------------------------------------

    def steps(self, state: State) -> list[Step]:
        """Every step enabled in ``state``, in a fixed order."""
        out: list[Step] = []
        drops, dups, crashes, fired = state.spent
        for (src, dst, key), _count in sorted(state.network.items(), key=_link_order):
            i = self.index[dst]
            msg = self.messages[key]
            if state.nodes[i] is not None:
                out.append(Step("deliver", dst, src, msg))
            if drops < self.drops:
                out.append(Step("drop", dst, src, msg))
            if dups < self.duplicates:
                out.append(Step("duplicate", dst, src, msg))
        for i, name in enumerate(self.names):
            if state.nodes[i] is None:
                out.append(Step("restart", name))
                continue
            budget = self.timer_budget[i]
            if budget is None or fired[i] < budget:
                for t in sorted(state.timers[i], key=lambda t: (t.due, t.name)):
                    payload = None if t.payload is None else self.messages[t.payload]
                    out.append(Step("timer", name, timer=t.name, payload=payload))
            if crashes < self.crashes and name in self.crashable:
                out.append(Step("crash", name))
        return out

    def take(self, state: State, step: Step) -> State:
        """The state after ``step`` (``state`` is unchanged)."""
        self._chain = 0
        new = self._take(state, step)
        new.depth = state.depth + 1
        return self._remember(new)

    def _take(self, state: State, step: Step) -> State:
        kind = step.kind
        i = self.index.get(step.node)
        if i is None:
            raise ExploreError(f"step {step} names unknown node {step.node!r}")
        drops, dups, crashes, fired = state.spent
        if kind in ("deliver", "drop", "duplicate"):
            key = canonical(step.msg, "a message")
            link = (step.src or "", step.node, key)
            count = state.network.get(link, 0)
            if not count:
                raise ExploreError(f"step {step}: no such message in flight")
            if kind == "duplicate":
                network = dict(state.network)
                network[link] = count + 1
                return _with(state, network=network, spent=(drops, dups + 1, crashes, fired))
            network = dict(state.network)
            if count == 1:
                del network[link]
            else:
                network[link] = count - 1
            if kind == "drop":
                return _with(state, network=network, spent=(drops + 1, dups, crashes, fired))
            old = state.nodes[i]
            if old is None:
                raise ExploreError(f"step {step}: {step.node} is down")
            node = self._copy(state, i, old)
            msg = self.messages[key]
            src = step.src
            assert src is not None
            before = _with(state, network=network)
            return self._run(before, i, node, "on_message", lambda: node.on_message(src, msg))
        if kind == "timer":
            old = state.nodes[i]
            timer = next((t for t in state.timers[i] if t.name == step.timer), None)
            if old is None or timer is None:
                raise ExploreError(f"step {step}: no such timer armed")
            node = self._copy(state, i, old)
            timers = _replace(state.timers, i, state.timers[i] - {timer})
            clocks = _replace(state.clocks, i, max(state.clocks[i], timer.due))
            spent = (drops, dups, crashes, _replace(fired, i, fired[i] + 1))
            before = _with(state, timers=timers, clocks=clocks, spent=spent)
            if timer.payload is None:
                return self._run(before, i, node, "on_timer", lambda: node.on_timer(timer.name))
            payload = self.messages[timer.payload]
            on_timer: Any = node.on_timer  # a timer with a payload: on_timer(name, payload)
            return self._run(before, i, node, "on_timer", lambda: on_timer(timer.name, payload))
        if kind == "crash":
            if state.nodes[i] is None:
                raise ExploreError(f"step {step}: {step.node} is already down")
            network = state.network
            return _with(
                state,
                nodes=_replace(state.nodes, i, None),
                frozen=_replace(state.frozen, i, None),
                node_keys=_replace(state.node_keys, i, None),
                timers=_replace(state.timers, i, frozenset()),
                network=network,
                spent=(drops, dups, crashes + 1, fired),
                incarnations=_replace(state.incarnations, i, state.incarnations[i] + 1),
            )
        if kind == "restart":
            if state.nodes[i] is not None:
                raise ExploreError(f"step {step}: {step.node} is up")
            return self._boot(state, step.node)
        raise ExploreError(f"unknown step kind {kind!r}")

    @staticmethod
    def _copy(state: State, i: int, old: Node) -> Node:
        frozen = state.frozen[i]
        return clone(old) if frozen is None else thaw(type(old), frozen)

    # -- checking ----------------------------------------------------------------------------

    def check(self, state: State, parent: State | None = None) -> tuple[str, str]:
        """The first invariant ``state`` breaks and what is wrong, or ("", ""). A property that
        reads only storage and facts is not checked again when they did not change since
        ``parent`` (which passed)."""
        view: View | None = None
        same = (
            parent is not None
            and parent.disk_keys == state.disk_keys
            and parent.ghost == state.ghost
        )
        for p in self.properties:
            if p.kind != "invariant" or (same and p.reads == "storage"):
                continue
            if view is None:
                view = View(self, state)
            problem = _failure(p.check(view))
            if problem:
                return p.name, problem
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
        progress: bool | Callable[[int, int, float], None] = False,
    ) -> Result:
        """Explore from the initial state; stop at the first invariant violated.

        ``strategy`` "bfs" (breadth-first: the counterexample is a shortest one) or "dfs"
        (depth-first: less memory, reaches deep states sooner). Bounds: ``max_depth`` steps per
        path, ``max_states`` distinct states, ``max_seconds`` of wall time. ``progress``: True
        for a line on stderr every second or so (states, depth, states per second), or a
        function ``progress(distinct, depth, seconds)``.
        """
        if strategy not in ("bfs", "dfs"):
            raise ExploreError(f'strategy is "bfs" or "dfs", not {strategy!r}')
        start = time.perf_counter()
        report = _progress_printer() if progress is True else progress or None
        pending = {p.name for p in self.properties if p.kind == "goal"}
        goals: dict[str, list[Step] | None] = dict.fromkeys(pending)
        try:
            root = self.initial()
        except _HandlerFailed as failed:
            return self._failed_result([], failed, start, goals)
        parents: dict[Any, tuple[Any, Step | None]] = {}
        root_key = root.key
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
        while frontier:
            state = pop()
            deepest = max(deepest, state.depth)
            if max_depth is not None and state.depth >= max_depth:
                exhausted = False
                continue
            skey = state.key
            for step in self.steps(state):
                try:
                    nxt = self.take(state, step)
                except _HandlerFailed as failed:
                    return self._failed_result([*path(skey), step], failed, start, goals)
                visited += 1
                key = nxt.key
                if key in parents:
                    continue
                parents[key] = (skey, step)
                self._check_determinism(state, step, key)
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
        again = self.take(state, step).key
        if again != key:
            name = step.node
            i = self.index[name]
            first, second = key[0][i], again[0][i]
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
        self, trace: list[Step], failed: _HandlerFailed, start: float, goals: dict[str, Any]
    ) -> Result:
        problem = f"{failed.node}'s {failed.what} raised {type(failed.exc).__name__}: {failed.exc}"
        return self._result(
            "violated", 0, 0, len(trace), start, goals, "handlers do not raise", problem, trace
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


def _replace(values: tuple[Any, ...], i: int, value: Any) -> tuple[Any, ...]:
    return (*values[:i], value, *values[i + 1 :])


def _with(state: State, **changes: Any) -> State:
    fields_: dict[str, Any] = {
        "nodes": state.nodes,
        "frozen": state.frozen,
        "node_keys": state.node_keys,
        "disks": state.disks,
        "disk_keys": state.disk_keys,
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


def _link_order(item: tuple[tuple[str, str, Any], int]) -> tuple[str, str, str]:
    (src, dst, key), _ = item
    return (src, dst, repr(key))


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


def _progress_printer() -> Callable[[int, int, float], None]:
    def report(distinct: int, depth: int, seconds: float) -> None:
        rate = distinct / seconds if seconds else 0.0
        print(
            f"explored {distinct:,} states, depth {depth}, {rate:,.0f} states/s",
            file=sys.stderr,
            flush=True,
        )

    return report
