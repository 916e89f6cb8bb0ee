"""Simulation testing in bulk (distlib.testing.sweep): every protocol's standard scenario passes
a seed sweep under every nemesis with safety and liveness checked, every broken variant is
found, replays identically and shrinks, and the workers give what a single process gives."""

from __future__ import annotations

import functools

import pytest

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
