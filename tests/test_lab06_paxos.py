"""Tests of distlib.labs.lab06_paxos: Lab 6's Paxos experiments."""

from __future__ import annotations

import math
import statistics

import pytest

from distlib.check.consensus import check_agreement, check_paxos
from distlib.labs.lab06_paxos import (
    NaiveRetryNode,
    acceptance_diagram,
    check_runs,
    cluster,
    crash_run,
    decide,
    disjoint_pairs,
    duel,
    duel_times,
    faulty_run,
    majorities,
    multipaxos_run,
    promise_scenario,
    rounds,
    single_decree,
)
from distlib.protocols.paxos import (
    PaxosNode,
)
from distlib.testing.broken import PromiseBreakingAcceptor, ValueIgnoringProposer


@pytest.mark.parametrize("n", [3, 4, 5, 7])
def test_majorities_always_intersect(n):
    """PMS §2.2: any two majorities of the acceptors share an acceptor."""
    sets = majorities(n)
    assert len(sets) == math.comb(n, n // 2 + 1)
    assert disjoint_pairs(n, n // 2 + 1) == (0, len(sets) ** 2)


def test_smaller_quorums_can_be_disjoint():
    """Quorums of half the acceptors (or fewer) do not always intersect."""
    disjoint, pairs = disjoint_pairs(4, 2)
    assert disjoint == 6 and pairs == 36
    with pytest.raises(ValueError, match="quorum size"):
        disjoint_pairs(3, 4)
    with pytest.raises(ValueError, match="at least one acceptor"):
        majorities(0)


@pytest.mark.parametrize("n", [3, 5])
def test_f_crashes_are_tolerated_and_not_more(n):
    """With n = 2f + 1 acceptors a value is chosen with f of them down, not with f + 1."""
    f = (n - 1) // 2
    assert crash_run(n, f) is not None, f"{n} acceptors with {f} down should decide"
    assert crash_run(n, f + 1) is None, f"{n} acceptors with {f + 1} down cannot decide"
    with pytest.raises(ValueError, match="crash between"):
        crash_run(n, n)


def test_cluster_checks_its_proposers():
    """More proposers than nodes is refused; a fault-free cluster decides its one value."""
    with pytest.raises(ValueError, match="proposers"):
        cluster(n=2, values=("a", "b", "c"))
    sim, nodes = cluster(n=3, values=("only",))
    assert decide(sim, nodes) is not None
    assert {sim.storage(x)["learned"] for x in nodes} == {"only"}


def test_single_decree_message_count_and_delay():
    """PMS §2.2-2.3: (n-1)(n+3) messages with a colocated proposer; chosen after 4 delays."""
    for n in (3, 5):
        counts, chosen = single_decree(n, latency=0.01)
        assert sum(counts.values()) == (n - 1) * (n + 3), dict(counts)
        assert chosen == pytest.approx(0.04)


def test_the_promise_decides_the_scripted_scenario():
    """PMS §2.2 P1a: with correct acceptors only "y" is chosen; an acceptor ignoring its promise
    lets the late Accept(1.0, "x") make "x" chosen too."""
    good = promise_scenario(PaxosNode)
    assert check_agreement(good).ok, str(check_agreement(good))
    assert {good.storage(x)["learned"] for x in good.servers} == {"y"}
    bad = check_agreement(promise_scenario(PromiseBreakingAcceptor))
    assert not bad.ok and "'x' at ballot 1.0" in bad.explanation, str(bad)


def test_acceptance_diagram_marks_acceptances():
    """The diagram labels every acceptance as value@ballot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = acceptance_diagram(promise_scenario(PaxosNode), until=0.14)
    labels = {t.get_text() for t in fig.axes[0].texts}
    plt.close(fig)
    assert {"x@1.0", "y@1.2"} <= labels, labels


def test_naive_retry_is_safe_but_slower_than_back_off():
    """PMS §2.4: proposers retrying at once duel for longer than with random back-off, and
    both stay safe."""
    naive = duel_times(range(30), backoff=False)
    backoff = duel_times(range(30), backoff=True)
    assert all(t is not None for t, _ in naive + backoff)
    assert statistics.median(t for t, _ in naive) > statistics.median(t for t, _ in backoff)
    assert max(r for _, r in naive) > max(r for _, r in backoff)
    sim, _ = duel(1, backoff=False, trace=True)
    check_paxos(sim).assert_ok()
    assert rounds(sim) >= 1


def test_naive_retry_retries_at_once():
    """A pre-empted NaiveRetryNode schedules its next attempt with no delay."""
    from distlib.labs.lab06_paxos import boot

    node = boot(lambda: NaiveRetryNode(value="v"), "n0", peers=("n1", "n2"))
    node.take_actions()
    node.give_up("test")
    timers = [a for a in node.take_actions() if getattr(a, "name", None) == "proposer"]
    assert timers and timers[0].delay == 0.0


@pytest.mark.parametrize("n", [3, 5])
def test_multipaxos_runs_phase_one_once(n):
    """PMS §3: one phase 1 for all commands; then Accept, Accepted and Learn per command,
    chosen two message delays after the leader got it."""
    result = multipaxos_run(n=n, commands=10)
    assert result.counts["Prepare"] + result.counts["Promise"] == 2 * (n - 1)
    assert result.per_command(["Accept", "Accepted", "Learn"]) == 3 * (n - 1)
    assert len(result.decide_delays) == 10
    assert all(d == pytest.approx(0.02) for d in result.decide_delays), result.decide_delays
    assert all(t == pytest.approx(0.04) for t in result.latencies), result.latencies


def test_library_node_passes_the_seeded_fault_runs():
    """PaxosNode keeps agreement, validity and learner agreement, and decides after healing,
    over 100 seeded faulty runs, also with heavy duplication and loss."""
    assert check_runs(range(100)) == []
    assert check_runs(range(100), n=5, proposers=3, spread=0.0, duplicate=0.6, loss=0.4) == []


def test_broken_proposer_is_caught():
    """A proposer ignoring reported values breaks agreement on some of 50 duelling runs."""
    found = check_runs(range(50), node=ValueIgnoringProposer, spread=0.0, liveness=False)
    assert found and "two values were chosen" in found[0][1], found[:1]


def test_faulty_runs_are_reproducible():
    """The same seed gives the same trace."""
    a, _ = faulty_run(4)
    b, _ = faulty_run(4)
    assert a.trace.listing() == b.trace.listing()
