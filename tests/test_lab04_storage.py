"""Tests for distlib.labs.lab04_storage: seeded store runs, failover and partition runs,
stale-read measurements and key movement."""

from __future__ import annotations

from pathlib import Path

import pytest

from distlib.check.replication import primary_spans, split_brain
from distlib.labs.lab04_storage import (
    failover_run,
    movement_table,
    partition_run,
    quorum_run,
    run_kv,
    stale_read_grid,
    stale_read_rate,
)
from distlib.protocols.kvstore import LazyReplicatedStore, SingleServerStore, stale_reads
from distlib.protocols.quorum_replication import QuorumNode
from tests.test_kvstore import linearizable

ROOT = Path(__file__).resolve().parents[1]


# -- run_kv --------------------------------------------------------------------------------------


def test_runs_are_deterministic_and_values_unique():
    """The same seed gives the same history; every written value is distinct."""
    a = run_kv(LazyReplicatedStore, clients=2, ops=10, seed=3)
    b = run_kv(LazyReplicatedStore, clients=2, ops=10, seed=3)
    assert a.history.listing() == b.history.listing()
    written = [op.input for op in a.history if op.f == "write"]
    assert len(written) == len(set(written)) > 0


def test_run_kv_runs_every_client_to_the_end():
    """Each client runs its operations (plus a final read) and writes its own value range."""
    sim = run_kv(SingleServerStore, servers=["s1"], clients=3, ops=5, seed=0, final_read=True)
    by_client = {c: [op for op in sim.history if op.client == c] for c in ("c1", "c2", "c3")}
    assert all(len(ops) == 6 for ops in by_client.values()), {
        c: len(o) for c, o in by_client.items()
    }
    for i, (client, ops) in enumerate(by_client.items(), start=1):
        values = [op.input for op in ops if op.f == "write"]
        assert all(1000 * i < v < 1000 * (i + 1) for v in values), f"{client} wrote {values}"
        assert ops[-1].f == "read", f"{client}'s last operation should be the final read"


def test_run_kv_refuses_bad_sizes():
    """Too many operations per client, or no clients, are refused with the reason."""
    with pytest.raises(ValueError, match="999"):
        run_kv(SingleServerStore, ops=1000)
    with pytest.raises(ValueError, match="clients"):
        run_kv(SingleServerStore, clients=0)


# -- primary-backup under faults -------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(2))
def test_safe_failover_after_a_crash_is_linearizable(seed):
    """Raft §5.2/§5.4.1: a new primary is elected after s1 crashes and no write is lost."""
    sim = failover_run(seed=seed, failover="safe")
    spans = primary_spans(sim.trace)
    assert spans[0].node == "s1" and spans[0].end == pytest.approx(0.15), spans[0]
    assert len(spans) == 2 and spans[1].node != "s1", f"expected one takeover: {spans}"
    assert all(op.status == "ok" for op in sim.history), "every operation completes"
    assert linearizable(sim.history), f"not linearizable:\n{sim.history.listing()}"


def test_async_replication_can_lose_acknowledged_writes():
    """Asynchronous primary-backup acknowledges before copying: a failover loses writes (seed 0)."""
    sim = failover_run(seed=0, failover="naive", sync=False)
    assert not linearizable(sim.history), "the final reads should miss an acknowledged write"
    sync = failover_run(seed=0, failover="naive", sync=True)
    assert linearizable(sync.history), "synchronous replication keeps every acknowledged write"


@pytest.mark.parametrize("seed", range(2))
def test_partition_splits_a_naive_brain_but_not_a_safe_one(seed):
    """Naive failover gives two primaries under a partition; safe failover gives one."""
    naive = partition_run(seed=seed, failover="naive")
    brains = split_brain(naive.trace)
    assert brains and "s1" in brains[0].nodes, f"expected s1 and a rival as primaries: {brains}"
    assert not linearizable(naive.history), "the minority's writes should be lost at the heal"
    safe = partition_run(seed=seed, failover="safe")
    assert split_brain(safe.trace) == [], f"split brain in safe mode: {split_brain(safe.trace)}"
    assert linearizable(safe.history), f"safe mode not linearizable:\n{safe.history.listing()}"


def test_partition_must_start_before_it_heals():
    """A partition that heals before it starts is refused."""
    with pytest.raises(ValueError, match="start before it heals"):
        partition_run(start=1.0, heal=0.5)


# -- quorums -------------------------------------------------------------------------------------


def test_small_quorums_give_stale_reads():
    """Gifford 1979: with R + W <= N some reads miss the latest write (N=3, R=W=1, seed 0)."""
    rate = stale_read_rate(3, 1, 1, seed=0, ops=200)
    assert rate > 0, "R=1, W=1 of N=3 should produce a stale read on seed 0"


def test_stale_read_rate_is_deterministic():
    """The same arguments give the same measured rate."""
    assert stale_read_rate(3, 1, 1, seed=2, ops=100) == stale_read_rate(3, 1, 1, seed=2, ops=100)


def test_quorum_run_survives_crashed_servers_within_its_quorums():
    """N=5, R=2, W=4 with one server down: every operation completes, and none is stale."""
    sim = quorum_run(5, 2, 4, crashed=["s1"], ops=25, seed=1)
    assert len(sim.history) == 25
    failed = [str(op) for op in sim.history if op.status != "ok"]
    assert not failed, f"with 4 of 5 replicas up, R=2 and W=4 should succeed: {failed}"
    assert stale_reads(sim.history) == [], "R + W > N: no stale reads"
    assert linearizable(sim.history), f"not linearizable:\n{sim.history.listing()}"


def test_quorum_run_cannot_write_with_too_few_replicas():
    """Gifford 1979: with two of three replicas down, W=2 writes cannot complete."""
    sim = quorum_run(3, 1, 2, crashed=["s1", "s2"], ops=10, seed=0, read_fraction=0.0)
    assert all(op.status != "ok" for op in sim.history), "no write can reach W=2 replicas"
    with pytest.raises(ValueError, match="do not exist"):
        quorum_run(3, 2, 2, crashed=["s9"])


def test_stale_read_grid_is_zero_exactly_where_quorums_overlap():
    """Gifford 1979: every (R, W) with R + W > N measures 0; R = W = 1 measures some staleness."""
    grid = stale_read_grid(3, seeds=(0,), ops=80, reorder=0.2)
    assert sorted(grid) == [(r, w) for r in (1, 2, 3) for w in (1, 2, 3)]
    overlapping = {rw: v for rw, v in grid.items() if sum(rw) > 3}
    assert all(v == 0.0 for v in overlapping.values()), f"stale with R + W > N: {overlapping}"
    assert grid[(1, 1)] > 0, f"R = W = 1 should show stale reads, grid {grid}"
    with pytest.raises(ValueError, match="seed"):
        stale_read_grid(3, seeds=())


def test_stale_read_rate_takes_a_subclass():
    """A QuorumNode subclass given as node= is the one that runs."""

    class Counting(QuorumNode):
        built = 0

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            Counting.built += 1

    stale_read_rate(3, 2, 2, seed=0, ops=5, node=Counting)
    assert Counting.built == 3, f"expected three servers of the subclass, built {Counting.built}"


# -- consistent hashing ----------------------------------------------------------------------------


def test_movement_table_ring_moves_a_fair_share_and_modulo_moves_most():
    """Karger et al. 1997: a join moves about 1/(n+1) on a ring and about n/(n+1) under % n."""
    rows = movement_table([2, 5, 9], keys=4000)
    assert [row.n for row in rows] == [2, 5, 9]
    for row in rows:
        assert abs(row.ring - row.ideal) < 0.08, f"n={row.n}: ring moved {row.ring:.3f}"
        expected = row.n / (row.n + 1)
        assert abs(row.modulo - expected) < 0.05, f"n={row.n}: modulo moved {row.modulo:.3f}"
    with pytest.raises(ValueError, match="positive"):
        movement_table([0])
