"""Simulation testing in bulk (distlib.testing.sweep): every protocol's standard scenario passes
a seed sweep under every nemesis with safety and liveness checked, every broken variant is
found, replays identically and shrinks, and the workers give what a single process gives."""

from __future__ import annotations

import functools

import pytest

from distlib.protocols.raft import RaftNode
from distlib.testing import broken
from distlib.testing.sweep import (
    STANDARD,
    paxos_scenario,
    raft_scenario,
    shrink,
    sweep,
    twophase_scenario,
)

#: The fault kinds of the standard nemesis that a sweep must reach (its faults must bite).
FAULTS = {
    "fault:partition",
    "fault:one-way",
    "fault:bridge",
    "fault:link-down",
    "fault:clog",
    "fault:slow",
    "fault:crash",
    "fault:crash-point",
    "fault:drift",
    "fault:jump",
}

SEEDS = {"raft": 40, "paxos": 120, "multipaxos": 40, "twophase": 80}


@pytest.mark.parametrize("protocol", sorted(STANDARD))
def test_the_reference_survives_its_standard_sweep(protocol):
    """Safety throughout and progress after the heal, in every run of the standard scenario
    under every nemesis; and every fault kind was reached in some run."""
    report = sweep(STANDARD[protocol], range(SEEDS[protocol]), backend="serial")
    assert not report.failures, report.summary()
    missing = FAULTS - set(report.reached)
    assert not missing, f"{protocol}: the sweep never reached {sorted(missing)}"


BROKEN = {
    "BrokenVoteRaft": functools.partial(raft_scenario, node=broken.BrokenVoteRaft),
    "BootLogRaft": functools.partial(raft_scenario, node=broken.BootLogRaft),
    # Figure 8 needs three leaders in a row to lose their newest entry: more leader churn.
    "BrokenCommitRaft": functools.partial(
        raft_scenario, node=broken.BrokenCommitRaft, n=3, leader_crashes=1.0, until=6.0
    ),
    "UnsyncedRaft": functools.partial(raft_scenario, node=broken.UnsyncedRaft, durability="sync"),
    "ForgetfulAcceptor": functools.partial(paxos_scenario, node=broken.ForgetfulAcceptor),
    "PromiseBreakingAcceptor": functools.partial(
        paxos_scenario, node=broken.PromiseBreakingAcceptor
    ),
    "ValueIgnoringProposer": functools.partial(paxos_scenario, node=broken.ValueIgnoringProposer),
    "EagerCoordinator": functools.partial(twophase_scenario, coordinator=broken.EagerCoordinator),
    "ForgetfulParticipant": functools.partial(
        twophase_scenario, participant=broken.ForgetfulParticipant
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_variant_is_found_replayed_and_shrunk(name):
    """Each deliberately broken node fails some of 150 seeds; the failing run replays with the
    same trace, and shrinking leaves fewer faults that still break it the same way."""
    scenario = BROKEN[name]
    report = sweep(scenario, range(150), backend="serial")
    assert report.failures, f"{name} survived 150 faulty runs"
    first = report.failures[0]
    assert report.deterministic[first.seed], f"{name}: seed {first.seed} diverged on replay"
    shrunk = shrink(scenario, first.seed, max_runs=40)
    assert shrunk.run.outcome.kind == first.kind
    assert shrunk.ratio < 1, f"{name}: nothing could be removed from {len(shrunk.original)}"
    assert f"seed {first.seed}" in shrunk.describe()


def test_worker_processes_give_what_one_process_gives():
    """A sweep on two worker processes returns the same outcomes, fingerprints included, as the
    same sweep in this process: every random choice is seeded."""
    scenario = functools.partial(paxos_scenario, node=broken.ValueIgnoringProposer)
    here = sweep(scenario, range(12), backend="serial", recheck=False)
    there = sweep(scenario, range(12), backend="process", workers=2, recheck=False)
    assert here.outcomes == there.outcomes


def test_a_shrunk_run_draws_and_a_passing_seed_refuses_to_shrink():
    """The shrunk counterexample draws as a space-time diagram; a seed that passes has
    nothing to shrink and says so."""
    import matplotlib

    matplotlib.use("Agg")
    scenario = BROKEN["ValueIgnoringProposer"]
    failing = sweep(scenario, range(40), backend="serial", recheck=False).failures[0]
    shrunk = shrink(scenario, failing.seed, max_runs=20)
    figure = shrunk.diagram()
    assert figure.axes and figure.axes[0].lines, "the shrunk run's diagram is empty"
    with pytest.raises(ValueError, match="passes"):
        shrink(paxos_scenario, 0)


def test_a_sweep_summary_names_failures_and_what_the_faults_reached():
    """The summary lists the failing seeds and how often each fault kind was reached."""
    report = sweep(BROKEN["EagerCoordinator"], range(20), backend="serial")
    text = report.summary()
    assert "failed" in text and f"seed {report.failures[0].seed}" in text
    assert "reached in" in text and "fault:crash" in text


class StallingRaft(RaftNode):
    """A Raft leader that stops advancing its commit index after 1 s of its clock (a test
    double for a livelock: safe, and stuck)."""

    def advance_commit_index(self):
        if self.now < 1.0:
            super().advance_commit_index()


def test_a_liveness_failure_names_the_last_progress_and_what_each_server_holds():
    """Liveness is judged apart from safety, after the heal; its report says when the cluster
    last made progress and each server's role, term, commit index and log length."""
    run = raft_scenario(3, node=StallingRaft, deadline=2.0)
    assert run.outcome.kind == "liveness", run.outcome
    problem = run.outcome.problem
    assert "last progress: commit index" in problem and "at t=0." in problem, problem
    assert "leader@" in problem and "commit " in problem and "/" in problem, problem


def test_a_sweep_counts_the_messages_each_fault_dropped():
    """Fault coverage: every run counts the messages dropped by loss and by each kind of fault
    that blocked a link, and the summary shows the totals; leaders elected during faults are
    reached situations."""
    report = sweep(raft_scenario, range(12), backend="serial")
    dropped = report.dropped
    for cause in ("loss", "partition", "node down"):
        assert dropped[cause] > 0, dict(dropped)
    assert "messages dropped:" in report.summary()
    assert sum(dropped.values()) == sum(n for o in report.outcomes for _, n in o.dropped)
    assert any(r.startswith("leader elected during fault:") for r in report.reached)


class StormingRaft(RaftNode):
    """A Raft server whose heartbeat timer re-arms at delay 0 once it leads (a timer storm that
    never lets simulated time move on)."""

    def on_timer(self, name, *payload):
        if name == "heartbeat" and self.role.name == "LEADER":
            self.set_timer("heartbeat", 0.0)
            return
        super().on_timer(name, *payload)


def test_a_run_that_never_lets_time_move_is_reported_not_hung(monkeypatch):
    """A storm of steps at one instant is cut off by the step budget and reported as an error
    outcome naming the node and its handler, instead of hanging the sweep."""
    from distlib.testing import sweep as sweep_module

    monkeypatch.setattr(sweep_module, "MAX_STEPS", 20_000)
    report = sweep(functools.partial(raft_scenario, node=StormingRaft), [1], backend="serial")
    (outcome,) = report.failures
    assert outcome.kind == "error" and "handler steps" in outcome.problem, outcome
    assert "on_timer" in outcome.problem and "storm" in outcome.problem
