"""Raft: a reference implementation, written to be read beside the paper.

The paper is Diego Ongaro and John Ousterhout, "In Search of an Understandable Consensus
Algorithm (Extended Version)", 2014. Section numbers in comments (``# Raft §5.4.1``) point into
it; "Figure 2" is its one-page summary of the algorithm. Each rule of the algorithm is a short
method that cites the section it implements.

What is here:

* :class:`RaftNode`, a pure :class:`distlib.node.Node`: leader election with randomized timeouts
  (§5.2), the election restriction (§5.4.1), log replication with the consistency check and
  fast back-up by conflicting term (§5.3), commitment of current-term entries by counting
  replicas (§5.4.2), durable ``term``, ``voted_for`` and ``log`` in ``self.storage`` (Figure 2),
  and client commands through the leader, with redirects (§8).
* The messages, as frozen dataclasses: :class:`RequestVote`, :class:`AppendEntries`, their
  replies, and :class:`ClientRequest` / :class:`ClientReply`.
* :class:`RaftClient`, a client that follows redirects to the leader (§8).
* :func:`split_vote_probability`, a model of how often the first election round splits.

Three methods are the lab's exercises; a student replaces exactly one of them in a subclass and
the harness in :mod:`distlib.testing.raft` grades the subclass:

* :meth:`RaftNode.handle_request_vote` (the vote rule with the up-to-date check, §5.2, §5.4.1);
* :meth:`RaftNode.handle_append_entries` (the consistency check and conflict truncation, §5.3);
* :meth:`RaftNode.advance_commit_index` (the leader's commit rule, §5.3, §5.4.2).

Deviations from the paper (each marked ``Deviation:`` where it is made):

* the leader backs up a rejected follower one *term* at a time using the follower's conflicting
  term and the first index it holds for it (:meth:`RaftNode.backup_index`); §5.3 only sketches
  this optimization, and the leader's search for its own last entry of that term is this
  module's choice;
* after a rejection that does not move ``nextIndex`` back (a stale reply, or a follower that
  lost entries it had acknowledged), the leader retries at the next heartbeat, not at once;
* a client's request that reaches a follower is answered with a redirect naming the leader the
  follower knows, rather than forwarded (§8 allows either).

Left to others: log compaction and snapshots (§7), membership changes (§6), read-only queries
and duplicate detection of retried client commands (the rest of §8). A node applies committed
commands by appending ``(index, command)`` to its ``applied`` list; a state machine (a key-value
store, say) can override :meth:`RaftNode.apply`.

The log is a Python list whose element 0 is a sentinel entry of term 0, so that ``log[i]`` is
the entry at the paper's index ``i`` (indices start at 1) and ``prev_log_index = 0`` needs no
special case.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from distlib.client import Workload
from distlib.disk import write_log
from distlib.node import Node
from distlib.quorum import majority

__all__ = [
    "AppendEntries",
    "AppendEntriesReply",
    "ClientReply",
    "ClientRequest",
    "Entry",
    "RaftClient",
    "RaftNode",
    "RequestVote",
    "RequestVoteReply",
    "Role",
    "split_vote_probability",
]


class Role(enum.StrEnum):
    """A server's role (§5.1). A ``StrEnum``: ``Role.LEADER == "leader"``."""

    FOLLOWER = "follower"
    CANDIDATE = "candidate"
    LEADER = "leader"


# --------------------------------------------------------------------------------------------
# The log and the messages (Figure 2).


@dataclass(frozen=True, slots=True)
class Entry:
    """One log entry: the command and the term in which a leader received it (§5.3)."""

    term: int
    command: Any


#: log[0] of every log: index 0 "holds" an entry of term 0, so index 1 is the first real entry.
SENTINEL = Entry(0, None)


@dataclass(frozen=True, slots=True)
class RequestVote:
    """RequestVote RPC (Figure 2): a candidate asks for a vote in ``term``."""

    term: int
    candidate: str
    last_log_index: int
    last_log_term: int


@dataclass(frozen=True, slots=True)
class RequestVoteReply:
    """The answer to :class:`RequestVote`: the voter's term and whether it granted its vote."""

    term: int
    granted: bool


@dataclass(frozen=True, slots=True)
class AppendEntries:
    """AppendEntries RPC (Figure 2): replicate ``entries`` after ``prev_log_index``; a heartbeat
    when ``entries`` is empty (§5.2)."""

    term: int
    leader: str
    prev_log_index: int
    prev_log_term: int
    entries: tuple[Entry, ...]
    leader_commit: int


@dataclass(frozen=True, slots=True)
class AppendEntriesReply:
    """The answer to :class:`AppendEntries`.

    On success ``match_index`` is the index of the last entry the request made sure of
    (``prev_log_index + len(entries)``). On a failed consistency check, ``conflict_term`` and
    ``conflict_index`` let the leader skip a whole term of entries at once (§5.3, last part):
    ``conflict_term`` is the term of the follower's entry at ``prev_log_index`` and
    ``conflict_index`` the first index the follower holds for that term, or ``conflict_term`` is
    None and ``conflict_index`` is one past the end of the follower's (too short) log.
    """

    term: int
    success: bool
    match_index: int = 0
    conflict_term: int | None = None
    conflict_index: int = 0


@dataclass(frozen=True, slots=True)
class ClientRequest:
    """A client asks the cluster to run ``command`` (§8); ``seq`` numbers the client's requests."""

    seq: int
    command: Any


@dataclass(frozen=True, slots=True)
class ClientReply:
    """The answer to :class:`ClientRequest`: committed at ``index`` (``ok``), or a redirect to
    ``leader`` (None when the server does not know the leader) (§8)."""

    seq: int
    ok: bool
    index: int = 0
    leader: str | None = None


# --------------------------------------------------------------------------------------------
# The server.


class RaftNode(Node):
    """A Raft server (Figure 2), as a pure node.

    ``election_timeout=(low, high)``: each election timeout is drawn uniformly from this range,
    in seconds (§5.2); ``heartbeat_interval``: how often an idle leader sends AppendEntries; it
    must be well below the election timeout (§5.6: broadcastTime << electionTimeout).
    ``max_entries``: the most entries one AppendEntries carries.

    State, with Figure 2's names in brackets: ``term`` [currentTerm], ``voted_for`` [votedFor],
    ``log`` (persistent, in ``self.storage``); ``commit_index``, ``last_applied``, ``role``,
    ``leader_id`` (volatile); ``next_index``, ``match_index`` (volatile, on leaders).
    ``applied`` lists the ``(index, command)`` pairs this incarnation has applied, in order.
    """

    def __init__(
        self,
        *,
        election_timeout: tuple[float, float] = (0.3, 0.6),
        heartbeat_interval: float = 0.1,
        max_entries: int = 64,
    ) -> None:
        super().__init__()
        try:
            low, high = (float(x) for x in election_timeout)
        except (TypeError, ValueError):
            raise TypeError(
                f"election_timeout must be a pair (low, high) of seconds, not {election_timeout!r}"
            ) from None
        if not 0 < low <= high:
            raise ValueError(f"election_timeout needs 0 < low <= high, not {election_timeout!r}")
        if not isinstance(heartbeat_interval, int | float) or not heartbeat_interval > 0:
            raise ValueError(
                f"heartbeat_interval must be a positive number of seconds, "
                f"not {heartbeat_interval!r}"
            )
        if heartbeat_interval >= low:
            raise ValueError(
                f"heartbeat_interval ({heartbeat_interval}) must be shorter than the election "
                f"timeout ({low}): otherwise followers start elections while the leader is fine"
            )
        if not isinstance(max_entries, int) or max_entries < 1:
            raise ValueError(f"max_entries must be a positive int, not {max_entries!r}")
        self.election_timeout = (low, high)
        self.heartbeat_interval = float(heartbeat_interval)
        self.max_entries = max_entries
        # Persistent state on all servers (Figure 2); on_start loads it from self.storage.
        self.term = 0
        self.voted_for: str | None = None
        self.log: list[Entry] = [SENTINEL]
        # Volatile state on all servers (Figure 2).
        self.commit_index = 0
        self.last_applied = 0
        self.role = Role.FOLLOWER
        self.leader_id: str | None = None
        self.votes: set[str] = set()
        self.election_delay = self.election_deadline = 0.0  # see reset_election_timer
        self.election_armed = False
        self.applied: list[tuple[int, Any]] = []
        # Volatile state on leaders (Figure 2), reinitialized after each election.
        self.next_index: dict[str, int] = {}
        self.match_index: dict[str, int] = {}
        self.retried_at: dict[str, int] = {}  # peer -> where the last rejection sent us back
        self.pending: dict[int, tuple[str, int, int]] = {}  # index -> (client, seq, term), §8

    # -- small helpers ------------------------------------------------------------------------

    @property
    def last_log_index(self) -> int:
        """The index of the last entry of the log (0 when it is empty)."""
        return len(self.log) - 1

    @property
    def last_log_term(self) -> int:
        """The term of the last entry of the log (0 when it is empty)."""
        return self.log[-1].term

    @property
    def majority(self) -> int:
        """How many servers, this one included, make a majority of the cluster (§5.2)."""
        return majority(len(self.peers) + 1)

    def persist(self) -> None:
        """Write currentTerm, votedFor and the log to stable storage (Figure 2).

        Called before every reply or request that depends on them. Storage keeps a copy of what
        is written (it behaves like a disk). The log goes out as a server appends to its log
        file: the entries already on disk stay, a conflict cuts the file back, and only the new
        entries are written (:func:`~distlib.disk.write_log`); then everything is synced.
        """
        storage = self.storage
        storage["term"] = self.term
        storage["voted_for"] = self.voted_for
        write_log(storage, "log", self.log)
        self.sync()

    def reset_election_timer(self, *, redraw: bool = False) -> None:
        """Restart the election timeout (§5.2): unless reset again, this server starts an
        election ``election_delay`` seconds from now.

        ``election_delay`` is random, drawn from ``election_timeout`` when the server boots,
        starts a campaign or changes role (``redraw``); resets in between (each heartbeat) reuse
        it. One pending timer serves all resets: a reset only moves the deadline later, and a
        timer that fires before the deadline sets itself again for the rest. (A new timer per
        heartbeat would give the same timeouts, at the price of one more event per message.)
        """
        if redraw:
            self.election_delay = self.rng.uniform(*self.election_timeout)
        self.election_deadline = self.now + self.election_delay
        if redraw or not self.election_armed:
            self.set_timer("election", self.election_delay)
            self.election_armed = True

    # -- handlers -----------------------------------------------------------------------------

    def on_start(self) -> None:
        """Boot, or reboot after a crash: reload the persistent state and become a follower."""
        storage = self.storage
        self.term = storage.get("term", 0)
        self.voted_for = storage.get("voted_for")
        self.log = storage.get("log") or [SENTINEL]
        self.persist()
        # Raft §5.2: servers start up as followers.
        self.role = Role.FOLLOWER
        self.note("became follower", term=self.term)
        self.reset_election_timer(redraw=True)

    def on_timer(self, name: str) -> None:
        if name == "election":
            self.election_armed = False
            if self.role is Role.LEADER:
                return
            if self.now < self.election_deadline:  # reset since: wait for the rest
                self.set_timer("election", self.election_deadline - self.now)
                self.election_armed = True
            else:
                self.start_election()
        elif name in ("heartbeat", "replicate"):
            if self.role is Role.LEADER:
                self.broadcast_append_entries()
        else:
            raise ValueError(f"{self.id}: unknown timer {name!r}")

    def on_message(self, src: str, msg: Any) -> None:
        # Raft §5.1: a message from a later term makes this server a follower in that term.
        term = getattr(msg, "term", None)
        if term is not None and term > self.term:
            self.step_down(term)
        match msg:
            case AppendEntries():
                self.on_append_entries(src, msg)
            case AppendEntriesReply():
                self.on_append_entries_reply(src, msg)
            case RequestVote():
                self.on_request_vote(src, msg)
            case RequestVoteReply():
                self.on_request_vote_reply(src, msg)
            case ClientRequest():
                self.on_client_request(src, msg)
            case _:
                raise TypeError(f"{self.id}: unexpected message {msg!r} from {src}")

    # -- roles ----------------------------------------------------------------------------------

    def become_follower(self) -> None:
        """A leader or candidate returns to follower, with a fresh election timeout (§5.2)."""
        self.role = Role.FOLLOWER
        self.pending.clear()
        self.cancel_timer("heartbeat")
        self.reset_election_timer(redraw=True)
        self.note("became follower", term=self.term)

    def step_down(self, term: int) -> None:
        """Raft §5.1: adopt a later ``term``, forget this term's vote, and follow."""
        self.term = term
        self.voted_for = None
        self.leader_id = None
        self.persist()
        if self.role is Role.LEADER:
            self.become_follower()
        elif self.role is Role.CANDIDATE:
            self.role = Role.FOLLOWER  # its election timer keeps running
            self.note("became follower", term=term)

    def start_election(self) -> None:
        """Raft §5.2: a follower whose election timeout passed becomes a candidate: it increments
        its term, votes for itself and asks every other server for its vote."""
        self.role = Role.CANDIDATE
        self.term += 1
        self.voted_for = self.id
        self.leader_id = None
        self.votes = {self.id}
        self.note("became candidate", term=self.term)
        self.persist()
        # Raft §5.2: a new random timeout, so that a split vote ends in a new election.
        self.reset_election_timer(redraw=True)
        self.broadcast(RequestVote(self.term, self.id, self.last_log_index, self.last_log_term))
        if len(self.votes) >= self.majority:  # a cluster of one
            self.become_leader()

    def become_leader(self) -> None:
        """Raft §5.2, §5.3: a candidate with votes from a majority leads its term."""
        self.role = Role.LEADER
        self.leader_id = self.id
        self.note("became leader", term=self.term)
        self.cancel_timer("election")
        self.election_armed = False
        # Raft §5.3: nextIndex starts just past the leader's log, matchIndex at 0 (Figure 2).
        self.next_index = dict.fromkeys(self.peers, self.last_log_index + 1)
        self.match_index = dict.fromkeys(self.peers, 0)
        self.retried_at = {}
        # Raft §5.2: an empty AppendEntries at once tells the others who leads.
        self.broadcast_append_entries()

    # -- elections (§5.2, §5.4.1) ---------------------------------------------------------------

    def on_request_vote(self, src: str, msg: RequestVote) -> None:
        reply = self.handle_request_vote(msg)
        self.persist()  # Figure 2: votedFor is on stable storage before the vote is sent
        self.send(src, reply)

    def handle_request_vote(self, msg: RequestVote) -> RequestVoteReply:
        """Decide whether to vote for ``msg.candidate`` (Figure 2, RequestVote, receiver).

        Lab exercise: the vote rule. When this runs, a request from a later term has already
        made this server a follower in that term (§5.1). Grant the vote, record it in
        ``self.voted_for`` and restart the election timeout, only if all of these hold:

        * the request is not from an earlier term (§5.1);
        * this server has not voted for someone else in this term (§5.2);
        * the candidate's log is at least as up-to-date as this server's (§5.4.1): its last
          entry has a later term, or the same last term and an index at least as large.
        """
        if msg.term < self.term:  # Raft §5.1: a stale candidate
            return RequestVoteReply(self.term, False)
        if self.voted_for not in (None, msg.candidate):  # Raft §5.2: one vote per term
            return RequestVoteReply(self.term, False)
        # Raft §5.4.1: the election restriction: vote only for an up-to-date log.
        up_to_date = msg.last_log_term > self.last_log_term or (
            msg.last_log_term == self.last_log_term and msg.last_log_index >= self.last_log_index
        )
        if not up_to_date:
            return RequestVoteReply(self.term, False)
        self.voted_for = msg.candidate
        self.reset_election_timer()  # Figure 2: granting a vote resets the election timeout
        return RequestVoteReply(self.term, True)

    def on_request_vote_reply(self, src: str, msg: RequestVoteReply) -> None:
        if self.role is not Role.CANDIDATE or msg.term != self.term:
            return  # Raft §5.2: a reply to an earlier election, or the election is over
        if msg.granted:
            self.votes.add(src)
            if len(self.votes) >= self.majority:  # Raft §5.2: a majority wins
                self.become_leader()

    # -- replication: the follower's side (§5.3) -------------------------------------------

    def on_append_entries(self, src: str, msg: AppendEntries) -> None:
        if msg.term == self.term:
            # Raft §5.2: a candidate that hears from the leader of its term returns to follower;
            # any server that hears from the current leader restarts its election timeout.
            if self.role is Role.CANDIDATE:
                self.role = Role.FOLLOWER
                self.note("became follower", term=self.term)
            self.leader_id = msg.leader
            self.reset_election_timer()
        reply = self.handle_append_entries(msg)
        if reply.success:
            # Figure 2, AppendEntries step 5: learn the leader's commit index, up to the last entry
            # this request vouched for; commitIndex never decreases (Figure 2).
            commit = min(msg.leader_commit, reply.match_index)
            if commit > self.commit_index:
                self.commit_index = commit
        self.persist()  # Figure 2: the log is on stable storage before the reply
        self.send(src, reply)
        self.apply_committed()

    def handle_append_entries(self, msg: AppendEntries) -> AppendEntriesReply:
        """Check and apply an AppendEntries request to the log (Figure 2, AppendEntries, receiver).

        Lab exercise: the consistency check and conflict truncation. When this runs, a request
        from a later term has already made this server a follower (§5.1).

        * Reject a request from an earlier term (§5.1).
        * Reject unless the log holds an entry at ``prev_log_index`` whose term is
          ``prev_log_term`` (§5.3, the consistency check). Say why, so the leader can back up
          fast (§5.3, last part): a too-short log gives ``conflict_term=None`` and
          ``conflict_index`` one past its end; otherwise give the term found at
          ``prev_log_index`` and the first index holding that term.
        * If an existing entry conflicts with a new one (same index, other term), delete it and
          everything after it; then append the entries not already in the log (§5.3). Never
          delete an entry that matches: a delayed request must not undo a newer one.
        * Succeed with ``match_index = prev_log_index + len(entries)``.
        """
        if msg.term < self.term:  # Raft §5.1: a stale leader
            return AppendEntriesReply(self.term, False)
        log = self.log
        prev = msg.prev_log_index
        # Raft §5.3: the consistency check.
        if prev >= len(log):
            return AppendEntriesReply(self.term, False, conflict_index=len(log))
        if log[prev].term != msg.prev_log_term:
            conflict_term = log[prev].term
            first = prev
            while log[first - 1].term == conflict_term:  # the sentinel's term 0 stops this
                first -= 1
            return AppendEntriesReply(
                self.term, False, conflict_term=conflict_term, conflict_index=first
            )
        # Raft §5.3: delete a conflicting suffix, append what is new.
        index = prev
        for entry in msg.entries:
            index += 1
            if index < len(log):
                if log[index].term == entry.term:
                    continue  # already there (Log Matching: the same entry)
                del log[index:]
            log.append(entry)
        return AppendEntriesReply(self.term, True, match_index=prev + len(msg.entries))

    # -- replication: the leader's side (§5.3, §5.4.2) -----------------------------------------

    def submit(self, command: Any) -> int | None:
        """Propose ``command``: on a leader, append it and return its log index; elsewhere None.

        Raft §5.3: the leader appends the command to its log as a new entry, then replicates it.
        Commands submitted at the same instant leave together (the zero-delay "replicate" timer).
        """
        if self.role is not Role.LEADER:
            return None
        self.log.append(Entry(self.term, command))
        self.persist()
        self.set_timer("replicate", 0.0)
        if len(self.peers) == 0:  # a cluster of one commits alone
            self.advance_commit_index()
            self.apply_committed()
        return self.last_log_index

    def broadcast_append_entries(self) -> None:
        """Send every follower what it lacks (a heartbeat if nothing), then wait an interval."""
        for peer in self.peers:
            self.send_append_entries(peer)
        self.set_timer("heartbeat", self.heartbeat_interval)

    def send_append_entries(self, peer: str) -> None:
        """Raft §5.3: send ``peer`` the entries from its nextIndex on, with the entry before."""
        log = self.log
        start = self.next_index[peer]
        entries = tuple(log[start : start + self.max_entries])
        prev = start - 1
        self.send(
            peer,
            AppendEntries(self.term, self.id, prev, log[prev].term, entries, self.commit_index),
        )
        # Each entry goes out once: nextIndex moves past what is in flight, and comes back if
        # the follower turns out not to have it (a rejection, below).
        self.next_index[peer] = start + len(entries)

    def on_append_entries_reply(self, src: str, msg: AppendEntriesReply) -> None:
        if self.role is not Role.LEADER or msg.term != self.term:
            return  # a reply to an earlier term's request
        if msg.success:
            self.retried_at.pop(src, None)
            if msg.match_index > self.match_index[src]:
                self.match_index[src] = msg.match_index
                self.advance_commit_index()
                self.apply_committed()
            if self.next_index[src] <= self.match_index[src]:
                self.next_index[src] = self.match_index[src] + 1
            if self.next_index[src] <= self.last_log_index:
                self.send_append_entries(src)  # more than one request's worth to send
        else:
            # Raft §5.3: after a rejection, back up nextIndex and try again, never below what
            # the follower is known to hold.
            target = max(self.match_index[src] + 1, self.backup_index(msg))
            self.next_index[src] = target
            # Deviation: §5.3 retries at once. A rejection that sends the leader back where the
            # previous one did (a follower that lost entries it had acknowledged, or a stale
            # reply) made no progress: the retry waits for the next heartbeat, so that such a
            # follower cannot drive a storm of requests.
            if self.retried_at.get(src) != target:
                self.retried_at[src] = target
                self.send_append_entries(src)

    def backup_index(self, msg: AppendEntriesReply) -> int:
        """Where to retry after a rejection (§5.3, last part: one round trip per conflicting
        term, not per entry).

        If the follower's log was too short, retry at its end. Otherwise, if the leader holds
        entries of the follower's conflicting term, retry just after the last of them; if not,
        skip the follower's whole term.
        """
        # Deviation: §5.3 sketches this back-up only in outline; the search below is ours.
        if msg.conflict_term is None:
            return min(msg.conflict_index, self.last_log_index + 1)
        log = self.log
        # Terms never decrease along a log: look for the conflicting term from the end.
        index = self.last_log_index
        while index > 0 and log[index].term > msg.conflict_term:
            index -= 1
        if index > 0 and log[index].term == msg.conflict_term:
            return index + 1
        return max(1, msg.conflict_index)

    def advance_commit_index(self) -> None:
        """Raise ``commit_index`` as far as the leader's commit rule allows (§5.3, §5.4.2).

        Lab exercise: the commit rule. An entry is committed once the leader has replicated it
        on a majority of servers (§5.3), the leader's own log counting as one, with
        ``match_index[peer]`` telling how far each follower's log is known to match. But a
        leader counts replicas only for entries of its *current* term (§5.4.2, Figure 8): an
        older entry on a majority can still be overwritten by a later leader, and becomes
        committed only indirectly, when an entry of the current term after it is.
        """
        # Raft §5.3: the highest index stored on a majority: sort the match indices, the
        # leader's own last index among them, and take the majority-th largest.
        matches = sorted([self.last_log_index, *self.match_index.values()], reverse=True)
        n = matches[self.majority - 1]
        # Raft §5.4.2: commit by counting only an entry of the current term.
        if n > self.commit_index and self.log[n].term == self.term:
            self.commit_index = n

    # -- applying committed entries (Figure 2, "Rules for Servers") -------------------------

    def apply_committed(self) -> None:
        """Apply every committed entry not yet applied, in log order (Figure 2)."""
        while self.last_applied < self.commit_index:
            self.last_applied += 1
            index = self.last_applied
            entry = self.log[index]
            self.apply(index, entry.command)
            if self.pending:
                waiting = self.pending.pop(index, None)
                if waiting is not None and waiting[2] == entry.term:
                    client, seq, _ = waiting
                    self.send(client, ClientReply(seq, True, index=index))  # Raft §8

    def apply(self, index: int, command: Any) -> None:
        """Apply one committed command to the state machine (here: record it)."""
        self.applied.append((index, command))
        self.note("applied", index=index, command=command)

    # -- clients (§8) -------------------------------------------------------------------------

    def on_client_request(self, src: str, msg: ClientRequest) -> None:
        """Raft §8: a leader takes the command and answers once it is applied; any other server
        redirects the client to the leader it knows (or to no one)."""
        index = self.submit(msg.command)
        if index is None:
            self.send(src, ClientReply(msg.seq, False, leader=self.leader_id))
        else:
            self.pending[index] = (src, msg.seq, self.term)


# --------------------------------------------------------------------------------------------
# A client that follows redirects (§8).


class RaftClient(Workload):
    """Submits ``commands`` one at a time to a Raft cluster and records them in the history.

    Raft §8: the client first tries a server at random; a server that is not the leader
    redirects it to the leader it knows; a request that gets no answer within ``retry`` seconds
    is sent to another server. An operation ends "ok" with the log index of the command once the
    leader has applied it, or "unknown" after ``timeout`` seconds. A retried command may be
    committed twice; duplicate detection is left to the state machine.
    """

    def __init__(
        self,
        commands: Iterable[Any],
        *,
        timeout: float = 5.0,
        retry: float = 0.25,
        think: float = 0.0,
    ) -> None:
        super().__init__([("submit", c) for c in commands], timeout=timeout, think=think)
        if not retry > 0:
            raise ValueError(f"retry must be a positive number of seconds, not {retry!r}")
        self.retry = retry
        self.target: str | None = None
        self.command: Any = None

    def request(self, op: int, f: str, input: Any) -> None:
        if not self.peers:
            raise ValueError(f"{self.id}: there are no servers to send requests to")
        if self.target is None:
            self.target = self.rng.choice(self.peers)
        self.command = input
        self._send()

    def _send(self) -> None:
        self.send(self.target, ClientRequest(self.current, self.command))  # type: ignore[arg-type]
        self.set_timer("retry", self.retry)

    def on_timer(self, name: str) -> None:
        if name == "retry":
            if self.current is not None:  # no answer: try the next server
                peers = self.peers
                self.target = peers[(peers.index(self.target) + 1) % len(peers)]
                self._send()
        else:
            super().on_timer(name)

    def on_message(self, src: str, msg: Any) -> None:
        if not isinstance(msg, ClientReply) or msg.seq != self.current:
            return  # an answer to an earlier, finished request
        if msg.ok:
            self.cancel_timer("retry")
            self.finish(msg.index)
        elif msg.leader is not None and msg.leader != src:
            self.target = msg.leader  # Raft §8: redirected to the leader
            self._send()
        # No leader known: the retry timer tries another server.


# --------------------------------------------------------------------------------------------
# The split-vote model.


def split_vote_probability(
    n: int, timeout: float, delay: float, *, voters: int | None = None
) -> float:
    """The probability that the first round of an election ends without a leader.

    Model (an approximation of §5.2 and §9.3): ``voters`` servers (default ``n``: a cluster
    that has just booted; ``n - 1`` after the leader crashed) start their election timers at
    the same moment, each timeout uniform in ``[timeout, 2 * timeout]`` and independent; every
    message takes exactly ``delay`` seconds. The first server to time out becomes a candidate
    and its RequestVote reaches every other server ``delay`` later. A server whose own timeout
    ends before that votes for itself instead; every other server votes for the first
    candidate. So with ``k`` servers timing out within ``delay`` after the first, the first
    candidate gets ``voters - k`` votes and wins iff that is a majority of ``n``.

    Writing ``p = delay / timeout``, conditioning on the earliest timeout and integrating over
    it gives a binomial tail::

        P(split) = P(Binomial(voters, p) >= voters - majority(n) + 1)

    (for ``p >= 1`` every server times out before hearing anyone: a split whenever one vote is
    not a majority). Random delays make splits somewhat likelier than this model says.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n (the cluster size) must be a positive int, not {n!r}")
    if voters is None:
        voters = n
    if not isinstance(voters, int) or not 1 <= voters <= n:
        raise ValueError(f"voters must be an int between 1 and n={n}, not {voters!r}")
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
    if not delay >= 0:
        raise ValueError(f"delay must be a non-negative number of seconds, not {delay!r}")
    needed = majority(n)
    if n == 1:
        return 0.0  # a cluster of one elects itself
    if voters < needed:
        return 1.0  # no leader can be elected at all
    k_split = voters - needed + 1  # this many early timeouts deny the first candidate
    p = min(1.0, delay / timeout)
    return sum(
        math.comb(voters, k) * p**k * (1 - p) ** (voters - k) for k in range(k_split, voters + 1)
    )
