"""Simulation testing in bulk: seeded faulty runs of a protocol, swept over many seeds, each
failure replayed, checked for determinism and shrunk to the fewest faults that still break it.

A **scenario** is a function ``scenario(seed, faults=None) -> Run``: it builds a system, installs
a :class:`~distlib.testing.nemesis.Nemesis` (or, given ``faults``, exactly that schedule), runs
it, and judges it, safety during the whole run and liveness apart: after the last fault heals,
progress (a commit, a decision, a learned value) within a deadline. The standard scenarios
(:data:`STANDARD`: Raft, Paxos, Multi-Paxos, two-phase commit) take the protocol's node class,
so a student's class runs through the same sweep as the library's.

:func:`sweep` runs a scenario over many seeds on the compute layer's backends (in this process,
on local worker processes, or on a Dask cluster by address), with a progress bar if asked, and
returns a :class:`SweepReport`: the failing seeds with their problems, how often each fault
kind and each "sometimes" situation a scenario declares (a leader elected during a partition, a
crash point that fired, writes lost in a crash) was reached, so that a sweep whose faults never
bit says so. Each failing seed is run again and must give the same trace fingerprint.

:func:`shrink` reduces a failing run's schedule by delta debugging (Zeller and Hildebrandt,
"Simplifying and Isolating Failure-Inducing Input", 2002) to a schedule from which no single
fault can be removed without the run passing; the :class:`Shrunk` result draws the run.
"""

from __future__ import annotations

import functools
import hashlib
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from distlib.check.consensus import check_paxos, check_twophase
from distlib.compute import map as parallel_map
from distlib.node import Node
from distlib.protocols.multipaxos import KVClient, MultiPaxosNode
from distlib.protocols.paxos import PaxosNode
from distlib.protocols.raft import RaftNode
from distlib.protocols.twophase import Coordinator, Participant, TxClient
from distlib.sim import Simulation, Uniform
from distlib.testing.nemesis import Fault, Nemesis
from distlib.testing.raft import RaftCluster, RaftViolation
from distlib.trace import Trace

__all__ = [
    "STANDARD",
    "Outcome",
    "Run",
    "Runaway",
    "Shrunk",
    "SweepReport",
    "fingerprint",
    "multipaxos_scenario",
    "paxos_scenario",
    "raft_scenario",
    "shrink",
    "standard_nemesis",
    "sweep",
    "twophase_scenario",
]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one seeded run came to (small and picklable: what a sweep's workers send back).

    ``kind`` is "" (passed), "safety", "liveness" or "error" (a handler raised); ``problem`` the
    first line of the report; ``reached`` the fault kinds and "sometimes" situations the run
    reached; ``dropped`` how many messages each cause dropped ("loss", or the fault that cut
    the link: "partition", "one-way", "bridge", "link-down", "clog", "cut", and "node down");
    ``fingerprint`` a hash of its trace, equal for two runs of the same seed.
    """

    seed: int
    kind: str
    problem: str
    reached: tuple[str, ...]
    faults: int
    messages: int
    fingerprint: str
    dropped: tuple[tuple[str, int], ...] = ()

    @property
    def ok(self) -> bool:
        return not self.kind


@dataclass
class Run:
    """A finished run: its :class:`Outcome`, its simulation (trace included) and its faults."""

    outcome: Outcome
    sim: Simulation
    faults: list[Fault]


def fingerprint(trace: Trace) -> str:
    """A short hash of every event of ``trace``: two runs with the same seed must agree."""
    digest = hashlib.sha256()
    for e in trace:
        digest.update(f"{e.time!r} {e.kind} {e.node} {e.peer} {e.msg!r} {e.detail}\n".encode())
    return digest.hexdigest()[:16]


def standard_nemesis(seed: int, until: float, **overrides: Any) -> Nemesis:
    """Every fault the nemesis knows, at rates that bite in a few simulated seconds."""
    options: dict[str, Any] = {
        "seed": seed,
        "until": until,
        "loss": 0.1,
        "duplicate": 0.05,
        "reorder": 0.05,
        "partition": 0.2,
        "cut": 0.1,
        "one_way": 0.1,
        "bridge": 0.1,
        "flap": 0.1,
        "swizzle": 0.1,
        "slow": 0.1,
        "drift": 0.1,
        "jump": 0.05,
        "crashes": 2,
        "crash_points": 1,
    }
    options.update(overrides)
    return Nemesis(**options)


#: Schedule steps that undo a fault (or set the weather): not faults a run "reached".
_REPAIRS = frozenset(
    {"heal", "connect", "weather", "restart", "link-up", "unclog", "fast", "steady", "disarm"}
)


def _reached_faults(sim: Simulation, faults: Sequence[Fault]) -> set[str]:
    """Fault kinds that did something: the schedule's kinds, and the disk's own reports."""
    reached = {f"fault:{f.kind}" for f in faults if f.kind not in _REPAIRS}
    for e in sim.trace.filter(kind="crash"):
        if "crash point" in e.detail:
            reached.add("crash point fired")
            if "before sync" in e.detail:
                reached.add("crash between a storage write and the reply")
        if "unsynced writes lost" in e.detail:
            reached.add("unsynced writes lost in a crash")
    return reached


#: The fault kinds that block links, and the repairs that end each.
_BLOCKING = {
    "partition": ("connect", "heal"),
    "cut": ("connect", "heal"),
    "one-way": ("connect", "heal"),
    "bridge": ("connect", "heal"),
    "link-down": ("link-up", "connect", "heal"),
    "clog": ("unclog", "heal"),
}
#: What the network calls a blocked link, and the fault kinds that block that way.
_BLOCKED_AS = {
    "partition": ("partition",),
    "isolated": ("clog",),
    "cut": ("one-way", "bridge", "link-down", "cut"),
}


def _during(faults: Sequence[Fault], kinds: set[str]) -> list[tuple[float, float]]:
    """The intervals in which a fault of one of ``kinds`` was active (until its repair)."""
    out = []
    for f in faults:
        if f.kind in kinds:
            ends = _BLOCKING.get(f.kind, ("connect", "heal"))
            end = next(
                (
                    g.time
                    for g in faults
                    if g.time > f.time
                    and g.kind in ends
                    and (g.kind != "unclog" or g.node == f.node)
                ),
                f.time,
            )
            out.append((f.time, end))
    return out


def _dropped(sim: Simulation, faults: Sequence[Fault]) -> tuple[tuple[str, int], ...]:
    """Messages dropped, by cause: the network's reason, or for a blocked link the latest fault
    of a kind that blocks that way and was active then."""
    active = {kind: _during(faults, {kind}) for kinds in _BLOCKED_AS.values() for kind in kinds}
    counts: Counter[str] = Counter()
    for e in sim.trace.filter(kind="drop"):
        reason = e.detail
        kinds = _BLOCKED_AS.get(reason)
        if kinds:
            best, since = reason, -1.0
            for kind in kinds:
                for a, b in active[kind]:
                    if a <= e.time <= b and a > since:
                        best, since = kind, a
            reason = best
        counts[reason] += 1
    return tuple(sorted(counts.items()))


def _finish(
    seed: int, sim: Simulation, faults: list[Fault], kind: str, problem: str, extra: set[str]
) -> Run:
    reached = sorted(_reached_faults(sim, faults) | extra)
    outcome = Outcome(
        seed=seed,
        kind=kind,
        problem=problem.splitlines()[0] if problem else "",
        reached=tuple(reached),
        faults=sum(1 for f in faults if f.kind not in ("heal", "connect")),
        messages=sim.stats["sent"],
        fingerprint=fingerprint(sim.trace),
        dropped=_dropped(sim, faults),
    )
    return Run(outcome, sim, faults)


#: The most handler steps one scenario run may take before it is judged a runaway.
MAX_STEPS = 1_000_000


class Runaway(Exception):
    """A run took more than :data:`MAX_STEPS` handler steps: a message or timer storm (a timer
    set again at delay 0, a reply that answers a reply, ...). Reported as an "error" outcome."""


def _install(nemesis: Nemesis, sim: Simulation, faults: list[Fault] | None) -> list[Fault]:
    """Install the nemesis (or exactly ``faults``) and the step budget."""
    steps = [0]

    def budget(name: str, _node: Node, event: str) -> None:
        steps[0] += 1
        if steps[0] > MAX_STEPS:
            raise Runaway(
                f"the run took more than {MAX_STEPS:,} handler steps by t={sim.now:.6f} "
                f"(the last: {name}'s {event}): a message or timer storm?"
            )

    sim.observe(budget)
    return nemesis.install(sim) if faults is None else nemesis.install(sim, faults=faults)


# --------------------------------------------------------------------------------------------
# The standard scenarios.


def raft_scenario(
    seed: int,
    faults: list[Fault] | None = None,
    *,
    node: Callable[[], Node] | type[Node] = RaftNode,
    n: int = 5,
    until: float = 3.0,
    deadline: float = 10.0,
    durability: str = "write",
    leader_crashes: float = 0.5,
    nemesis: dict[str, Any] | None = None,
) -> Run:
    """A Raft cluster of ``n`` under the standard nemesis, with a command offered to the leader
    every 50 ms; with probability ``leader_crashes`` the leader that took it crashes, either at
    once and cut off, so that the new entry is on no other server, or a moment later, when it
    may have reached some; it restarts soon after. (Figure 8's recipe: leaders that lose their
    newest entries, one after another. The nemesis never reads node state, so this part of the
    workload does.) Safety is checked after every step
    (:class:`~distlib.testing.raft.RaftCluster`), liveness after the heal: a new command
    committed on every server within ``deadline`` simulated seconds."""
    cluster = RaftCluster(node, n, seed=seed, durability=durability)
    sim = cluster.sim
    faults = _install(standard_nemesis(seed, until, **(nemesis or {})), sim, faults)
    extra: set[str] = set()
    counter = iter(range(1_000_000))
    rng = random.Random(f"{seed}/leader-crashes")

    def crash(name: str, alone: bool) -> None:
        if sim.now < until and sim.is_up(name):
            if alone:  # what it just sent dies with it: the entry is on the leader alone
                sim.isolate(name)
            sim.crash(name)
            sim.after(rng.uniform(0.05, 0.3), restart, name)

    def restart(name: str) -> None:
        if name in sim.network.isolated:
            sim.reconnect(name)
        if not sim.is_up(name):
            sim.restart(name)

    def offer() -> None:
        for name, _ in cluster.leaders().items():
            took = cluster.submit(name, f"c{next(counter)}") is not None
            if took and rng.random() < leader_crashes:
                # at once, its entry on no other server, or a moment later, on some of them
                alone = rng.random() < 0.5
                sim.after(0.0 if alone else rng.uniform(0.0, 0.013), crash, name, alone)
                extra.add("a leader crashed right after taking a command")
        if sim.now + 0.05 < until:
            sim.after(0.05, offer)

    sim.after(0.1, offer)
    progress = [0.0, 0]  # when the highest commit index so far was reached, and that index

    def watch(_name: str, node: Node, _event: str) -> None:
        index = getattr(node, "commit_index", 0)
        if isinstance(index, int) and index > progress[1]:
            progress[:] = [sim.now, index]

    sim.observe(watch)
    try:
        cluster.run(until - sim.now)
        extra |= _elections_during(sim, faults)
        if cluster.committed_commands():
            extra.add("commands committed under faults")
    except RaftViolation as exc:
        return _finish(seed, sim, faults, "safety", str(exc), extra)
    try:
        cluster.one(f"after heal {seed}", expected=n, retry=True, timeout=deadline)
    except RaftViolation as exc:
        kind = "liveness" if "progress" in exc.property or "agreement" in exc.property else "safety"
        if kind == "safety":
            return _finish(seed, sim, faults, kind, str(exc), extra)
        why = (
            f"{exc.property}: after the heal at t={until:g}; last progress: commit index "
            f"{progress[1]} at t={progress[0]:.3f}; now (t={sim.now:.3f}) {_raft_states(cluster)}"
        )
        return _finish(seed, sim, faults, kind, why, extra)
    return _finish(seed, sim, faults, "", "", extra)


def _raft_states(cluster: RaftCluster) -> str:
    """Each server as ``name role@term commit/last`` (or ``down``), for a liveness report."""
    parts = []
    for name in cluster.names:
        node = cluster.node(name)
        if node is None:
            parts.append(f"{name} down")
            continue
        role = cluster.role(name)
        commit = getattr(node, "commit_index", "?")
        last = len(getattr(node, "log", ()))
        parts.append(f"{name} {role}@{cluster.term(name)} commit {commit}/{last}")
    return "; ".join(parts)


def _end_of(faults: Sequence[Fault], fault: Fault, ends: tuple[str, ...]) -> float:
    """When ``fault`` (on its node) was undone by a later fault of one of ``ends``."""
    for g in faults:
        if g.time > fault.time and g.kind in ends and (g.node == fault.node or g.kind == "heal"):
            return g.time
    return fault.time


def _down_spans(sim: Simulation) -> list[tuple[float, float]]:
    """The intervals in which some server was down, read off the trace."""
    down: dict[str, float] = {}
    spans = []
    for e in sim.trace:
        if e.kind == "crash" and e.node is not None:
            down[e.node] = e.time
        elif e.kind == "restart" and e.node in down:
            spans.append((down.pop(e.node), e.time))
    spans.extend((t, sim.now) for t in down.values())
    return spans


def _elections_during(sim: Simulation, faults: Sequence[Fault]) -> set[str]:
    """The "sometimes" situations of elections: a leader elected while a fault of each kind
    was active (a split network, a crashed node, a drifting clock, ...)."""
    windows: dict[str, list[tuple[float, float]]] = {
        kind: _during(faults, {kind}) for kind in _BLOCKING
    }
    windows["crash"] = _down_spans(sim)
    windows["drift"] = [
        (f.time, _end_of(faults, f, ("steady", "heal"))) for f in faults if f.kind == "drift"
    ]
    out = set()
    for e in sim.trace.filter(kind="note"):
        if e.detail == "became leader":
            for kind, spans in windows.items():
                if any(a <= e.time < b for a, b in spans):
                    out.add(f"leader elected during fault:{kind}")
    return out


def paxos_scenario(
    seed: int,
    faults: list[Fault] | None = None,
    *,
    node: Callable[..., Node] = PaxosNode,
    n: int = 3,
    until: float = 1.0,
    deadline: float = 5.0,
    durability: str = "write",
) -> Run:
    """Single-decree Paxos, every server a proposer starting within the first 20 ms (so that
    proposers duel), under the standard nemesis; safety by
    :func:`~distlib.check.consensus.check_paxos`, liveness: every server learns after the heal."""
    sim = Simulation(seed=seed, latency=Uniform(0.001, 0.01), durability=durability)
    names = [f"n{i}" for i in range(n)]
    starts = random.Random(f"{seed}/proposers")
    for i, name in enumerate(names):
        delay = starts.uniform(0.0, 0.02)
        sim.add_node(name, functools.partial(node, value=f"v{i}", start_delay=delay))
    faults = _install(standard_nemesis(seed, until), sim, faults)
    sim.run(until=until)

    def learned() -> bool:
        return all(sim.storage(x).get("learned") is not None for x in names)

    extra = {"chosen during faults"} if learned() else set()
    live = sim.run(until=learned, limit=until + deadline)
    verdict = check_paxos(sim)
    if not verdict.ok:
        return _finish(seed, sim, faults, "safety", str(verdict), extra)
    if not live:
        missing = [x for x in names if sim.storage(x).get("learned") is None]
        why = f"after the heal, {', '.join(missing)} learned nothing within {deadline:g} s"
        return _finish(seed, sim, faults, "liveness", why, extra)
    return _finish(seed, sim, faults, "", "", extra)


def multipaxos_scenario(
    seed: int,
    faults: list[Fault] | None = None,
    *,
    node: Callable[[], Node] | type[Node] = MultiPaxosNode,
    n: int = 3,
    until: float = 2.0,
    deadline: float = 10.0,
    durability: str = "write",
) -> Run:
    """Multi-Paxos with two key-value clients under the standard nemesis; safety by
    :func:`~distlib.check.consensus.check_paxos` per slot, liveness: both clients finish."""
    sim = Simulation(seed=seed, latency=Uniform(0.001, 0.01), durability=durability)
    names = [f"n{i}" for i in range(n)]
    for name in names:
        sim.add_node(name, node)
    clients = ("c1", "c2")
    for c in clients:
        ops = [("put", (f"{c}-{k}", k)) for k in range(5)]
        sim.add_client(c, functools.partial(KVClient, ops, servers=names, timeout=1.0))
    faults = _install(standard_nemesis(seed, until), sim, faults)
    sim.run(until=until)

    def finished() -> bool:
        return all(sim.is_up(c) and getattr(sim.node(c), "done", False) for c in clients)

    extra = _elections_during(sim, faults)
    live = sim.run(until=finished, limit=until + deadline)
    verdict = check_paxos(sim)
    if not verdict.ok:
        return _finish(seed, sim, faults, "safety", str(verdict), extra)
    if not live:
        done = sum(1 for op in sim.history if op.status == "ok")
        why = f"after the heal, the clients finished {done} of 10 commands in {deadline:g} s"
        return _finish(seed, sim, faults, "liveness", why, extra)
    return _finish(seed, sim, faults, "", "", extra)


def twophase_scenario(
    seed: int,
    faults: list[Fault] | None = None,
    *,
    coordinator: Callable[[], Node] | type[Node] = Coordinator,
    participant: Callable[..., Node] = Participant,
    until: float = 1.0,
    deadline: float = 5.0,
    durability: str = "write",
) -> Run:
    """Two-phase commit of three transactions under the standard nemesis; safety by
    :func:`~distlib.check.consensus.check_twophase`, liveness: every begun transaction decided
    everywhere after the heal (2PC blocks while the coordinator is down; after the heal it is
    up again)."""
    parts = ("p1", "p2", "p3")
    sim = Simulation(seed=seed, latency=Uniform(0.001, 0.01), durability=durability)
    sim.add_node("coordinator", coordinator)
    sim.add_nodes(parts, functools.partial(participant, no_rate=0.1))
    work = [[("p1", "x", i), ("p2", "y", i), ("p3", "z", i)] for i in range(3)]
    sim.add_client("client", functools.partial(TxClient, work, timeout=0.5))
    faults = _install(standard_nemesis(seed, until), sim, faults)
    sim.run(until=until)

    def decided() -> bool:
        begun = sim.storage("coordinator").get("begin", {})
        return all(
            tx in sim.storage(x).get("decision", {})
            for tx, members in begun.items()
            for x in ("coordinator", *members)
        )

    extra = set()
    if any("blocked" in e.detail for e in sim.trace.filter(kind="note")):
        extra.add("a participant blocked")
    live = sim.run(until=decided, limit=until + deadline)
    verdict = check_twophase(sim)
    if not verdict.ok:
        return _finish(seed, sim, faults, "safety", str(verdict), extra)
    if not live:
        why = f"after the heal, some begun transaction stayed undecided for {deadline:g} s"
        return _finish(seed, sim, faults, "liveness", why, extra)
    return _finish(seed, sim, faults, "", "", extra)


#: The standard scenario of each protocol in the library.
STANDARD: dict[str, Callable[..., Run]] = {
    "raft": raft_scenario,
    "paxos": paxos_scenario,
    "multipaxos": multipaxos_scenario,
    "twophase": twophase_scenario,
}


# --------------------------------------------------------------------------------------------
# Sweeps.


def _outcome_of(scenario: Callable[..., Run], seed: int) -> Outcome:
    try:
        return scenario(seed).outcome
    except Exception as exc:  # a handler raised, or the scenario itself broke
        problem = f"{type(exc).__name__}: {exc}".splitlines()[0]
        return Outcome(seed, "error", problem, (), 0, 0, "")


@dataclass
class SweepReport:
    """What a sweep found: every outcome, the failures, how often each situation was reached."""

    outcomes: list[Outcome]
    seconds: float
    deterministic: dict[int, bool] = field(default_factory=dict)

    @property
    def runs(self) -> int:
        return len(self.outcomes)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def reached(self) -> Counter[str]:
        """How many runs reached each fault kind and "sometimes" situation."""
        return Counter(r for o in self.outcomes for r in o.reached)

    @property
    def dropped(self) -> Counter[str]:
        """Messages dropped over all runs, by cause (see :class:`Outcome`)."""
        total: Counter[str] = Counter()
        for o in self.outcomes:
            for cause, count in o.dropped:
                total[cause] += count
        return total

    def summary(self) -> str:
        """A few lines a person can read: failures first, then what the faults reached."""
        lines = [
            f"{self.runs} runs in {self.seconds:.1f} s: {len(self.failures)} failed"
            + (
                f" (seeds {', '.join(str(o.seed) for o in self.failures[:10])})"
                if self.failures
                else ""
            )
        ]
        for o in self.failures[:5]:
            same = self.deterministic.get(o.seed)
            replay = "" if same is None else (" replays identically" if same else " DIVERGED")
            lines.append(f"  seed {o.seed}: {o.kind}: {o.problem}{replay}")
        for what, count in sorted(self.reached.items()):
            lines.append(f"  reached in {count:>5} of {self.runs}: {what}")
        if self.dropped:
            causes = ", ".join(f"{c} {n}" for c, n in self.dropped.most_common())
            lines.append(f"  messages dropped: {causes}")
        return "\n".join(lines)


def sweep(
    scenario: Callable[..., Run],
    seeds: Iterable[int],
    *,
    backend: str = "process",
    workers: int | None = None,
    address: str | None = None,
    progress: Any = False,
    recheck: bool = True,
    chunksize: int = 10,
) -> SweepReport:
    """Run ``scenario`` for every seed and report (see the module doc).

    ``backend`` is the compute layer's: "serial" (this process), "process" (``workers`` local
    processes) or "dask" (a cluster at ``address``). ``scenario`` must be picklable for the
    last two: a module-level function, or a :func:`functools.partial` of one (a class defined
    in a notebook travels with cloudpickle). Each failing seed is run again here and its trace
    fingerprint compared (``recheck``). Seeds go to the workers ``chunksize`` at a time: small
    chunks keep both workers busy to the end, as runs differ in length.
    """
    seeds = list(seeds)
    start = time.perf_counter()
    job = functools.partial(_outcome_of, scenario)
    if backend == "serial":
        outcomes = [job(s) for s in seeds]
    else:
        outcomes = parallel_map(
            job,
            seeds,
            backend=backend,
            workers=workers,
            address=address,
            progress=progress,
            chunksize=chunksize,
        )
    report = SweepReport(list(outcomes), time.perf_counter() - start)
    if recheck:
        for o in report.failures:
            if o.kind != "error":
                report.deterministic[o.seed] = _outcome_of(scenario, o.seed).fingerprint == (
                    o.fingerprint
                )
    return report


# --------------------------------------------------------------------------------------------
# Shrinking.


@dataclass
class Shrunk:
    """A failing run reduced: the original and the smallest schedule found, and that run."""

    seed: int
    original: list[Fault]
    faults: list[Fault]
    run: Run
    tries: int

    @property
    def ratio(self) -> float:
        """Faults left over faults at the start (repairs not counted)."""
        return _count(self.faults) / max(1, _count(self.original))

    def describe(self) -> str:
        kept = "\n".join(f"  {f}" for f in self.faults if f.kind != "heal")
        return (
            f"seed {self.seed}: {self.run.outcome.kind}: {self.run.outcome.problem}\n"
            f"shrunk from {_count(self.original)} faults to {_count(self.faults)} "
            f"in {self.tries} runs:\n{kept}"
        )

    def diagram(self, *, window: float = 1.0, **options: Any) -> Any:
        """A space-time diagram of the shrunk run's last ``window`` seconds before it ended."""
        from distlib.views import spacetime

        end = self.run.sim.now
        return spacetime(self.run.sim.trace, since=max(0.0, end - window), until=end, **options)


def _count(faults: Sequence[Fault]) -> int:
    return sum(1 for f in faults if f.kind not in ("heal", "connect"))


def shrink(scenario: Callable[..., Run], seed: int, *, max_runs: int = 200) -> Shrunk:
    """Reduce the fault schedule of the failing run ``scenario(seed)`` by delta debugging: try
    dropping chunks of faults (halves, then quarters, ... then single faults), keep any drop
    after which the run still fails the same way (safety stays safety), until no single fault
    can go or ``max_runs`` runs were spent. The final "heal" always stays."""
    first = scenario(seed)
    if first.outcome.ok:
        raise ValueError(f"seed {seed} passes: there is nothing to shrink")
    want = first.outcome.kind
    heal = [f for f in first.faults if f.kind == "heal"]
    current = [f for f in first.faults if f.kind != "heal"]
    best, tries = first, 1

    def fails(candidate: list[Fault]) -> Run | None:
        nonlocal tries
        tries += 1
        run = scenario(seed, faults=sorted(candidate + heal, key=lambda f: f.time))
        return run if run.outcome.kind == want else None

    chunks = 2
    while current and tries < max_runs:
        size = max(1, len(current) // chunks)
        removed = False
        for start in range(0, len(current), size):
            if tries >= max_runs:
                break
            candidate = current[:start] + current[start + size :]
            run = fails(candidate)
            if run is not None:
                current, best, removed = candidate, run, True
                chunks = max(2, chunks - 1)
                break
        if not removed:
            if size == 1:
                break
            chunks = min(len(current), chunks * 2)
    return Shrunk(seed, first.faults, sorted(current + heal, key=lambda f: f.time), best, tries)
