"""Tests for distlib.labs.lab03_consistency: hand-written, example and random histories.

Verdicts here come from small brute-force searches over every order of a few operations (the
definitions themselves), independent of the checkers in distlib.check.
"""

from __future__ import annotations

from itertools import pairwise, permutations

import pytest

from distlib.labs.lab03_consistency import example_histories, make_history, random_history


def _legal(order) -> bool:
    value = None
    for op in order:
        if op.f == "write":
            value = op.input
        elif op.output != value:
            return False
    return True


def _exists(history, before) -> bool:
    ops = [op for op in history if op.status == "ok"]
    for order in permutations(ops):
        pos = {id(op): i for i, op in enumerate(order)}
        if all(pos[id(p)] < pos[id(q)] for p in ops for q in ops if before(p, q)) and _legal(order):
            return True
    return False


def linearizable(history) -> bool:
    """Herlihy and Wing 1990: a legal order that respects real time."""
    return _exists(history, lambda p, q: p.precedes(q))


def sequential(history) -> bool:
    """Lamport 1979: a legal order that respects each client's own order."""
    return _exists(history, lambda p, q: p.client == q.client and p.call < q.call)


def test_make_history_builds_reads_writes_and_unknowns():
    """Rows become operations in order: writes carry input, reads output, ret None is unknown."""
    h = make_history(
        [("A", "write", 1, 0.0, 1.0), ("B", "read", 1, 0.5, 2.0), ("C", "write", 2, 3.0, None)]
    )
    w, r, u = list(h)
    assert (w.id, w.f, w.input, w.output, w.status) == (0, "write", 1, None, "ok")
    assert (r.id, r.f, r.input, r.output, r.ret) == (1, "read", None, 1, 2.0)
    assert (u.status, u.ret) == ("unknown", None)


def test_make_history_refuses_bad_rows():
    """A row of the wrong length or an unknown operation is refused, naming the row."""
    with pytest.raises(ValueError, match="client, f, value, call, ret"):
        make_history([("A", "write", 1, 0.0)])
    with pytest.raises(ValueError, match="'cas'"):
        make_history([("A", "cas", 1, 0.0, 1.0)])


def test_each_example_satisfies_its_model_and_nothing_stronger():
    """Herlihy and Wing 1990, Lamport 1979: the examples sit on the rungs they claim."""
    examples = example_histories()
    assert list(examples) == ["linearizable", "sequential", "causal", "eventual"]
    verdicts = {
        name: (linearizable(ex.history), sequential(ex.history)) for name, ex in examples.items()
    }
    assert verdicts == {
        "linearizable": (True, True),
        "sequential": (False, True),
        "causal": (False, False),
        "eventual": (False, False),
    }, verdicts
    assert all(ex.strongest == name and ex.why for name, ex in examples.items())


def test_causal_and_eventual_examples_differ_in_causality():
    """The causal example's writes are concurrent; the eventual one reads against program order."""
    causal = example_histories()["causal"].history
    writes = [op for op in causal if op.f == "write"]
    assert len({op.client for op in writes}) == 2, "two writers that never saw each other"
    assert not any(p.precedes(q) for p in writes for q in writes), "the writes must overlap"
    eventual = example_histories()["eventual"].history
    by_a = [op.input for op in eventual if op.client == "A"]
    seen_by_c = [op.output for op in eventual if op.client == "C"]
    assert by_a == [1, 2] and seen_by_c[:2] == [2, 1], "C must read A's writes backwards"
    finals = {op.output for op in eventual if op.call == max(o.call for o in eventual)}
    assert finals == {2}, "the replicas must converge on the last write"


def test_random_histories_are_seeded_and_well_formed():
    """Same seed, same history; values are 1, 2, ...; clients never overlap themselves."""
    a, b = random_history(5), random_history(5)
    assert a.listing() == b.listing()
    assert random_history(6).listing() != a.listing()
    for seed in range(20):
        h = random_history(seed, clients=3, ops=6)
        assert len(h) == 6 and any(op.f == "write" for op in h)
        values = [op.input for op in sorted(h, key=lambda o: o.call) if op.f == "write"]
        assert values == list(range(1, len(values) + 1)), values
        for client in {op.client for op in h}:
            mine = sorted((op for op in h if op.client == client), key=lambda o: o.call)
            assert all(p.ret <= q.call for p, q in pairwise(mine)), f"{client} overlaps"


def test_random_histories_cover_every_class():
    """Among a few dozen seeds there are linearizable, only-sequential and neither histories."""
    kinds = set()
    for seed in range(40):
        h = random_history(seed, clients=3, ops=5)
        kinds.add("lin" if linearizable(h) else "seq" if sequential(h) else "neither")
    assert kinds == {"lin", "seq", "neither"}, kinds
    clean = [random_history(s, stale=0.0, ops=5) for s in range(10)]
    assert all(linearizable(h) for h in clean), "without stale reads every history is legal"


def test_random_history_refuses_bad_arguments():
    """Sizes below one and probabilities outside [0, 1] are refused."""
    with pytest.raises(ValueError, match="clients"):
        random_history(0, clients=0)
    with pytest.raises(ValueError, match="probabilities"):
        random_history(0, stale=1.5)
