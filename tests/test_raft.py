"""Unit tests of the reference Raft (distlib.protocols.raft), one handler call at a time.

Each test feeds a node messages and timers directly (no runtime) and checks the actions it
records, citing the section of the Raft paper (extended version) whose rule it checks. The
role/term timeline (distlib.views.raft) is tested at the end.
"""

from __future__ import annotations

import ast
import dataclasses
import itertools
import random
from pathlib import Path

import pytest

from distlib import Simulation
from distlib.node import Note, Send, SetTimer
from distlib.protocols import raft
from distlib.protocols.raft import (
    AppendEntries,
    AppendEntriesReply,
    ClientReply,
    ClientRequest,
    Entry,
    RaftClient,
    RaftNode,
    RequestVote,
    RequestVoteReply,
    Role,
    split_vote_probability,
)

S = Entry(0, None)  # the sentinel at log[0]


def make(name="a", peers=("b", "c"), storage=None, seed=0, **config):
    """A started follower with no runtime; its boot actions are discarded."""
    node = RaftNode(**config).attach(
        id=name, peers=peers, storage={} if storage is None else storage, rng=random.Random(seed)
    )
    node.on_start()
    node.take_actions()
    return node


def with_log(terms, **kw):
    """A started follower whose persisted log has entries of these terms (commands 'x1', ...)."""
    log = [S] + [Entry(t, f"x{i}") for i, t in enumerate(terms, 1)]
    return make(storage={"term": max(terms, default=0), "log": log}, **kw)


def sends(actions, kind=None):
    return [
        (a.dst, a.msg)
        for a in actions
        if isinstance(a, Send) and (kind is None or isinstance(a.msg, kind))
    ]


def time_out(node):
    """Let the node's election timeout pass: move its clock to the deadline, fire the timer."""
    node.context.now = max(node.now, node.election_deadline)
    node.on_timer("election")


def timers(actions):
    return {a.name: a.delay for a in actions if isinstance(a, SetTimer)}


def notes(actions):
    return [(a.text, a.data) for a in actions if isinstance(a, Note)]


def leader_of(terms=(), peers=("b", "c")):
    """A node that won an election, one term after the last of ``terms``, with entries of
    these terms in its log."""
    node = with_log(list(terms), peers=peers)
    time_out(node)
    node.take_actions()
    node.on_message(peers[0], RequestVoteReply(node.term, True))
    node.take_actions()
    assert node.role is Role.LEADER
    return node


# --------------------------------------------------------------------------------------------
# Starting and elections (§5.2).


def test_starts_as_follower_with_a_randomized_timeout():
    """§5.2: a server starts as a follower in term 0 with an election timeout in its range."""
    node = RaftNode(election_timeout=(0.3, 0.6)).attach(id="a", peers=("b", "c"))
    node.on_start()
    actions = node.take_actions()
    assert node.role is Role.FOLLOWER and node.term == 0
    assert 0.3 <= timers(actions)["election"] <= 0.6
    assert ("became follower", {"term": 0}) in notes(actions)


def test_timeouts_are_random_per_server():
    """§5.2: election timeouts come from the node's own RNG, so servers differ."""
    delays = set()
    for seed in range(5):
        node = RaftNode().attach(id="a", peers=("b",), rng=random.Random(seed))
        node.on_start()
        delays.add(timers(node.take_actions())["election"])
    assert len(delays) == 5, f"expected five different timeouts, got {delays}"


def test_election_timeout_starts_an_election():
    """§5.2: on timeout a follower increments its term, votes for itself, persists, and asks
    every peer for a vote with its last log index and term."""
    node = with_log([1, 1])
    time_out(node)
    actions = node.take_actions()
    assert node.role is Role.CANDIDATE and node.term == 2 and node.voted_for == "a"
    assert node.storage["term"] == 2 and node.storage["voted_for"] == "a", "persist first"
    assert sends(actions, RequestVote) == [
        ("b", RequestVote(2, "a", 2, 1)),
        ("c", RequestVote(2, "a", 2, 1)),
    ]
    assert "election" in timers(actions), "a split vote needs a new timeout (§5.2)"


def test_majority_of_votes_makes_a_leader():
    """§5.2: with votes from a majority a candidate becomes leader and sends heartbeats."""
    node = make()
    time_out(node)
    node.take_actions()
    node.on_message("b", RequestVoteReply(1, True))
    actions = node.take_actions()
    assert node.role is Role.LEADER
    beats = sends(actions, AppendEntries)
    assert [dst for dst, _ in beats] == ["b", "c"] and all(m.entries == () for _, m in beats)
    assert "heartbeat" in timers(actions)
    assert ("became leader", {"term": 1}) in notes(actions)


def test_denied_and_stale_votes_do_not_count():
    """§5.2: denied votes and votes for an earlier term do not make a leader."""
    node = make(peers=("b", "c", "d", "e"))
    time_out(node)
    node.on_message("b", RequestVoteReply(1, False))
    node.on_message("c", RequestVoteReply(0, True))
    node.on_message("d", RequestVoteReply(1, True))
    assert node.role is Role.CANDIDATE, "2 of 5 votes is not a majority"
    node.on_message("e", RequestVoteReply(1, True))
    assert node.role is Role.LEADER


def test_a_later_term_makes_a_candidate_follow():
    """§5.1: a reply from a later term turns a candidate into a follower in that term."""
    node = make()
    time_out(node)
    node.on_message("b", RequestVoteReply(5, False))
    assert node.role is Role.FOLLOWER and node.term == 5 and node.voted_for is None
    assert node.storage["term"] == 5


# --------------------------------------------------------------------------------------------
# The vote rule (§5.2, §5.4.1).


def test_grants_an_up_to_date_candidate_and_persists_the_vote():
    """§5.2, Figure 2: a vote is granted, recorded in storage before the reply, and resets the
    election timeout."""
    node = with_log([1])
    node.on_message("b", RequestVote(2, "b", 1, 1))
    actions = node.take_actions()
    assert sends(actions) == [("b", RequestVoteReply(2, True))]
    assert node.storage["voted_for"] == "b" and node.storage["term"] == 2
    assert node.election_deadline == node.now + node.election_delay, "timeout restarted"


def test_one_vote_per_term():
    """§5.2: a server votes for at most one candidate per term (again for the same one)."""
    node = make()
    node.on_message("b", RequestVote(1, "b", 0, 0))
    node.on_message("c", RequestVote(1, "c", 0, 0))
    node.on_message("b", RequestVote(1, "b", 0, 0))
    replies = [m.granted for _, m in sends(node.take_actions())]
    assert replies == [True, False, True]


@pytest.mark.parametrize(
    ("mine", "theirs", "granted"),
    [
        ([1, 2], (3, 1), False),  # their last term is older
        ([1, 2], (1, 2), False),  # same last term, shorter log
        ([1, 2], (2, 2), True),  # same last term, same length
        ([1, 2], (3, 2), True),  # same last term, longer log
        ([1, 2, 2], (1, 3), True),  # later last term, shorter log
    ],
)
def test_election_restriction(mine, theirs, granted):
    """§5.4.1: vote only for a candidate whose log is at least as up-to-date: compare the
    last terms, then the lengths."""
    node = with_log(mine)
    last_index, last_term = theirs
    node.on_message("b", RequestVote(5, "b", last_index, last_term))
    [(_, reply)] = sends(node.take_actions())
    assert reply.granted is granted, (
        f"log terms {mine}, candidate's last entry (index {last_index}, term {last_term})"
    )


def test_denies_a_stale_candidate():
    """§5.1: a request from an earlier term is denied, with the current term in the reply."""
    node = with_log([3])
    node.on_message("b", RequestVote(2, "b", 5, 3))
    assert sends(node.take_actions()) == [("b", RequestVoteReply(3, False))]


def test_a_later_term_makes_a_leader_step_down():
    """§5.1: a leader that sees a later term becomes a follower and stops heartbeats."""
    node = leader_of()
    node.on_message("c", RequestVote(7, "c", 0, 0))
    actions = node.take_actions()
    assert node.role is Role.FOLLOWER and node.term == 7
    assert "election" in timers(actions)


# --------------------------------------------------------------------------------------------
# AppendEntries on the follower (§5.3).


def test_rejects_a_stale_leader():
    """§5.1: AppendEntries from an earlier term is rejected with the current term."""
    node = with_log([2])
    node.on_message("b", AppendEntries(1, "b", 0, 0, (), 0))
    [(_, reply)] = sends(node.take_actions())
    assert reply.success is False and reply.term == 2


def test_missing_previous_entry_reports_the_end_of_the_log():
    """§5.3: a too-short log fails the consistency check; the reply points past its end."""
    node = with_log([1, 1])
    node.on_message("b", AppendEntries(1, "b", 5, 1, (), 0))
    [(_, reply)] = sends(node.take_actions())
    assert reply == AppendEntriesReply(1, False, conflict_term=None, conflict_index=3)


def test_conflicting_previous_entry_reports_its_term_and_first_index():
    """§5.3 (fast back-up): the reply names the conflicting term and its first index."""
    node = with_log([1, 2, 2, 2])
    node.on_message("b", AppendEntries(3, "b", 4, 3, (), 0))
    [(_, reply)] = sends(node.take_actions())
    assert reply == AppendEntriesReply(3, False, conflict_term=2, conflict_index=2)


def test_conflicting_suffix_is_replaced():
    """§5.3: an entry that conflicts with a new one is deleted with all that follow, and the
    new entries are appended; the log is persisted before the reply."""
    node = with_log([1, 1, 2, 2])
    new = (Entry(3, "n3"), Entry(3, "n4"))
    node.on_message("b", AppendEntries(3, "b", 2, 1, new, 0))
    [(_, reply)] = sends(node.take_actions())
    assert reply == AppendEntriesReply(3, True, match_index=4)
    assert [e.term for e in node.log] == [0, 1, 1, 3, 3]
    assert node.storage["log"] == node.log


def test_a_delayed_request_does_not_truncate():
    """Figure 2 (AppendEntries step 3): entries that match are kept, so an old, delayed
    request cannot remove entries a newer one appended."""
    node = with_log([1, 1, 1, 1])
    before = list(node.log)
    node.on_message("b", AppendEntries(1, "b", 1, 1, (before[2],), 0))
    [(_, reply)] = sends(node.take_actions())
    assert reply.success and reply.match_index == 2
    assert node.log == before, "the matching suffix (indices 3, 4) must stay"


def test_commit_index_follows_the_leader_up_to_the_last_new_entry():
    """Figure 2 (AppendEntries step 5): commitIndex = min(leaderCommit, last new entry)."""
    node = with_log([1, 1, 1, 1])
    node.on_message("b", AppendEntries(1, "b", 1, 1, (), 3))
    assert node.commit_index == 1, "only index 1 is known to match the leader's log"
    node.on_message("b", AppendEntries(1, "b", 3, 1, (), 3))
    assert node.commit_index == 3
    assert [i for i, _ in node.applied] == [1, 2, 3], "committed entries are applied in order"


def test_commit_index_never_decreases():
    """Figure 2: commitIndex only grows, even when a delayed request carries an older one."""
    node = with_log([1, 1, 1])
    node.on_message("b", AppendEntries(1, "b", 3, 1, (), 3))
    node.on_message("b", AppendEntries(1, "b", 1, 1, (), 2))
    assert node.commit_index == 3


def test_candidate_follows_the_leader_of_its_term():
    """§5.2: a candidate that receives AppendEntries from a leader of its term steps down."""
    node = make()
    time_out(node)
    node.context.now = 0.25
    node.on_message("b", AppendEntries(1, "b", 0, 0, (), 0))
    assert node.role is Role.FOLLOWER and node.leader_id == "b" and node.term == 1
    assert node.election_deadline == node.now + node.election_delay, (
        "hearing the leader restarts the election timeout"
    )


def test_election_timer_waits_for_the_latest_deadline():
    """§5.2: a follower that heard from the leader since its timer was set does not start an
    election when the timer fires; it waits out the rest of the timeout, and only then runs."""
    node = make()
    delay = node.election_delay
    node.context.now = delay / 2
    node.on_message("b", AppendEntries(1, "b", 0, 0, (), 0))
    node.take_actions()
    node.context.now = delay
    node.on_timer("election")
    assert node.role is Role.FOLLOWER
    assert timers(node.take_actions()) == {"election": pytest.approx(delay / 2)}
    node.context.now = delay * 1.5
    node.on_timer("election")
    assert node.role is Role.CANDIDATE and node.term == 2


# --------------------------------------------------------------------------------------------
# The leader's side (§5.3, §5.4.2).


def test_leader_starts_next_index_past_its_log():
    """§5.3: a new leader sets every nextIndex just past its last entry, matchIndex to 0."""
    node = leader_of([1, 1, 1])
    assert node.match_index == {"b": 0, "c": 0}
    assert all(m.prev_log_index == 3 for _, m in sends(node.take_actions()))


@pytest.mark.parametrize(
    ("conflict_term", "conflict_index", "next_index"),
    [(None, 2, 2), (2, 2, 5), (3, 3, 3)],
)
def test_fast_backup_after_a_rejection(conflict_term, conflict_index, next_index):
    """§5.3 (last part): after a rejection the leader skips a whole conflicting term: to the
    follower's end, past its own last entry of that term, or to the follower's first index of
    a term it does not have; then it retries at once."""
    node = leader_of([1, 1, 2, 2, 4])  # the leader's own entries have terms 1, 1, 2, 2, 4
    node.next_index["b"] = 6
    node.on_message("b", AppendEntriesReply(node.term, False, 0, conflict_term, conflict_index))
    [(_, retry)] = sends(node.take_actions(), AppendEntries)
    assert retry.prev_log_index == next_index - 1
    assert retry.entries == tuple(node.log[next_index:])


def test_commit_by_counting_a_current_term_entry():
    """§5.3: an entry of the current term on a majority is committed and applied."""
    node = leader_of()
    index = node.submit("x")
    node.take_actions()
    node.on_message("b", AppendEntriesReply(node.term, True, match_index=index))
    assert node.commit_index == index and node.applied == [(index, "x")]


def test_old_term_entries_are_not_committed_by_counting():
    """§5.4.2, Figure 8: an entry of an earlier term stored on a majority stays uncommitted
    until an entry of the current term after it is."""
    node = leader_of([1, 2])  # the leader's term is 3
    assert node.term == 3
    node.on_message("b", AppendEntriesReply(3, True, match_index=2))
    assert node.commit_index == 0, "entries of terms 1 and 2 must not be committed by counting"
    index = node.submit("now")
    node.on_message("b", AppendEntriesReply(3, True, match_index=index))
    assert node.commit_index == 3, "the current-term entry commits the older ones too"


def test_stale_replies_are_ignored():
    """§5.1: a reply to a request of an earlier term changes nothing."""
    node = leader_of([1])
    node.on_message("b", AppendEntriesReply(node.term - 1, True, match_index=1))
    assert node.match_index["b"] == 0


def test_each_entry_is_sent_once():
    """§5.3: entries in flight are not sent again by the next heartbeat."""
    node = leader_of()
    node.submit("x")
    node.on_timer("replicate")
    first = sends(node.take_actions(), AppendEntries)
    node.on_timer("heartbeat")
    second = sends(node.take_actions(), AppendEntries)
    assert all(len(m.entries) == 1 for _, m in first)
    assert all(m.entries == () for _, m in second)


def test_submit_on_a_leader_and_elsewhere():
    """§5.3: a leader appends a command in its term and persists it; a follower refuses."""
    follower = make()
    assert follower.submit("x") is None and follower.log == [S]
    node = leader_of()
    assert node.submit("x") == 1
    assert node.log[1] == Entry(node.term, "x") and node.storage["log"][1] == Entry(node.term, "x")
    assert "replicate" in timers(node.take_actions())


def test_cluster_of_one():
    """§5.2, §5.3: a single server elects itself and commits alone."""
    node = make(peers=())
    time_out(node)
    assert node.role is Role.LEADER
    assert node.submit("x") == 1 and node.applied == [(1, "x")]


# --------------------------------------------------------------------------------------------
# Clients (§8), persistence (Figure 2), messages and configuration.


def test_follower_redirects_a_client():
    """§8: a server that is not the leader tells the client who the leader is."""
    node = make()
    node.on_message("b", AppendEntries(1, "b", 0, 0, (), 0))
    node.take_actions()
    node.on_message("client", ClientRequest(7, "x"))
    assert sends(node.take_actions()) == [("client", ClientReply(7, False, leader="b"))]


def test_leader_answers_a_client_once_the_command_is_committed():
    """§8: the leader replies to the client when the command's entry is applied."""
    node = leader_of()
    node.on_message("client", ClientRequest(7, "x"))
    assert sends(node.take_actions(), ClientReply) == []
    node.on_message("b", AppendEntriesReply(node.term, True, match_index=1))
    assert sends(node.take_actions(), ClientReply) == [("client", ClientReply(7, True, index=1))]


def test_client_follows_a_redirect():
    """§8: a client redirected to the leader resends its command there."""
    client = RaftClient(["x"]).attach(id="client", peers=("a", "b", "c"), rng=random.Random(1))
    client.on_start()
    client.on_timer("next")
    [(first, request)] = sends(client.take_actions())
    other = "c" if first != "c" else "b"
    client.on_message(first, ClientReply(request.seq, False, leader=other))
    assert sends(client.take_actions()) == [(other, request)]
    client.on_message(other, ClientReply(request.seq, True, index=4))
    assert client.results == [("submit", "x", 4, "ok")]


def test_restart_restores_term_vote_and_log():
    """Figure 2: currentTerm, votedFor and the log survive a crash; the rest starts over."""
    storage = {}
    node = make(storage=storage)
    node.on_message("b", RequestVote(3, "b", 0, 0))
    node.on_message("b", AppendEntries(3, "b", 0, 0, (Entry(3, "x"),), 1))
    again = make(storage=storage)
    assert (again.term, again.voted_for, again.log) == (3, "b", [S, Entry(3, "x")])
    assert again.commit_index == 0 and again.applied == [] and again.role is Role.FOLLOWER


def test_messages_are_frozen_slotted_dataclasses():
    """Messages are immutable values (frozen, slotted dataclasses)."""
    for cls in (
        Entry,
        RequestVote,
        RequestVoteReply,
        AppendEntries,
        AppendEntriesReply,
        ClientRequest,
        ClientReply,
    ):
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen, cls
        assert "__slots__" in cls.__dict__, f"{cls.__name__} should be slotted"


@pytest.mark.parametrize(
    ("config", "error"),
    [
        ({"election_timeout": (0.5, 0.2)}, "low <= high"),
        ({"election_timeout": "soon"}, "pair"),
        ({"heartbeat_interval": 0.4}, "shorter than the election timeout"),
        ({"heartbeat_interval": -1}, "positive"),
        ({"max_entries": 0}, "max_entries"),
    ],
)
def test_bad_configuration_is_rejected(config, error):
    """A bad configuration raises an error that names the problem."""
    with pytest.raises((ValueError, TypeError), match=error):
        RaftNode(**config)


def test_unknown_messages_and_timers_are_errors():
    """A message or timer the protocol does not know is an error naming it."""
    node = make()
    with pytest.raises(TypeError, match="unexpected message"):
        node.on_message("b", "hello")
    with pytest.raises(ValueError, match="unknown timer 'tick'"):
        node.on_timer("tick")


def test_protocol_module_is_pure():
    """The protocol does no I/O: it imports no simpy, socket, time, threading or random."""
    tree = ast.parse(Path(raft.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    forbidden = {"simpy", "socket", "asyncio", "threading", "time", "multiprocessing", "random"}
    assert not imported & forbidden, f"forbidden imports: {imported & forbidden}"


def test_three_servers_and_a_client_in_a_simulation():
    """§5.2, §5.3, §8: three servers elect a leader, and a client's commands, sent to any
    server, are applied by all three in order and acknowledged with their indices."""
    sim = Simulation(seed=3)
    sim.add_nodes(["a", "b", "c"], RaftNode)
    sim.add_client("client", lambda: RaftClient(["x", "y"]))
    sim.run(duration=0.01)  # everyone boots
    sim.run(until=lambda: sim.node("client").done, limit=10)
    assert sim.node("client").results == [("submit", "x", 1, "ok"), ("submit", "y", 2, "ok")]
    sim.run(duration=0.5)
    for name in "abc":
        assert sim.node(name).applied == [(1, "x"), (2, "y")], f"server {name}"


# --------------------------------------------------------------------------------------------
# The split-vote model (§5.2, §9.3).


def test_split_vote_closed_forms():
    """The model gives 1 - (1-p)^2 for two servers and 3p^2(1-p) + p^3 for three."""
    p = 0.3
    assert split_vote_probability(2, 1.0, p) == pytest.approx(1 - (1 - p) ** 2)
    assert split_vote_probability(3, 1.0, p) == pytest.approx(3 * p**2 * (1 - p) + p**3)


def test_split_vote_limits():
    """No delay, no split; a delay of a whole timeout, always a split; fewer voters than a
    majority, always a split; more delay, more splits."""
    assert split_vote_probability(5, 0.15, 0.0) == 0.0
    assert split_vote_probability(5, 0.15, 0.15) == 1.0
    assert split_vote_probability(5, 0.15, 0.01, voters=2) == 1.0
    assert split_vote_probability(1, 0.15, 0.1) == 0.0
    values = [split_vote_probability(5, 0.15, d / 100) for d in range(16)]
    assert values == sorted(values)


@pytest.mark.parametrize(
    ("args", "kw"),
    [((0, 0.1, 0.01), {}), ((3, 0, 0.01), {}), ((3, 0.1, -1), {}), ((3, 0.1, 0.01), {"voters": 4})],
)
def test_split_vote_bad_arguments(args, kw):
    """Bad model parameters raise a ValueError naming the parameter."""
    with pytest.raises(ValueError):
        split_vote_probability(*args, **kw)


# --------------------------------------------------------------------------------------------
# The role/term timeline (distlib.views.raft).


def _crash_run():
    """Three servers; the first leader crashes at t=2 and restarts at t=3."""
    sim = Simulation(seed=5)
    sim.add_nodes(["a", "b", "c"], RaftNode)
    sim.run(until=2.0)
    leader = next(name for name, n in sim.nodes.items() if n.role is Role.LEADER)
    sim.crash(leader)
    sim.run(until=3.0)
    sim.restart(leader)
    sim.run(until=4.0)
    return sim, leader


def test_role_intervals_follow_the_notes():
    """§5.2: the spans show the leader's term until its crash, a down span, and a follower
    after the restart; each node's spans are contiguous and end at the last event."""
    from distlib.views.raft import role_intervals

    sim, leader = _crash_run()
    spans = role_intervals(sim.trace)
    assert sorted(spans) == ["a", "b", "c"]
    roles = [(s.role, s.start, s.end) for s in spans[leader]]
    led = [s for s in spans[leader] if s.role == "leader"]
    assert led and led[-1].end == 2.0 and led[-1].term >= 1, roles
    down = [s for s in spans[leader] if s.role == "down"]
    assert [(s.start, s.end) for s in down] == [(2.0, 3.0)], roles
    assert spans[leader][-1].role == "follower" and spans[leader][-1].start == 3.0
    for name, row in spans.items():
        for before, after in itertools.pairwise(row):
            assert before.end == after.start, f"gap in {name}'s timeline: {before} {after}"
    others = [s for name in spans if name != leader for s in spans[name] if s.role == "leader"]
    assert others and others[-1].term > led[-1].term, "someone leads a later term after the crash"


def test_timeline_draws_a_figure():
    """The timeline returns a matplotlib figure with one row per server."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from distlib.views.raft import raft_timeline

    sim, _ = _crash_run()
    fig = raft_timeline(sim.trace)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    assert any(t.get_text().startswith("T") for t in ax.texts), "leader terms are labelled"
    plt.close(fig)


def test_timeline_without_role_notes_is_an_error():
    """A trace without role notes gives an error saying what is missing."""
    from distlib.views.raft import raft_timeline

    with pytest.raises(ValueError, match="no role notes"):
        raft_timeline(Simulation(seed=1).trace)


def test_split_vote_plot():
    """The split-vote plot draws the model and the measurements; lengths must agree."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from distlib.views.raft import split_vote_plot

    delays = [0.0, 0.01, 0.02]
    model = [split_vote_probability(5, 0.1, d) for d in delays]
    fig = split_vote_plot(delays, model, [0.0, 0.02, 0.05], timeout=0.1)
    assert len(fig.axes[0].lines) == 2
    plt.close(fig)
    with pytest.raises(ValueError, match="same length"):
        split_vote_plot(delays, model[:2])


def test_a_follower_that_lost_acknowledged_entries_does_not_drive_a_storm():
    """§5.3 retries a rejected AppendEntries; a follower whose disk lost entries it had
    acknowledged (it never synced) rejects every retry, and a leader that retried at once would
    send tens of thousands of requests a second. Without progress the retry waits for the next
    heartbeat: 10 simulated seconds cost a few hundred messages."""
    from distlib import Simulation, Uniform
    from distlib.testing.broken import UnsyncedRaft

    checked = 0
    for seed in range(1, 8):
        sim = Simulation(seed=seed, durability="sync", latency=Uniform(0.001, 0.01), trace=False)
        for name in ("s1", "s2", "s3"):
            sim.add_node(name, UnsyncedRaft if name == "s3" else RaftNode)
        sim.run(until=1.0)
        leaders = [n for n in ("s1", "s2", "s3") if sim.node(n, RaftNode).role == "leader"]
        if leaders not in (["s1"], ["s2"]):
            continue  # the amnesiac follower must be a follower
        leader = sim.node(leaders[0], RaftNode)
        for i in range(20):
            sim.call(leaders[0], leader.submit, f"c{i}")
        sim.run(until=2.0)
        assert sim.storage("s3")["log"] and len(sim.node("s3", RaftNode).log) > 20
        before = sim.stats["sent"]
        sim.crash("s3")  # its log was never synced: it comes back empty
        sim.restart("s3")
        sim.run(until=12.0)
        sent = sim.stats["sent"] - before
        assert sent < 2000, f"seed {seed}: {sent} messages in 10 s after the follower lost its log"
        checked += 1
    assert checked >= 3
