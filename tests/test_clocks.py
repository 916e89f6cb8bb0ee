"""Tests for distlib.protocols.clocks: clock laws, the stamping node, and drifting clocks."""

from __future__ import annotations

import copy
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distlib import Simulation, Uniform
from distlib.protocols.clocks import (
    ClockMessage,
    ClockNode,
    LamportClock,
    Order,
    PhysicalClock,
    TimedEvent,
    VectorClock,
    misordered,
    noted_timestamps,
    timestamps,
)

NODES = ("a", "b", "c", "d")
vectors = st.dictionaries(st.sampled_from(NODES), st.integers(0, 4)).map(VectorClock)
node_names = st.sampled_from(NODES)


# -- Lamport clocks --------------------------------------------------------------------------


def test_lamport_tick_and_send_advance_by_one():
    """A local event and a send each advance a Lamport clock by one; a send carries the new time."""
    c = LamportClock().tick()
    assert c == LamportClock(1), f"tick from 0 should give time 1, got {c}"
    after, stamp = c.send()
    assert (after.time, stamp) == (2, 2), f"send from 1 should give (2, 2), got {(after, stamp)}"


@given(st.integers(0, 100), st.integers(0, 100))
def test_lamport_receive_moves_past_both(own, stamp):
    """Lamport 1978 IR2(b): receiving moves the clock to max(own, stamp) + 1."""
    got = LamportClock(own).receive(stamp)
    assert got.time == max(own, stamp) + 1, f"receive({stamp}) at {own} gave {got}"
    assert LamportClock(own).receive(LamportClock(stamp)) == got, "a clock as stamp must work too"


def test_lamport_rejects_bad_times():
    """A negative or non-integer Lamport time is refused with a clear error."""
    with pytest.raises(ValueError, match="negative"):
        LamportClock(-1)
    with pytest.raises(TypeError, match="int"):
        LamportClock(1.5)
    with pytest.raises(TypeError, match="int"):
        LamportClock(2).receive(True)


def test_lamport_is_hashable_and_ordered():
    """Lamport clocks are values: equal ones hash alike, and they compare by time."""
    assert {LamportClock(3), LamportClock(3)} == {LamportClock(3)}
    assert LamportClock(2) < LamportClock(5)
    with pytest.raises(AttributeError):
        LamportClock(1).time = 4  # type: ignore[misc]


# -- vector clocks: lattice laws ----------------------------------------------------------


@given(vectors, vectors)
def test_merge_is_commutative(u, v):
    """Merging vector clocks is commutative."""
    assert u.merge(v) == v.merge(u), f"{u} merge {v} differs from {v} merge {u}"


@given(vectors, vectors, vectors)
def test_merge_is_associative(u, v, w):
    """Merging vector clocks is associative."""
    assert u.merge(v).merge(w) == u.merge(v.merge(w))


@given(vectors)
def test_merge_is_idempotent(u):
    """Merging a vector clock with itself changes nothing."""
    assert u.merge(u) == u


@given(vectors, vectors)
def test_merge_is_the_least_upper_bound(u, v):
    """The merge is above both inputs and below any other clock above both."""
    m = u.merge(v)
    assert u <= m and v <= m, f"merge {m} is not above both {u} and {v}"
    for node in set(u.nodes()) | set(v.nodes()):
        assert m[node] == max(u[node], v[node]), f"entry {node} of {m} is not the maximum"


@given(vectors, node_names)
def test_increment_happens_after(u, node):
    """An event at a node happens after the event before it (the clock strictly grows)."""
    later = u.increment(node)
    assert u.happens_before(later), f"{u} should happen before {later}"
    assert later[node] == u[node] + 1


# -- vector clocks: happens-before is a strict partial order --------------------------------


@given(vectors)
def test_happens_before_is_irreflexive(u):
    """No event happens before itself."""
    assert not u.happens_before(u)
    assert u.compare(u) is Order.EQUAL


@given(vectors, vectors)
def test_happens_before_is_asymmetric_and_compare_is_consistent(u, v):
    """compare() is antisymmetric and agrees with happens_before, concurrent and <."""
    mirror = {
        Order.BEFORE: Order.AFTER,
        Order.AFTER: Order.BEFORE,
        Order.EQUAL: Order.EQUAL,
        Order.CONCURRENT: Order.CONCURRENT,
    }
    assert v.compare(u) is mirror[u.compare(v)], f"compare({u},{v}) and its mirror disagree"
    assert not (u.happens_before(v) and v.happens_before(u)), f"{u} and {v} precede each other"
    assert u.happens_before(v) == (u < v) == (u.compare(v) == "before")
    assert u.concurrent(v) == (not u <= v and not v <= u)
    assert (u.compare(v) is Order.EQUAL) == (u == v)


@given(vectors, vectors, vectors, node_names, node_names)
def test_happens_before_is_transitive(u, x, y, n1, n2):
    """If a happens before b and b before c, then a happens before c (on built chains)."""
    a = u
    b = a.merge(x).increment(n1)
    c = b.merge(y).increment(n2)
    assert a.happens_before(b) and b.happens_before(c), "the chain is built to be causal"
    assert a.happens_before(c), f"{a} < {b} < {c} but not {a} < {c}"


@given(vectors, vectors, vectors)
def test_happens_before_transitive_on_any_triples(u, v, w):
    """Transitivity holds for arbitrary triples too (where the premise happens to hold)."""
    if u.happens_before(v) and v.happens_before(w):
        assert u.happens_before(w)


def test_concurrent_example():
    """Two events at different nodes that never communicated are concurrent."""
    a = VectorClock().increment("a")
    b = VectorClock().increment("b")
    assert a.compare(b) is Order.CONCURRENT and a.concurrent(b) and b.concurrent(a)
    assert a.receive(b, "a") == VectorClock(a=2, b=1)


# -- vector clocks: value semantics -----------------------------------------------------


@given(vectors)
def test_vector_clock_value_semantics(u):
    """Vector clocks are immutable, hashable, picklable, and their repr rebuilds them."""
    assert eval(repr(u), {"VectorClock": VectorClock}) == u, f"repr {u!r} does not rebuild it"
    assert pickle.loads(pickle.dumps(u)) == u
    assert copy.deepcopy(u) == u
    assert hash(VectorClock(u.as_dict())) == hash(u)


def test_vector_clock_zero_entries_do_not_count():
    """A zero entry equals a missing one, for equality and hashing."""
    assert VectorClock(a=1, b=0) == VectorClock({"a": 1})
    assert hash(VectorClock(a=1, b=0)) == hash(VectorClock(a=1))
    assert VectorClock(a=1)["zzz"] == 0


def test_vector_clock_is_immutable_and_checks_input():
    """Assignment is refused; bad entries and comparisons give clear errors."""
    v = VectorClock(a=1)
    with pytest.raises(AttributeError, match="immutable"):
        v.x = 3  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="negative"):
        VectorClock(a=-1)
    with pytest.raises(TypeError, match="node name"):
        VectorClock({1: 2})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="VectorClock"):
        v.merge({"a": 3})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="mapping"):
        VectorClock(5)  # type: ignore[arg-type]
    assert repr(VectorClock({"node-1": 2})) == "VectorClock({'node-1': 2})"


# -- the stamping node and trace timestamps ------------------------------------------------


def test_clock_node_receive_stamps_unit():
    """Lamport 1978 IR2(b), Mattern 1989 §4: a receive takes max + 1 and merges the vectors."""
    n = ClockNode(clock=PhysicalClock()).attach(id="a", peers=("b",))
    n.on_start()
    n.take_actions()
    n.on_message("b", ClockMessage(lamport=7, vector=VectorClock(b=3), wall=0.0, seq=1))
    notes = [act for act in n.take_actions() if type(act).__name__ == "Note"]
    assert len(notes) == 1, f"one receive should give one note, got {notes}"
    data = notes[0].data
    assert data["lamport"] == 8, f"receive of stamp 7 at 0 should give 8, noted {data['lamport']}"
    assert data["vector"] == VectorClock(a=1, b=3), f"vector after receive: {data['vector']}"
    assert notes[0].text.startswith("recv L8"), f"the note text shows the stamps: {notes[0].text}"


def _clock_run(seed: int, **net) -> Simulation:
    sim = Simulation(seed=seed, latency=Uniform(0.001, 0.02), **net)
    sim.add_nodes(["a", "b", "c"], lambda: ClockNode(rate=20, max_offset=0.01))
    sim.run(until=1.0)
    return sim


def _key(e: TimedEvent):
    return (e.node, e.kind, e.lamport, e.vector, e.peer)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_computed_timestamps_match_the_stamps_nodes_noted(seed):
    """timestamps(trace) recomputes exactly what ClockNode stamped, even with loss and dups."""
    sim = _clock_run(seed, loss=0.1, duplicate=0.1)
    noted = noted_timestamps(sim.trace)
    computed = timestamps(sim.trace)
    assert len(noted) > 30, f"the run should have many events, got {len(noted)}"
    assert [_key(e) for e in computed] == [_key(e) for e in noted], (
        "the timestamps computed from the trace differ from those the nodes noted"
    )


def _happens_before_from_trace(events: list[TimedEvent]) -> set[tuple[int, int]]:
    """Lamport's relation built directly: program order, send -> receive, transitive closure."""
    edges: dict[int, set[int]] = {i: set() for i in range(len(events))}
    last: dict[str, int] = {}
    send_of: dict[int, int] = {}
    for i, e in enumerate(events):
        if e.node in last:
            edges[last[e.node]].add(i)
        last[e.node] = i
        if e.kind == "send":
            send_of[e.mid] = i
        elif e.kind == "receive":
            edges[send_of[e.mid]].add(i)
    closure = set()
    for i in range(len(events)):
        stack, seen = list(edges[i]), set()
        while stack:
            j = stack.pop()
            if j not in seen:
                seen.add(j)
                stack.extend(edges[j])
        closure |= {(i, j) for j in seen}
    return closure


@pytest.mark.parametrize("seed", [3, 4])
def test_vector_clocks_characterise_happens_before(seed):
    """Mattern 1989: V(a) < V(b) exactly when a happens before b; then also L(a) < L(b)."""
    events = timestamps(_clock_run(seed, duplicate=0.05).trace)
    hb = _happens_before_from_trace(events)
    for i, a in enumerate(events):
        for j, b in enumerate(events):
            causal = (i, j) in hb
            assert a.vector.happens_before(b.vector) == causal, (
                f"vector clocks say {a.vector.compare(b.vector)} for {a} and {b}, "
                f"but the trace says happens-before is {causal}"
            )
            if causal:
                # Lamport 1978 §3, the clock condition.
                assert a.lamport < b.lamport, f"clock condition broken for {a} -> {b}"


def test_timestamps_needs_the_sends():
    """A trace filtered so that a delivery lacks its send is refused with an explanation."""
    trace = _clock_run(0).trace.filter("deliver")
    with pytest.raises(ValueError, match="without its send"):
        timestamps(trace)


def test_clock_node_clocks_survive_restart():
    """A restarted ClockNode carries on from its stored clocks, keeping the clock condition."""
    sim = Simulation(seed=5, latency=Uniform(0.001, 0.02))
    sim.add_nodes(["a", "b", "c"], lambda: ClockNode(rate=20))
    sim.at(0.4, sim.crash, "b")
    sim.at(0.6, sim.restart, "b")
    sim.run(until=1.0)
    mine = [e for e in noted_timestamps(sim.trace) if e.node == "b"]
    lamports = [e.lamport for e in mine]
    assert lamports == sorted(set(lamports)), f"b's Lamport clock went back: {lamports}"
    assert not misordered(noted_timestamps(sim.trace), "lamport")


# -- physical clocks ---------------------------------------------------------------------


def test_physical_clock_reads_offset_plus_rate():
    """A physical clock reads offset + rate * t, and refuses a non-positive rate."""
    c = PhysicalClock(offset=0.5, rate=1.001)
    assert c.read(10.0) == pytest.approx(10.51)
    with pytest.raises(ValueError, match="rate"):
        PhysicalClock(rate=0)


def test_misordered_rejects_an_unknown_key():
    """misordered() names the keys it accepts."""
    with pytest.raises(ValueError, match="wall"):
        misordered([], "vector")


@settings(max_examples=30)
@given(st.integers(0, 2**32))
def test_drawn_clocks_stay_within_bounds(seed):
    """PhysicalClock.drawn keeps the offset and rate within the bounds asked for."""
    import random

    c = PhysicalClock.drawn(random.Random(seed), max_offset=0.01, max_drift=1e-4)
    assert abs(c.offset) <= 0.01 and abs(c.rate - 1) <= 1e-4, f"out of bounds: {c}"
