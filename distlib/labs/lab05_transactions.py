"""Lab 5's experiments: two-phase commit when all goes well, when the coordinator fails, and
under many seeded runs of random faults.

Every function builds a system from :mod:`distlib.protocols.twophase` nodes (a coordinator
called ``"coordinator"``, participants ``"p1"``, ``"p2"``, ..., and a client), runs it, and
returns the simulation or plain numbers read from its trace and storage. The node classes are
parameters, so a lab can run the same experiment on its own subclasses.

* :func:`build_system`, :func:`everyone_decided`, :func:`message_counts`: the plain protocol;
* :func:`boot`, :func:`sent`: one node fed message by message, for tests;
* :class:`LockingParticipant`, :func:`blocking_run`, :func:`plot_blocking`: what a blocked
  participant costs other transactions;
* :func:`termination_run`: the three situations of cooperative termination;
* :func:`recovery_run`: a coordinator crash before or after it logged its decision;
* :func:`faulty_run`, :func:`check_run`, :func:`check_runs`: seeded runs under a
  :class:`~distlib.testing.nemesis.Nemesis`, judged by :mod:`distlib.check.consensus` and by the
  participants' data;
* :class:`OneTransfer`, :func:`transfer_explorer`, :func:`search_atomicity`, :func:`blocked`:
  every interleaving of one transaction (:mod:`distlib.explore`), within fault bounds.

What this module leaves to others: the protocol itself (:mod:`distlib.protocols.twophase`) and
the invariants (:func:`distlib.check.consensus.check_twophase`).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from distlib.check.consensus import check_twophase
from distlib.explore import Explorer, Property, Result, View, atomicity, goal
from distlib.node import Node
from distlib.protocols.twophase import Coordinator, Participant, TxClient, TxRequest
from distlib.sim import Constant, Simulation, Uniform
from distlib.sim.network import Latency
from distlib.testing.nemesis import Nemesis
from distlib.testing.unit import boot, sent  # re-exported: the lab feeds nodes by hand

__all__ = [
    "SCENARIOS",
    "BlockingResult",
    "LockingParticipant",
    "OneTransfer",
    "blocked",
    "blocked_intervals",
    "blocking_run",
    "boot",
    "build_system",
    "check_run",
    "check_runs",
    "decisions",
    "everyone_decided",
    "faulty_run",
    "first_seeds",
    "message_counts",
    "participants",
    "plot_blocking",
    "recovery_run",
    "search_atomicity",
    "sent",
    "termination_run",
    "transfer_explorer",
]

#: The latency of the scripted runs: every message takes exactly 10 ms, so the phases line up.
STEP = 0.01

NodeFactory = Callable[[], Node] | type[Node]


class CoordinatorFactory(Protocol):
    """A coordinator class (or factory) told its participants: ``Coordinator`` or a subclass."""

    def __call__(self, *, participants: Iterable[str]) -> Node: ...


def participants(n: int) -> tuple[str, ...]:
    """The names ``p1`` ... ``pn``."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"a transaction needs at least one participant, not {n!r}")
    return tuple(f"p{i}" for i in range(1, n + 1))


def build_system(
    *,
    n: int = 3,
    seed: int = 0,
    transactions: Iterable[Iterable[tuple[str, str, Any]]] | None = None,
    coordinator: NodeFactory = Coordinator,
    participant: NodeFactory = Participant,
    latency: Latency | float = STEP,
    client_timeout: float = 2.0,
    think: float = 0.0,
    trace: bool = True,
    **network: Any,
) -> Simulation:
    """A coordinator, participants ``p1``..``pn`` and a client running ``transactions``.

    ``transactions``: write sets of (participant, key, value); by default one transfer that
    writes ``A = 50`` at p1 and ``B = 150`` at p2 (or only ``A`` when ``n == 1``).
    """
    names = participants(n)
    if transactions is None:
        writes = [("p1", "A", 50)] + ([("p2", "B", 150)] if n > 1 else [])
        transactions = [writes]
    work = [list(t) for t in transactions]
    if not isinstance(latency, Latency):
        latency = Constant(latency)
    sim = Simulation(seed=seed, latency=latency, trace=trace, **network)
    sim.add_node("coordinator", coordinator)
    sim.add_nodes(names, participant)
    sim.add_client("client", lambda: TxClient(work, timeout=client_timeout, think=think))
    return sim


def decisions(sim: Simulation, tx: str = "client.0") -> dict[str, str | None]:
    """What every server has logged for ``tx`` (None: not decided)."""
    return {name: sim.storage(name).get("decision", {}).get(tx) for name in sim.servers}


def everyone_decided(sim: Simulation) -> bool:
    """True when every transaction the coordinator began is decided by it and by every
    participant it involved."""
    begun = sim.storage("coordinator").get("begin", {})
    for tx, parts in begun.items():
        for name in ("coordinator", *parts):
            if tx not in sim.storage(name).get("decision", {}):
                return False
    return True


def message_counts(n: int, *, seed: int = 0) -> Counter:
    """Messages of one fault-free, committed transaction with ``n`` participants, by type
    (client messages included)."""
    sim = build_system(n=n, seed=seed, latency=Uniform(0.005, 0.015))
    sim.run(until=1.0)
    if decisions(sim)["coordinator"] != "commit":
        raise RuntimeError(f"the fault-free transaction with {n} participants did not commit")
    return sim.trace.message_counts()


# --------------------------------------------------------------------------------------------
# Blocking: a prepared participant holds its locks


class LockingParticipant(Participant):
    """A participant with a no-wait lock manager: its vote is no on a transaction that writes a
    key still locked by another prepared, undecided transaction (BHG §7.3: a prepared
    participant keeps its locks until it learns the outcome)."""

    def locked_keys(self) -> set[str]:
        """Keys written by transactions this participant prepared and has not decided."""
        return {
            key
            for tx in self.prepared_transactions()
            if self.decision(tx) is None
            for key, _ in (self.load_prepared(tx) or {}).get("writes", ())
        }

    def vote(self, tx: str, writes: tuple[tuple[str, Any], ...]) -> bool:
        busy = sorted(self.locked_keys() & {key for key, _ in writes})
        if busy:
            self.note("lock conflict", tx=tx, keys=busy)
            return False
        return super().vote(tx, writes)


@dataclass
class BlockingResult:
    """A run in which the coordinator crashed between the phases.

    ``blocked[p]``: (start, end) of the interval in which participant ``p`` was prepared and
    undecided on the transfer (end None: still blocked); ``others``: (time, committed) of every
    other transaction on the same key; ``down``: (crash, restart) of the coordinator.
    """

    sim: Simulation
    blocked: dict[str, tuple[float, float | None]]
    others: list[tuple[float, bool | None]] = field(default_factory=list)
    down: tuple[float, float | None] = (0.0, None)


def blocked_intervals(
    sim: Simulation, tx: str = "client.0"
) -> dict[str, tuple[float, float | None]]:
    """For each participant that voted yes on ``tx``: (vote time, decision time or None)."""
    start: dict[str, float] = {}
    end: dict[str, float] = {}
    for time, node, text, data in sim.trace.notes():
        if data.get("tx") != tx:
            continue
        if text == "vote" and data.get("vote") == "yes":
            start.setdefault(node, time)
        elif text == "decided" and node != "coordinator":
            end.setdefault(node, time)
    return {p: (t, end.get(p)) for p, t in sorted(start.items())}


def blocking_run(
    *,
    down_for: float | None = 1.0,
    until: float = 2.0,
    others: int = 40,
    seed: int = 0,
    coordinator: CoordinatorFactory = Coordinator,
) -> BlockingResult:
    """The coordinator of a transfer (A at p1, B at p2) crashes after its Prepare messages
    arrived and before the votes came back; it restarts ``down_for`` seconds later (None:
    never). Meanwhile a second client, through a second coordinator, keeps writing A (at p1)
    and C (at p3): its transactions find A locked for as long as p1 is blocked."""
    sim = Simulation(seed=seed, latency=Constant(STEP))
    sim.add_node("coordinator", lambda: coordinator(participants=("p1", "p2")))
    sim.add_node("coordinator2", lambda: Coordinator(participants=("p1", "p3")))
    sim.add_nodes(("p1", "p2", "p3"), LockingParticipant)
    sim.add_client("client", lambda: TxClient([[("p1", "A", 50), ("p2", "B", 150)]]))
    work = [[("p1", "A", i), ("p3", "C", i)] for i in range(others)]
    sim.add_client(
        "other",
        lambda: TxClient(work, coordinator="coordinator2", timeout=0.5, think=0.04),
    )
    crash_at = 2.5 * STEP  # the Prepares arrived at 2 STEP; the votes would arrive at 3 STEP
    sim.at(crash_at, sim.crash, "coordinator")
    restart = None if down_for is None else crash_at + down_for
    if restart is not None:
        sim.at(restart, sim.restart, "coordinator")
    sim.run(until=until)
    other = [
        (op.call, None if op.status == "unknown" else op.status == "ok")
        for op in sim.history
        if op.client == "other"
    ]
    return BlockingResult(sim, blocked_intervals(sim), other, (crash_at, restart))


def plot_blocking(result: BlockingResult, *, title: str | None = None):
    """A timeline of :func:`blocking_run`: the coordinator's downtime, each participant's
    blocked interval, and the other client's transactions (committed or refused)."""
    import matplotlib.pyplot as plt

    sim = result.sim
    end = sim.now
    rows = ["coordinator", *result.blocked, "other client"]
    fig, ax = plt.subplots(figsize=(10, 0.6 + 0.5 * len(rows)))
    crash, restart = result.down
    ax.barh(0, (restart or end) - crash, left=crash, color="0.3", height=0.5)
    ax.text(crash, -0.35, "down", fontsize=8, color="0.3")
    for i, (t0, t1) in enumerate(result.blocked.values(), start=1):
        ax.barh(i, (t1 or end) - t0, left=t0, color="tab:red", alpha=0.6, height=0.5)
        ax.text(t0, i - 0.35, "prepared, blocked", fontsize=8, color="tab:red")
    y = len(rows) - 1
    ok = [t for t, c in result.others if c]
    refused = [t for t, c in result.others if c is False]
    ax.plot(ok, [y] * len(ok), "o", color="tab:green", label="committed")
    ax.plot(refused, [y] * len(refused), "x", color="tab:red", label="aborted (A locked)")
    ax.set_yticks(range(len(rows)), rows)
    ax.set_ylim(len(rows) - 0.4, -0.7)
    ax.set_xlim(0, end)
    ax.set_xlabel("simulated time (s)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    ax.set_title(title or "a coordinator crash between the phases")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# Cooperative termination and recovery

#: The scripted situations of :func:`termination_run`.
SCENARIOS = {
    "one participant knows": "the decision (commit) reached p1 only, then the coordinator crashed",
    "one participant never voted": "p3 never got its Prepare; the coordinator crashed",
    "everyone is uncertain": "all voted yes; the coordinator crashed before any vote arrived",
}


def termination_run(
    scenario: str,
    *,
    restart_at: float | None = 1.5,
    until: float = 2.0,
    seed: int = 0,
    participant: NodeFactory = Participant,
) -> Simulation:
    """Run one of :data:`SCENARIOS` with three participants; the coordinator restarts at
    ``restart_at`` (None: never). With 10 ms per message: the Prepares arrive at 0.02, the
    votes at 0.03, the decision at 0.04."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}: choose one of {', '.join(SCENARIOS)}")
    sim = build_system(seed=seed, participant=participant)
    if scenario == "one participant knows":
        sim.at(3.5 * STEP, sim.cut, "coordinator", "p2")  # the Decisions to p2, p3 are lost
        sim.at(3.5 * STEP, sim.cut, "coordinator", "p3")
        sim.at(4.5 * STEP, sim.crash, "coordinator")
        sim.at(4.5 * STEP, sim.heal)
    elif scenario == "one participant never voted":
        sim.cut("coordinator", "p3")
        sim.at(2.5 * STEP, sim.crash, "coordinator")
        sim.at(2.5 * STEP, sim.heal)
    else:
        sim.at(2.5 * STEP, sim.crash, "coordinator")
    if restart_at is not None:
        sim.at(restart_at, sim.restart, "coordinator")
    sim.run(until=until)
    return sim


def recovery_run(
    when: str,
    *,
    coordinator: NodeFactory = Coordinator,
    restart_at: float = 0.5,
    until: float = 1.5,
    seed: int = 0,
) -> Simulation:
    """The coordinator crashes ``"before decision"`` (after the Prepares went out) or
    ``"after decision"`` (after it logged commit; every Decision message is lost), and
    restarts at ``restart_at`` to run its recovery."""
    if when not in ("before decision", "after decision"):
        raise ValueError(f"when must be 'before decision' or 'after decision', not {when!r}")
    sim = build_system(seed=seed, coordinator=coordinator)
    if when == "before decision":
        sim.at(2.5 * STEP, sim.crash, "coordinator")
    else:
        for p in participants(3):
            sim.at(3.5 * STEP, sim.cut, "coordinator", p)  # the Decisions are lost in flight
        sim.at(4.0 * STEP, sim.crash, "coordinator")
        sim.at(4.5 * STEP, sim.heal)
    sim.at(restart_at, sim.restart, "coordinator")
    sim.run(until=until)
    return sim


# --------------------------------------------------------------------------------------------
# Many seeded runs under random faults


def faulty_run(
    seed: int,
    *,
    coordinator: NodeFactory = Coordinator,
    participant: NodeFactory | None = None,
    transactions: int = 3,
    crashes: int = 3,
    no_rate: float = 0.1,
    crash_targets: Sequence[str] | None = None,
    trace: bool = True,
) -> tuple[Simulation, bool]:
    """Three participants, ``transactions`` transfers (transaction i writes ``x{i}`` at p1 and
    ``y{i}`` at p2), and a :class:`Nemesis` (loss, duplication, reordering, partitions,
    ``crashes`` crash-restarts) for 0.8 s. Returns the simulation and whether every transaction
    was decided everywhere within 3 s after the faults ended.

    ``participant``: a factory; by default :class:`Participant` voting no with ``no_rate``.
    ``crash_targets``: the nodes that may crash (default: every server).
    """
    if participant is None:

        def participant() -> Node:
            return Participant(no_rate=no_rate)

    work = [[("p1", f"x{i}", i), ("p2", f"y{i}", i)] for i in range(transactions)]
    sim = build_system(
        seed=seed,
        transactions=work,
        coordinator=coordinator,
        participant=participant,
        latency=Uniform(0.001, 0.01),
        client_timeout=0.5,
        trace=trace,
    )
    nemesis = Nemesis(until=0.8, crashes=crashes, crash_targets=crash_targets)
    nemesis.install(sim)
    sim.run(until=nemesis.heal_time)
    live = sim.run(until=lambda: everyone_decided(sim), limit=nemesis.heal_time + 3.0)
    return sim, live


def check_run(sim: Simulation, live: bool = True) -> list[str]:
    """What went wrong in a finished run: 2PC atomicity or commit validity violated, a
    transaction left undecided, or committed writes missing from (or aborted writes present in)
    a participant's data."""
    problems = []
    result = check_twophase(sim)
    if not result.ok:
        problems.append(str(result))
    if not live:
        undecided = sorted(
            f"{tx} at {name}"
            for tx, parts in sim.storage("coordinator").get("begin", {}).items()
            for name in ("coordinator", *parts)
            if tx not in sim.storage(name).get("decision", {})
        )
        problems.append("undecided after the faults ended: " + ", ".join(undecided[:5]))
    begun = sim.storage("coordinator").get("begin", {})
    for name in sim.servers:
        if name == "coordinator":
            continue
        storage = sim.storage(name)
        data = storage.get("data", {})
        for tx, outcome in storage.get("decision", {}).items():
            if tx not in begun:
                continue
            mine = _writes_of(sim, tx, name)
            if outcome == "commit":
                missing = [k for k, v in mine if data.get(k) != v]
                if missing:
                    problems.append(
                        f"{name} committed {tx} but its data lacks the write(s) to "
                        f"{', '.join(missing)}"
                    )
            else:
                present = [k for k, v in mine if k in data]
                if present:
                    problems.append(
                        f"{name} aborted {tx} but its data holds the write(s) to "
                        f"{', '.join(present)}"
                    )
    return problems


def _writes_of(sim: Simulation, tx: str, name: str) -> list[tuple[str, Any]]:
    """The writes of the client's transaction ``tx`` (``"<client>.<n>"``: its n-th operation)
    meant for participant ``name``."""
    client, _, number = tx.partition(".")
    ops = [o for o in sim.history if o.client == client]
    index = int(number) if number.isdigit() else -1
    if 0 <= index < len(ops):
        return [(k, v) for p, k, v in ops[index].input if p == name]
    return []


def check_runs(
    seeds: Iterable[int],
    *,
    coordinator: NodeFactory = Coordinator,
    participant: NodeFactory | None = None,
    **options: Any,
) -> list[tuple[int, str]]:
    """:func:`faulty_run` for every seed; the (seed, problem) pairs :func:`check_run` found."""
    found: list[tuple[int, str]] = []
    for seed in seeds:
        sim, live = faulty_run(seed, coordinator=coordinator, participant=participant, **options)
        found.extend((seed, problem) for problem in check_run(sim, live))
    return found


def first_seeds(found: Sequence[tuple[int, str]], k: int = 3) -> list[int]:
    """The first ``k`` distinct seeds of a :func:`check_runs` result."""
    seeds: list[int] = []
    for seed, _ in found:
        if seed not in seeds:
            seeds.append(seed)
    return seeds[:k]


# -- every interleaving ----------------------------------------------------------------------


class OneTransfer(Node):
    """A client that asks the coordinator, once, to run transaction ``t1``: one write at every
    participant (key ``k1`` at ``p1``, ``k2`` at ``p2``, ...)."""

    def on_start(self) -> None:
        writes = tuple(
            (p, f"k{p[1:]}", 1) for p in sorted(self.peers) if p.startswith("p") and p[1:].isdigit()
        )
        self.send("coordinator", TxRequest("t1", writes))

    def on_message(self, src: str, msg: Any) -> None:
        pass  # the answer changes nothing here


def blocked() -> Property:
    """Goal: a participant voted yes on ``t1`` and does not know the decision while the
    coordinator is down: the blocking state of 2PC (BHG §7.4)."""

    def check(view: View) -> bool:
        if view.is_up("coordinator"):
            return False
        return any(
            view.storage(p).get("vote", {}).get("t1") is True
            and "t1" not in view.storage(p).get("decision", {})
            for p in view.servers
            if p != "coordinator"
        )

    return goal("a participant is blocked", check)


def transfer_explorer(
    coordinator: NodeFactory = Coordinator,
    participant: Callable[..., Node] = Participant,
    *,
    n: int = 3,
    refuse: bool = False,
    **bounds: Any,
) -> Explorer:
    """An :class:`~distlib.explore.Explorer` over one transaction (:class:`OneTransfer`) run by
    ``coordinator`` over ``n`` participants, judged by 2PC atomicity and commit validity
    (:func:`~distlib.explore.atomicity`), with the goal :func:`blocked`. ``refuse``: ``p1``
    votes no. ``bounds`` go to the explorer (``drops``, ``crashes``, ``crashable``, ``timers``:
    0 by default, so nobody retries or asks)."""
    nodes: dict[str, Any] = {"coordinator": coordinator}
    for name in participants(n):
        nodes[name] = participant
    if refuse:
        nodes["p1"] = functools.partial(participant, refuse=("t1",))
    nodes["client"] = OneTransfer
    bounds.setdefault("timers", 0)
    return Explorer(nodes, clients=["client"], properties=[atomicity(), blocked()], **bounds)


def search_atomicity(
    coordinator: NodeFactory = Coordinator, participant: Callable[..., Node] = Participant
) -> list[Result]:
    """The searches Lab 5 grades with: every interleaving of one transaction over three
    participants (1) when ``p1`` votes no and one message may be lost, and (2) when everyone
    votes yes and one participant may crash (and restart) once. Each result is "ok" for a
    correct coordinator and participant."""
    return [
        transfer_explorer(coordinator, participant, refuse=True, drops=1).search(),
        transfer_explorer(coordinator, participant, crashes=1, crashable=participants(3)).search(),
    ]
