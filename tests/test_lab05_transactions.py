"""Tests of distlib.labs.lab05_transactions: Lab 5's two-phase commit experiments."""

from __future__ import annotations

import pytest

from distlib.check.consensus import check_twophase
from distlib.labs.lab05_transactions import (
    SCENARIOS,
    LockingParticipant,
    blocked_intervals,
    blocking_run,
    boot,
    build_system,
    check_run,
    check_runs,
    decisions,
    everyone_decided,
    faulty_run,
    first_seeds,
    message_counts,
    participants,
    recovery_run,
    sent,
    termination_run,
)
from distlib.protocols.twophase import (
    Decision,
    Prepare,
    Vote,
)
from distlib.testing.broken import EagerCoordinator, ForgetfulParticipant

PROTOCOL = ("Prepare", "Vote", "Decision", "Ack")


def test_participant_names_and_bad_counts():
    """Participants are p1..pn; a transaction without participants is refused."""
    assert participants(3) == ("p1", "p2", "p3")
    with pytest.raises(ValueError, match="at least one participant"):
        participants(0)


def test_default_system_commits_the_transfer():
    """The fault-free transfer commits everywhere and writes A at p1 and B at p2."""
    sim = build_system()
    sim.run(until=1.0)
    assert set(decisions(sim).values()) == {"commit"}, decisions(sim)
    assert sim.storage("p1")["data"] == {"A": 50} and sim.storage("p2")["data"] == {"B": 150}
    assert everyone_decided(sim)
    check_twophase(sim).assert_ok()


@pytest.mark.parametrize("n", [1, 2, 4])
def test_message_count_is_four_per_participant(n):
    """Gray 1978: Prepare, Vote, Decision and Ack once per participant: 4n messages."""
    counts = message_counts(n)
    assert sum(counts[k] for k in PROTOCOL) == 4 * n, dict(counts)
    assert counts["TxRequest"] == counts["TxResult"] == 1


def test_boot_and_sent_feed_a_node_by_hand():
    """boot() attaches and starts a node; sent() lists the messages among its actions."""
    p = boot(LockingParticipant, "p1", peers=("coordinator", "p2"))
    p.take_actions()
    p.on_message("coordinator", Prepare("t1", ("p1", "p2"), (("A", 1),)))
    assert sent(p.take_actions()) == [("coordinator", Vote("t1", True))]
    again = boot(LockingParticipant, "p1", peers=("coordinator", "p2"), storage=p.storage)
    assert again.load_prepared("t1") is not None, "boot with an old storage plays a restart"


def test_locking_participant_refuses_a_locked_key_until_the_outcome():
    """BHG §7.3: a prepared participant keeps its locks: a second transaction on the same key
    gets a no vote until the first is decided, then a yes."""
    p = boot(LockingParticipant, "p1", peers=("coordinator", "p2"))
    p.on_message("coordinator", Prepare("t1", ("p1",), (("A", 1),)))
    p.on_message("coordinator", Prepare("t2", ("p1",), (("B", 1),)))
    p.on_message("coordinator", Prepare("t3", ("p1",), (("A", 2),)))
    votes = [m for _, m in sent(p.take_actions())]
    assert votes == [Vote("t1", True), Vote("t2", True), Vote("t3", False)], votes
    p.on_message("coordinator", Decision("t1", True))
    p.on_message("coordinator", Prepare("t4", ("p1",), (("A", 3),)))
    assert ("coordinator", Vote("t4", True)) in sent(p.take_actions())


def test_blocking_lasts_as_long_as_the_coordinator_is_down():
    """Gray-Lamport §1: participants prepared when the coordinator crashed stay undecided until
    it returns, and meanwhile other transactions on their keys are refused."""
    result = blocking_run(down_for=0.5, until=1.0)
    crash, restart = result.down
    assert set(result.blocked) == {"p1", "p2"}
    for p, (start, end) in result.blocked.items():
        assert start < crash and end is not None and end >= restart, (p, start, end)
    during = [ok for t, ok in result.others if crash < t < restart - 0.1]
    after = [ok for t, ok in result.others if t > restart + 0.05 and ok is not None]
    assert during and not any(during), f"transactions on A committed during the block: {during}"
    assert after and all(after), f"transactions on A still failed after the restart: {after}"


def test_a_coordinator_that_never_returns_blocks_for_ever():
    """Without the coordinator, the prepared participants never decide."""
    result = blocking_run(down_for=None, until=1.0, others=0)
    assert all(end is None for _, end in result.blocked.values()), result.blocked


def test_blocked_intervals_of_a_fault_free_run_are_short():
    """Without faults a participant is uncertain for about one round trip."""
    sim = build_system(n=3)
    sim.run(until=1.0)
    intervals = blocked_intervals(sim)
    assert set(intervals) == {"p1", "p2", "p3"}
    assert all(end - start <= 0.03 for start, end in intervals.values()), intervals


@pytest.mark.parametrize(
    "scenario, outcome, settled_before_restart",
    [
        ("one participant knows", "commit", True),
        ("one participant never voted", "abort", True),
        ("everyone is uncertain", "abort", False),
    ],
)
def test_cooperative_termination_scenarios(scenario, outcome, settled_before_restart):
    """BHG §7.3: peers settle the outcome when one knows it or one has not voted; when every
    participant is uncertain they wait for the coordinator (restarting at 1.5 s)."""
    sim = termination_run(scenario)
    assert set(decisions(sim).values()) == {outcome}, decisions(sim)
    last = max(end for _, end in blocked_intervals(sim).values())
    assert (last < 1.5) == settled_before_restart, f"{scenario}: last decided at {last}"
    check_twophase(sim).assert_ok()


def test_unknown_scenario_is_named():
    """A misspelt scenario lists the known ones."""
    with pytest.raises(ValueError, match="everyone is uncertain"):
        termination_run("nobody knows")
    assert len(SCENARIOS) == 3


@pytest.mark.parametrize(
    "when, outcome", [("before decision", "abort"), ("after decision", "commit")]
)
def test_coordinator_recovery_from_its_log(when, outcome):
    """BHG §7.4: undecided transactions abort on restart; logged decisions are re-sent."""
    sim = recovery_run(when)
    assert set(decisions(sim).values()) == {outcome}, decisions(sim)
    with pytest.raises(ValueError, match="before decision"):
        recovery_run("during lunch")


def test_library_nodes_pass_the_seeded_fault_runs():
    """The reference coordinator and participants keep atomicity, validity, liveness after
    healing and their data over 100 seeded faulty runs."""
    assert check_runs(range(100)) == []


def test_broken_nodes_are_caught():
    """The checker and the data check catch an eager coordinator and a forgetful participant."""
    eager = check_runs(range(50), coordinator=EagerCoordinator)
    forgetful = check_runs(range(50), participant=ForgetfulParticipant, crashes=6)
    assert eager and "VIOLATED" in eager[0][1]
    assert forgetful and "decided differently" in forgetful[0][1]
    assert first_seeds(eager, 2) == sorted(set(first_seeds(eager, 2)))


def test_check_run_reports_missing_and_leftover_writes():
    """A committed write missing from the data, or an aborted one present, is reported."""
    sim, live = faulty_run(3, crashes=0, no_rate=0.0)
    assert live and check_run(sim) == []
    data = sim.storage("p1")["data"]
    data.pop(next(iter(data)))
    problems = check_run(sim)
    assert any("lacks the write" in p for p in problems), problems
    sim, _ = faulty_run(3, crashes=0, no_rate=1.0)
    sim.storage("p2")["data"]["y0"] = 0
    problems = check_run(sim)
    assert any("aborted client.0 but its data holds" in p for p in problems), problems


def test_faulty_runs_are_reproducible():
    """The same seed gives the same trace."""
    a, _ = faulty_run(7)
    b, _ = faulty_run(7)
    assert a.trace.listing() == b.trace.listing()
