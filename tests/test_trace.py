"""Tests for distlib.trace: determinism of the listing, queries, counts and the diagram."""

from __future__ import annotations

import hashlib

import pytest
from conftest import Echo

from distlib import Simulation, Uniform
from distlib.protocols.raft import RaftClient, RaftNode
from distlib.testing.sweep import standard_nemesis
from distlib.trace import Trace, msg_type
from distlib.views import spacetime


def gossip(seed: int) -> Simulation:
    sim = Simulation(
        seed=seed, latency=Uniform(0.005, 0.05), loss=0.1, duplicate=0.05, reorder=0.05
    )
    sim.add_nodes(["a", "b", "c", "d"], lambda: Echo(chatty=True, period=0.05))
    sim.at(0.4, sim.crash, "c")
    sim.at(0.6, sim.restart, "c")
    sim.at(0.3, sim.partition, ["a", "b"], ["c", "d"])
    sim.at(0.7, sim.heal)
    sim.run(until=1.0)
    return sim


def test_same_seed_gives_identical_listing():
    """Two runs with the same seed produce byte-for-byte identical listings."""
    one, two = gossip(11).trace.listing(), gossip(11).trace.listing()
    assert one == two
    assert len(one.splitlines()) > 300


def faulty_raft(seed: int) -> Simulation:
    """Raft with a client under every fault the nemesis knows (loss, duplicates, reordering,
    partitions, cuts, clock drift and jumps, crashes, crash points), sync durability with torn
    writes: every path of the runtime, the slow ones included."""
    sim = Simulation(seed=seed, durability="sync", torn=0.5)
    sim.add_nodes([f"s{i}" for i in range(1, 6)], RaftNode)
    sim.add_client("c1", lambda: RaftClient([f"x{k}" for k in range(40)], timeout=1.0, think=0.05))
    standard_nemesis(seed, 4.0).install(sim)
    sim.run(until=6.0)
    return sim


def fingerprint(sim: Simulation) -> str:
    return hashlib.sha256(sim.trace.listing().encode()).hexdigest()[:16]


def test_a_faulty_raft_run_is_deterministic():
    """Two Raft runs under faults with the same seed give identical traces and histories."""
    one, two = faulty_raft(4), faulty_raft(4)
    assert one.trace.listing() == two.trace.listing()
    assert one.history.listing() == two.history.listing()
    assert {"crash", "restart", "drop", "dup", "clock", "net"} <= {e.kind for e in one.trace}


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        (lambda: gossip(11), "5aa926e7e9094ab6"),
        (lambda: faulty_raft(1), "36c88ea0e75b8345"),
        (lambda: faulty_raft(2), "2a905514393940b9"),
    ],
)
def test_traces_stay_what_they_were(run, expected):
    """A seed's trace is pinned across changes to the runtime, not only between two runs: these
    fingerprints are those of the runtime before it kept its own event queue (one simpy timeout
    per event). A change that alters them changes what every seed of every lab shows."""
    assert fingerprint(run()) == expected


def test_a_trace_read_during_a_run_grows_with_it():
    """Events read before a run goes on stay as they were; the ones recorded later follow."""
    sim = Simulation(seed=3, loss=0.1)
    sim.add_nodes(["a", "b", "c"], lambda: Echo(chatty=True, period=0.05))
    sim.run(until=0.3)
    early = list(sim.trace)
    assert len(sim.trace) == len(early) > 0
    sim.run(until=0.6)
    assert sim.trace.events[: len(early)] == early
    assert len(sim.trace) == len(sim.trace.events) > len(early)
    assert [e.seq for e in sim.trace] == list(range(len(sim.trace)))
    assert sim.trace[-1].time <= 0.6


def test_different_seeds_give_different_interleavings():
    """Different seeds give different orders of deliveries."""

    def order(seed):
        return [(e.node, e.peer, e.mid) for e in gossip(seed).trace.filter("deliver")]

    assert order(1) != order(2)


def test_trace_records_every_kind_of_event():
    """A faulty run's trace holds sends, deliveries, drops, dups, timers, crash, restart, net."""
    kinds = {e.kind for e in gossip(3).trace}
    assert {"start", "send", "deliver", "drop", "dup", "timer", "crash", "restart", "net"} <= kinds
    reasons = {e.detail for e in gossip(3).trace.filter("drop")}
    assert {"loss", "partition", "node down"} <= reasons


def test_notes_are_traced_with_data():
    """A node's note() appears in the trace with its text and data."""
    from distlib import Node

    class Leader(Node):
        def on_start(self):
            self.note("became leader", term=3)

    sim = Simulation()
    sim.add_node("n1", Leader)
    sim.run()
    assert sim.trace.notes() == [(0.0, "n1", "became leader", {"term": 3})]
    assert "n1: became leader [term=3]" in sim.trace.listing()


def test_filter_by_kind_node_type_and_window():
    """filter() combines kind, node, message type and a time window."""
    trace = gossip(5).trace
    sub = trace.filter(["send", "deliver"], node="a", type="ping", since=0.2, until=0.5)
    assert sub.events, "expected some matching events"
    for e in sub:
        assert e.kind in ("send", "deliver") and e.involves("a") and e.type == "ping"
        assert 0.2 <= e.time <= 0.5
    assert len(trace.filter(where=lambda e: e.kind == "crash")) == 1


def test_message_counts_per_type_and_node():
    """message_counts() counts sends by type, by sender and by link, consistently."""
    trace = gossip(6).trace
    by_type, by_node = trace.message_counts("type"), trace.message_counts("node")
    sends = len(trace.filter("send"))
    assert set(by_type) == {"ping", "pong"} and sum(by_type.values()) == sends
    assert sum(by_node.values()) == sends and set(by_node) <= {"a", "b", "c", "d"}
    assert sum(trace.message_counts("link").values()) == sends
    with pytest.raises(ValueError, match="'type', 'node', 'link' or 'kind'"):
        trace.message_counts("colour")


def test_msg_type_names():
    """Message types: dataclass names, dict 'type' keys, a tuple's head, a short string."""
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Vote:
        term: int

    assert msg_type(Vote(1)) == "Vote"
    assert msg_type({"type": "append", "x": 1}) == "append"
    assert msg_type(("ping", 3)) == "ping"
    assert msg_type(42) == "int"
    assert msg_type("hello") == "hello", "a short string message is its own type"


def test_listing_shows_the_message_and_reason():
    """Listing lines show time, kind, the link, the message id and a drop's reason."""
    line = gossip(3).trace.filter("drop")[0].line()
    assert "drop" in line and "->" in line and "#" in line and line.endswith(")")


def test_disabled_trace_records_nothing_but_stats_still_count():
    """Simulation(trace=False) keeps no events but still counts messages."""
    sim = Simulation(seed=1, trace=False)
    sim.add_nodes(["a", "b"], lambda: Echo(chatty=True))
    sim.run(until=1.0)
    assert len(sim.trace) == 0 and sim.stats["delivered"] > 0


def test_diagram_draws_arrows_and_crosses():
    """The space-time diagram draws one arrow per delivered message and a cross per drop."""
    import matplotlib

    matplotlib.use("Agg")
    sim = gossip(8)
    fig = spacetime(sim.trace, until=0.5)
    ax = fig.axes[0]
    delivered = len(sim.trace.filter("deliver", until=0.5))
    assert len(ax.texts) + len(ax.patches) >= 1
    arrows = [c for c in ax.get_children() if type(c).__name__ == "Annotation"]
    assert len(arrows) == delivered
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c", "d"]
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_diagram_of_empty_trace_is_a_clear_error():
    """Drawing a trace without nodes says there is nothing to draw."""
    with pytest.raises(ValueError, match="nothing to draw"):
        spacetime(Trace())
