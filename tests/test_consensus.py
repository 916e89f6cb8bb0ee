"""Tests of distlib.check.consensus: each checker on hand-made records (holding and violated),
the explanations it gives, and the sources it reads (simulation, trace, storage mapping)."""

from __future__ import annotations

import pytest

from distlib import Simulation, Trace, Uniform
from distlib.check.consensus import (
    ConsensusRecords,
    InvariantResult,
    InvariantViolation,
    TwoPhaseRecords,
    check_agreement,
    check_atomicity,
    check_commit_validity,
    check_learners_agree,
    check_paxos,
    check_twophase,
    check_validity,
    consensus_records,
    twophase_records,
)
from distlib.protocols.paxos import Ballot, PaxosNode
from distlib.protocols.twophase import Coordinator, Participant, TxClient

# --------------------------------------------------------------------------------------------
# Results


def test_result_is_truthy_and_assert_ok_raises_an_assertion_error():
    """A failed result is falsy and assert_ok raises an AssertionError with the explanation."""
    good = InvariantResult("X", True, "fine")
    bad = InvariantResult("X", False, "node a did something", ("node a did something",))
    assert good and not bad
    assert good.assert_ok() is good
    with pytest.raises(AssertionError, match="node a did something") as info:
        bad.assert_ok()
    assert isinstance(info.value, InvariantViolation) and info.value.result is bad


# --------------------------------------------------------------------------------------------
# Two-phase commit


def storages(**nodes):
    return nodes


def test_atomicity_holds_when_everyone_agrees():
    """BHG §7.2 AC1: identical decisions everywhere pass."""
    run = storages(
        coordinator={"begin": {"t": ("p", "q")}, "decision": {"t": "commit"}},
        p={"vote": {"t": True}, "decision": {"t": "commit"}},
        q={"vote": {"t": True}, "decision": {"t": "commit"}},
    )
    assert check_atomicity(run).ok
    assert check_twophase(run).ok


def test_atomicity_names_the_transaction_and_the_disagreeing_nodes():
    """BHG §7.2 AC1: a commit here and an abort there is reported with both nodes."""
    run = storages(p={"decision": {"t9": "commit"}}, q={"decision": {"t9": "abort"}})
    result = check_atomicity(run)
    assert not result.ok
    assert "t9" in result.explanation and "p=commit" in result.explanation
    assert "q=abort" in result.explanation


def test_a_node_that_changes_its_mind_breaks_atomicity():
    """BHG §7.2 AC2: a decision is final; two decisions by one node (seen in notes) fail."""
    rec = TwoPhaseRecords()
    rec.add_decision("t", "p", "commit")
    rec.add_decision("t", "p", "abort")
    result = check_atomicity(rec)
    assert not result.ok and "p decided both commit and abort" in result.explanation


def test_commit_after_a_no_vote_is_reported():
    """BHG §7.2 AC3: commit needs every yes vote; a no voter is named."""
    run = storages(
        coordinator={"begin": {"t": ("p", "q")}, "decision": {"t": "commit"}},
        p={"vote": {"t": True}},
        q={"vote": {"t": False}},
    )
    result = check_commit_validity(run)
    assert not result.ok and "q voted no" in result.explanation


def test_commit_without_a_vote_is_reported():
    """BHG §7.2 AC3: a participant that never voted cannot be committed."""
    run = storages(
        coordinator={"begin": {"t": ("p", "q")}, "decision": {"t": "commit"}},
        p={"vote": {"t": True}},
    )
    result = check_commit_validity(run)
    assert not result.ok and "without a vote from q" in result.explanation


def test_abort_needs_no_votes():
    """An abort is always allowed, whatever the votes."""
    run = storages(coordinator={"begin": {"t": ("p", "q")}, "decision": {"t": "abort"}})
    assert check_commit_validity(run).ok


def test_twophase_records_read_notes_from_a_trace():
    """Notes 'vote', 'decided' and 'begin' are enough to check a run without storage."""
    trace = Trace()
    trace.record(0.1, "note", "c", detail="begin", data={"tx": "t", "participants": ("p",)})
    trace.record(0.2, "note", "p", detail="vote", data={"tx": "t", "vote": "no"})
    trace.record(0.3, "note", "c", detail="decided", data={"tx": "t", "outcome": "commit"})
    rec = twophase_records(trace)
    assert rec.participants == {"t": ("p",)} and rec.votes == {"t": {"p": False}}
    assert not check_commit_validity(trace).ok


def test_twophase_checker_reads_a_simulation():
    """check_twophase accepts a Simulation and reads every node's storage."""
    sim = Simulation(seed=3, latency=Uniform(0.001, 0.01), trace=False)
    sim.add_node("coordinator", Coordinator)
    sim.add_nodes(["p1", "p2"], Participant)
    sim.add_client("client", lambda: TxClient([[("p1", "k", 1)]]))
    sim.run(until=1.0)
    result = check_twophase(sim)
    assert result.ok and "1 transaction" in result.explanation, str(result)


# --------------------------------------------------------------------------------------------
# Paxos


def records(*acceptances, acceptors=("a", "b", "c"), proposed=("x", "y")):
    rec = ConsensusRecords(acceptors=acceptors, complete=True, proposed=list(proposed))
    rec.acceptances.update(acceptances)
    return rec


def test_agreement_holds_for_one_value_at_several_ballots():
    """PMS §2.2 (P2): one value chosen at two ballots is still one value."""
    rec = records(
        ("a", 0, Ballot(1, 0), "x"),
        ("b", 0, Ballot(1, 0), "x"),
        ("b", 0, Ballot(2, 1), "x"),
        ("c", 0, Ballot(2, 1), "x"),
    )
    assert check_agreement(rec).ok


def test_agreement_reports_two_chosen_values_with_their_majorities():
    """PMS §2.1: two values each accepted by a majority at some ballot are reported."""
    rec = records(
        ("a", 0, Ballot(1, 0), "x"),
        ("b", 0, Ballot(1, 0), "x"),
        ("b", 0, Ballot(2, 1), "y"),
        ("c", 0, Ballot(2, 1), "y"),
    )
    result = check_agreement(rec)
    assert not result.ok
    assert "'x' at ballot 1.0 by a, b" in result.explanation
    assert "'y' at ballot 2.1 by b, c" in result.explanation


def test_a_minority_acceptance_is_not_chosen():
    """PMS §2.2: a value accepted by a minority is not chosen, so it cannot conflict."""
    rec = records(
        ("a", 0, Ballot(1, 0), "x"), ("b", 0, Ballot(2, 1), "y"), ("c", 0, Ballot(2, 1), "y")
    )
    assert check_agreement(rec).ok
    assert set(rec.chosen()[0]) == {"y"}


def test_majority_uses_every_acceptor_not_only_those_seen():
    """With five acceptors, two acceptances are not a majority even if only two ever accepted."""
    rec = records(
        ("a", 0, Ballot(1, 0), "x"),
        ("b", 0, Ballot(1, 0), "x"),
        acceptors=("a", "b", "c", "d", "e"),
    )
    assert rec.chosen() == {}


def test_slots_are_judged_separately():
    """Multi-Paxos: different values in different slots are fine."""
    rec = records(
        ("a", 0, Ballot(1, 0), "x"),
        ("b", 0, Ballot(1, 0), "x"),
        ("a", 1, Ballot(1, 0), "y"),
        ("b", 1, Ballot(1, 0), "y"),
    )
    assert check_agreement(rec).ok


def test_validity_reports_a_value_nobody_proposed():
    """PMS §2.1: only a proposed value may be chosen or learned."""
    rec = records(("a", 0, Ballot(1, 0), "z"), ("b", 0, Ballot(1, 0), "z"))
    rec.add_learned(0, "c", "z")
    result = check_validity(rec)
    assert not result.ok and "'z' was never proposed" in result.explanation
    assert check_validity(rec, allowed=["z"]).ok, "an allowed value (a no-op) passes"


def test_validity_without_known_proposals_says_what_to_do():
    """Without proposals to compare with, validity fails and says how to provide them."""
    result = check_validity(ConsensusRecords())
    assert not result.ok and "proposed=" in result.explanation


def test_learners_must_agree_and_learn_once():
    """PMS §2.3: learners disagreeing, or one learning two values, are reported."""
    rec = records(("a", 0, Ballot(1, 0), "x"), ("b", 0, Ballot(1, 0), "x"))
    rec.add_learned(0, "a", "x")
    assert check_learners_agree(rec).ok
    rec.add_learned(0, "b", "y")
    result = check_learners_agree(rec)
    assert not result.ok and "learners disagree" in result.explanation
    assert "'y', which no majority accepted" in result.explanation


def test_paxos_checker_reads_a_traced_simulation():
    """check_paxos reads a Simulation: notes for acceptances and proposals, storage for learned
    values; a fault-free run passes all three invariants."""
    sim = Simulation(seed=1, latency=Uniform(0.001, 0.01))
    for i, name in enumerate(("a", "b", "c")):
        sim.add_node(name, lambda i=i: PaxosNode(value="x" if i == 0 else None))
    sim.run()
    rec = consensus_records(sim)
    assert rec.complete and rec.proposed == ["x"]
    assert set(rec.learned[0]) == {"a", "b", "c"}
    check_paxos(sim).assert_ok()


def test_storage_only_reading_says_it_sees_less():
    """With the trace off, acceptances come from storage and the explanation says so."""
    sim = Simulation(seed=1, latency=Uniform(0.001, 0.01), trace=False)
    for i, name in enumerate(("a", "b", "c")):
        sim.add_node(name, lambda i=i: PaxosNode(value="x" if i == 0 else None))
    sim.run()
    result = check_agreement(sim)
    assert result.ok and "storage only" in result.explanation
    assert check_validity(sim, proposed=["x"]).ok


def test_unknown_source_is_a_type_error():
    """A checker given something it cannot read says what it accepts."""
    with pytest.raises(TypeError, match="Simulation, a Trace or a mapping"):
        check_agreement(42)
