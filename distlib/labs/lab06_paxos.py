"""Lab 6's experiments: single-decree Paxos under crashes, a broken promise, duelling
proposers with and without back-off, multi-Paxos's saving, and many seeded faulty runs.

The node class is a parameter everywhere (``node=``: a :class:`~distlib.protocols.paxos.PaxosNode`
subclass, or any factory taking the same keyword configuration), so a lab can run the same
experiment on its own acceptor, proposer and learner.

* :func:`majorities`, :func:`disjoint_pairs`: quorum arithmetic, by enumeration;
* :func:`cluster`, :func:`decide`, :func:`crash_run`: a cluster of acceptor-learners, some of
  them proposers;
* :func:`promise_scenario`, :func:`acceptance_diagram`: a scripted run in which only the promise
  keeps a second value from being chosen, and its picture;
* :class:`NaiveRetryNode`, :func:`duel`, :func:`duel_times`: duelling proposers;
* :func:`multipaxos_run`, :func:`single_decree`: a replicated log with a stable leader;
* :func:`boot`, :func:`sent` (from :mod:`distlib.labs.lab05_transactions`): one node fed
  message by message, for tests;
* :func:`faulty_run`, :func:`check_runs`: seeded runs under a
  :class:`~distlib.testing.nemesis.Nemesis`, judged by :func:`distlib.check.consensus.check_paxos`;
* :func:`paxos_explorer`, :func:`search_agreement`: every interleaving of two proposers and
  three acceptors (:mod:`distlib.explore`), within fault bounds.

What this module leaves to others: the protocols (:mod:`distlib.protocols.paxos`,
:mod:`distlib.protocols.multipaxos`) and the invariants (:mod:`distlib.check.consensus`).
"""

from __future__ import annotations

import functools
import itertools
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from distlib.check.consensus import check_paxos
from distlib.explore import Explorer, Result, agreement, chosen
from distlib.protocols.multipaxos import NOOP, KVClient, MultiPaxosNode
from distlib.protocols.paxos import PaxosNode, Phase
from distlib.quorum import majority
from distlib.sim import Constant, Simulation, Uniform
from distlib.sim.network import Latency
from distlib.testing.nemesis import Nemesis
from distlib.testing.unit import boot, sent
from distlib.views import spacetime

__all__ = [
    "DUEL_LATENCY",
    "MultiPaxosResult",
    "NaiveRetryNode",
    "acceptance_diagram",
    "boot",
    "check_runs",
    "cluster",
    "crash_run",
    "decide",
    "disjoint_pairs",
    "duel",
    "duel_times",
    "everyone_learned",
    "faulty_run",
    "majorities",
    "multipaxos_run",
    "names",
    "paxos_explorer",
    "promise_scenario",
    "rounds",
    "search_agreement",
    "sent",
    "single_decree",
]

NodeFactory = Callable[..., Any]

#: The default network of these experiments: 1 to 10 ms per message.
LATENCY = Uniform(0.001, 0.01)


# --------------------------------------------------------------------------------------------
# Quorums


def majorities(n: int) -> list[frozenset[int]]:
    """Every majority (every set of ``n // 2 + 1`` of the acceptors 0..n-1)."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"need at least one acceptor, not {n!r}")
    return [frozenset(c) for c in itertools.combinations(range(n), majority(n))]


def disjoint_pairs(n: int, size: int) -> tuple[int, int]:
    """(pairs of ``size``-subsets of n acceptors that share no acceptor, all pairs)."""
    if not 0 < size <= n:
        raise ValueError(f"a quorum size must be between 1 and n = {n}, not {size}")
    sets = [frozenset(c) for c in itertools.combinations(range(n), size)]
    disjoint = sum(1 for a in sets for b in sets if not a & b)
    return disjoint, len(sets) ** 2


# --------------------------------------------------------------------------------------------
# A cluster


def names(n: int) -> list[str]:
    """The node names ``n0`` ... ``n{n-1}``."""
    return [f"n{i}" for i in range(n)]


def cluster(
    *,
    n: int = 3,
    values: Sequence[Any] = ("v0",),
    seed: int = 0,
    node: NodeFactory = PaxosNode,
    latency: Latency | float = LATENCY,
    start_delays: Sequence[float] | None = None,
    trace: bool = True,
    **config: Any,
) -> tuple[Simulation, list[str]]:
    """``n`` acceptor-learner nodes ``n0``...; node ``ni`` also proposes ``values[i]`` (if
    there is one), starting after ``start_delays[i]`` seconds. ``config`` goes to every node."""
    if len(values) > n:
        raise ValueError(f"{len(values)} proposers but only {n} nodes")
    if not isinstance(latency, Latency):
        latency = Constant(latency)
    sim = Simulation(seed=seed, latency=latency, trace=trace)
    nodes = names(n)
    delays = list(start_delays or []) + [0.0] * n
    for i, name in enumerate(nodes):
        value = values[i] if i < len(values) else None
        sim.add_node(name, functools.partial(node, value=value, start_delay=delays[i], **config))
    return sim, nodes


def everyone_learned(sim: Simulation, nodes: Iterable[str]) -> bool:
    """True when every node in ``nodes`` has learned a value."""
    return all(sim.storage(x).get("learned") is not None for x in nodes)


def decide(sim: Simulation, nodes: Sequence[str], *, limit: float = 5.0) -> float | None:
    """Run until every node in ``nodes`` learned; the time it took, or None by ``limit``."""
    done = sim.run(until=lambda: everyone_learned(sim, nodes), limit=limit)
    return sim.now if done else None


def crash_run(n: int, crashed: int, *, seed: int = 0, limit: float = 2.0) -> float | None:
    """``n`` acceptors, ``crashed`` of them (never the proposer n0) down from the start; the
    time until the live ones learn, or None if they do not by ``limit``."""
    if not 0 <= crashed < n:
        raise ValueError(f"crash between 0 and {n - 1} of the {n} nodes, not {crashed}")
    sim, nodes = cluster(n=n, seed=seed, trace=False)
    for victim in nodes[n - crashed :]:
        sim.at(0.0, sim.crash, victim)
    return decide(sim, nodes[: n - crashed], limit=limit)


# --------------------------------------------------------------------------------------------
# What a promise protects


def promise_scenario(node: NodeFactory = PaxosNode, *, until: float = 0.3) -> Simulation:
    """Two proposers and three acceptors, scripted so that only n1's promise keeps a second value
    from being chosen.

    n0 proposes "x" with ballot 1.0: n0 and n1 promise, n0 accepts "x", but its Accept to n1 is
    slow (from t = 0.015 the link n0 -> n1 takes 100 ms, and n0 -> n2 always does). Meanwhile n2
    proposes "y" with ballot 1.2: n1 and n2 promise; neither has accepted anything, so n2
    proposes "y", and n1, n2 (and n0) accept it: "y" is chosen at t = 0.045. When n0's old
    Accept(1.0, "x") reaches n1 at t = 0.12, n1 has promised 1.2: a correct acceptor rejects it.
    One that ignores its promise accepts it, and then "x", accepted by n0 and n1 with ballot 1.0,
    is chosen too.
    """
    sim, _ = cluster(
        n=3,
        values=("x", None, "y"),
        node=node,
        latency=0.01,
        start_delays=(0.0, 0.0, 0.015),
        timeout=1.0,
    )
    slow = Constant(0.1)
    sim.network.set_link("n0", "n2", both=False, latency=slow)
    sim.at(0.015, lambda: sim.network.set_link("n0", "n1", both=False, latency=slow))
    sim.run(until=until)
    return sim


def acceptance_diagram(
    sim: Simulation,
    *,
    until: float | None = None,
    types: Iterable[str] = ("Prepare", "Promise", "Accept", "Reject"),
    ax: Any = None,
    title: str | None = None,
):
    """A space-time diagram of ``sim`` with only the messages of ``types``, and each
    acceptance marked at its acceptor as ``value@ballot`` (from the trace's ``accepted``
    notes). Returns the matplotlib Figure."""
    nodes = list(sim.servers)
    accepted = [
        (time, node, f"{data.get('value')}@{data.get('ballot')}", "tab:purple")
        for time, node, text, data in sim.trace.notes()
        if text == "accepted" and node in nodes and (until is None or time <= until)
    ]
    return spacetime(
        sim.trace,
        nodes=nodes,
        until=until,
        types=list(types),
        show_notes=False,
        ax=ax,
        title=title,
        annotations=accepted,
    )


# --------------------------------------------------------------------------------------------
# Duelling proposers


class NaiveRetryNode(PaxosNode):
    """A proposer that, pre-empted, retries at once with a higher number (no random back-off).

    Safe (it changes nothing an acceptor sees) but prone to livelock: two such proposers can
    keep pre-empting each other's phase 2 with their phase 1 (PMS §2.4).
    """

    def give_up(self, reason: str) -> None:
        self.failures += 1
        self.phase = Phase.BACKING_OFF
        self.set_timer("proposer", 0.0)


#: The network of the duels: 9 to 11 ms per message, so that proposers stay in step.
DUEL_LATENCY = Uniform(0.009, 0.011)


def duel(
    seed: int,
    *,
    backoff: bool = True,
    n: int = 5,
    proposers: int = 3,
    limit: float = 5.0,
    latency: Latency = DUEL_LATENCY,
    trace: bool = False,
) -> tuple[Simulation, float | None]:
    """``proposers`` proposers among ``n`` nodes start at the same moment, with the library's
    randomized back-off or (``backoff=False``) as :class:`NaiveRetryNode` s. Returns the
    simulation and the time at which every node learned (None: not by ``limit``)."""
    node = PaxosNode if backoff else NaiveRetryNode
    values = [f"v{i}" for i in range(proposers)]
    sim, nodes = cluster(n=n, values=values, seed=seed, node=node, latency=latency, trace=trace)
    return sim, decide(sim, nodes, limit=limit)


def rounds(sim: Simulation) -> int:
    """The highest round any node of ``sim`` tried (1: nobody had to retry)."""
    return max(sim.storage(x).get("round", 0) for x in sim.servers)


def duel_times(
    seeds: Iterable[int], *, backoff: bool = True, **options: Any
) -> list[tuple[float | None, int]]:
    """(decision time or None, rounds tried) of :func:`duel` for each seed."""
    out = []
    for seed in seeds:
        sim, time = duel(seed, backoff=backoff, **options)
        out.append((time, rounds(sim)))
    return out


# --------------------------------------------------------------------------------------------
# Multi-Paxos


@dataclass
class MultiPaxosResult:
    """A multi-Paxos run: the simulation, messages by type, commands run, the client's latency
    per command, and the delay from the leader receiving a command to its being chosen."""

    sim: Simulation
    counts: Counter
    commands: int
    latencies: list[float]
    decide_delays: list[float]

    def per_command(self, kinds: Iterable[str]) -> float:
        """Messages of the given types per client command."""
        return sum(self.counts.get(k, 0) for k in kinds) / self.commands


def multipaxos_run(
    *, n: int = 3, commands: int = 20, seed: int = 0, latency: Latency | float = 0.01
) -> MultiPaxosResult:
    """``n`` multi-Paxos replicas and one client running ``commands`` puts one after the
    other, once a leader is in place (the client starts at 0.5 s, talking to the leader)."""
    if not isinstance(latency, Latency):
        latency = Constant(latency)
    sim = Simulation(seed=seed, latency=latency)
    servers = names(n)
    sim.add_nodes(servers, MultiPaxosNode)
    ops = [("put", (f"k{i % 4}", i)) for i in range(commands)]
    sim.run(until=0.5)
    leader = next(x for x in servers if sim.node(x, MultiPaxosNode).role.value == "leader")
    order = [leader] + [x for x in servers if x != leader]
    sim.add_client("client", lambda: KVClient(ops, servers=order))

    def finished() -> bool:
        client = sim.nodes["client"]
        return isinstance(client, KVClient) and client.done  # None while it is down

    if not sim.run(until=finished, limit=10.0):
        raise RuntimeError("the multi-Paxos client did not finish")
    check_paxos(sim, allowed=[NOOP]).assert_ok()
    latencies = [op.ret - op.call for op in sim.history if op.ret is not None]
    # From the leader's receipt of a command to the leader learning it chosen.
    received: dict[Any, float] = {}
    delays = []
    for e in sim.trace.events:
        if e.kind == "deliver" and e.peer == leader and e.type == "Request":
            received.setdefault(e.msg.command, e.time)
        elif e.kind == "note" and e.node == leader and e.detail == "learned":
            value = (e.data or {}).get("value")
            if value in received:
                delays.append(e.time - received.pop(value))
    return MultiPaxosResult(sim, sim.trace.message_counts(), commands, latencies, delays)


def single_decree(n: int, *, latency: float = 0.01) -> tuple[Counter, float]:
    """One fault-free single-decree decision with one proposer (n0) among ``n`` nodes: the
    messages by type, and the time at which the proposer knew its value was chosen."""
    sim, nodes = cluster(n=n, latency=latency)
    sim.run()
    if not everyone_learned(sim, nodes):
        raise RuntimeError("the fault-free single-decree run did not decide")
    chosen = next(t for t, _, text, _ in sim.trace.notes("n0") if text == "chosen")
    return sim.trace.message_counts(), chosen


# --------------------------------------------------------------------------------------------
# Many seeded runs under random faults


def faulty_run(
    seed: int,
    *,
    node: NodeFactory = PaxosNode,
    n: int = 3,
    proposers: int = 2,
    crashes: int = 3,
    until: float = 0.5,
    spread: float = 0.4,
    loss: float = 0.2,
    duplicate: float = 0.1,
    trace: bool = True,
) -> tuple[Simulation, bool]:
    """``n`` nodes, the first ``proposers`` of them proposing ``v0``, ``v1``, ... at random
    times in [0, spread); a :class:`Nemesis` (loss up to ``loss``, duplication up to
    ``duplicate``, reordering, partitions, ``crashes`` crash-restarts) until ``until``.
    Returns the simulation and whether every node learned within 5 s after the faults ended."""
    starts = random.Random(f"{seed}/starts").sample(range(1000), n)
    sim, nodes = cluster(
        n=n,
        values=[f"v{i}" for i in range(proposers)],
        seed=seed,
        node=node,
        start_delays=[spread * s / 1000 for s in starts],
        trace=trace,
    )
    nemesis = Nemesis(until=until, crashes=crashes, loss=loss, duplicate=duplicate)
    nemesis.install(sim)
    sim.run(until=nemesis.heal_time)
    live = sim.run(until=lambda: everyone_learned(sim, nodes), limit=nemesis.heal_time + 5.0)
    return sim, live


def check_runs(
    seeds: Iterable[int], *, node: NodeFactory = PaxosNode, liveness: bool = True, **options: Any
) -> list[tuple[int, str]]:
    """:func:`faulty_run` for every seed; (seed, problem) for every run in which agreement,
    validity or learner agreement failed, or (with ``liveness``) nobody decided after healing."""
    found = []
    for seed in seeds:
        sim, live = faulty_run(seed, node=node, **options)
        result = check_paxos(sim)
        if not result.ok:
            found.append((seed, str(result)))
        if liveness and not live:
            found.append((seed, "not every node learned a value within 5 s after the faults"))
    return found


# -- every interleaving ----------------------------------------------------------------------


def paxos_explorer(node: NodeFactory = PaxosNode, **bounds: Any) -> Explorer:
    """An :class:`~distlib.explore.Explorer` over single-decree Paxos: ``n0`` proposes ``"v0"``
    and ``n1`` proposes ``"v1"`` (each once: their first timer fires, the back-off timer does
    not), ``n0``, ``n1`` and ``n2`` accept, ``n0`` learns; all three are ``node``. Judged by
    agreement (PMS §2.1, counting every acceptance ever made), with the goal "a value is
    learned". ``bounds`` go to the explorer (``drops``, ``duplicates``, ``crashes``)."""
    learners = ("n0",)
    nodes = {
        "n0": functools.partial(node, value="v0", learners=learners),
        "n1": functools.partial(node, value="v1", learners=learners),
        "n2": functools.partial(node, learners=learners),
    }
    bounds.setdefault("timers", {"n0": 1, "n1": 1})
    return Explorer(nodes, properties=[agreement(), chosen()], **bounds)


def search_agreement(node: NodeFactory = PaxosNode) -> list[Result]:
    """The searches Lab 6 grades with, on ``node`` as every proposer, acceptor and learner:
    every interleaving of up to 8 steps with one lost and one duplicated message, and of up to
    10 steps with one crash (and restart). Neither finds a violation for a correct node
    (their verdict is "incomplete": they stop at the depth bound, not at the end)."""
    return [
        paxos_explorer(node, drops=1, duplicates=1).search(max_depth=8),
        paxos_explorer(node, crashes=1).search(max_depth=10),
    ]
