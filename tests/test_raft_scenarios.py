"""The Raft lab's scenario suite (distlib.testing.raft_scenarios) and its harness
(distlib.testing.raft).

Every scenario runs the reference RaftNode in simulated time on several seeds, with the
harness checking Raft's safety properties after every step. The deliberately broken nodes must
fail, each with a report that names the property, the node, the term and the index.
"""

from __future__ import annotations

import pytest

from distlib.labs.lab07_raft import measure_split_votes
from distlib.node import Node
from distlib.protocols.raft import Entry, RaftNode, split_vote_probability
from distlib.testing import raft_scenarios as scenarios
from distlib.testing.broken import BootLogRaft, BrokenCommitRaft, BrokenVoteRaft, UnsyncedRaft
from distlib.testing.raft import RaftCluster, RaftViolation

SEEDS = (1, 2, 3, 4, 5, 6)
#: The randomized fault scenarios are where rare interleavings hide: they get more seeds.
MORE_SEEDS = tuple(range(1, 11))


def _distinct(commands):
    """Committed commands without repeats (a retried command may be committed twice)."""
    return list(dict.fromkeys(commands))


# --------------------------------------------------------------------------------------------
# The reference passes every scenario on every seed.


@pytest.mark.parametrize("seed", SEEDS)
def test_initial_election(seed):
    """§5.2: one leader is elected, the servers agree on its term, and nothing changes idle."""
    c = scenarios.initial_election(seed=seed)
    assert len(c.leaders()) == 1, f"expected one leader, got {c.leaders()}"


@pytest.mark.parametrize("seed", SEEDS)
def test_reelection(seed):
    """§5.2: a leader is re-elected after a failure, and none is elected without a majority."""
    scenarios.reelection(seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_many_elections(seed):
    """§5.2: seven servers with three cut off at random always elect a leader."""
    scenarios.many_elections(seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_basic_agreement(seed):
    """§5.3: commands are committed by every server at indices 1, 2 and 3."""
    c = scenarios.basic_agreement(seed=seed)
    assert c.committed_commands() == [100, 200, 300], c.committed_commands()


@pytest.mark.parametrize("seed", SEEDS)
def test_rpc_bytes(seed):
    """§5.3: each command is sent to each follower about once."""
    scenarios.rpc_bytes(seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_follower_failure(seed):
    """§5.3: the cluster commits without one follower, and not without both."""
    scenarios.follower_failure(seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_leader_failure(seed):
    """§5.2, §5.3: a new leader commits after the leader fails; nothing commits with two gone."""
    scenarios.leader_failure(seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_rejoin_follower(seed):
    """§5.3: a follower that missed entries catches up when it returns."""
    c = scenarios.rejoin_follower(seed=seed)
    got = _distinct(c.committed_commands())
    assert got == list(range(101, 108)), got


@pytest.mark.parametrize("seed", SEEDS)
def test_no_agreement_without_majority(seed):
    """§5.3: nothing commits without a majority; the cluster recovers when it is back."""
    scenarios.no_agreement_without_majority(seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_concurrent_submissions(seed):
    """§5.3: five commands submitted at one instant all commit."""
    scenarios.concurrent_submissions(seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_rejoin_partitioned_leader(seed):
    """§5.3, §5.4.1: a partitioned old leader rejoins and its entries are overwritten."""
    scenarios.rejoin_partitioned_leader(seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_backup(seed):
    """§5.3: followers with 50-entry divergent logs are repaired with few rejections."""
    c = scenarios.backup(seed=seed)
    assert len(c.committed_commands()) == 1 + 50 + 50 + 1, len(c.committed_commands())


@pytest.mark.parametrize("seed", SEEDS)
def test_message_counts(seed):
    """§5.2, §5.3: an election, ten entries and an idle second cost bounded messages."""
    scenarios.message_counts(seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_persist_all_crash(seed):
    """Figure 2: crashes of all servers, of the leader and of a follower lose nothing."""
    c = scenarios.persist_all_crash(seed=seed)
    got = _distinct(c.committed_commands())
    assert got == [11, 12, 13, 14, 15, 16], got


@pytest.mark.parametrize("seed", SEEDS)
def test_persist_churn(seed):
    """Figure 2: repeated crashes of minorities and majorities of five servers lose nothing."""
    scenarios.persist_churn(seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_persist_partitioned_leader(seed):
    """Figure 2: a crashed leader restarts while a partitioned follower returns."""
    scenarios.persist_partitioned_leader(seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_persist_vote(seed):
    """Figure 2: a restarted server does not vote twice in one term."""
    scenarios.persist_vote(seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_stale_candidate(seed):
    """§5.4.1: a stale server with a high term cannot win the vote of an up-to-date follower."""
    scenarios.stale_candidate(seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_figure8_scripted(seed):
    """§5.4.2: an old-term entry on a majority is not committed and may be overwritten."""
    c = scenarios.figure8_scripted(seed=seed)
    assert c.committed_commands()[:2] == ["first", "B"], c.committed_commands()


@pytest.mark.parametrize("seed", MORE_SEEDS)
def test_figure8(seed):
    """§5.4: a thousand rounds of leader crashes at random moments keep every server safe."""
    c = scenarios.figure8(seed=seed)
    assert c.n_committed(len(c.committed_commands()))[0] == 5


@pytest.mark.parametrize("seed", MORE_SEEDS)
def test_unreliable_agreement(seed):
    """§5.3: concurrent commands commit on a lossy, delaying network."""
    c = scenarios.unreliable_agreement(seed=seed)
    assert len(c.committed_commands()) >= 50 * 5 + 1


@pytest.mark.parametrize("seed", MORE_SEEDS)
def test_figure8_unreliable(seed):
    """§5.4: Figure 8 on a lossy network with long reordering ends in agreement."""
    scenarios.figure8_unreliable(seed=seed)


@pytest.mark.parametrize("seed", MORE_SEEDS)
def test_churn(seed):
    """§5.4: every value a client saw committed under churn is in the final log."""
    scenarios.churn(seed=seed)


@pytest.mark.parametrize("seed", MORE_SEEDS)
def test_unreliable_churn(seed):
    """§5.4: the same on a lossy network."""
    scenarios.unreliable_churn(seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_client_redirects(seed):
    """§8: clients reach the leader through redirects and are told only of committed commands."""
    scenarios.client_redirects(seed=seed)


def test_every_scenario_has_a_test():
    """Each scenario of SCENARIOS is run by a test of this module."""
    missing = [name for name in scenarios.SCENARIOS if f"test_{name}" not in globals()]
    assert not missing, f"scenarios without a test: {missing}"


def test_run_all_names_the_failing_scenario():
    """run_all runs scenarios on seeds and prefixes a failure with the scenario and seed."""
    assert scenarios.run_all(RaftNode, ["basic_agreement", "initial_election"], seeds=(1, 2)) == 4
    with pytest.raises(RaftViolation, match=r"^\[scenario figure8_scripted, seed 1\] Raft check"):
        scenarios.run_all(BrokenCommitRaft, ["basic_agreement", "figure8_scripted"], seeds=(1,))
    with pytest.raises(ValueError, match="unknown scenario"):
        scenarios.run_all(RaftNode, ["figure9"])


# --------------------------------------------------------------------------------------------
# Broken nodes fail, with readable reports.


def _assert_report(exc: RaftViolation, prop: str) -> str:
    report = str(exc)
    assert prop in report, f"the report should name {prop!r}:\n{report}"
    assert exc.node is not None and exc.term is not None and exc.index is not None, (
        f"the report should name node, term and index:\n{report}"
    )
    assert f"node {exc.node}" in report and f"term {exc.term}" in report
    assert "expected:" in report and "happened:" in report, report
    assert 1 <= len(exc.excerpt) <= 15, f"expected a short trace excerpt, got {len(exc.excerpt)}"
    assert all(line in report for line in exc.excerpt)
    return report


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_vote_without_up_to_date_check_fails(seed):
    """§5.4.1: granting votes without the up-to-date check fails with Leader Completeness."""
    with pytest.raises(RaftViolation) as info:
        scenarios.stale_candidate(BrokenVoteRaft, seed=seed)
    report = _assert_report(info.value, "Leader Completeness")
    assert "became leader" in report


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_commit_of_old_term_entries_fails(seed):
    """§5.4.2: committing old-term entries by counting fails the Figure 8 scenario."""
    with pytest.raises(RaftViolation) as info:
        scenarios.figure8_scripted(BrokenCommitRaft, seed=seed)
    report = _assert_report(info.value, "Leader Completeness")
    assert "'A'" in report and "'B'" in report, report


class LastEntryTermCommitRaft(RaftNode):
    """WRONG on purpose: checks the term of the leader's last entry, not of the entry it
    commits by counting (§5.4.2)."""

    def advance_commit_index(self):
        matches = sorted([self.last_log_index, *self.match_index.values()], reverse=True)
        n = matches[self.majority - 1]
        if n > self.commit_index and self.log[-1].term == self.term:
            self.commit_index = n


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_commit_by_the_last_entry_term_fails(seed):
    """§5.4.2, Figure 8 (c): a leader whose last entry is of its term still may not commit an
    old-term entry by counting: the Figure 8 scenario reports it."""
    with pytest.raises(RaftViolation) as info:
        scenarios.figure8_scripted(LastEntryTermCommitRaft, seed=seed)
    report = _assert_report(info.value, "Leader Completeness")
    assert "'A'" in report and "'B'" in report, report


class NaiveBackupRaft(RaftNode):
    """WRONG on purpose: backs nextIndex up by one entry per rejection (slow, but safe)."""

    def backup_index(self, msg):
        return self.last_sent - 1

    def send_append_entries(self, peer):
        self.last_sent = self.next_index[peer]
        super().send_append_entries(peer)


def test_naive_backup_fails_the_backup_bound():
    """§5.3: backing up one entry at a time needs too many rejections."""
    with pytest.raises(RaftViolation) as info:
        scenarios.backup(NaiveBackupRaft, seed=1)
    assert "fast log back-up" in str(info.value), str(info.value)


class ForgetfulVoteRaft(RaftNode):
    """WRONG on purpose: does not persist votedFor."""

    def persist(self):
        self.storage["term"] = self.term
        self.storage["log"] = self.log


def test_unpersisted_vote_fails():
    """Figure 2: a node that forgets its vote in a crash votes twice in one term."""
    with pytest.raises(RaftViolation) as info:
        scenarios.persist_vote(ForgetfulVoteRaft, seed=1)
    assert "one vote per term" in str(info.value) and "persisted" in str(info.value)


def test_report_can_save_a_diagram(tmp_path):
    """A failure saves a space-time diagram of its last second when asked to."""
    import matplotlib

    matplotlib.use("Agg")
    path = tmp_path / "failure.png"
    with pytest.raises(RaftViolation) as info:
        scenarios.stale_candidate(BrokenVoteRaft, seed=1, diagram=path)
    assert path.is_file() and path.stat().st_size > 1000, "no diagram was saved"
    assert str(path) in str(info.value)


# --------------------------------------------------------------------------------------------
# The checks themselves, on scripted fake nodes.


class Scripted(Node):
    """A Raft-like node whose state a test sets directly (``script(node, event)``)."""

    def __init__(self, script):
        super().__init__()
        self.script = script
        self.role, self.term, self.voted_for = "follower", 0, None
        self.log = [Entry(0, None)]
        self.commit_index = 0
        self.applied = []

    def on_start(self):
        self.script(self, "start")
        self.set_timer("tick", 0.1)

    def on_timer(self, name):
        self.script(self, "tick")

    def submit(self, command):
        return None


def _run(script, n=2):
    c = RaftCluster(lambda: Scripted(script), n)
    c.run(0.5)
    return c


def test_two_leaders_in_one_term_are_reported():
    """§5.2 Election Safety: two leaders of one term fail the check."""

    def script(node, event):
        node.role, node.term = "leader", 1

    with pytest.raises(RaftViolation, match="Election Safety") as info:
        _run(script)
    assert info.value.term == 1 and "s1 and s2 both lead term 1" in str(info.value)


def test_different_entries_with_the_same_index_and_term_are_reported():
    """§5.3 Log Matching: two logs with the same (index, term) but other commands fail."""

    def script(node, event):
        node.term = 1
        node.log = [Entry(0, None), Entry(1, f"x-{node.id}")]

    with pytest.raises(RaftViolation, match="Log Matching") as info:
        _run(script)
    assert info.value.index == 1


def test_out_of_order_application_is_reported():
    """Figure 2: applying index 2 before index 1 fails the check."""

    def script(node, event):
        node.term = 1
        node.log = [Entry(0, None), Entry(1, "a"), Entry(1, "b")]
        node.commit_index = 2
        node.applied = [(2, "b")]

    with pytest.raises(RaftViolation, match="applied in log order"):
        _run(script, n=1)


def test_commit_index_going_back_is_reported():
    """Figure 2: commitIndex never decreases within an incarnation."""

    def script(node, event):
        node.term = 1
        node.log = [Entry(0, None), Entry(1, "a")]
        node.commit_index = 1 if event == "start" else 0

    with pytest.raises(RaftViolation, match="commitIndex never decreases"):
        _run(script, n=1)


def test_a_changed_committed_entry_is_reported():
    """§5.4.3 State Machine Safety: two servers committing different entries at one index."""

    def script(node, event):
        node.term = 1 if node.id == "s1" else 2
        node.log = [Entry(0, None), Entry(node.term, node.id)]
        node.commit_index = 1

    with pytest.raises(RaftViolation, match="State Machine Safety") as info:
        _run(script)
    assert "committed by s1" in str(info.value)


def test_handler_exception_becomes_a_report():
    """A handler that raises is reported as a RaftViolation naming the node and handler."""

    def script(node, event):
        if event == "tick":
            raise KeyError("boom")

    with pytest.raises(RaftViolation, match="handlers do not raise") as info:
        _run(script, n=1)
    assert info.value.node == "s1" and "KeyError" in str(info.value)


def test_node_without_the_adapter_attributes_is_rejected():
    """The harness says which attribute a node class lacks."""
    with pytest.raises(TypeError, match="lacks 'role'"):
        RaftCluster(Node, 1).run(0.1)


def test_bad_arguments_are_rejected():
    """Cluster size and server names are checked with clear errors."""
    with pytest.raises(ValueError, match="positive number of servers"):
        RaftCluster(RaftNode, 0)
    c = RaftCluster(RaftNode, 3)
    with pytest.raises(ValueError, match="unknown server 's9'"):
        c.disconnect("s9")
    with pytest.raises(TypeError, match="Node class or a callable"):
        RaftCluster(42)


def test_same_seed_same_run():
    """A scenario on the same seed gives the same trace, event for event."""
    a = scenarios.rejoin_partitioned_leader(seed=7).sim.trace.listing()
    b = scenarios.rejoin_partitioned_leader(seed=7).sim.trace.listing()
    assert a == b


# --------------------------------------------------------------------------------------------
# Split votes: the formula against the simulation.


@pytest.mark.parametrize(("n", "delay"), [(3, 0.04), (5, 0.03)])
def test_split_vote_simulation_matches_formula(n, delay):
    """§5.2, §9.3: measured split-vote frequency is within 4 standard errors of the model."""
    timeout, trials = 0.1, 400
    p = split_vote_probability(n, timeout, delay)
    measured = measure_split_votes(n, timeout, delay, trials=trials, seed=1)
    tolerance = 4 * (p * (1 - p) / trials) ** 0.5 + 0.01
    assert abs(measured - p) <= tolerance, f"model {p:.3f}, simulation {measured:.3f}"


def test_split_votes_after_a_leader_crash():
    """§5.2: with one server of five down, the measured split frequency follows the model."""
    p = split_vote_probability(5, 0.1, 0.03, voters=4)
    measured = measure_split_votes(5, 0.1, 0.03, voters=4, trials=400, seed=2)
    assert abs(measured - p) <= 4 * (p * (1 - p) / 400) ** 0.5 + 0.01, (p, measured)


PERSISTENCE = ("persist_all_crash", "persist_churn", "persist_partitioned_leader", "persist_vote")


def _persistence_failures(node, **options):
    caught = []
    for name in PERSISTENCE:
        for seed in (1, 2, 3):
            try:
                scenarios.SCENARIOS[name](node, seed=seed, **options)
            except (RaftViolation, AssertionError) as exc:
                caught.append(f"{name}/{seed}: {str(exc).splitlines()[0]}")
    return caught


def test_a_log_written_once_at_boot_is_caught():
    """Figure 2: the log is on stable storage before a reply. Storage keeps a copy of what is
    written, so a server that wrote its log once, at boot, loses later entries in a crash, and
    the persistence scenarios say so."""
    assert _persistence_failures(BootLogRaft)


def test_writes_never_synced_are_caught_where_durability_needs_sync():
    """Figure 2's *stable* storage: with durability="sync", a server that writes but never syncs
    loses its state in a crash; the reference, which syncs in persist(), passes the same runs."""
    assert not _persistence_failures(RaftNode, durability="sync")
    assert _persistence_failures(UnsyncedRaft, durability="sync")
    assert not _persistence_failures(UnsyncedRaft), "without sync mode every write is durable"


class ClaimingRaft(RaftNode):
    """WRONG on purpose: a follower that acknowledges AppendEntries without storing the
    entries (it claims entries it does not hold)."""

    def handle_append_entries(self, msg):
        reply = super().handle_append_entries(msg)
        if msg.entries and reply.success:
            del self.log[msg.prev_log_index + 1 :]
        return reply


def test_a_failure_report_shows_every_servers_role_term_commit_index_and_log_tail():
    """A report names each server's role, term, commit index and the tail of its log, so a
    follower that acknowledged an entry it does not hold shows it: the leader's log has the
    entry, the follower's does not."""
    with pytest.raises(RaftViolation) as info:
        scenarios.basic_agreement(ClaimingRaft, seed=1)
    report = str(info.value)
    assert "the servers at that moment (role, term, commit index, log tail):" in report, report
    lines = info.value.servers
    assert len(lines) == 3 and all(" term " in ln and " commit " in ln for ln in lines), lines
    assert any("leader" in ln and ":" in ln.split(" log ")[1] for ln in lines), lines
    assert any(ln.split(" log ")[1].strip() == "(empty)" for ln in lines), lines
