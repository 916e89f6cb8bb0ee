"""The Raft lab's scenarios: runs in simulated time that a correct Raft must survive.

Each function builds a :class:`~distlib.testing.raft.RaftCluster` of ``node_factory`` servers
(any Raft-like node class, see :mod:`distlib.testing.raft`), drives it through one situation
from the paper, and raises :class:`~distlib.testing.raft.RaftViolation` (an AssertionError with
a readable report) if anything goes wrong; otherwise it returns the cluster for a closer look.
The harness checks Raft's safety properties after every step of every run, so each scenario
tests safety throughout, and liveness (progress) where it says so.

The scenarios follow the structure of the tests of well-known university Raft labs (leader
election, log replication, persistence, with the "Figure 8" and churn tests), in simulated time:
``ELECTION_TIMEOUT`` (1 s) is the time an election may take after a failure.

``SCENARIOS`` maps each name to its function, in teaching order; a graded cell can run
``SCENARIOS["basic_agreement"](StudentRaft, seed=3)``, or several scenarios on several seeds
with :func:`run_all`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from distlib.protocols.raft import RaftClient, RaftNode, RequestVote
from distlib.testing.raft import ELECTION_TIMEOUT, RaftCluster

__all__ = [
    "SCENARIOS",
    "backup",
    "basic_agreement",
    "churn",
    "client_redirects",
    "concurrent_submissions",
    "figure8",
    "figure8_scripted",
    "figure8_unreliable",
    "follower_failure",
    "initial_election",
    "leader_failure",
    "many_elections",
    "message_counts",
    "no_agreement_without_majority",
    "persist_all_crash",
    "persist_churn",
    "persist_partitioned_leader",
    "persist_vote",
    "reelection",
    "rejoin_follower",
    "rejoin_partitioned_leader",
    "rpc_bytes",
    "run_all",
    "stale_candidate",
    "unreliable_agreement",
    "unreliable_churn",
]

ET = ELECTION_TIMEOUT


def _other(cluster: RaftCluster, name: str, k: int) -> str:
    """The server ``k`` places after ``name`` in the cluster's order (wrapping around)."""
    names = cluster.names
    return names[(names.index(name) + k) % len(names)]


def _expect(cluster: RaftCluster, ok: bool, prop: str, what: str, **kw: Any) -> None:
    if not ok:
        raise cluster.violation(prop, what, **kw)


def _big(cluster: RaftCluster) -> int:
    return cluster.rng.randrange(2**31)


def _term(cluster: RaftCluster, name: str) -> int:
    """The term of ``name``, a server the scenario knows is up."""
    term = cluster.term(name)
    assert term is not None, f"{name} is down"
    return term


# --------------------------------------------------------------------------------------------
# Leader election (§5.2).


def initial_election(node_factory: Any = RaftNode, *, seed: int = 0, **options: Any):
    """§5.2: three servers elect exactly one leader, agree on its term, and hold no further
    election while nothing fails."""
    c = RaftCluster(node_factory, 3, seed=seed, **options)
    c.check_one_leader()
    c.run(0.05)
    term1 = c.check_terms()
    _expect(
        c,
        term1 >= 1,
        "a leader is elected (§5.2)",
        "the servers are still in term 0",
        expected="term >= 1 after an election",
        happened=f"term {term1}",
    )
    c.run(2 * ET)
    term2 = c.check_terms()
    _expect(
        c,
        term1 == term2,
        "no election without a failure (§5.2)",
        "the term changed although no server failed and no message was lost",
        expected=f"term {term1}",
        happened=f"term {term2}",
    )
    c.check_one_leader()
    return c


def reelection(node_factory: Any = RaftNode, *, seed: int = 0, **options: Any):
    """§5.2: a new leader is elected when the leader is cut off; its return does not disturb
    the new one; without a majority no one is elected; with a majority again, someone is."""
    c = RaftCluster(node_factory, 3, seed=seed, **options)
    leader1 = c.check_one_leader()
    c.disconnect(leader1)
    c.check_one_leader()
    c.connect(leader1)
    leader2 = c.check_one_leader()
    other = _other(c, leader2, 1)
    c.disconnect(leader2)
    c.disconnect(other)
    c.run(2 * ET)
    c.check_no_leader()
    c.connect(other)
    c.check_one_leader()
    c.connect(leader2)
    c.check_one_leader()
    return c


def many_elections(node_factory: Any = RaftNode, *, seed: int = 0, **options: Any):
    """§5.2: seven servers, ten times three of them cut off at random: a majority always
    elects a leader."""
    c = RaftCluster(node_factory, 7, seed=seed, **options)
    c.check_one_leader()
    for _ in range(10):
        cut = [c.rng.choice(c.names) for _ in range(3)]
        for name in cut:
            c.disconnect(name)
        c.check_one_leader()
        for name in cut:
            c.connect(name)
    c.check_one_leader()
    return c


# --------------------------------------------------------------------------------------------
# Log replication (§5.3).


def basic_agreement(node_factory: Any = RaftNode, *, seed: int = 0, **options: Any):
    """§5.3: commands submitted one at a time are committed by every server at indices 1, 2, 3."""
    c = RaftCluster(node_factory, 3, seed=seed, **options)
    for index in range(1, 4):
        count, _ = c.n_committed(index)
        _expect(
            c,
            count == 0,
            "nothing is committed before it is submitted (§5.3)",
            f"{count} servers applied index {index} before any command for it",
            index=index,
        )
        got = c.one(index * 100, 3)
        _expect(
            c,
            got == index,
            "log indices start at 1 and go up by one (§5.3)",
            f"command {index * 100} went to index {got}",
            index=got,
            expected=f"index {index}",
            happened=f"index {got}",
        )
    return c


def rpc_bytes(node_factory: Any = RaftNode, *, seed: int = 0, **options: Any):
    """§5.3: each command travels to each follower about once: the bytes sent while ten
    5000-byte commands are agreed on stay below one copy per follower plus 50 kB."""
    c = RaftCluster(node_factory, 3, seed=seed, **options)
    c.one(99, 3)
    mark = c.mark()
    sent = 0
    for index in range(2, 12):
        command = "".join(c.rng.choices("abcdefghijklmnopqrstuvwxyz", k=5000))
        got = c.one(command, 3)
        _expect(
            c,
            got == index,
            "log indices go up by one (§5.3)",
            f"a command went to index {got}",
            expected=f"index {index}",
        )
        sent += len(command)
    got_bytes = c.bytes_since(mark)
    allowed = (c.n - 1) * sent + 50_000
    _expect(
        c,
        got_bytes <= allowed,
        "each command is sent to each follower about once (§5.3)",
        f"{got_bytes} bytes sent to agree on {sent} bytes of commands",
        expected=f"at most {allowed} bytes ({c.n - 1} copies + 50 kB)",
        happened=f"{got_bytes} bytes",
    )
    return c


def follower_failure(node_factory: Any = RaftNode, *, seed: int = 0, **options: Any):
    """§5.3, §5.5: the leader and one follower go on committing without a failed follower; with
    both followers gone, nothing commits."""
    c = RaftCluster(node_factory, 3, seed=seed, **options)
    c.one(101, 3)
    leader1 = c.check_one_leader()
    c.disconnect(_other(c, leader1, 1))
    c.one(102, 2)
    c.run(ET)
    c.one(103, 2)
    leader2 = c.check_one_leader()
    c.disconnect(_other(c, leader2, 1))
    c.disconnect(_other(c, leader2, 2))
    index = c.submit(leader2, 104)
    _expect(
        c,
        index == 4,
        "a leader accepts commands (§5.3)",
        f"{leader2} answered submit(104) with {index!r}",
        node=leader2,
        expected="index 4",
        happened=repr(index),
    )
    assert index is not None  # _expect raised unless index == 4
    c.run(2 * ET)
    count, _ = c.n_committed(index)
    _expect(
        c,
        count == 0,
        "no commitment without a majority (§5.3)",
        f"{count} servers applied index {index} though only the leader had it",
        index=index,
        node=leader2,
    )
    return c


def leader_failure(node_factory: Any = RaftNode, *, seed: int = 0, **options: Any):
    """§5.2, §5.3: after the leader fails the other two elect a leader and commit; with a
    second leader gone, no command commits."""
    c = RaftCluster(node_factory, 3, seed=seed, **options)
    c.one(101, 3)
    leader1 = c.check_one_leader()
    c.disconnect(leader1)
    c.one(102, 2)
    c.run(ET)
    c.one(103, 2)
    leader2 = c.check_one_leader()
    c.disconnect(leader2)
    for name in c.names:
        c.submit(name, 104)
    c.run(2 * ET)
    count, _ = c.n_committed(4)
    _expect(
        c,
        count == 0,
        "no commitment without a majority (§5.3)",
        f"{count} servers applied index 4 with two of three servers gone",
        index=4,
    )
    return c


def rejoin_follower(node_factory: Any = RaftNode, *, seed: int = 0, **options: Any):
    """§5.3: a follower cut off while four commands commit catches up when it returns."""
    c = RaftCluster(node_factory, 3, seed=seed, **options)
    c.one(101, 3)
    leader = c.check_one_leader()
    follower = _other(c, leader, 1)
    c.disconnect(follower)
    c.one(102, 2)
    c.one(103, 2)
    c.run(ET)
    c.one(104, 2)
    c.one(105, 2)
    c.connect(follower)
    c.one(106, 3, retry=True)
    c.run(ET)
    c.one(107, 3, retry=True)
    return c


def no_agreement_without_majority(node_factory: Any = RaftNode, *, seed: int = 0, **options: Any):
    """§5.3: of five servers, a leader with one follower cannot commit; once the others return
    the cluster elects a leader and commits again."""
    c = RaftCluster(node_factory, 5, seed=seed, **options)
    c.one(10, 5)
    leader = c.check_one_leader()
    for k in (1, 2, 3):
        c.disconnect(_other(c, leader, k))
    index = c.submit(leader, 20)
    _expect(
        c,
        index == 2,
        "a leader appends at the end of its log (§5.3)",
        f"{leader} answered submit(20) with {index!r}",
        node=leader,
        expected="index 2",
        happened=repr(index),
    )
    assert index is not None  # _expect raised unless index == 2
    c.run(2 * ET)
    count, _ = c.n_committed(index)
    _expect(
        c,
        count == 0,
        "no commitment without a majority (§5.3)",
        f"{count} servers applied index {index} with three of five cut off",
        index=index,
    )
    for k in (1, 2, 3):
        c.connect(_other(c, leader, k))
    leader2 = c.check_one_leader()
    index2 = c.submit(leader2, 30)
    _expect(
        c,
        index2 is not None and 2 <= index2 <= 3,
        "a leader accepts commands (§5.3)",
        f"the new leader {leader2} answered submit(30) with {index2!r}",
        node=leader2,
        expected="index 2 or 3",
        happened=repr(index2),
    )
    c.one(1000, 5)
    return c


def concurrent_submissions(node_factory: Any = RaftNode, *, seed: int = 0, **options: Any):
    """§5.3: five commands submitted at the same instant in one term are all committed."""
    c = RaftCluster(node_factory, 3, seed=seed, **options)
    for attempt in range(5):
        if attempt:
            c.run(3.0)  # let the cluster settle
        leader = c.check_one_leader()
        if c.submit(leader, 1) is None:
            continue
        term = c.term(leader)
        submitted = [c.submit(leader, 100 + i) for i in range(5)]
        indices = [index for index in submitted if index is not None]
        if len(indices) < len(submitted) or c.term(leader) != term:
            continue
        commands = []
        for index in indices:
            command = c.wait(index, 3, term)
            if command is None:
                break
            commands.append(command)
        else:
            for i in range(5):
                _expect(
                    c,
                    100 + i in commands,
                    "every submitted command commits (§5.3)",
                    f"command {100 + i} is missing",
                    expected=f"{100 + i} among the commands at {indices}",
                    happened=repr(commands),
                )
            return c
    raise c.violation("a stable leader (§5.2)", "the term changed in each of five attempts")


def rejoin_partitioned_leader(node_factory: Any = RaftNode, *, seed: int = 0, **options: Any):
    """§5.3, §5.4.1: a leader cut off with uncommitted entries rejoins: it cannot win, and its
    entries are overwritten by those of the new leader."""
    c = RaftCluster(node_factory, 3, seed=seed, **options)
    c.one(101, 3, retry=True)
    leader1 = c.check_one_leader()
    c.disconnect(leader1)
    for command in (102, 103, 104):
        c.submit(leader1, command)
    c.one(103, 2, retry=True)
    leader2 = c.check_one_leader()
    c.disconnect(leader2)
    c.connect(leader1)
    c.one(104, 2, retry=True)
    c.connect(leader2)
    c.one(105, 3, retry=True)
    got = c.committed_commands()
    _expect(
        c,
        got == [101, 103, 104, 105],
        "a stale leader's uncommitted entries are overwritten (§5.3)",
        "the committed log is not what the majority agreed on",
        expected="[101, 103, 104, 105]",
        happened=repr(got),
    )
    return c


def backup(
    node_factory: Any = RaftNode, *, seed: int = 0, max_rejections: int = 40, **options: Any
):
    """§5.3 (last part): leaders bring followers with 50-entry divergent logs up to date fast.

    Stale leaders pile up 50 uncommitted entries each, majorities commit 50 others; in the end
    every server agrees. With fast back-up a leader needs about one rejected AppendEntries per
    conflicting term per follower, so at most ``max_rejections`` rejections are allowed in all.
    """
    c = RaftCluster(node_factory, 5, seed=seed, **options)
    c.one(_big(c), 5, retry=True)
    leader1 = c.check_one_leader()
    # The leader and one follower in one part, three servers cut off.
    for k in (2, 3, 4):
        c.disconnect(_other(c, leader1, k))
    for _ in range(50):
        c.submit(leader1, _big(c))  # these cannot commit
    c.run(ET / 2)
    c.disconnect(leader1)
    c.disconnect(_other(c, leader1, 1))
    for k in (2, 3, 4):
        c.connect(_other(c, leader1, k))
    for _ in range(50):
        c.one(_big(c), 3, retry=True)
    # Now the new leader and one follower, with 50 more that cannot commit.
    leader2 = c.check_one_leader()
    other = _other(c, leader1, 2)
    if leader2 == other:
        other = _other(c, leader2, 1)
    c.disconnect(other)
    for _ in range(50):
        c.submit(leader2, _big(c))
    c.run(ET / 2)
    # The original leader and its follower come back, with the server cut off last.
    for name in c.names:
        c.disconnect(name)
    c.connect(leader1)
    c.connect(_other(c, leader1, 1))
    c.connect(other)
    for _ in range(50):
        c.one(_big(c), 3, retry=True)
    for name in c.names:
        c.connect(name)
    c.one(_big(c), 5, retry=True)
    rejected = sum(
        1
        for e in c.sim.trace.events
        if e.kind == "send"
        and getattr(e.msg, "success", None) is False
        and hasattr(e.msg, "conflict_index")
    )
    _expect(
        c,
        rejected <= max_rejections,
        "fast log back-up (§5.3)",
        f"leaders needed {rejected} rejected AppendEntries to repair the logs",
        expected=f"at most {max_rejections}: about one per conflicting term per follower",
        happened=f"{rejected}",
    )
    return c


def message_counts(node_factory: Any = RaftNode, *, seed: int = 0, **options: Any):
    """§5.2, §5.3: an election, ten entries and one idle second each cost a bounded number of
    messages (heartbeats at most ~10 per second per follower, each answered once)."""
    c = RaftCluster(node_factory, 3, seed=seed, **options)
    c.check_one_leader()
    total = c.messages_since(0)
    _expect(
        c,
        1 <= total <= 60,
        "an election costs few messages (§5.2)",
        f"{total} messages for one election and ~0.5 s of leadership",
        expected="between 1 and 60",
        happened=str(total),
    )
    iters = 10
    for attempt in range(5):
        if attempt:
            c.run(3.0)
        leader = c.check_one_leader()
        mark = c.mark()
        first = c.submit(leader, 1)
        if first is None:
            continue
        term = c.term(leader)
        commands = []
        ok = True
        for i in range(1, iters + 2):
            x = _big(c)
            commands.append(x)
            index = c.submit(leader, x)
            if index is None or c.term(leader) != term:
                ok = False
                break
            _expect(
                c,
                index == first + i,
                "a leader appends at the end of its log (§5.3)",
                f"submit returned index {index}",
                expected=f"index {first + i}",
            )
        if not ok:
            continue
        for i in range(1, iters + 1):
            command = c.wait(first + i, 3, term)
            if command is None:
                ok = False
                break
            _expect(
                c,
                command == commands[i - 1],
                "agreement (§5.3)",
                f"index {first + i} holds the wrong command",
                index=first + i,
                expected=repr(commands[i - 1]),
                happened=repr(command),
            )
        if not ok or any(c.term(name) != term for name in c.names):
            continue
        total = c.messages_since(mark)
        allowed = 2 * (iters + 1 + 3) * 3
        _expect(
            c,
            total <= allowed,
            "replication costs few messages (§5.3)",
            f"{total} messages to commit {iters} entries",
            expected=f"at most {allowed}",
            happened=str(total),
        )
        break
    else:
        raise c.violation("a stable leader (§5.2)", "the term changed in each of five attempts")
    c.run(ET)
    mark = c.mark()
    c.run(1.0)
    total = c.messages_since(mark)
    allowed = 2 * (c.n - 1) * 12
    _expect(
        c,
        total <= allowed,
        "an idle leader only sends heartbeats (§5.2)",
        f"{total} messages in one idle second",
        expected=f"at most {allowed} (heartbeats "
        "at ~10 per second per follower, and their replies)",
        happened=str(total),
    )
    return c


# --------------------------------------------------------------------------------------------
# Persistence (Figure 2) and the safety argument (§5.4).


def persist_all_crash(node_factory: Any = RaftNode, *, seed: int = 0, **options: Any):
    """Figure 2: servers that crash and restart (all at once, the leader, a follower) keep
    their term, vote and log, and the cluster keeps committing."""
    c = RaftCluster(node_factory, 3, seed=seed, **options)
    c.one(11, 3, retry=True)
    for name in c.names:
        c.crash(name)
    for name in c.names:
        c.restart(name)
    c.one(12, 3, retry=True)
    leader1 = c.check_one_leader()
    c.crash(leader1)
    c.restart(leader1)
    c.one(13, 3, retry=True)
    leader2 = c.check_one_leader()
    c.crash(leader2)
    c.one(14, 2, retry=True)
    c.restart(leader2)
    c.wait(4, 3)
    follower = _other(c, c.check_one_leader(), 1)
    c.crash(follower)
    c.one(15, 2, retry=True)
    c.restart(follower)
    c.one(16, 3, retry=True)
    return c


def persist_churn(node_factory: Any = RaftNode, *, seed: int = 0, **options: Any):
    """Figure 2: of five servers, five times two crash, then three more including the leader,
    and they come back in a different order: nothing committed is lost."""
    c = RaftCluster(node_factory, 5, seed=seed, **options)
    index = 1
    for _ in range(5):
        c.one(10 + index, 5, retry=True)
        index += 1
        leader1 = c.check_one_leader()
        c.crash(_other(c, leader1, 1))
        c.crash(_other(c, leader1, 2))
        c.one(10 + index, 3, retry=True)
        index += 1
        for k in (0, 3, 4):
            c.crash(_other(c, leader1, k))
        c.restart(_other(c, leader1, 1))
        c.restart(_other(c, leader1, 2))
        c.run(ET)
        c.restart(_other(c, leader1, 3))
        c.one(10 + index, 3, retry=True)
        index += 1
        c.restart(_other(c, leader1, 4))
        c.restart(leader1)
    c.one(1000, 5, retry=True)
    return c


def persist_partitioned_leader(node_factory: Any = RaftNode, *, seed: int = 0, **options: Any):
    """Figure 2: a leader and a follower crash while a third server is cut off; the leader
    restarts and, with the returning server, commits again; then all three agree."""
    c = RaftCluster(node_factory, 3, seed=seed, **options)
    c.one(101, 3, retry=True)
    leader = c.check_one_leader()
    third = _other(c, leader, 2)
    c.disconnect(third)
    c.one(102, 2, retry=True)
    c.crash(leader)
    c.crash(_other(c, leader, 1))
    c.connect(third)
    c.restart(leader)
    c.one(103, 2, retry=True)
    c.restart(_other(c, leader, 1))
    c.one(104, 3, retry=True)
    return c


def persist_vote(node_factory: Any = RaftNode, *, seed: int = 0, **options: Any):
    """Figure 2: votedFor survives a crash: a server that voted in a term, crashed and restarted
    does not vote for a second candidate in that term.

    The two candidates are test doubles: RequestVote messages handed to the voter as if two
    other servers had sent them, each for the next term with an up-to-date log.
    """
    c = RaftCluster(node_factory, 3, seed=seed, **options)
    leader = c.check_one_leader()
    c.one(1, 3)
    voter, rival = _other(c, leader, 1), _other(c, leader, 2)
    term = _term(c, voter) + 1
    last = len(c.node(voter).log) - 1
    c.inject(voter, RequestVote(term, rival, last + 10, term), src=rival)
    replies = c.sent_by(voter, "RequestVoteReply")
    _expect(
        c,
        bool(replies) and replies[-1].granted,
        "a vote for an up-to-date candidate (§5.2, §5.4.1)",
        f"{voter} did not grant its vote to {rival} for term {term}",
        node=voter,
        term=term,
        happened=repr(replies[-1]) if replies else "no reply",
    )
    c.crash(voter)
    c.restart(voter)
    c.inject(voter, RequestVote(term, leader, last + 10, term), src=leader)
    replies = c.sent_by(voter, "RequestVoteReply")
    _expect(
        c,
        not replies[-1].granted,
        "votedFor is persistent (Figure 2)",
        f"after a restart {voter} voted again in term {term}",
        node=voter,
        term=term,
        expected=f"no vote for {leader}: it voted for {rival} before crashing",
        happened=repr(replies[-1]),
    )
    c.run(ET)
    c.one(2, 3, retry=True)
    return c


def stale_candidate(node_factory: Any = RaftNode, *, seed: int = 0, **options: Any):
    """§5.4.1: a server that missed committed entries, but campaigned alone to a high term,
    returns where only an up-to-date follower can hear it: that follower must not vote for it.

    A node without the election restriction elects the stale server, which lacks committed
    entries: the harness reports Leader Completeness.
    """
    c = RaftCluster(node_factory, 3, seed=seed, **options)
    leader = c.check_one_leader()
    c.one(101, 3)
    stale = _other(c, leader, 1)
    c.disconnect(stale)
    c.one(102, 2)
    c.one(103, 2)
    term = _term(c, leader)
    c.run(3.0)
    _expect(
        c,
        _term(c, stale) > term + 1,
        "a follower that hears no leader campaigns (§5.2)",
        f"{stale} stayed near term {term} while cut off for 3 s",
        node=stale,
        expected=f"term > {term + 1}",
        happened=f"term {c.term(stale)}",
    )
    c.sim.cut(stale, leader, both=True)
    c.connect(stale)
    c.run(2.0)
    c.heal()
    c.one(104, 3, retry=True)
    got = c.committed_commands()[:4]
    _expect(
        c,
        got == [101, 102, 103, 104],
        "committed entries survive (§5.4)",
        "the committed log changed",
        expected="[101, 102, 103, 104]",
        happened=repr(got),
    )
    return c


def figure8_scripted(node_factory: Any = RaftNode, *, seed: int = 0, **options: Any):
    """§5.4.2, Figure 8, step by step with partitions: an entry of an old term, stored on a
    majority by a later leader, is not yet committed, and a server with a later last term
    overwrites it.

    The steps follow the paper's Figure 8 (a)-(d): (a) a leader stores A on itself and one
    follower; (b) the three others elect a leader, which takes B at the same index; (c) a leader
    of a third term stores A on a majority and takes C, which it alone holds; (d) the servers
    with C and A crash, and B's server, whose last term is later, wins and overwrites A.

    A node that commits old-term entries by counting replicas commits A in step (c), whether
    it looks at A's term or only at the term of its own last entry (C's): the harness then
    reports Leader Completeness (or State Machine Safety) when A is overwritten.
    """
    c = RaftCluster(node_factory, 5, seed=seed, **options)
    leader1 = c.check_one_leader()
    c.one("first", 5)
    follower = _other(c, leader1, 1)
    rest = [_other(c, leader1, k) for k in (2, 3, 4)]
    # (a) The leader stores A on itself and one follower only.
    c.partition([leader1, follower], rest)
    a_index = c.submit(leader1, "A")
    assert a_index is not None, f"{leader1} leads but did not take a command"
    c.run(0.2)
    # (b) The other three elect a leader, which takes B at the same index and is cut off.
    found = c.run_until(lambda: any(c.role(x) == "leader" for x in rest), timeout=5 * ET)
    _expect(
        c,
        found,
        "a majority elects a leader (§5.2)",
        f"{', '.join(rest)} elected no leader in 5 s",
        happened="roles: " + c.summary(),
    )
    leader2 = next(x for x in rest if c.role(x) == "leader")
    c.disconnect(leader2)
    c.submit(leader2, "B")
    others = [x for x in rest if x != leader2]
    # (c) The old leader's side, with the two others, elects a leader that stores A on them.
    c.partition([leader1, follower, *others])

    def a_everywhere() -> bool:
        for x in others:
            log = c.node(x).log
            if len(log) <= a_index or log[a_index].command != "A":
                return False
        return True

    found = c.run_until(a_everywhere, timeout=5 * ET)
    _expect(
        c,
        found,
        "a leader replicates its log (§5.3)",
        f"entry A (index {a_index}) did not reach {', '.join(others)} in 5 s",
        happened="roles: " + c.summary(),
    )
    # The leader of this third term takes C, which stays in its own log (its messages are cut),
    # while the acknowledgements of A still reach it: A is on a majority, and the leader's last
    # entry is of its current term (as S1's index 3 in Figure 8 (c)).
    group = [leader1, follower, *others]
    leaders = [x for x in group if c.role(x) == "leader"]  # up, so they have a term
    leader3 = max(leaders, key=lambda x: _term(c, x), default=None)
    if leader3 is None:
        raise c.violation(
            "a leader replicates its log (§5.3)",
            "entry A was replicated, but no server leads now",
            happened="roles: " + c.summary(),
        )
    for x in group:
        if x != leader3:
            c.sim.cut(leader3, x)
    c.submit(leader3, "C")
    c.run(0.05)
    # (d) Both servers that had A first crash; B's server returns: only it can win.
    c.crash(leader1)
    c.crash(follower)
    c.heal()
    c.one("D", 3, retry=True)
    c.restart(leader1)
    c.restart(follower)
    c.one("E", 5, retry=True)
    return c


def figure8(node_factory: Any = RaftNode, *, seed: int = 0, rounds: int = 1000, **options: Any):
    """§5.4, Figure 8: a thousand rounds of leaders crashing at random moments (often right
    after taking a command), servers restarting, and in the end all five agree."""
    c = RaftCluster(node_factory, 5, seed=seed, **options)
    rng = c.rng
    c.one(_big(c), 1, retry=True)
    up = len(c.names)
    for _ in range(rounds):
        leader = None
        for name in c.names:
            if c.is_up(name) and c.submit(name, _big(c)) is not None:
                leader = name
        c.run(rng.uniform(0, ET / 2) if rng.random() < 0.1 else rng.uniform(0, 0.013))
        if leader is not None and c.is_up(leader):
            c.crash(leader)
            up -= 1
        if up < 3:
            name = rng.choice(c.names)
            if not c.is_up(name):
                c.restart(name)
                up += 1
    for name in c.names:
        if not c.is_up(name):
            c.restart(name)
    c.one(_big(c), 5, retry=True)
    return c


def unreliable_agreement(node_factory: Any = RaftNode, *, seed: int = 0, **options: Any):
    """§5.3: on a network that loses and delays messages, fifty rounds of five concurrent
    commands all commit; then, reliable again, all five servers agree."""
    c = RaftCluster(node_factory, 5, seed=seed, unreliable=True, **options)
    clients = []
    for i in range(1, 51):
        for j in range(4):
            clients.append(c.spawn(c.one_async(100 * i + j, 1, retry=True)))
        c.one(i, 1, retry=True)
    done = c.run_until(lambda: all(p.triggered for p in clients), timeout=60.0)
    _expect(c, done, "agreement (§5.3)", "concurrent commands were still not committed after 60 s")
    c.set_unreliable(False)
    c.one(100, 5, retry=True)
    return c


def figure8_unreliable(
    node_factory: Any = RaftNode, *, seed: int = 0, rounds: int = 1000, **options: Any
):
    """§5.4, Figure 8 on a lossy network that, after 200 rounds, also holds messages back for
    up to 2.2 s: leaders are cut off at random moments, and in the end all five agree."""
    c = RaftCluster(node_factory, 5, seed=seed, unreliable=True, **options)
    rng = c.rng
    c.one(rng.randrange(10_000), 1, retry=True)
    connected = len(c.names)
    for i in range(rounds):
        if i == 200:
            c.set_long_reordering(True)
        leader = None
        for name in c.names:
            if c.submit(name, rng.randrange(10_000)) is not None and c.connected(name):
                leader = name
        c.run(rng.uniform(0, ET / 2) if rng.random() < 0.1 else rng.uniform(0, 0.013))
        if leader is not None and rng.random() < 0.5:
            c.disconnect(leader)
            connected -= 1
        if connected < 3:
            name = rng.choice(c.names)
            if not c.connected(name):
                c.connect(name)
                connected += 1
    for name in c.names:
        c.connect(name)
    c.one(rng.randrange(10_000), 5, retry=True)
    return c


def _churn(node_factory: Any, seed: int, unreliable: bool, options: dict[str, Any]):
    c = RaftCluster(node_factory, 5, seed=seed, unreliable=unreliable, **options)
    rng = c.rng
    stop = [False]
    seen: list[int] = []  # values some client saw committed

    def client(me: int):
        while not stop[0]:
            x = rng.randrange(2**31)
            index = None
            for name in c.names:  # try every server: one of them may lead
                if c.is_up(name):
                    got = c.submit(name, x)
                    if got is not None:
                        index = got
            if index is not None:
                for pause in (0.01, 0.02, 0.05, 0.1, 0.2):  # don't wait forever
                    count, command = c.n_committed(index)
                    if count > 0:
                        if command == x:
                            seen.append(x)
                        break
                    yield c.sleep(pause)
                yield c.sleep(0.002)
            else:
                yield c.sleep(0.079 + me * 0.017)

    clients = [c.spawn(client(me)) for me in range(3)]
    for _ in range(20):
        if rng.random() < 0.2:
            c.disconnect(rng.choice(c.names))
        if rng.random() < 0.5:
            name = rng.choice(c.names)
            if not c.is_up(name):
                c.restart(name)
            c.connect(name)
        if rng.random() < 0.2:
            name = rng.choice(c.names)
            if c.is_up(name):
                c.crash(name)
        c.run(0.7 * ET)
    c.run(ET)
    c.set_unreliable(False)
    for name in c.names:
        if not c.is_up(name):
            c.restart(name)
        c.connect(name)
    stop[0] = True
    c.run_until(lambda: all(p.triggered for p in clients), timeout=5.0)
    c.run(ET)
    last = c.one(rng.randrange(2**31), 5, retry=True)
    final = [c.wait(index, 5) for index in range(1, last + 1)]
    present = set(final)
    missing = [x for x in seen if x not in present]
    _expect(
        c,
        not missing,
        "committed values survive churn (§5.4)",
        f"{len(missing)} of {len(seen)} values clients saw committed are not in the final log",
        expected=f"{missing[0]!r} in the final log" if missing else None,
        happened=f"a final log of {len(final)} entries without it",
    )
    return c


def churn(node_factory: Any = RaftNode, *, seed: int = 0, **options: Any):
    """§5.4: three clients submit while servers are cut off, crash and restart at random for
    14 s; every value a client saw committed is in the final log."""
    return _churn(node_factory, seed, False, options)


def unreliable_churn(node_factory: Any = RaftNode, *, seed: int = 0, **options: Any):
    """§5.4: :func:`churn` on a network that loses and delays messages."""
    return _churn(node_factory, seed, True, options)


def client_redirects(node_factory: Any = RaftNode, *, seed: int = 0, **options: Any):
    """§8: clients that start at random servers are redirected to the leader; a command is
    reported committed only once it is in the log, even when the leader is cut off midway."""
    c = RaftCluster(node_factory, 3, seed=seed, **options)
    commands = {f"c{i}": [f"c{i}-{k}" for k in range(20)] for i in (1, 2)}
    for name, cmds in commands.items():
        c.sim.add_client(name, functools.partial(RaftClient, cmds, timeout=5.0))
    c.run(1.5)
    leader = c.check_one_leader()
    c.disconnect(leader)
    c.run(3.0)
    c.connect(leader)
    c.run_until(lambda: all(c.sim.node(n, RaftClient).done for n in commands), timeout=30.0)
    c.one("last", 3, retry=True)
    log = c.committed_commands()
    ops = list(c.sim.history)
    ok = [op for op in ops if op.status == "ok"]
    _expect(
        c,
        len(ok) >= 30,
        "clients make progress through redirects (§8)",
        f"only {len(ok)} of 40 client commands were acknowledged",
        expected="at least 30",
        happened=str(len(ok)),
    )
    for op in ok:
        index = op.output
        _expect(
            c,
            0 < index <= len(log) and log[index - 1] == op.input,
            "a client's command is acknowledged only once committed (§8)",
            f"{op.client} was told {op.input!r} committed at index {index}",
            index=index,
            expected=f"{op.input!r} at index {index}",
            happened=repr(log[index - 1]) if 0 < index <= len(log) else "no such index",
        )
    return c


SCENARIOS: dict[str, Callable[..., RaftCluster]] = {
    "initial_election": initial_election,
    "reelection": reelection,
    "many_elections": many_elections,
    "basic_agreement": basic_agreement,
    "rpc_bytes": rpc_bytes,
    "follower_failure": follower_failure,
    "leader_failure": leader_failure,
    "rejoin_follower": rejoin_follower,
    "no_agreement_without_majority": no_agreement_without_majority,
    "concurrent_submissions": concurrent_submissions,
    "rejoin_partitioned_leader": rejoin_partitioned_leader,
    "backup": backup,
    "message_counts": message_counts,
    "persist_all_crash": persist_all_crash,
    "persist_churn": persist_churn,
    "persist_partitioned_leader": persist_partitioned_leader,
    "persist_vote": persist_vote,
    "stale_candidate": stale_candidate,
    "figure8_scripted": figure8_scripted,
    "figure8": figure8,
    "unreliable_agreement": unreliable_agreement,
    "figure8_unreliable": figure8_unreliable,
    "churn": churn,
    "unreliable_churn": unreliable_churn,
    "client_redirects": client_redirects,
}


def run_all(
    node_factory: Any = RaftNode,
    names: Iterable[str] | None = None,
    *,
    seeds: Iterable[int] = (1, 2, 3),
) -> int:
    """Run the scenarios called ``names`` (default: all) on each of ``seeds``; return how many
    runs passed. The first failure is raised, its report starting with the scenario and seed.
    """
    chosen = list(SCENARIOS) if names is None else list(names)
    unknown = [name for name in chosen if name not in SCENARIOS]
    if unknown:
        raise ValueError(f"unknown scenario(s) {unknown}; known: {', '.join(SCENARIOS)}")
    runs = 0
    for name in chosen:
        for seed in seeds:
            try:
                SCENARIOS[name](node_factory, seed=seed)
            except AssertionError as exc:
                exc.args = (f"[scenario {name}, seed {seed}] {exc.args[0] if exc.args else ''}",)
                raise
            runs += 1
    return runs
