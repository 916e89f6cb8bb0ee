"""Benchmark of the exhaustive explorer. Run: python tests/benchmarks/bench_explore.py

Prints ``figure:`` lines:

* ``explore_states_per_s``: distinct states per second, single-decree Paxos with 2 proposers
  and 3 acceptors (n0 and n1 propose and accept, n2 accepts; n0 learns; each proposer's
  timer fires once; no loss or duplication), one core (target >= 10,000);
* ``explore_paxos_states`` and ``explore_paxos_s``: the same configuration explored to the end
  (target: <= 10 s). The point of comparison is stateright's single-decree Paxos example (2
  clients, 3 servers: 16,668 unique states). The configurations differ: here the proposers are
  two of the three acceptors, messages to oneself are delivered within the step, every node's
  full Python state counts (learner tables, back-off counters, logical clocks), and there are
  no client requests: the proposals start from timers;
* ``explore_paxos_fifo_states`` and ``explore_paxos_fifo_s``: the same configuration over links
  that keep order (``fifo=True``), explored to the end;
* ``explore_raft_vote_bug_s``: time to the shortest counterexample (11 steps) for the vote-rule
  bug (BrokenVoteRaft: 3 servers, one command, one election timer firing at s1 and at s3);
* ``explore_raft_commit_bug_s``: time to the shortest counterexample (12 steps) for the
  commit-rule bug (BrokenCommitRaft, 3 servers starting from the logs of Figure 8, given by
  ``distlib.testing.raft.figure8_storage``: s1 holds A of term 1, s3 holds B of term 2; two
  election timer firings at s1, one at s3; target <= 60 s);
* ``explore_raft_reference_s``: the reference Raft from the same logs (one firing at s1 and at
  s3) explored to the end;
* ``explore_peak_mb``: the peak memory of the process (the largest of these searches; target
  <= 1,024 MB).

``--from-scratch SECONDS`` also searches for the commit-rule bug from empty logs (two firings
each at s1 and s3, two commands from a client): the shortest counterexample there is about 21
steps deep, beyond what breadth-first search reaches in minutes; the line says how deep it got.
"""

from __future__ import annotations

import argparse
import resource
import sys
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from distlib.explore import Explorer, agreement, chosen, leader_elected, raft_safety  # noqa: E402
from distlib.node import Node  # noqa: E402
from distlib.protocols.paxos import PaxosNode  # noqa: E402
from distlib.protocols.raft import ClientRequest, RaftNode  # noqa: E402
from distlib.testing.broken import BrokenCommitRaft, BrokenVoteRaft  # noqa: E402
from distlib.testing.raft import figure8_storage  # noqa: E402


def paxos(**options: Any) -> Explorer:
    learners = ("n0",)
    nodes = {
        "n0": partial(PaxosNode, value="v0", learners=learners),
        "n1": partial(PaxosNode, value="v1", learners=learners),
        "n2": partial(PaxosNode, learners=learners),
    }
    return Explorer(nodes, properties=[agreement(), chosen()], timers={"n0": 1, "n1": 1}, **options)


class Submitter(Node):
    """A client that sends one command to each server it is given."""

    targets: tuple[str, ...] = ("s1",)

    def on_start(self) -> None:
        for server in self.targets:
            self.send(server, ClientRequest(1, f"x{server}"))

    def on_message(self, src: str, msg: Any) -> None:
        pass


class TwoSubmitter(Submitter):
    targets = ("s1", "s3")


def raft(cls: type[Node], client: type[Node] | None, timers: dict[str, int], **options: Any):
    nodes: dict[str, Any] = dict.fromkeys(("s1", "s2", "s3"), cls)
    if client is not None:
        nodes["c"] = client
    return Explorer(
        nodes,
        clients=["c"] if client is not None else [],
        properties=[raft_safety(), leader_elected()],
        timers=timers,
        **options,
    )


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from-scratch", type=float, default=0.0, metavar="SECONDS")
    args = parser.parse_args()

    result = paxos().search()
    assert result.verdict == "ok", str(result)
    print(
        f"figure: explore_states_per_s = {result.distinct / result.seconds:,.0f} states/s"
        "   (target >= 10,000)"
    )
    print(
        f"figure: explore_paxos_states = {result.distinct} states   (stateright's example: 16,668)"
    )
    print(f"figure: explore_paxos_s = {result.seconds:.1f} s   (target <= 10)")

    fifo = paxos(fifo=True).search()
    assert fifo.verdict == "ok", str(fifo)
    print(f"figure: explore_paxos_fifo_states = {fifo.distinct} states")
    print(f"figure: explore_paxos_fifo_s = {fifo.seconds:.1f} s")

    vote = raft(BrokenVoteRaft, Submitter, {"s1": 1, "s3": 1}).search()
    assert vote.verdict == "violated", str(vote)
    print(
        f"figure: explore_raft_vote_bug_s = {vote.seconds:.1f} s   "
        f"({len(vote.trace)} steps, {vote.distinct:,} states)"
    )

    commit = raft(BrokenCommitRaft, None, {"s1": 2, "s3": 1}, storage=figure8_storage()).search()
    assert commit.verdict == "violated", str(commit)
    print(
        f"figure: explore_raft_commit_bug_s = {commit.seconds:.1f} s   (target <= 60; "
        f"{len(commit.trace)} steps, {commit.distinct:,} states)"
    )
    reference = raft(RaftNode, None, {"s1": 1, "s3": 1}, storage=figure8_storage()).search()
    assert reference.verdict == "ok", str(reference)
    print(
        f"figure: explore_raft_reference_s = {reference.seconds:.1f} s   "
        f"({reference.distinct:,} states, to the end)"
    )
    if args.from_scratch:
        scratch = raft(BrokenCommitRaft, TwoSubmitter, {"s1": 2, "s3": 2}).search(
            max_seconds=args.from_scratch
        )
        found = "found" if scratch.verdict == "violated" else "not found"
        print(
            f"figure: explore_raft_commit_bug_scratch_s = {scratch.seconds:.1f} s   ({found}, "
            f"{scratch.distinct:,} states, depth {scratch.depth})"
        )
    print(f"figure: explore_peak_mb = {peak_mb():.0f} MB   (target <= 1,024)")


if __name__ == "__main__":
    main()
