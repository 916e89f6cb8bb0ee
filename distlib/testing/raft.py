"""A harness that runs any Raft-like node class in a simulated cluster and judges it.

Used by the test suite and by graded lab cells alike::

    cluster = RaftCluster(MyRaft, n=3, seed=1)
    leader = cluster.check_one_leader()
    index = cluster.one("x", expected=3)      # agreement on "x" by all three servers
    cluster.disconnect(leader)
    ...

Every wait is in simulated time, so a test of many seconds runs in a fraction of one.

**The node class** (any :class:`distlib.node.Node` subclass built by a zero-argument factory)
must offer this much, read after every handler it runs:

=================== =========================================================================
``role``            "leader", "candidate" or "follower" (a ``str`` or a ``StrEnum`` such as
                    :class:`distlib.protocols.raft.Role`)
``term``            its currentTerm, an int
``voted_for``       whom it voted for in ``term`` (None if no one); optional
``log``             a sequence whose element ``i`` (``1 <= i < len(log)``) is the entry at index
                    ``i``, with attributes ``term`` and ``command``; element 0 is a placeholder
``commit_index``    its commitIndex, an int
``applied``         a list of ``(index, command)`` in the order this incarnation applied them
``submit(command)`` a leader appends ``command`` and returns its index; any other server
                    returns None. The harness calls it like a handler (its sends happen).
=================== =========================================================================

**Checks.** After every handler of every node, :class:`distlib.check.raft.RaftSafety` checks
Raft's safety properties (Election Safety, Log Matching, Leader Append-Only, State Machine
Safety, Leader Completeness, and Figure 2's rules on terms, votes, commitIndex and applying),
cheaply: only what changed is examined (the checker is the simulation's observer; see its
module for what one step costs).

A failed check raises :class:`RaftViolation`, an ``AssertionError`` whose message is a report:
the property, the node, term and index, what was expected and what happened, and the last
events of the trace that concern those nodes.

The methods that wait (``one``, ``wait``, ``check_one_leader``) follow the conventions of
well-known university Raft labs, in simulated time. Each has a generator twin
(``one_async``, ``wait_async``) for concurrent clients started with :meth:`RaftCluster.spawn`.

Faults: :meth:`RaftCluster.disconnect` cuts a server off from all others (``connected`` and
the waiting methods know about it); :meth:`RaftCluster.partition`, ``crash``, ``restart`` and
the unreliable network modes pass through to the simulation.

The checks themselves are :class:`distlib.check.raft.RaftSafety`; this module runs the cluster,
feeds it every step and turns a failed check into a report. Deliberately wrong nodes that show
what the checks catch live in :mod:`distlib.testing.broken`; the split-vote measurement of Lab 7
is :func:`distlib.labs.lab07_raft.measure_split_votes`.

Left to others: progress is not checked on its own but demanded by the waiting methods and by
the scenarios of :mod:`distlib.testing.raft_scenarios`; client histories (linearizability) are
for :mod:`distlib.check`.
"""

from __future__ import annotations

import pickle
import random
from collections.abc import Callable, Generator, Iterable
from typing import Any, Protocol, cast

from distlib.check.raft import RaftSafety
from distlib.node import Node
from distlib.protocols.raft import (
    SENTINEL,
    Entry,
    RaftNode,
)
from distlib.sim import NodeError, Simulation, Uniform
from distlib.sim.simulation import Observer

__all__ = [
    "RaftCluster",
    "RaftViolation",
    "figure8_storage",
]

#: How long an election may take after a failure (the labs' "election timeout" for tests).
ELECTION_TIMEOUT = 1.0

#: The reliable network's latency: 1-10 ms per message.
RELIABLE_LATENCY = Uniform(0.001, 0.010)

#: Trace event kinds worth showing in a report (sends, timers and duplicates are noise there).
_REPORT_KINDS = frozenset({"deliver", "drop", "note", "crash", "restart", "start", "net", "error"})


def figure8_storage() -> dict[str, dict[str, Any]]:
    """The stable storage of three servers s1, s2, s3 in the situation of Figure 8 of the Raft
    paper (§5.4.2), for a search or a run to start from (every server boots from it, a
    follower):

    * in term 1, s1 led and appended command "A" at index 1, which reached no one else;
    * in term 2, s3 led with s2's vote and appended "B" at index 1, which reached no one else.

    Now s1 may win a later term (s2's log is empty, so s2 votes for it) and replicate "A" to s2:
    stored on a majority, but from an earlier term. A leader that counts replicas of such an
    entry and calls it committed is wrong, because s3 (whose last entry has the later term 2)
    can still be elected and overwrite index 1 with "B".
    """
    return {
        "s1": {"term": 1, "voted_for": "s1", "log": [SENTINEL, Entry(1, "A")]},
        "s2": {"term": 2, "voted_for": "s3", "log": [SENTINEL]},
        "s3": {"term": 2, "voted_for": "s3", "log": [SENTINEL, Entry(2, "B")]},
    }


class RaftViolation(AssertionError):
    """A Raft property failed. The message is a report a person can act on.

    Attributes: ``property`` (e.g. "Election Safety (§5.2)"), ``node``, ``term``, ``index``
    (None when not applicable), ``time`` (simulated seconds), ``excerpt`` (trace lines) and
    ``trace`` (the run's whole :class:`~distlib.trace.Trace`, or None).
    """

    def __init__(
        self,
        prop: str,
        what: str,
        *,
        node: str | None = None,
        term: int | None = None,
        index: int | None = None,
        expected: str | None = None,
        happened: str | None = None,
        time: float | None = None,
        seed: int | None = None,
        excerpt: Iterable[str] = (),
        trace: Any = None,
        focus: Iterable[str] = (),
        servers: Iterable[str] = (),
    ) -> None:
        self.property = prop
        self.node = node
        self.term = term
        self.index = index
        self.time = time
        self.excerpt = list(excerpt)
        self.trace = trace
        self.focus = list(focus)
        lines = [f"Raft check failed: {prop}", f"  {what}"]
        where = [
            f"{k} {v}"
            for k, v in (("node", node), ("term", term), ("index", index))
            if v is not None
        ]
        if where:
            lines.append("  " + ", ".join(where))
        if expected is not None:
            lines.append(f"  expected: {expected}")
        if happened is not None:
            lines.append(f"  happened: {happened}")
        if time is not None:
            lines.append(
                f"  at t={time:.6f} s (simulated)" + (f", seed {seed}" if seed is not None else "")
            )
        self.servers = list(servers)
        if self.servers:
            lines.append("  the servers at that moment (role, term, commit index, log tail):")
            lines.extend("    " + line for line in self.servers)
        if self.excerpt:
            who = ", ".join(self.focus) if self.focus else "the cluster"
            lines.append(f"  last {len(self.excerpt)} events involving {who}:")
            lines.extend("    " + line for line in self.excerpt)
        super().__init__("\n".join(lines))

    def diagram(self, *, window: float = 1.0, **options: Any):
        """A space-time diagram of the last ``window`` simulated seconds before the failure."""
        if self.trace is None:
            raise ValueError("this failure has no trace to draw (the run was not traced)")
        end = self.time if self.time is not None else None
        since = None if end is None else max(0.0, end - window)
        from distlib.views import spacetime

        return spacetime(self.trace, since=since, until=end, **options)

    def save_diagram(self, path: Any, **options: Any) -> None:
        """Save :meth:`diagram` to ``path`` (any format matplotlib knows, e.g. ``.png``)."""
        import matplotlib.pyplot as plt

        fig = self.diagram(**options)
        fig.savefig(path, bbox_inches="tight")
        plt.close(fig)


# --------------------------------------------------------------------------------------------
# Reading servers.


def _role(node: Any) -> str:
    role = node.role
    return role if isinstance(role, str) else str(getattr(role, "value", role))


class _Server(Protocol):
    """The part of a server's interface (the module docstring's table) that reports read."""

    @property
    def role(self) -> object: ...  # a str, or an enum such as Role

    @property
    def term(self) -> int: ...


def _server(node: Node) -> _Server:
    """``node`` as the Raft server it is: :class:`RaftCluster` checks each node it builds for
    ``role`` and ``term``, and Lab 7's split-vote measurement builds Raft servers."""
    return cast(_Server, node)  # a Node offers no role or term; these nodes do (see above)


# --------------------------------------------------------------------------------------------
# The cluster.


class RaftCluster:
    """``n`` servers built by ``node_factory`` (a Raft-like Node class or a zero-argument
    callable), named ``s1`` ... ``sn``, on a :class:`~distlib.Simulation` with every safety
    check of the module docstring running after every step.

    ``unreliable=True`` starts with a lossy network (:meth:`set_unreliable`); ``latency`` is the
    reliable network's latency; ``diagram`` is a file path where a space-time diagram of the
    last second is saved when a check fails; each of ``observers`` is registered on the
    simulation (:meth:`~distlib.Simulation.observe`) after the checks, to watch the same steps.
    ``durability`` and ``torn`` go to the simulation: with ``durability="sync"`` a crash keeps
    only what each server synced (:meth:`distlib.node.Node.sync`).
    """

    def __init__(
        self,
        node_factory: Callable[[], Node] | type[Node] = RaftNode,
        n: int = 3,
        *,
        seed: int = 0,
        unreliable: bool = False,
        latency: Any = RELIABLE_LATENCY,
        excerpt: int = 15,
        diagram: Any = None,
        observers: Iterable[Observer] = (),
        durability: str = "write",
        torn: float = 0.0,
    ) -> None:
        if not callable(node_factory):
            raise TypeError(
                f"node_factory must be a Node class or a callable, not {node_factory!r}"
            )
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"a cluster needs a positive number of servers, not {n!r}")
        self.seed = seed
        self.n = n
        self.names = [f"s{i}" for i in range(1, n + 1)]
        self.rng = random.Random(f"{seed}/raft-harness")
        self.sim = Simulation(seed=seed, latency=latency, durability=durability, torn=torn)
        self.latency = latency
        self.excerpt_lines = excerpt
        self.diagram_path = diagram
        self.disconnected: set[str] = set()
        self.checker = RaftSafety(self.violation, lambda: self.sim.now)
        self._factory = node_factory
        self._start_at = 0
        self._probe_failed = False
        self.sim.observe(self.checker.observe)
        for observer in observers:
            self.sim.observe(observer)
        for name in self.names:
            self.sim.add_node(name, self._maker(name))
        if unreliable:
            self.set_unreliable(True)

    # -- wiring: every handler step of every node is followed by the checks -------------------

    def _maker(self, name: str) -> Callable[[], Node]:
        def make() -> Node:
            node = self._factory()
            if not isinstance(node, Node):
                raise TypeError(f"the node factory returned {node!r}, not a distlib Node")
            for attr in ("role", "term", "log", "commit_index", "applied", "submit"):
                if not hasattr(type(node), attr) and not hasattr(node, attr):
                    raise TypeError(
                        f"{type(node).__name__} lacks {attr!r}, which the Raft harness reads "
                        "(see distlib.testing.raft for what a node must offer)"
                    )
            self.checker.new_incarnation(name, node)
            return node

        return make

    def _call(self, name: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` inside node ``name`` as a handler (its actions are performed)."""
        try:
            result = self.sim.call(name, fn, *args)
        except NodeError as exc:
            self._unwrap(exc)
        return result

    def _unwrap(self, exc: NodeError) -> None:
        """Re-raise a failed check as itself, and a handler's exception as a RaftViolation."""
        cause = exc.__cause__
        if isinstance(cause, RaftViolation):
            raise cause from None
        raise self.violation(
            "handlers do not raise",
            f"{exc.node}'s {exc.event} raised {type(cause).__name__}: {cause}",
            node=exc.node,
        ) from exc

    # -- running ------------------------------------------------------------------------------

    @property
    def now(self) -> float:
        """The simulated time, in seconds."""
        return self.sim.now

    def run(self, duration: float) -> None:
        """Let ``duration`` simulated seconds pass."""
        if duration <= 0:
            return
        try:
            self.sim.run(duration=duration)
        except NodeError as exc:
            self._unwrap(exc)

    def run_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Run until ``predicate()`` holds (checked after every event) or ``timeout`` simulated
        seconds pass; returns whether it held."""
        try:
            return self.sim.run(until=predicate, limit=self.now + timeout)
        except NodeError as exc:
            self._unwrap(exc)
            raise  # pragma: no cover - _unwrap always raises

    def spawn(self, process: Generator[Any, Any, Any]):
        """Start a generator as a concurrent activity in simulated time (a simpy process).

        It waits by yielding :meth:`sleep` (or ``yield from`` :meth:`one_async` /
        :meth:`wait_async`). Returns the process; ``process.triggered`` tells if it ended.
        """
        return self.sim.env.process(process)

    def sleep(self, seconds: float):
        """An event for a spawned generator to yield: resume ``seconds`` later."""
        return self.sim.env.timeout(seconds)

    def _drive(self, gen: Generator[Any, Any, Any]) -> Any:
        proc = self.spawn(gen)
        self.run_until(lambda: proc.triggered, timeout=1e6)
        if not proc.ok:
            proc.defused = True  # it is reported here, not again by the next simulation step
            raise proc.value
        return proc.value

    # -- faults -------------------------------------------------------------------------------

    def _check_name(self, name: str) -> str:
        if name not in self.names:
            raise ValueError(f"unknown server {name!r} (servers: {', '.join(self.names)})")
        return name

    def disconnect(self, name: str) -> None:
        """Cut ``name`` off from every other server, both ways (it keeps running)."""
        self.sim.isolate(self._check_name(name))
        self.disconnected.add(name)

    def connect(self, name: str) -> None:
        """Undo :meth:`disconnect`."""
        self.sim.reconnect(self._check_name(name))
        self.disconnected.discard(name)

    def partition(self, *groups: Iterable[str]) -> None:
        """Split the servers into groups that cannot reach each other (unnamed ones: one more)."""
        self.sim.partition(*groups)

    def heal(self) -> None:
        """Remove every partition, cut and disconnection."""
        self.sim.heal()
        self.disconnected.clear()

    def crash(self, name: str) -> None:
        """Crash ``name``: it loses everything but its storage."""
        self.sim.crash(self._check_name(name))

    def restart(self, name: str) -> None:
        """Restart a crashed ``name`` from its storage."""
        try:
            self.sim.restart(self._check_name(name))
        except NodeError as exc:
            self._unwrap(exc)

    def set_unreliable(self, on: bool = True) -> None:
        """Lose about 10% of messages (requests and replies alike) and delay each by 0-27 ms."""
        if on:
            self.sim.network.configure(loss=0.1, latency=Uniform(0.0, 0.027))
        else:
            self.sim.network.configure(loss=0.0, latency=self.latency)

    def set_long_reordering(self, on: bool = True, *, probability: float = 0.1) -> None:
        """Hold back a fraction of messages for an extra 200-2200 ms, so they arrive long after
        later ones."""
        self.sim.network.configure(
            reorder=probability if on else 0.0, reorder_delay=Uniform(0.2, 2.2)
        )

    # -- looking at the servers --------------------------------------------------------------

    def node(self, name: str) -> Any:
        """The live node object ``name``, or None while it is down."""
        return self._live(self._check_name(name))

    def _live(self, name: str) -> Any:
        # (Not sim.nodes[name]: that builds a dict of every node, and harness code asks often.)
        sim = self.sim
        return sim.node(name) if sim.is_up(name) else None

    def is_up(self, name: str) -> bool:
        return self.sim.is_up(name)

    def connected(self, name: str) -> bool:
        """Up and not disconnected."""
        return name not in self.disconnected and self.sim.is_up(name)

    def role(self, name: str) -> str | None:
        node = self.node(name)
        return None if node is None else _role(node)

    def term(self, name: str) -> int | None:
        node = self.node(name)
        return None if node is None else node.term

    def leaders(self) -> dict[str, int]:
        """Connected servers that think they lead, with their terms."""
        out = {}
        for name in self.names:
            node = self._live(name)
            if node is not None and name not in self.disconnected and _role(node) == "leader":
                out[name] = _server(node).term
        return out

    def submit(self, name: str, command: Any) -> int | None:
        """Call ``submit(command)`` on server ``name``: its index if it leads, else None."""
        node = self.node(name)
        if node is None:
            return None
        return self._call(name, node.submit, command)

    def inject(self, dst: str, msg: Any, *, src: str) -> None:
        """Hand ``msg`` to server ``dst`` now, as if ``src`` had sent it (a test double: lets a
        scenario play a candidate or leader that the cluster would not produce on its own)."""
        node = self.node(dst)
        if node is None:
            raise ValueError(f"cannot inject a message into {dst}: it is down")
        self._call(dst, node.on_message, self._check_name(src), msg)

    def sent_by(self, name: str, type_name: str) -> list[Any]:
        """The messages of type ``type_name`` (a class name) that ``name`` has sent, in order."""
        return [
            e.msg
            for e in self.sim.trace.events
            if e.kind == "send" and e.node == name and e.type == type_name
        ]

    def n_committed(self, index: int) -> tuple[int, Any]:
        """How many servers have applied ``index`` (in any incarnation), and the command."""
        by = self.checker.applied_by.get(index)
        if not by:
            return 0, None
        return len(by), next(iter(by.values()))

    def committed_commands(self) -> list[Any]:
        """The commands applied at indices 1, 2, ... as far as some server applied them."""
        out = []
        index = 1
        by = self.checker.applied_by
        while index in by:
            out.append(next(iter(by[index].values())))
            index += 1
        return out

    # -- the lab-style checks -----------------------------------------------------------------

    def check_one_leader(self) -> str:
        """Wait (up to ten rounds of ~0.5 s) for exactly one connected leader; return it.

        Fails if some term has two connected leaders, or if no leader shows up.
        """
        for _ in range(10):
            self.run(self.rng.uniform(0.45, 0.55))
            by_term: dict[int, list[str]] = {}
            for name, term in self.leaders().items():
                by_term.setdefault(term, []).append(name)
            for term, names in by_term.items():
                if len(names) > 1:
                    raise self.violation(
                        "Election Safety (§5.2)",
                        f"term {term} has {len(names)} leaders: {', '.join(names)}",
                        term=term,
                        focus=names,
                    )
            if by_term:
                return by_term[max(by_term)][0]
        raise self.violation(
            "a leader is elected (§5.2)",
            "no connected server became leader within 5 simulated seconds",
            expected="one leader among the connected servers " + ", ".join(self._connected()),
            happened="roles: " + self.summary(),
        )

    def check_terms(self) -> int:
        """All connected servers agree on the term; return it."""
        terms = {name: self.node(name).term for name in self._connected()}
        if len(set(terms.values())) > 1:
            raise self.violation(
                "servers agree on the term after an election (§5.1)",
                "connected servers disagree on the current term",
                happened=", ".join(f"{k}: term {v}" for k, v in terms.items()),
                focus=list(terms),
            )
        return next(iter(terms.values()), -1)

    def check_no_leader(self) -> None:
        """No connected server thinks it is leader."""
        leaders = self.leaders()
        if leaders:
            name, term = next(iter(leaders.items()))
            raise self.violation(
                "no leader without a majority (§5.2)",
                f"{name} is leader of term {term}, but it should not be able to win an election",
                node=name,
                term=term,
                expected="no leader among " + ", ".join(self._connected()),
                happened="roles: " + self.summary(),
                focus=[name],
            )

    def one(
        self, command: Any, expected: int, *, retry: bool = False, timeout: float = 10.0
    ) -> int:
        """Get ``command`` committed by at least ``expected`` servers; return its index.

        Offers the command to each connected server in turn until one leads; then waits up to
        2 s for ``expected`` servers to apply it at that index. With ``retry``, tries again (a
        new leader may have dropped it); fails after ``timeout`` simulated seconds.
        """
        return self._drive(self.one_async(command, expected, retry=retry, timeout=timeout))

    def one_async(
        self, command: Any, expected: int, *, retry: bool = False, timeout: float = 10.0
    ) -> Generator[Any, Any, int]:
        """:meth:`one` for a spawned generator: ``index = yield from cluster.one_async(...)``."""
        deadline = self.now + timeout
        n = self.n
        while self.now < deadline:
            index = None
            for _ in range(n):
                name = self.names[self._start_at]
                self._start_at = (self._start_at + 1) % n
                if self.connected(name):
                    index = self.submit(name, command)
                    if index is not None:
                        break
            if index is not None:
                until = self.now + 2.0
                while self.now < until:
                    count, cmd = self.n_committed(index)
                    if count > 0 and count >= expected and cmd == command:
                        return index
                    yield self.sleep(0.02)
                if not retry:
                    count, cmd = self.n_committed(index)
                    raise self.violation(
                        "agreement (§5.3)",
                        f"one({command!r}) failed to reach agreement at index {index}",
                        index=index,
                        expected=f"{expected} servers apply {command!r} at index {index} "
                        "within 2 s",
                        happened=f"{count} applied it"
                        + (f" ({cmd!r})" if count else "")
                        + "; roles: "
                        + self.summary(),
                    )
            else:
                yield self.sleep(0.05)
        raise self.violation(
            "agreement (§5.3)",
            f"one({command!r}) failed to reach agreement within {timeout:g} s",
            expected=f"{expected} servers apply {command!r}",
            happened="roles: " + self.summary(),
        )

    def wait(self, index: int, n: int, start_term: int | None = None) -> Any:
        """Wait for ``n`` servers to apply ``index``; return the command.

        Returns None early if some server moved past ``start_term`` (the leader changed, so
        the entry may never commit); fails if fewer than ``n`` apply it in about 10 s.
        """
        return self._drive(self.wait_async(index, n, start_term))

    def wait_async(
        self, index: int, n: int, start_term: int | None = None
    ) -> Generator[Any, Any, Any]:
        """:meth:`wait` for a spawned generator."""
        pause = 0.01
        for _ in range(30):
            count, _cmd = self.n_committed(index)
            if count >= n:
                break
            yield self.sleep(pause)
            pause = min(pause * 2, 1.0)
            if start_term is not None:
                for name in self.names:
                    node = self._live(name)
                    if node is not None and _server(node).term > start_term:
                        return None
        count, cmd = self.n_committed(index)
        if count < n:
            raise self.violation(
                "agreement (§5.3)",
                f"only {count} servers applied index {index}",
                index=index,
                expected=f"at least {n}",
                happened=f"{count}; roles: {self.summary()}",
            )
        return cmd

    # -- measuring ------------------------------------------------------------------------

    def mark(self) -> int:
        """A position in the trace, for :meth:`messages_since` and :meth:`bytes_since`."""
        return len(self.sim.trace)

    def _sends_since(self, mark: int) -> list[Any]:
        servers = set(self.names)
        return [
            e
            for e in self.sim.trace.events[mark:]
            if e.kind == "send" and e.node in servers and e.peer in servers
        ]

    def messages_since(self, mark: int) -> int:
        """Messages servers sent each other since ``mark``."""
        return len(self._sends_since(mark))

    def bytes_since(self, mark: int) -> int:
        """Bytes servers sent each other since ``mark`` (each message's pickled size)."""
        return sum(len(pickle.dumps(e.msg)) for e in self._sends_since(mark))

    # -- reports ------------------------------------------------------------------------------

    def _connected(self) -> list[str]:
        return [name for name in self.names if self.connected(name)]

    def summary(self) -> str:
        """Each server's role and term, e.g. ``"s1 leader@3, s2 follower@3, s3 down"``."""
        parts = []
        for name in self.names:
            node = self._live(name)
            if node is None:
                parts.append(f"{name} down")
            else:
                off = " (disconnected)" if name in self.disconnected else ""
                parts.append(f"{name} {_role(node)}@{_server(node).term}{off}")
        return ", ".join(parts)

    def server_lines(self, tail: int = 4) -> list[str]:
        """One line per server: its role, term, commit index and the last ``tail`` entries of
        its log as ``index:term:command`` (what a failure report needs to show, say, that a
        follower claims an entry it does not hold)."""
        out = []
        for name in self.names:
            node = self._live(name)
            if node is None:
                out.append(f"{name:<4} down")
                continue
            server = _server(node)
            log = list(getattr(node, "log", []))
            last = len(log) - 1
            shown = [
                f"{i}:{log[i].term}:{log[i].command!r}"
                for i in range(max(1, last - tail + 1), last + 1)
            ]
            more = "... " if last > tail else ""
            entries = more + " ".join(shown) if shown else "(empty)"
            off = " (disconnected)" if name in self.disconnected else ""
            out.append(
                f"{name:<4} {_role(node):<9} term {server.term:<3} commit "
                f"{getattr(node, 'commit_index', '?'):<3} log {entries}{off}"
            )
        return out

    def excerpt(self, focus: Iterable[str] = (), limit: int | None = None) -> list[str]:
        """The last ``limit`` trace lines about the ``focus`` servers (all when empty)."""
        limit = self.excerpt_lines if limit is None else limit
        names = set(focus)
        out: list[str] = []
        for e in reversed(self.sim.trace.events):
            if e.kind not in _REPORT_KINDS:
                continue
            if names and e.kind != "net" and not (e.node in names or e.peer in names):
                continue
            out.append(e.line())
            if len(out) >= limit:
                break
        return out[::-1]

    def violation(
        self, prop: str, what: str, *, node: str | None = None, focus: Iterable[str] = (), **kw: Any
    ) -> RaftViolation:
        """Build the :class:`RaftViolation` for a failed check (saving a diagram if asked)."""
        focus = [f for f in dict.fromkeys([*([node] if node else []), *focus]) if f]
        exc = RaftViolation(
            prop,
            what,
            node=node,
            time=self.now,
            seed=self.seed,
            excerpt=self.excerpt(focus),
            trace=self.sim.trace,
            focus=focus,
            servers=self.server_lines(),
            **kw,
        )
        if self.diagram_path is not None:
            try:
                exc.save_diagram(self.diagram_path)
            except Exception as err:  # the report matters more than the picture
                exc.args = (exc.args[0] + f"\n  (could not save the diagram: {err})",)
            else:
                exc.args = (exc.args[0] + f"\n  diagram saved to {self.diagram_path}",)
        return exc
