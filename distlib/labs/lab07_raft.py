"""Lab 7's experiments: Raft runs to look at, replays of the paper's failure cases, and the
probes the graded cells use.

* **Probing one handler** (:func:`follower`, :func:`leader`, :func:`ask`). A node of any
  :class:`~distlib.protocols.raft.RaftNode` subclass, started without a runtime in a chosen
  state (log, term, vote), is handed one message; :func:`ask` returns its reply. Graded cells use
  these for quick, exact checks before running the scenario suite of
  :mod:`distlib.testing.raft_scenarios`. :func:`check_exercise` makes sure an exercise class
  writes its rule itself instead of calling the reference implementation it inherits.
* **Log replication, small** (:func:`replication_run`): three servers elect a leader, then a
  client submits two commands; the run's window of interest is returned for the trace stepper.
* **The election restriction, broken** (:func:`stale_leader_run`): the situation of the
  ``stale_candidate`` scenario, on a plain simulation without the harness's checks, run to the
  end: with :class:`~distlib.testing.raft.BrokenVoteRaft` a server that missed committed entries
  wins an election and overwrites them, and the servers' state machines disagree.
* **Replays** (:func:`replay`): a scenario run with a recorder on every server, so that the
  servers' logs can be drawn at any moment (:meth:`Replay.logs_at`, :func:`draw_logs`, in the
  style of the paper's Figure 8), whether the run passed or the harness stopped it.

* **Every interleaving** (:func:`vote_explorer`, :func:`commit_explorer`, :func:`search_vote_rule`,
  :func:`search_commit_rule`): three servers explored exhaustively (:mod:`distlib.explore`) in
  the small configurations where a wrong vote rule or commit rule breaks Raft's safety.

Left to others: the protocol (:mod:`distlib.protocols.raft`), the checks and scenarios
(:mod:`distlib.testing`), role timelines and split-vote plots (:mod:`distlib.views.raft`).
Everything is seeded; plots import matplotlib lazily.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from distlib.explore import Explorer, Result, leader_elected, raft_safety
from distlib.node import Node, Send
from distlib.protocols.raft import (
    ClientRequest,
    Entry,
    RaftClient,
    RaftNode,
    RequestVoteReply,
    Role,
)
from distlib.sim import Constant, Simulation, Uniform
from distlib.testing.raft import RaftViolation, figure8_storage
from distlib.testing.raft_scenarios import SCENARIOS
from distlib.trace import Trace

__all__ = [
    "EXERCISES",
    "LogState",
    "OneCommand",
    "Replay",
    "ReplicationRun",
    "StaleLeaderRun",
    "ask",
    "check_exercise",
    "commit_explorer",
    "draw_logs",
    "figure8_panels",
    "follower",
    "format_logs",
    "leader",
    "measure_split_votes",
    "replay",
    "replication_run",
    "search_commit_rule",
    "search_vote_rule",
    "stale_leader_run",
    "vote_explorer",
]

#: The methods of :class:`~distlib.protocols.raft.RaftNode` that the lab's exercises replace.
EXERCISES = ("handle_request_vote", "handle_append_entries", "advance_commit_index")


# --------------------------------------------------------------------------------------------
# Probing one handler.


def _names_used(code: Any) -> set[str]:
    """Every global and attribute name a function's code (and its nested code) refers to."""
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names |= _names_used(const)
    return names


def check_exercise(cls: type, method: str) -> None:
    """Check that ``cls`` answers the exercise ``method`` with its own code.

    ``cls`` must be a :class:`~distlib.protocols.raft.RaftNode` subclass that defines ``method``
    in its own body, and that body must not call ``super()`` or ``RaftNode.<method>``: the
    inherited method is the reference answer. Raises AssertionError with a sentence saying what
    to change, TypeError or ValueError for a wrong call.
    """
    if method not in EXERCISES:
        raise ValueError(f"{method!r} is not one of the exercises: {', '.join(EXERCISES)}")
    if not isinstance(cls, type) or not issubclass(cls, RaftNode):
        raise TypeError(f"expected a subclass of RaftNode, not {cls!r}")
    fn = cls.__dict__.get(method)
    if fn is None:
        raise AssertionError(
            f"{cls.__name__} does not define {method}: write the method in the class itself "
            "(the one it inherits from RaftNode is the reference, not your answer)"
        )
    code = getattr(fn, "__code__", None)
    if code is None:
        raise AssertionError(f"{cls.__name__}.{method} must be a plain method (a def)")
    used = _names_used(code)
    if "super" in used or method in used:
        raise AssertionError(
            f"{cls.__name__}.{method} calls super() or RaftNode.{method}, which runs the "
            "reference answer: write the rule yourself"
        )


def _log(terms: Iterable[int], commands: Iterable[Any] | None = None) -> list[Entry]:
    terms = list(terms)
    if any(not isinstance(t, int) or t < 1 for t in terms):
        raise ValueError(f"log terms must be positive ints, not {terms!r}")
    if any(b < a for a, b in pairwise(terms)):
        raise ValueError(f"terms never decrease along a log (§5.3), but got {terms!r}")
    cmds = list(commands) if commands is not None else [f"x{i}" for i in range(1, len(terms) + 1)]
    if len(cmds) != len(terms):
        raise ValueError(f"{len(terms)} terms but {len(cmds)} commands")
    return [Entry(0, None)] + [Entry(t, c) for t, c in zip(terms, cmds, strict=True)]


def follower(
    node_class: Callable[[], Node] = RaftNode,
    *,
    terms: Iterable[int] = (),
    commands: Iterable[Any] | None = None,
    term: int | None = None,
    voted_for: str | None = None,
    name: str = "s1",
    peers: Sequence[str] = ("s2", "s3"),
    seed: int = 0,
) -> Any:
    """A started follower of ``node_class``, without a runtime, in a chosen persistent state.

    Its log holds entries of ``terms`` (commands ``"x1"``, ``"x2"``, ... unless ``commands``
    is given); its currentTerm is ``term`` (default: the last log term) and its votedFor
    ``voted_for``. The actions its boot recorded are discarded; the clock stands at 0.
    """
    log = _log(terms, commands)
    if term is None:
        term = log[-1].term
    if term < log[-1].term:
        raise ValueError(f"term {term} is earlier than the last log term {log[-1].term}")
    storage = {"term": term, "voted_for": voted_for, "log": log}
    node = node_class()
    if not isinstance(node, RaftNode):
        raise TypeError(f"{node!r} is not a RaftNode: probes need the reference's state")
    node.attach(id=name, peers=tuple(peers), storage=storage, rng=random.Random(seed))
    node.on_start()
    node.take_actions()
    return node


def leader(
    node_class: Callable[[], Node] = RaftNode,
    *,
    terms: Iterable[int] = (),
    commands: Iterable[Any] | None = None,
    name: str = "s1",
    peers: Sequence[str] = ("s2", "s3"),
    seed: int = 0,
) -> Any:
    """A node of ``node_class`` that has just won an election, in the term after the last of
    ``terms``, with entries of ``terms`` in its log (see :func:`follower`).

    It timed out, asked for votes and got them from every peer (the votes go through the
    reference vote-counting code). Its ``match_index`` is 0 for every peer, as after any
    election (Figure 2); a probe sets it to say how far each follower's log matches.
    """
    node = follower(node_class, terms=terms, commands=commands, name=name, peers=peers, seed=seed)
    node.context.now = max(node.now, node.election_deadline)
    node.on_timer("election")
    for peer in peers:
        if node.role is not Role.LEADER:
            node.on_message(peer, RequestVoteReply(node.term, True))
    node.take_actions()
    if node.role is not Role.LEADER:
        raise RuntimeError(f"{name} did not become leader with every vote (role {node.role})")
    return node


def ask(node: Node, msg: Any, *, src: str = "s2") -> Any:
    """Deliver ``msg`` from ``src`` to ``node`` (through ``on_message``) and return its reply.

    The reply is the one message the node sends back to ``src``; an AssertionError says so if
    it sends none or several.
    """
    node.take_actions()
    node.on_message(src, msg)
    replies = [a.msg for a in node.take_actions() if isinstance(a, Send) and a.dst == src]
    if len(replies) != 1:
        raise AssertionError(
            f"{node.id} should answer {type(msg).__name__} from {src} with exactly one reply, "
            f"but sent {len(replies)}: {replies!r}"
        )
    return replies[0]


# --------------------------------------------------------------------------------------------
# Log replication, small enough to step through.


@dataclass
class ReplicationRun:
    """A three-server run in which a client gets ``commands`` committed one after the other.

    ``since``/``until`` bound the interesting part (from the client's first request until every
    server has applied every command); :meth:`window` is that part of the trace, ready for
    ``.step()``.
    """

    sim: Simulation
    leader: str
    client: str
    since: float
    until: float

    def window(self, kinds: Iterable[str] = ("send", "deliver", "note", "drop")) -> Trace:
        """The trace between :attr:`since` and :attr:`until`, with only events of ``kinds``."""
        return self.sim.trace.filter(tuple(kinds), since=self.since, until=self.until)


def replication_run(
    *,
    seed: int = 1,
    commands: Sequence[Any] = ("x=1", "y=2"),
    node_class: Callable[[], Node] = RaftNode,
    latency: Any = None,
) -> ReplicationRun:
    """Three servers elect a leader; then a :class:`~distlib.protocols.raft.RaftClient`
    submits ``commands`` one at a time (a first request to a follower is redirected, §8) and
    each is replicated, committed and applied (§5.3)."""
    sim = Simulation(seed=seed, latency=latency or Uniform(0.002, 0.008))
    servers = ["s1", "s2", "s3"]
    sim.add_nodes(servers, node_class)

    def leading() -> str | None:
        return next(
            (s for s in servers if sim.is_up(s) and sim.node(s, RaftNode).role == "leader"), None
        )

    if not sim.run(until=lambda: leading() is not None, limit=10.0):
        raise RuntimeError(f"no leader within 10 s (seed {seed})")
    sim.run(duration=0.05)  # the leader's first heartbeats settle
    since = sim.now
    sim.add_client("client", lambda: RaftClient(list(commands), timeout=5.0))

    def done() -> bool:
        client = sim.nodes["client"]
        return isinstance(client, RaftClient) and client.done  # None while it is down

    if not sim.run(until=done, limit=since + 10.0):
        raise RuntimeError(f"the client's commands did not all commit within 10 s (seed {seed})")
    # Followers learn the commit index from the leader's next AppendEntries (Figure 2).
    sim.run(
        until=lambda: all(len(sim.node(s, RaftNode).applied) >= len(commands) for s in servers),
        limit=sim.now + 1.0,
    )
    return ReplicationRun(sim, leading() or "", "client", since, sim.now)


# --------------------------------------------------------------------------------------------
# Replays with every server's log recorded.


@dataclass(frozen=True, slots=True)
class LogState:
    """One server's state at one moment: its log (``(term, command)`` pairs from index 1),
    commit index, role and term; ``up`` is False while it is crashed."""

    log: tuple[tuple[int, Any], ...]
    commit_index: int
    role: str
    term: int
    up: bool = True


@dataclass
class Replay:
    """A scenario run with every server's log recorded (see :func:`replay`).

    ``violation`` is the harness's report if a check failed (the run stops there), else None.
    """

    scenario: str
    node_class: str
    seed: int
    trace: Trace
    violation: RaftViolation | None
    servers: list[str]
    changes: list[tuple[float, str, LogState]] = field(repr=False)

    @property
    def end(self) -> float:
        """When the run ended (at the failed check, if one failed)."""
        if self.violation is not None and self.violation.time is not None:
            return self.violation.time
        return self.trace.events[-1].time if len(self.trace) else 0.0

    def logs_at(self, time: float) -> dict[str, LogState]:
        """Every server's state as it was at ``time`` (after everything that happened then)."""
        state: dict[str, LogState] = {}
        for t, name, s in self.changes:
            if t > time:
                break
            state[name] = s
        down: set[str | None] = set()  # (crash and restart events always name their node)
        for e in self.trace:
            if e.time > time:
                break
            if e.kind == "crash":
                down.add(e.node)
            elif e.kind in ("restart", "start"):
                down.discard(e.node)
        out = {}
        for name in self.servers:
            s = state.get(name, LogState((), 0, "follower", 0))
            if name in down:
                s = LogState(s.log, s.commit_index, "down", s.term, up=False)
            out[name] = s
        return out

    def moments(self) -> list[tuple[float, str]]:
        """The times at which the scenario changed the network or crashed or restarted a
        server, each with what happened (events at the same instant joined by "; ")."""
        out: list[tuple[float, str]] = []
        for e in self.trace:
            if e.kind == "net" or (e.kind in ("crash", "restart") and e.node is not None):
                text = e.detail if e.kind == "net" else f"{e.kind} {e.node}"
                if out and out[-1][0] == e.time:
                    out[-1] = (e.time, out[-1][1] + "; " + text)
                else:
                    out.append((e.time, text))
        return out


class _Recorder:
    """An observer that appends ``(time, name, LogState)`` to ``sink`` whenever a server's log,
    commit index, role or term changes (seen after every handler step, ``submit`` included)."""

    def __init__(self, sink: list, servers: Iterable[str] | None = None) -> None:
        self.servers = None if servers is None else set(servers)  # None: every Raft-like node
        self.sink = sink
        self.last: dict[str, LogState] = {}

    def __call__(self, name: str, node: Any, event: str) -> None:
        if self.servers is None:
            if not hasattr(node, "commit_index"):
                return
        elif name not in self.servers:
            return
        role = node.role if isinstance(node.role, str) else str(node.role)
        state = LogState(
            tuple((e.term, e.command) for e in node.log[1:]), node.commit_index, role, node.term
        )
        if state != self.last.get(name):
            self.last[name] = state
            self.sink.append((node.now, name, state))


def replay(scenario: str, node_class: Callable[[], Node] = RaftNode, *, seed: int = 1) -> Replay:
    """Run the harness scenario ``scenario`` (a name in
    :data:`distlib.testing.raft_scenarios.SCENARIOS`) on ``node_class``, recording every
    server's log, commit index, role and term after each step. A failed check does not raise:
    it is kept in :attr:`Replay.violation`, and the recording runs up to it."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; known: {', '.join(SCENARIOS)}")
    changes: list[tuple[float, str, LogState]] = []
    violation = None
    try:
        cluster = SCENARIOS[scenario](node_class, seed=seed, observers=[_Recorder(changes)])
        trace = cluster.sim.trace
    except RaftViolation as exc:
        violation = exc
        trace = exc.trace
    servers = sorted({n for _, n, _ in changes}, key=lambda s: (len(s), s))
    name = getattr(node_class, "__name__", type(node_class).__name__)
    return Replay(scenario, name, seed, trace, violation, servers, changes)


# --------------------------------------------------------------------------------------------
# The election restriction, broken, run to the end.


@dataclass
class StaleLeaderRun(Replay):
    """What :func:`stale_leader_run` recorded: who was stale, who led before and after it came
    back (``second_leader`` took 104 at ``second_time``), and what each server applied."""

    stale: str = ""
    first_leader: str = ""
    second_leader: str | None = None
    second_time: float = 0.0
    reconnect_time: float = 0.0
    applied: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)

    def disagreements(self) -> list[tuple[int, dict[str, Any]]]:
        """Indices at which two servers applied different commands, with who applied what
        (State Machine Safety, §5.4.3, says there are none)."""
        by_index: dict[int, dict[str, Any]] = {}
        for name, items in self.applied.items():
            for index, command in items:
                by_index.setdefault(index, {})[name] = command
        return [(i, who) for i, who in sorted(by_index.items()) if len(set(who.values())) > 1]

    def panels(self) -> list[tuple[str, dict[str, LogState]]]:
        """Three moments for :func:`draw_logs`: before the stale server returns, just after the
        next leader's entry 104 is committed (or 0.1 s after it was taken), and the end."""
        after = self.second_time + 0.1
        for t, name, state in self.changes:
            if (
                name == self.second_leader
                and t >= self.second_time
                and 104 in {c for _, c in state.log[: state.commit_index]}
            ):
                after = t
                break
        who = self.second_leader or "nobody"
        return [
            (f"{self.stale} cut off, misses 102, 103", self.logs_at(self.reconnect_time - 1e-9)),
            (f"{who} leads, 104 committed", self.logs_at(after)),
            ("the end", self.logs_at(self.end)),
        ]


def stale_leader_run(node_class: Callable[[], Node] = RaftNode, *, seed: int = 1) -> StaleLeaderRun:
    """The ``stale_candidate`` situation (§5.4.1) on a plain simulation, without the harness's
    checks, run to the end, every server's log recorded.

    Three servers commit 101; one of them, cut off, misses 102 and 103 (committed by the other
    two) and campaigns alone to a high term; then it can reach only the up-to-date follower
    (not the leader); whoever leads the next term takes 104; then the network heals. A correct
    follower refuses the stale server its vote. One without the up-to-date check elects it: the
    stale leader overwrites the committed 102 and 103 on the follower, and commits 104 at
    index 2, where the other servers applied 102.
    """
    changes: list[tuple[float, str, LogState]] = []
    sim = Simulation(seed=seed, latency=Uniform(0.001, 0.010))
    servers = ["s1", "s2", "s3"]
    sim.add_nodes(servers, node_class)
    sim.observe(_Recorder(changes, servers))

    def leading() -> str | None:
        best = None
        for s in servers:
            if not sim.is_up(s):
                continue
            node = sim.node(s, RaftNode)
            if node.role == "leader" and (
                best is None or node.term > sim.node(best, RaftNode).term
            ):
                best = s
        return best

    def applied_everywhere(index: int, names: Iterable[str]) -> bool:
        return all(len(sim.node(s, RaftNode).applied) >= index for s in names)

    sim.run(until=lambda: leading() is not None, limit=10.0)
    first = leading()
    if first is None:
        raise RuntimeError(f"no leader within 10 s (seed {seed})")
    sim.call(first, sim.node(first, RaftNode).submit, 101)
    sim.run(until=lambda: applied_everywhere(1, servers), limit=sim.now + 5.0)
    stale = servers[(servers.index(first) + 1) % 3]
    sim.isolate(stale)
    for command in (102, 103):
        sim.call(first, sim.node(first, RaftNode).submit, command)
    live = [s for s in servers if s != stale]
    sim.run(until=lambda: applied_everywhere(3, live), limit=sim.now + 5.0)
    sim.run(duration=3.0)  # the stale server campaigns alone, term after term
    reconnect_time = sim.now
    sim.cut(stale, first, both=True)
    sim.reconnect(stale)
    before = sim.node(first, RaftNode).term

    def new_leader() -> bool:
        name = leading()
        return name is not None and sim.node(name, RaftNode).term > before

    sim.run(until=new_leader, limit=sim.now + 2.0)
    second = leading() if new_leader() else None
    second_time = sim.now
    if second is not None:
        sim.call(second, sim.node(second, RaftNode).submit, 104)
    sim.run(duration=1.0)
    sim.heal()
    sim.run(duration=1.5)
    return StaleLeaderRun(
        scenario="stale_leader_run",
        node_class=getattr(node_class, "__name__", type(node_class).__name__),
        seed=seed,
        trace=sim.trace,
        violation=None,
        servers=servers,
        changes=changes,
        stale=stale,
        first_leader=first,
        second_leader=second,
        second_time=second_time,
        reconnect_time=reconnect_time,
        applied={s: list(sim.node(s, RaftNode).applied) for s in servers},
    )


def _leading(states: Mapping[str, LogState]) -> tuple[str, int]:
    """The live server that leads the latest term among ``states`` (name, term)."""
    best = max(
        ((s.term, name) for name, s in states.items() if s.up and s.role == "leader"),
        default=(0, "nobody"),
    )
    return best[1], best[0]


def figure8_panels(r: Replay) -> list[tuple[str, dict[str, LogState]]]:
    """The steps of a ``figure8_scripted`` replay as panels for :func:`draw_logs`, labelled
    (a)-(d) as in the paper's Figure 8, and (e), the old entry overwritten, if the run got so
    far (a node that broke a check stops at (d))."""
    if r.scenario != "figure8_scripted":
        raise ValueError(f"expected a replay of figure8_scripted, not of {r.scenario}")
    moments = [t for t, _ in r.moments()]
    if len(moments) < 4:
        raise ValueError("the replay stopped before step (d) of Figure 8: nothing to draw")
    a = r.logs_at(moments[1] - 1e-9)
    b = r.logs_at(moments[1])
    c = r.logs_at(moments[3] - 1e-9)
    crashed = [name for name, s in r.logs_at(moments[3]).items() if not s.up]
    elected = next((t for t, _, s in r.changes if t > moments[3] and s.role == "leader"), r.end)
    d = r.logs_at(min(elected, r.end))
    (la, ta), (lb, tb), (lc, tc), (ld, td) = map(_leading, (a, b, c, d))
    panels = [
        (f"(a) {la} leads term {ta}: A on two servers", a),
        (f"(b) {lb} leads term {tb}, takes B", b),
        (f"(c) {lc} leads term {tc}: A on a majority", c),
        (f"(d) {' and '.join(crashed)} crash; {ld} wins term {td}", d),
    ]
    if r.violation is None and len(moments) >= 5:
        e = r.logs_at(moments[4] - 1e-9)
        panels.append((f"(e) {_leading(e)[0]} has replaced A by B", e))
    return panels


# --------------------------------------------------------------------------------------------
# Drawing logs (Figure 8 style).


def format_logs(states: Mapping[str, LogState | Sequence[Entry]]) -> str:
    """A text table of logs: a row per server, a column per index, ``term:command`` in each
    cell; committed entries are marked ``*``. Accepts :class:`LogState` values or logs."""
    rows = []
    width = 0
    for name, s in states.items():
        if isinstance(s, LogState):
            cells = [
                f"{t}:{c}" + ("*" if i <= s.commit_index else "")
                for i, (t, c) in enumerate(s.log, 1)
            ]
            tail = f"  ({s.role}, term {s.term})"
        else:
            cells = [f"{e.term}:{e.command}" for e in list(s)[1:]]
            tail = ""
        rows.append((name, cells, tail))
        width = max([width, *(len(c) for c in cells)])
    n = max((len(c) for _, c, _ in rows), default=0)
    head = "index " + "".join(f"{i:>{width + 2}}" for i in range(1, n + 1))
    lines = [head]
    for name, cells, tail in rows:
        lines.append(f"{name:<6}" + "".join(f"{c:>{width + 2}}" for c in cells) + tail)
    return "\n".join(lines)


def draw_logs(
    panels: Sequence[tuple[str, Mapping[str, LogState]]],
    *,
    max_entries: int | None = None,
    columns: int | None = None,
    title: str | None = None,
):
    """Draw servers' logs, one panel per ``(label, states)``, in the style of the paper's
    Figure 8: a row per server, a box per entry showing its term (above) and command (below),
    coloured by term. Committed entries (up to the server's commit index) have a thick edge;
    crashed servers are faded; each row names the server's current term, and ★ marks a server
    that believes it leads. Panels fill ``columns`` columns (default: up to 3). Returns the
    matplotlib Figure."""
    import math

    import matplotlib.pyplot as plt

    if not panels:
        raise ValueError("nothing to draw: give at least one (label, states) panel")
    names = list(panels[0][1])
    longest = max(len(s.log) for _, states in panels for s in states.values())
    n = max(1, min(longest, max_entries) if max_entries else longest)
    terms = sorted({t for _, states in panels for s in states.values() for t, _ in s.log[:n]})
    palette = plt.get_cmap("tab10")
    colour = {t: palette(i % 10) for i, t in enumerate(terms)}
    cols = columns or (len(panels) if len(panels) <= 3 else 2 if len(panels) == 4 else 3)
    rows = math.ceil(len(panels) / cols)
    width = max(3.0, 0.7 * n + 1.4)
    fig, grid = plt.subplots(
        rows, cols, figsize=(width * cols, (0.45 * len(names) + 0.9) * rows), squeeze=False
    )
    axes = [ax for row in grid for ax in row]
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    for ax, (label, states) in zip(axes, panels, strict=False):
        for y, name in enumerate(names):
            s = states[name]
            for i, (t, c) in enumerate(s.log[:n], 1):
                committed = i <= s.commit_index
                ax.add_patch(
                    plt.Rectangle(
                        (i - 0.45, y - 0.4),
                        0.9,
                        0.8,
                        facecolor=colour[t],
                        alpha=0.3 if not s.up else 0.85,
                        edgecolor="black" if committed else "white",
                        linewidth=2.2 if committed else 0.5,
                    )
                )
                text = f"{t}\n{c}" if len(str(c)) <= 6 else f"{t}\n{str(c)[:5]}…"
                ax.text(i, y, text, ha="center", va="center", fontsize=7)
        ticks = []
        for name in names:
            s = states[name]
            if not s.up:
                ticks.append(f"{name} down")
            else:
                ticks.append(f"{name} t{s.term}" + (" ★" if s.role == "leader" else ""))
        ax.set_yticks(range(len(names)), ticks, fontsize=8)
        ax.set_xticks(range(1, n + 1))
        ax.set_xlim(0.4, n + 0.6)
        ax.set_ylim(len(names) - 0.5, -0.5)
        ax.set_xlabel("log index", fontsize=8)
        ax.set_title(label, fontsize=9)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# Split votes, measured.


def _leads(node: Node) -> bool:
    """Whether a Raft server (any class with Figure 2's ``role``) is leading."""
    return bool(getattr(node, "role", None) == Role.LEADER)


def _term(node: Node) -> int:
    return int(getattr(node, "term", 0))


def measure_split_votes(
    n: int,
    timeout: float,
    delay: float,
    *,
    trials: int = 500,
    seed: int = 0,
    voters: int | None = None,
    node_factory: Callable[..., Node] | None = None,
) -> float:
    """The fraction of ``trials`` first election rounds that end without a leader.

    Runs the model of :func:`distlib.protocols.raft.split_vote_probability` in simulation: a
    fresh cluster of ``n`` servers of which ``voters`` (default all) boot together, with
    election timeouts uniform in ``[timeout, 2 * timeout]`` and every message taking exactly
    ``delay`` seconds. A round splits when no server leads term 1. ``node_factory(timeout)``
    builds a server (default: :class:`~distlib.protocols.raft.RaftNode` with that timeout).
    """
    if not isinstance(trials, int) or trials < 1:
        raise ValueError(f"trials must be a positive int, not {trials!r}")
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n (the cluster size) must be a positive int, not {n!r}")
    voters = n if voters is None else voters
    if not isinstance(voters, int) or not 1 <= voters <= n:
        raise ValueError(f"voters must be an int between 1 and n={n}, not {voters!r}")
    if node_factory is None:

        def node_factory(t: float) -> Node:
            return RaftNode(election_timeout=(t, 2 * t), heartbeat_interval=t / 3)

    splits = 0
    for trial in range(trials):
        sim = Simulation(seed=seed * 1_000_003 + trial, latency=Constant(delay), trace=False)
        names = [f"s{i}" for i in range(1, n + 1)]
        for i, name in enumerate(names):
            sim.add_node(name, lambda: node_factory(timeout), start=i < voters)
        live = names[:voters]

        def decided(sim: Simulation = sim, live: list[str] = live) -> bool:
            for name in live:
                if not sim.is_up(name):
                    continue
                node = sim.node(name)
                if _leads(node) or _term(node) >= 2:
                    return True
            return False

        sim.run(until=decided, limit=20 * timeout + 20 * delay)
        servers = [sim.node(name) for name in live]  # the voters never crash
        leader_in_term_1 = any(_leads(s) and _term(s) == 1 for s in servers)
        splits += not leader_in_term_1
    return splits / trials


# --------------------------------------------------------------------------------------------
# Every interleaving.

SERVERS = ("s1", "s2", "s3")


class OneCommand(Node):
    """A client that sends one command, ``"x"``, to ``s1`` (delivered whenever the explorer
    chooses) and ignores the answer."""

    def on_start(self) -> None:
        self.send("s1", ClientRequest(1, "x"))

    def on_message(self, src: str, msg: Any) -> None:
        pass


def vote_explorer(node: type[RaftNode] = RaftNode) -> Explorer:
    """Three servers of class ``node`` from empty logs, one command for ``s1`` and one election
    timeout each at ``s1`` and ``s3``: where a voter that skips the up-to-date check (§5.4.1)
    elects a server without a committed entry. Judged by Raft's safety properties."""
    nodes: dict[str, Any] = {**dict.fromkeys(SERVERS, node), "c": OneCommand}
    return Explorer(
        nodes,
        clients=["c"],
        properties=[raft_safety(), leader_elected()],
        timers={"s1": 1, "s3": 1},
    )


def commit_explorer(node: type[RaftNode] = RaftNode) -> Explorer:
    """Three servers of class ``node`` starting from the logs of the paper's Figure 8
    (:func:`~distlib.testing.raft.figure8_storage`: ``s1`` holds A of term 1, ``s3`` holds B of
    term 2), ``s1`` having since heard of term 2 (it refused ``s3`` its vote: its own log was
    more up-to-date), one election timeout each at ``s1`` and ``s3``: where a leader that
    commits an earlier term's entry by counting replicas (§5.4.2) loses it."""
    storage = figure8_storage()
    storage["s1"] = {**storage["s1"], "term": 2, "voted_for": None}
    return Explorer(
        dict.fromkeys(SERVERS, node),
        properties=[raft_safety(), leader_elected()],
        timers={"s1": 1, "s3": 1},
        storage=storage,
    )


def search_vote_rule(node: type[RaftNode] = RaftNode) -> Result:
    """Every path of up to 11 steps of :func:`vote_explorer` (the vote-rule bug needs 11)."""
    return vote_explorer(node).search(max_depth=11)


def search_commit_rule(node: type[RaftNode] = RaftNode) -> Result:
    """Every path of up to 11 steps of :func:`commit_explorer` (the commit-rule bug needs 11)."""
    return commit_explorer(node).search(max_depth=11)
