"""Tests of distlib.protocols.twophase: handlers one message at a time, scripted failures
(blocking, cooperative termination, recovery), and 500 seeded runs under random faults."""

from __future__ import annotations

import pytest

from distlib import Simulation, Uniform
from distlib.check.consensus import check_atomicity, check_twophase
from distlib.node import Note, Send, SetTimer
from distlib.protocols.twophase import (
    Ack,
    Coordinator,
    Decision,
    DecisionRequest,
    Participant,
    Prepare,
    TxClient,
    TxRequest,
    TxResult,
    Uncertain,
    Vote,
)
from distlib.testing.broken import EagerCoordinator, ForgetfulParticipant
from distlib.testing.nemesis import Nemesis

PARTS = ("p1", "p2", "p3")


def sends(actions):
    return [a for a in actions if isinstance(a, Send)]


def notes(actions):
    return [a.text for a in actions if isinstance(a, Note)]


def participant(name="p1", **config):
    node = Participant(**config).attach(
        id=name, peers=("coordinator", *[p for p in PARTS if p != name])
    )
    node.on_start()
    node.take_actions()
    return node


def coordinator(**config):
    node = Coordinator(**config).attach(id="coordinator", peers=PARTS)
    node.on_start()
    node.take_actions()
    return node


# --------------------------------------------------------------------------------------------
# Participant handlers


def test_yes_vote_is_logged_with_the_writes_before_it_is_sent():
    """BHG §7.3: a participant forces its prepared record (with the writes) before voting yes."""
    p = participant()
    p.on_message("coordinator", Prepare("t1", PARTS, (("x", 1),)))
    actions = p.take_actions()
    assert Send("coordinator", Vote("t1", True)) in actions, f"expected a yes vote, got {actions}"
    record = p.storage["prepared"].get("t1")
    assert record is not None, "the yes vote left without a prepared record in storage"
    assert record["writes"] == (("x", 1),) and record["participants"] == PARTS
    assert p.storage["vote"]["t1"] is True
    assert "t1" not in p.storage["decision"], "a prepared participant must not have decided yet"


def test_no_vote_is_a_unilateral_abort():
    """BHG §7.3: a participant voting no aborts at once and logs it."""
    p = participant(refuse={"t1"})
    p.on_message("coordinator", Prepare("t1", PARTS))
    assert Send("coordinator", Vote("t1", False)) in p.take_actions()
    assert p.storage["decision"]["t1"] == "abort"
    assert "t1" not in p.storage["prepared"], "a no voter keeps no prepared record"


def test_repeated_prepare_gets_the_same_vote():
    """A duplicated Prepare is answered with the vote already logged, not a new one."""
    p = participant(no_rate=0.5)
    p.on_message("coordinator", Prepare("t1", PARTS))
    first = [a.msg for a in sends(p.take_actions())]
    for _ in range(20):
        p.on_message("coordinator", Prepare("t1", PARTS))
        again = [a.msg for a in sends(p.take_actions())]
        assert again == first, f"the vote changed from {first} to {again}"


def test_commit_applies_the_prepared_writes_and_acknowledges():
    """Phase 2 (BHG §7.3): on commit a participant applies its writes, logs, and acks."""
    p = participant()
    p.on_message("coordinator", Prepare("t1", PARTS, (("x", 1), ("y", 2))))
    p.take_actions()
    p.on_message("coordinator", Decision("t1", True))
    actions = p.take_actions()
    assert p.storage["data"] == {"x": 1, "y": 2}
    assert p.storage["decision"]["t1"] == "commit"
    assert Send("coordinator", Ack("t1")) in actions


def test_abort_discards_the_writes():
    """Phase 2: on abort nothing of the transaction reaches the data."""
    p = participant()
    p.on_message("coordinator", Prepare("t1", PARTS, (("x", 1),)))
    p.on_message("coordinator", Decision("t1", False))
    assert p.storage["data"] == {}
    assert p.storage["decision"]["t1"] == "abort"


def test_prepared_participant_asks_the_coordinator_then_everyone():
    """BHG §7.3 termination: an uncertain participant asks the coordinator, then its peers, and
    the blocking window shows as a note."""
    p = participant()
    p.on_message("coordinator", Prepare("t1", PARTS))
    actions = p.take_actions()
    assert SetTimer("ask t1", p.ask_after, ("ask", "t1")) in actions
    p.on_timer("ask t1", ("ask", "t1"))
    first = [a.dst for a in sends(p.take_actions())]
    assert first == ["coordinator"], f"first question goes to the coordinator only, not {first}"
    p.on_timer("ask t1", ("ask", "t1"))
    actions = p.take_actions()
    assert sorted(a.dst for a in sends(actions)) == ["coordinator", "p2", "p3"]
    assert "blocked: prepared, coordinator unreachable" in notes(actions)


def test_uncertain_participant_answers_uncertain():
    """BHG §7.3 cooperative termination: a prepared participant cannot help another one."""
    p = participant()
    p.on_message("coordinator", Prepare("t1", PARTS))
    p.take_actions()
    p.on_message("p2", DecisionRequest("t1", PARTS))
    assert sends(p.take_actions()) == [Send("p2", Uncertain("t1"))]


def test_participant_that_has_not_voted_answers_abort_and_votes_no_later():
    """BHG §7.3 cooperative termination: a participant that has not voted may abort, and then
    votes no when the Prepare finally arrives."""
    p = participant()
    p.on_message("p2", DecisionRequest("t1", PARTS))
    assert sends(p.take_actions()) == [Send("p2", Decision("t1", False))]
    assert p.storage["decision"]["t1"] == "abort"
    p.on_message("coordinator", Prepare("t1", PARTS))
    assert Send("coordinator", Vote("t1", False)) in p.take_actions()


def test_decided_participant_tells_the_decision_to_an_asking_peer():
    """BHG §7.3 cooperative termination: anyone who knows the decision answers with it."""
    p = participant()
    p.on_message("coordinator", Prepare("t1", PARTS))
    p.on_message("coordinator", Decision("t1", True))
    p.take_actions()
    p.on_message("p3", DecisionRequest("t1", PARTS))
    assert sends(p.take_actions()) == [Send("p3", Decision("t1", True))]


def test_every_uncertain_peer_makes_the_block_visible():
    """Gray-Lamport §1: when all participants are prepared and uncertain, 2PC blocks."""
    p = participant()
    p.on_message("coordinator", Prepare("t1", PARTS))
    p.take_actions()
    p.on_message("p2", Uncertain("t1"))
    assert "blocked: every participant is prepared and uncertain" not in notes(p.take_actions())
    p.on_message("p3", Uncertain("t1"))
    assert "blocked: every participant is prepared and uncertain" in notes(p.take_actions())


def test_participant_recovery_asks_about_prepared_transactions():
    """BHG §7.4: after a restart, a participant with "prepared" and no decision asks at once."""
    p = participant()
    p.on_message("coordinator", Prepare("t1", PARTS))
    storage = p.storage
    again = Participant().attach(id="p1", peers=("coordinator", "p2", "p3"), storage=storage)
    again.on_start()
    actions = again.take_actions()
    assert SetTimer("ask t1", 0.0, ("ask", "t1")) in actions, (
        f"expected an immediate question, got {actions}"
    )
    assert "recovered: prepared, asking for the decision" in notes(actions)


def test_forgetful_participant_loses_its_prepared_record_in_a_crash():
    """The broken ForgetfulParticipant keeps the redo record in memory: after a restart it
    cannot commit (BHG §7.3 requires the record in stable storage)."""
    p = ForgetfulParticipant().attach(id="p1", peers=("coordinator", "p2", "p3"))
    p.on_start()
    p.on_message("coordinator", Prepare("t1", PARTS, (("x", 1),)))
    again = ForgetfulParticipant().attach(
        id="p1", peers=("coordinator", "p2", "p3"), storage=p.storage
    )
    again.on_start()
    again.on_message("coordinator", Decision("t1", True))
    assert again.storage["decision"]["t1"] == "abort", "it should have lost the ability to commit"


# --------------------------------------------------------------------------------------------
# Coordinator handlers


def test_coordinator_logs_begin_and_sends_each_participant_its_writes():
    """Phase 1 (Gray 1978): the participant list is logged, then each gets a Prepare."""
    c = coordinator()
    c.on_message("client", TxRequest("t1", (("p1", "x", 1), ("p2", "y", 2))))
    out = {a.dst: a.msg for a in sends(c.take_actions())}
    assert c.storage["begin"]["t1"] == PARTS
    assert out == {
        "p1": Prepare("t1", PARTS, (("x", 1),)),
        "p2": Prepare("t1", PARTS, (("y", 2),)),
        "p3": Prepare("t1", PARTS, ()),
    }


def test_coordinator_commits_only_with_every_yes_vote():
    """BHG §7.3 AC2: commit is decided when, and only when, all participants voted yes."""
    c = coordinator()
    c.on_message("client", TxRequest("t1"))
    c.take_actions()
    c.on_message("p1", Vote("t1", True))
    c.on_message("p2", Vote("t1", True))
    assert "t1" not in c.storage["decision"], "decided before the last vote"
    c.on_message("p3", Vote("t1", True))
    actions = c.take_actions()
    assert c.storage["decision"]["t1"] == "commit"
    assert Send("client", TxResult("t1", True)) in actions
    assert {a.dst for a in sends(actions) if isinstance(a.msg, Decision)} == set(PARTS)


def test_one_no_vote_aborts():
    """BHG §7.3: a single no vote decides abort, without waiting for the others."""
    c = coordinator()
    c.on_message("client", TxRequest("t1"))
    c.on_message("p2", Vote("t1", False))
    assert c.storage["decision"]["t1"] == "abort"
    assert Send("p1", Decision("t1", False)) in c.take_actions()


def test_decide_is_the_rule_and_nothing_else():
    """The decision rule as a pure method: commit iff all yes, abort on any no, else wait."""
    c = coordinator()
    assert c.decide("t", {"p1": True, "p2": True, "p3": True}, PARTS) is True
    assert c.decide("t", {"p1": True, "p2": False}, PARTS) is False
    assert c.decide("t", {"p1": True, "p2": True}, PARTS) is None
    assert EagerCoordinator().decide("t", {"p1": True, "p2": True}, PARTS) is True, (
        "the broken EagerCoordinator should commit on a majority"
    )


def test_vote_timeout_aborts():
    """BHG §7.3: a coordinator missing votes past its timeout decides abort."""
    c = coordinator(vote_timeout=0.3)
    c.on_message("client", TxRequest("t1"))
    c.on_message("p1", Vote("t1", True))
    c.take_actions()
    c.context.now = 0.1
    c.on_timer("prepare t1", ("prepare", "t1"))
    resent = sorted(a.dst for a in sends(c.take_actions()))
    assert resent == ["p2", "p3"], f"Prepare should be re-sent to the missing voters, not {resent}"
    c.context.now = 0.31
    c.on_timer("prepare t1", ("prepare", "t1"))
    assert c.storage["decision"]["t1"] == "abort"


def test_coordinator_recovery_aborts_undecided_and_resends_decided():
    """BHG §7.4: on restart, begun-but-undecided transactions abort; decisions are re-sent."""
    c = coordinator()
    c.on_message("client", TxRequest("t1"))
    c.on_message("client", TxRequest("t2"))
    c.on_message("p1", Vote("t2", False))
    again = Coordinator().attach(id="coordinator", peers=PARTS, storage=c.storage)
    again.on_start()
    actions = again.take_actions()
    assert again.storage["decision"] == {"t1": "abort", "t2": "abort"}
    told = {(a.dst, a.msg.tx) for a in sends(actions) if isinstance(a.msg, Decision)}
    assert told == {(p, tx) for p in PARTS for tx in ("t1", "t2")}


def test_unknown_transaction_is_presumed_aborted():
    """A coordinator asked about a transaction it never began answers abort and logs it."""
    c = coordinator()
    c.on_message("p1", DecisionRequest("ghost", PARTS))
    assert Send("p1", Decision("ghost", False)) in c.take_actions()
    assert c.storage["decision"]["ghost"] == "abort"
    c.on_message("client", TxRequest("ghost"))
    assert Send("client", TxResult("ghost", False)) in c.take_actions()


# --------------------------------------------------------------------------------------------
# Scripted runs


def system(
    seed=0,
    *,
    coordinator_cls=Coordinator,
    participant_cls=Participant,
    txs=1,
    trace=True,
    latency=None,
    no_rate=0.0,
    client_timeout=2.0,
    **disk,
):
    sim = Simulation(seed=seed, latency=latency or Uniform(0.001, 0.01), trace=trace, **disk)
    sim.add_node("coordinator", coordinator_cls)
    sim.add_nodes(PARTS, lambda: participant_cls(no_rate=no_rate))
    work = [[("p1", "x", i), ("p2", "y", i)] for i in range(txs)]
    sim.add_client("client", lambda: TxClient(work, timeout=client_timeout))
    return sim


def all_decided(sim) -> bool:
    """Every transaction the coordinator began is decided by the coordinator and participants."""
    begun = sim.storage("coordinator").get("begin", {})
    for tx, parts in begun.items():
        for name in ("coordinator", *parts):
            if tx not in sim.storage(name).get("decision", {}):
                return False
    return True


def test_fault_free_run_commits_and_records_a_history():
    """Without faults every transaction commits, the writes land, and the client's history says
    "committed" for each."""
    sim = system(txs=3)
    sim.run(until=2.0)
    assert [op.output for op in sim.history] == ["committed"] * 3, sim.history.listing()
    assert sim.storage("p1")["data"] == {"x": 2} and sim.storage("p2")["data"] == {"y": 2}
    check_twophase(sim).assert_ok()


def test_a_no_vote_reaches_the_client_as_a_failed_operation():
    """An aborted transaction ends with status "fail" (it definitely had no effect)."""
    sim = Simulation(seed=1, latency=Uniform(0.001, 0.01))
    sim.add_node("coordinator", Coordinator)
    sim.add_nodes(PARTS, lambda: Participant(refuse={"client.0"}))
    sim.add_client("client", lambda: TxClient([[("p1", "x", 1)]]))
    sim.run(until=1.0)
    (op,) = sim.history
    assert (op.status, op.output) == ("fail", "aborted"), str(op)
    assert sim.storage("p1")["data"] == {}


def test_prepared_participants_block_while_the_coordinator_is_away():
    """Gray-Lamport §1: with every participant prepared and the coordinator cut off, nobody
    decides (the blocking window, noted in the trace); once it returns, everyone decides."""
    sim = system(latency=0.01)
    sim.at(0.025, sim.isolate, "coordinator")  # after the Prepares arrive, before the votes
    sim.run(until=1.0)
    undecided = [p for p in PARTS if sim.storage(p)["decision"]]
    assert undecided == [], f"{undecided} decided while the coordinator was unreachable"
    texts = {text for _, _, text, _ in sim.trace.notes()}
    assert "blocked: prepared, coordinator unreachable" in texts
    assert "blocked: every participant is prepared and uncertain" in texts
    sim.reconnect("coordinator")
    assert sim.run(until=lambda: all_decided(sim), limit=3.0), "nobody decided after reconnecting"
    check_twophase(sim).assert_ok()


def test_cooperative_termination_spreads_a_decision_without_the_coordinator():
    """BHG §7.3: if only p1 got the decision and the coordinator then crashed, p2 and p3 learn it
    from p1."""
    sim = system(latency=0.01)  # request at 0.01, Prepares at 0.02, votes and decision at 0.03
    sim.at(0.035, sim.cut, "coordinator", "p2")  # the Decision to p2 and p3 is lost in flight
    sim.at(0.035, sim.cut, "coordinator", "p3")
    sim.at(0.045, sim.crash, "coordinator")
    sim.run(until=0.05)
    decided = {p: sim.storage(p)["decision"].get("client.0") for p in PARTS}
    assert decided == {"p1": "commit", "p2": None, "p3": None}, f"unexpected setup: {decided}"
    assert sim.run(until=lambda: all(sim.storage(p).get("decision") for p in PARTS), limit=2.0), (
        "p2 and p3 should have learned the decision from p1"
    )
    assert {sim.storage(p)["decision"]["client.0"] for p in PARTS} == {"commit"}


def test_a_participant_that_never_voted_lets_the_others_abort():
    """BHG §7.3: a participant that has not voted may abort, so prepared peers asking it can
    abort without the coordinator."""
    sim = system(latency=0.01)
    sim.cut("coordinator", "p3")  # p3 never hears the Prepare
    sim.at(0.025, sim.crash, "coordinator")
    assert sim.run(until=lambda: all(sim.storage(p).get("decision") for p in PARTS), limit=2.0)
    assert {sim.storage(p)["decision"]["client.0"] for p in PARTS} == {"abort"}


def test_coordinator_crash_after_deciding_is_recovered_from_the_log():
    """BHG §7.4: a coordinator that crashed after logging commit re-sends it on restart."""
    sim = system(latency=0.01)
    for p in PARTS:
        sim.at(0.035, sim.cut, "coordinator", p)  # every Decision is lost in flight
    sim.at(0.04, sim.crash, "coordinator")
    sim.run(until=0.05)
    assert sim.storage("coordinator")["decision"] == {"client.0": "commit"}
    assert not any(sim.storage(p)["decision"] for p in PARTS)
    sim.heal()
    sim.run(until=0.5)
    assert not any(sim.storage(p)["decision"] for p in PARTS), "decided without the coordinator"
    sim.restart("coordinator")
    assert sim.run(until=lambda: all_decided(sim), limit=2.0)
    assert {sim.storage(p)["decision"]["client.0"] for p in PARTS} == {"commit"}
    texts = [text for _, node, text, _ in sim.trace.notes("coordinator")]
    assert "recovered: re-sending decision" in texts


# --------------------------------------------------------------------------------------------
# Random faults: 500 seeded runs


RUNS = 500


def faulty_run(
    seed,
    *,
    coordinator_cls=Coordinator,
    participant_cls=Participant,
    crashes=3,
    trace=False,
    **disk,
):
    sim = system(
        seed,
        coordinator_cls=coordinator_cls,
        participant_cls=participant_cls,
        txs=3,
        trace=trace,
        no_rate=0.1,
        client_timeout=0.5,
        **disk,
    )
    nemesis = Nemesis(until=0.8, crashes=crashes)
    nemesis.install(sim)
    sim.run(until=nemesis.heal_time)
    live = sim.run(until=lambda: all_decided(sim), limit=nemesis.heal_time + 3.0)
    return sim, live


@pytest.fixture(scope="module")
def random_runs():
    return [(seed, *faulty_run(seed)) for seed in range(RUNS)]


def test_atomicity_and_commit_validity_hold_under_random_faults(random_runs):
    """Gray 1978; BHG §7.2: over 500 seeded runs with loss, duplication, reordering,
    partitions and crashes, all nodes agree and no commit lacks a yes vote."""
    for seed, sim, _ in random_runs:
        result = check_twophase(sim)
        assert result.ok, f"seed {seed}: {result}"


def test_every_transaction_decides_after_healing(random_runs):
    """Liveness: once the network heals and every node is back, every begun transaction is
    decided everywhere (BHG §7.3: 2PC blocks only while failures last)."""
    stuck = [seed for seed, _, live in random_runs if not live]
    assert not stuck, f"transactions stayed undecided after healing with seeds {stuck[:10]}"


def test_random_runs_exercise_commits_aborts_and_blocking(random_runs):
    """The random runs are not trivial: they include commits, and aborts of prepared
    participants."""
    outcomes = {
        o for _, sim, _ in random_runs for o in sim.storage("coordinator")["decision"].values()
    }
    assert outcomes == {"commit", "abort"}, f"only {outcomes} happened in {RUNS} runs"
    yes_then_abort = sum(
        1
        for _, sim, _ in random_runs
        for p in PARTS
        for tx, yes in sim.storage(p)["vote"].items()
        if yes and sim.storage(p)["decision"].get(tx) == "abort"
    )
    assert yes_then_abort > 0, "no prepared participant was ever aborted: faults too weak?"


def find_violation(**kw):
    for seed in range(300):
        sim, _ = faulty_run(seed, **kw)
        result = check_atomicity(sim)
        if not result.ok:
            return seed, result
    return None


def test_checker_catches_the_eager_coordinator():
    """A coordinator committing on a majority of yes votes is caught within 300 seeds."""
    found = find_violation(coordinator_cls=EagerCoordinator)
    assert found is not None, "EagerCoordinator broke atomicity on no seed: the checker is blind"


def test_checker_catches_the_forgetful_participant():
    """A participant keeping its prepared state in memory is caught within 300 seeds."""
    found = find_violation(participant_cls=ForgetfulParticipant, crashes=6)
    assert found is not None, "ForgetfulParticipant never broke atomicity: the checker is blind"
    _, result = found
    assert "decided differently" in result.explanation


def test_same_seed_same_run():
    """A faulty run is reproducible: the same seed gives the same trace, event for event."""
    a, _ = faulty_run(11, trace=True)
    b, _ = faulty_run(11, trace=True)
    assert a.trace.listing() == b.trace.listing()


def test_participant_rules_return_their_reply_and_send_nothing():
    """BHG §7.3 as pure rules: handle_prepare returns the vote (logged first, the same vote for
    a repeated Prepare), handle_decision_request the answer to a peer; neither sends."""
    from distlib.testing.unit import boot

    p = boot(lambda: Participant(refuse={"t2"}), "p1", peers=("coordinator", "p2"))
    p.take_actions()
    parts = ("p1", "p2")
    assert p.handle_prepare("coordinator", Prepare("t1", parts, (("A", 1),))) == Vote("t1", True)
    assert p.load_prepared("t1") is not None and p.storage["vote"]["t1"] is True
    assert p.handle_prepare("coordinator", Prepare("t1", parts)) == Vote("t1", True)
    assert p.handle_prepare("coordinator", Prepare("t2", parts)) == Vote("t2", False)
    assert p.decision("t2") == "abort"
    assert p.handle_decision_request(DecisionRequest("t1", parts)) == Uncertain("t1")
    assert p.handle_decision_request(DecisionRequest("t2", parts)) == Decision("t2", False)
    assert p.handle_decision_request(DecisionRequest("t9", parts)) == Decision("t9", False)
    assert p.decision("t9") == "abort", "a peer's question aborts a transaction not voted on"
    assert not [x for x in p.take_actions() if isinstance(x, Send)], "a rule must not send"


class UnsyncedParticipant(Participant):
    """WRONG on purpose: logs its vote and prepared record but never syncs them."""

    def sync(self):
        pass


def test_atomicity_holds_when_a_crash_keeps_only_synced_writes():
    """BHG §7.3 (force the log before voting) on a disk that keeps only synced writes: the
    reference stays atomic over 100 faulty runs; a participant that never syncs does not."""
    for seed in range(100):
        sim, _ = faulty_run(seed, trace=True, durability="sync", torn=0.5)
        assert check_twophase(sim).ok, f"seed {seed}: {check_twophase(sim)}"
    broken = [
        seed
        for seed in range(100)
        if not check_twophase(
            faulty_run(
                seed, participant_cls=UnsyncedParticipant, crashes=8, trace=True, durability="sync"
            )[0]
        ).ok
    ]
    assert broken, "a participant that never syncs survived 100 crash-heavy runs"
