"""Benchmark of the reference protocols in the simulator: simulated runs per wall-clock second
under random faults, and the message cost of one Paxos decision.

Run from the repository root: ``PYTHONPATH=. python tests/benchmarks/bench_protocols.py``
(``--runs N`` to change the number of seeded runs). Prints ``figure: <name> = <value> <unit>``
lines; the timings depend on the machine, the message count does not.
"""

from __future__ import annotations

import argparse
import time

from distlib import Simulation, Uniform
from distlib.check.consensus import check_paxos, check_twophase
from distlib.protocols.paxos import PaxosNode
from distlib.protocols.twophase import Coordinator, Participant, TxClient
from distlib.testing.nemesis import Nemesis

LATENCY = Uniform(0.001, 0.01)


def paxos_run(seed: int, *, faults: bool, proposers: int, n: int = 3) -> Simulation:
    """n acceptor-learner nodes, the first ``proposers`` of them also proposing; run until
    every learner has learned."""
    sim = Simulation(seed=seed, latency=LATENCY, trace=False)
    names = [f"n{i}" for i in range(n)]
    for i, name in enumerate(names):
        sim.add_node(name, lambda i=i: PaxosNode(value=f"v{i}" if i < proposers else None))
    limit = 5.0
    if faults:
        nemesis = Nemesis(until=0.5, crashes=3)
        nemesis.install(sim)
        limit += nemesis.heal_time
    decided = sim.run(
        until=lambda: all(sim.storage(x).get("learned") is not None for x in names), limit=limit
    )
    if not decided:
        raise SystemExit(f"Paxos seed {seed} did not decide by t={limit}")
    return sim


def twopc_run(seed: int) -> Simulation:
    """One coordinator, three participants, one transaction; run until everyone decided."""
    sim = Simulation(seed=seed, latency=LATENCY, trace=False)
    parts = ("p1", "p2", "p3")
    sim.add_node("coordinator", Coordinator)
    sim.add_nodes(parts, lambda: Participant(no_rate=0.1))
    sim.add_client("client", lambda: TxClient([[("p1", "x", 1), ("p2", "y", 2)]], timeout=1.0))
    nemesis = Nemesis(until=0.5, crashes=3)
    nemesis.install(sim)

    def decided() -> bool:
        begun = sim.storage("coordinator").get("begin", {})
        return bool(begun) and all(
            tx in sim.storage(x).get("decision", {})
            for tx in begun
            for x in ("coordinator", *parts)
        )

    if not sim.run(until=decided, limit=nemesis.heal_time + 5.0):
        raise SystemExit(f"2PC seed {seed} did not decide")
    return sim


def rate(fn, runs: int) -> float:
    start = time.perf_counter()
    for seed in range(runs):
        fn(seed)
    return runs / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=300, help="seeded runs per figure")
    runs = parser.parse_args().runs

    # Sanity first: the benchmarked runs are correct ones.
    for seed in range(20):
        check_paxos(paxos_run(seed, faults=True, proposers=2), proposed=["v0", "v1"]).assert_ok()
        check_twophase(twopc_run(seed)).assert_ok()

    paxos = rate(lambda s: paxos_run(s, faults=True, proposers=2), runs)
    print(f"figure: paxos_runs_per_s = {paxos:.1f} runs/s")
    twopc = rate(twopc_run, runs)
    print(f"figure: twopc_runs_per_s = {twopc:.1f} runs/s")

    # Messages of one fault-free decision with n acceptor-learner nodes, one of which also
    # proposes. Messages to the proposer's own node are handled locally (no network), so:
    #   Prepare n-1, Promise n-1, Accept n-1, and Accepted from each of the n acceptors to the
    #   n-1 other learners (the proposer is a learner, so it needs no extra copy): n(n-1).
    #   Total (n-1)(n+3): 12 for n = 3, 32 for n = 5.
    # Counted after the run has gone quiet, so late replies (a third Promise) are included.
    n = 3
    sim = Simulation(seed=0, latency=LATENCY, trace=False)
    for i in range(n):
        sim.add_node(f"n{i}", lambda i=i: PaxosNode(value="v" if i == 0 else None))
    sim.run()
    expected = (n - 1) * (n + 3)
    sent = sim.stats["sent"]
    assert sent == expected, f"one decision cost {sent} messages, expected (n-1)(n+3) = {expected}"
    print(f"expected messages per decision for n = {n}: (n-1)(n+3) = {expected}")
    print(f"figure: paxos_msgs_per_decision = {sent} messages")


if __name__ == "__main__":
    main()
