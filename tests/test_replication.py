"""Tests for replicated storage: primary-backup failover (distlib.protocols.primary_backup, read
back by distlib.check.replication) and quorum replication (distlib.protocols.quorum_replication)."""

from __future__ import annotations

import pytest

from distlib import Exponential, Simulation, Uniform
from distlib.check.replication import primary_spans, split_brain
from distlib.labs.lab04_storage import stale_read_rate
from distlib.node import Note, Send
from distlib.protocols.kvstore import ClientPut, ClientReply, KVClient, stale_reads
from distlib.protocols.primary_backup import Entry, Install, PrimaryBackup, Role, Vote, VoteRequest
from distlib.protocols.quorum_replication import QuorumNode, ReadReply, Version, WriteRequest
from distlib.testing.workloads import run_kv
from tests.test_kvstore import linearizable

LATENCY = Uniform(0.001, 0.01)


def _pb_run(seed, setup, *, clients=2, ops=15, **node):
    return run_kv(
        lambda: PrimaryBackup(**node),
        clients=clients,
        ops=ops,
        seed=seed,
        choose="sticky",
        retry=0.2,
        timeout=3.0,
        final_read=True,
        setup=setup,
        latency=LATENCY,
    )


def _sends(node):
    return [a for a in node.take_actions() if isinstance(a, Send)]


# -- primary-backup: single node behaviour ----------------------------------------------------


def test_first_server_is_the_initial_primary():
    """The first server in name order starts as primary of epoch 0 and installs its log."""
    p = PrimaryBackup().attach(id="s1", peers=("s3", "s2"))
    p.on_start()
    actions = p.take_actions()
    assert p.role is Role.PRIMARY and p.epoch == 0
    assert any(isinstance(a, Note) and a.text == "became primary" for a in actions)
    installs = {a.dst for a in actions if isinstance(a, Send) and isinstance(a.msg, Install)}
    assert installs == {"s2", "s3"}, (
        f"the primary should install its log on both backups: {installs}"
    )


def test_backup_redirects_clients_to_the_primary():
    """A backup refuses a client request and names the primary it follows."""
    b = PrimaryBackup().attach(id="s2", peers=("s1", "s3"))
    b.on_start()
    b.take_actions()
    b.on_message("c1", ClientPut(0, "x", 1))
    (reply,) = [a.msg for a in _sends(b)]
    assert reply == ClientReply(0, False, redirect="s1", error="not primary"), reply


def test_vote_once_per_epoch_and_only_for_an_up_to_date_log():
    """Raft §5.2 and §5.4.1: one vote per epoch, and never for a log older than the voter's."""
    b = PrimaryBackup().attach(id="s2", peers=("s1", "s3", "s4", "s5"))
    b.on_start()
    b.storage["log"].extend([Entry("c1", 0, "x", 1), Entry("c1", 1, "x", 2)])
    b.context.now = 1.0  # long after the primary was last heard
    b.take_actions()
    b.on_message("s3", VoteRequest(epoch=1, log_epoch=0, length=1))
    assert [a.msg for a in _sends(b)] == [Vote(1, False)], "s3's log lacks an entry s2 has"
    b.on_message("s4", VoteRequest(epoch=1, log_epoch=0, length=2))
    assert [a.msg for a in _sends(b)] == [Vote(1, True)], "s4's log is as up to date as s2's"
    b.on_message("s5", VoteRequest(epoch=1, log_epoch=0, length=5))
    assert [a.msg for a in _sends(b)] == [Vote(1, False)], "s2 already voted in epoch 1"
    assert b.storage["voted"] == (1, "s4"), "the vote must be durable"


def test_backup_ignores_candidates_while_the_primary_is_alive():
    """Raft dissertation §4.2.3: a server that hears its primary refuses to vote it out."""
    b = PrimaryBackup().attach(id="s2", peers=("s1", "s3"))
    b.on_start()
    b.take_actions()
    b.on_message("s3", VoteRequest(epoch=1, log_epoch=0, length=0))
    assert [a.msg for a in _sends(b)] == [Vote(1, False)]
    assert b.epoch == 0, "a refused candidate must not move the voter's epoch"


def test_primary_backup_rejects_bad_configuration():
    """Unknown failover modes and a timeout shorter than the heartbeat are refused."""
    with pytest.raises(ValueError, match="failover"):
        PrimaryBackup(failover="optimistic")
    with pytest.raises(ValueError, match="exceed the heartbeat"):
        PrimaryBackup(heartbeat=0.5, timeout=0.2)


# -- primary-backup: runs with faults ----------------------------------------------------------


def _crash_primary(sim):
    sim.at(0.1, sim.crash, "s1")


@pytest.mark.parametrize("failover", ["safe", "naive"])
@pytest.mark.parametrize("seed", range(4))
def test_sync_replication_keeps_acknowledged_writes_when_the_primary_crashes(failover, seed):
    """Synchronous replication: after a failover every acknowledged write is still readable."""
    sim = _pb_run(seed, _crash_primary, failover=failover)
    spans = primary_spans(sim.trace)
    assert len({s.node for s in spans}) == 2, f"a backup should have taken over: {spans}"
    assert stale_reads(sim.history) == [], f"stale reads after failover:\n{sim.history.listing()}"
    assert linearizable(sim.history), f"not linearizable:\n{sim.history.listing()}"


def test_async_replication_can_lose_an_acknowledged_write():
    """Asynchronous replication acknowledges early, so a failover loses a write (seed 4)."""
    sim = _pb_run(4, _crash_primary, clients=1, ops=20, sync=False)
    lost = stale_reads(sim.history)
    assert lost, "on seed 4 a read after the failover should miss an acknowledged write"
    assert not linearizable(sim.history)
    sync = _pb_run(4, _crash_primary, clients=1, ops=20, sync=True)
    assert stale_reads(sync.history) == [], "the same run with synchronous replication loses none"


def _chaos(sim):
    """A fixed storm: partitions, crashes and restarts of every server, then calm."""
    sim.network.configure(loss=0.05, duplicate=0.05)
    sim.at(0.10, sim.partition, ["s1"], ["s2", "s3"])
    sim.at(0.50, sim.heal)
    sim.at(0.60, sim.crash, "s2")
    sim.at(0.90, sim.restart, "s2")
    sim.at(1.00, sim.isolate, "s3")
    sim.at(1.40, sim.crash, "s1")
    sim.at(1.50, sim.reconnect, "s3")
    sim.at(1.80, sim.restart, "s1")


@pytest.mark.parametrize("seed", range(4))
def test_safe_sync_replication_is_linearizable_under_chaos(seed):
    """VR §4, Raft §5.4: safe sync failover stays linearizable through a storm of faults."""
    sim = _pb_run(seed, _chaos, clients=3, ops=15)
    assert split_brain(sim.trace) == []
    assert linearizable(sim.history), f"seed {seed}: not linearizable:\n{sim.history.listing()}"
    assert len(primary_spans(sim.trace)) >= 2, "the storm should force at least one failover"


def _split(sim):
    """Cut the primary (and client c1) off from the two backups (and client c2)."""
    sim.at(0.1, sim.partition, ["s1", "c1"], ["s2", "s3", "c2"])
    sim.at(1.0, sim.heal)


def _split_run(seed, failover):
    return run_kv(
        lambda: PrimaryBackup(failover=failover),
        clients=2,
        ops=40,
        think=0.02,
        seed=seed,
        choose="sticky",
        retry=0.2,
        timeout=3.0,
        final_read=True,
        setup=_split,
        latency=LATENCY,
    )


@pytest.mark.parametrize("seed", range(3))
def test_naive_failover_splits_the_brain_under_a_partition(seed):
    """Naive promotion: both sides of a partition have a primary acknowledging writes."""
    sim = _split_run(seed, "naive")
    brains = split_brain(sim.trace)
    assert brains, "naive failover should give two primaries acknowledging writes at once"
    assert set(brains[0].nodes) >= {"s1"}, f"the old primary s1 should be one of them: {brains}"
    assert not linearizable(sim.history), "writes on the losing side should be lost after heal"


@pytest.mark.parametrize("seed", range(3))
def test_safe_failover_has_one_primary_under_a_partition(seed):
    """Safe failover: the minority primary steps down, so only one side accepts writes."""
    sim = _split_run(seed, "safe")
    assert split_brain(sim.trace) == [], f"split brain in safe mode: {split_brain(sim.trace)}"
    reasons = [d.get("reason") for t, n, text, d in sim.trace.notes("s1") if text == "stepped down"]
    assert "lost contact with a majority" in reasons, f"s1 should step down; it noted {reasons}"
    assert linearizable(sim.history), f"not linearizable:\n{sim.history.listing()}"
    assert all(op.status == "ok" for op in sim.history), "every operation completes after heal"


def test_a_primary_that_steps_down_follows_nobody():
    """Raft §5.2: a primary cut off from a majority steps down and does not suspect itself."""
    sim = Simulation(seed=0, latency=LATENCY)
    sim.add_nodes(["s1", "s2", "s3"], lambda: PrimaryBackup())
    sim.at(0.05, sim.isolate, "s1")
    sim.run(until=1.0)
    notes = [text for t, n, text, d in sim.trace.notes("s1")]
    assert "stepped down" in notes, f"s1 should step down when isolated; it noted {notes}"
    assert "suspects s1" not in notes, "a server never suspects itself"
    assert sim.node("s1").primary != "s1", "after stepping down s1 must not follow itself"


def test_old_primary_rejoins_and_catches_up():
    """A crashed primary restarts as a backup and receives the log written in its absence."""

    def setup(sim):
        sim.at(0.1, sim.crash, "s1")
        sim.at(0.8, sim.restart, "s1")

    sim = run_kv(
        lambda: PrimaryBackup(),
        clients=1,
        ops=30,
        think=0.03,
        seed=2,
        choose="sticky",
        retry=0.2,
        timeout=3.0,
        setup=setup,
        latency=LATENCY,
    )
    sim.run(duration=0.5)
    new = next(s.node for s in primary_spans(sim.trace) if s.node != "s1")
    assert sim.node("s1").role is Role.BACKUP
    assert sim.storage("s1")["log"] == sim.storage(new)["log"], (
        "s1's log should match the primary's"
    )
    assert sim.storage("s1")["epoch"] == sim.storage(new)["epoch"]


# -- quorum replication -------------------------------------------------------------------------


def test_read_quorum_waits_for_r_and_takes_the_highest_version():
    """Gifford 1979: decide after R replies, taking the one with the highest version."""
    q = QuorumNode(3, 2, 2)
    old = ReadReply(1, "k", Version(1, "s1"), "old")
    new = ReadReply(1, "k", Version(2, "s2"), "new")
    assert q.read_quorum([old]) is None, "one reply is fewer than R=2"
    assert q.read_quorum([old, new]) is new
    assert q.read_quorum([new, old]) is new
    assert Version(2, "a") > Version(1, "z") and Version(2, "b") > Version(2, "a")


def test_replica_keeps_the_newest_version():
    """Thomas's write rule: a replica never replaces a newer version with an older one."""
    r = QuorumNode(1, 1, 1).attach(id="s1", peers=())
    r.on_start()
    r.on_message("s1", WriteRequest(1, "k", Version(5, "s1"), "five"))
    r.on_message("s1", WriteRequest(2, "k", Version(3, "s1"), "three"))
    assert r.held("k") == (Version(5, "s1"), "five")


def test_quorum_configuration_errors():
    """R or W larger than N, or too few servers for N, are refused with a reason."""
    with pytest.raises(ValueError, match="cannot exceed N"):
        QuorumNode(3, 4, 1)
    with pytest.raises(ValueError, match="positive"):
        QuorumNode(3, 0, 1)
    node = QuorumNode(5, 3, 3).attach(id="s1", peers=("s2",))
    with pytest.raises(ValueError, match="at least 5 servers"):
        node.on_start()


@pytest.mark.parametrize(("n", "r", "w"), [(3, 2, 2), (3, 1, 3), (3, 3, 1), (5, 3, 3)])
@pytest.mark.parametrize("seed", range(3))
def test_overlapping_quorums_give_no_stale_reads(n, r, w, seed):
    """Gifford 1979: with R + W > N a sequential client never reads a stale value."""
    rate = stale_read_rate(n, r, w, seed=seed, ops=120, loss=0.05)
    assert rate == 0.0, f"N={n} R={r} W={w} seed {seed}: {rate:.1%} of reads were stale"


@pytest.mark.parametrize("seed", range(3))
def test_sequential_quorum_history_is_linearizable(seed):
    """Without concurrency or failed writes, R + W > N histories are linearizable too."""
    sim = run_kv(
        lambda: QuorumNode(3, 2, 2),
        servers=["s1", "s2", "s3", "s4"],
        clients=1,
        ops=60,
        keys=["a", "b"],
        seed=seed,
        latency=Uniform(0.001, 0.03),
        timeout=2.0,
    )
    assert all(op.status == "ok" for op in sim.history), "no operation should fail here"
    assert linearizable(sim.history), f"not linearizable:\n{sim.history.listing()}"


def test_a_half_done_write_can_flicker():
    """A write that timed out half-done is seen by one read and missed by the next (seed 2)."""
    sim = run_kv(
        lambda: QuorumNode(3, 1, 3),
        servers=["s1", "s2", "s3", "s4"],
        clients=1,
        ops=40,
        keys=["a", "b"],
        seed=2,
        loss=0.05,
        timeout=2.0,
        latency=Exponential(0.005, 0.001),
    )
    assert any(op.status == "unknown" for op in sim.history), "a write should time out"
    assert stale_reads(sim.history) == [], "no read misses a write that completed"
    assert not linearizable(sim.history), "yet the unknown write is seen, then unseen"


class IgnoresVersions(QuorumNode):
    """A wrong coordinator: it takes the first R replies' first value, whatever its version."""

    def read_quorum(self, replies):
        return replies[0] if len(replies) >= self.r else None


def test_ignoring_versions_is_caught_even_with_overlapping_quorums():
    """A read_quorum that ignores versions gives stale reads though R + W > N."""
    rates = [stale_read_rate(3, 2, 2, seed=s, ops=120, node=IgnoresVersions) for s in range(3)]
    assert max(rates) > 0, "a coordinator that ignores versions should serve a stale read"


def test_read_repair_updates_a_stale_replica():
    """Dynamo §5: a read that finds an older version on a replica writes the newest back."""
    sim = Simulation(seed=0, latency=LATENCY)
    sim.add_nodes(["s1", "s2", "s3"], lambda: QuorumNode(3, 2, 2))
    sim.add_client("c1", lambda: KVClient([("put", ("k", 1))], servers=["s1"], timeout=2.0))
    sim.isolate("s3")
    sim.run(until=0.5)
    assert sim.node("s3").held("k") == (Version(), None), "s3 was isolated during the write"
    sim.reconnect("s3")
    sim.add_client("c2", lambda: KVClient([("get", ("k", None))], servers=["s2"], timeout=2.0))
    sim.run(until=1.0)
    assert sim.history[-1].output == 1
    assert sim.node("s3").held("k")[1] == 1, "read repair should have brought s3 up to date"
    repairs = [e for e in sim.trace.filter("send", type="WriteRequest") if e.msg.rid == 0]
    assert [e.peer for e in repairs] == ["s3"], f"one repair, to s3: {repairs}"


def test_keys_live_on_their_preference_list():
    """With more servers than N, each key is stored on exactly its N preference-list servers."""
    names = [f"s{i}" for i in range(1, 6)]
    sim = run_kv(
        lambda: QuorumNode(3, 2, 2),
        servers=names,
        clients=2,
        ops=20,
        keys=["a", "b", "c", "d"],
        read_fraction=0.0,
        seed=0,
    )
    sim.run(duration=1.0)
    for key in ["a", "b", "c", "d"]:
        holders = {n for n in names if key in sim.storage(n)["data"]}
        expected = set(sim.node("s1").replicas(key))
        assert holders == expected, f"key {key!r} is on {holders}, its replicas are {expected}"


def test_client_get_through_any_coordinator():
    """Any server coordinates a request, including one that is not a replica of the key."""
    sim = Simulation(seed=1, latency=LATENCY)
    names = [f"s{i}" for i in range(1, 6)]
    sim.add_nodes(names, lambda: QuorumNode(3, 2, 2))
    sim.run(until=0.01)
    outsider = next(n for n in names if n not in sim.node("s1").replicas("k"))
    sim.add_client(
        "c1",
        lambda: KVClient(
            [("put", ("k", 9)), ("get", ("k", None))], servers=[outsider], timeout=2.0
        ),
    )
    sim.run(until=1.0)
    assert [op.output for op in sim.history] == [None, 9]
    assert "k" not in sim.storage(outsider)["data"], "the coordinator is not a replica of k"
