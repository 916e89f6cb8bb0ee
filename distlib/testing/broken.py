"""Deliberately broken protocol nodes, each carrying one named bug, for the checkers and the labs.

A checker that never fails proves nothing: each class here breaks one rule of its paper, and the
tests show that the checkers catch it (and the labs show students what the rule protects). Each
docstring says which rule is broken and what goes wrong.

* Paxos ("Paxos Made Simple", PMS): :class:`ForgetfulAcceptor` (§2.5, state in memory only),
  :class:`PromiseBreakingAcceptor` (§2.2 P1a), :class:`ValueIgnoringProposer` (§2.2 P2c), and
  for Multi-Paxos :class:`ValueIgnoringLeader` (§2.2 P2c, per slot).
* Two-phase commit (Gray 1978; Bernstein, Hadzilacos and Goodman, BHG §7.3):
  :class:`EagerCoordinator` (rule AC3, §7.2) and :class:`ForgetfulParticipant` (prepared record not
  forced to stable storage).
* Raft (Ongaro and Ousterhout): :class:`BrokenVoteRaft` (§5.4.1, the up-to-date check),
  :class:`BrokenCommitRaft` (§5.4.2, Figure 8), and the persistence bugs :class:`BootLogRaft`
  (the log written once) and :class:`UnsyncedRaft` (written, never synced) of Figure 2.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

from distlib.protocols.multipaxos import NOOP, MultiPaxosNode
from distlib.protocols.paxos import Accept, Accepted, Ballot, PaxosNode, Promise
from distlib.protocols.raft import RaftNode, RequestVote, RequestVoteReply
from distlib.protocols.twophase import Coordinator, Participant

__all__ = [
    "BootLogRaft",
    "BrokenCommitRaft",
    "BrokenVoteRaft",
    "EagerCoordinator",
    "ForgetfulAcceptor",
    "ForgetfulParticipant",
    "PromiseBreakingAcceptor",
    "UnsyncedRaft",
    "ValueIgnoringLeader",
    "ValueIgnoringProposer",
]


# -- Paxos -----------------------------------------------------------------------------------


class ForgetfulAcceptor(PaxosNode):
    """BROKEN: keeps its promise and acceptance in memory only, so a crash erases them.

    After a restart it promises and accepts lower numbers than it promised before the crash,
    breaking PMS §2.5 (acceptors must remember in stable storage): two values can be chosen.
    """

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self.memory: dict[str, Any] = {}

    @property
    def acceptor_log(self) -> MutableMapping[str, Any]:
        return self.memory


class PromiseBreakingAcceptor(PaxosNode):
    """BROKEN: accepts every Accept, ignoring the promises it made (violates PMS §2.2, P1a)."""

    def handle_accept(self, msg: Accept) -> Accepted:
        self.acceptor_log["accepted"] = (msg.ballot, msg.value)
        return Accepted(msg.ballot, msg.value)


class ValueIgnoringProposer(PaxosNode):
    """BROKEN: always proposes its own value, ignoring values reported in the promises
    (violates PMS §2.2, P2c): a later proposer overwrites a value that was already chosen."""

    def choose_value(self, promises: list[Promise]) -> Any:
        return self.value


class ValueIgnoringLeader(MultiPaxosNode):
    """BROKEN: a new leader fills every slot it recovers with a no-op, ignoring the values the
    promises report (violates PMS §2.2 P2c): commands already chosen get overwritten."""

    def choose_value(self, slot: int, accepted: list[tuple[Ballot, Any]]) -> Any:
        return NOOP


# -- two-phase commit ----------------------------------------------------------------------


class EagerCoordinator(Coordinator):
    """BROKEN: commits as soon as a majority voted yes, ignoring the others' votes.

    It violates BHG §7.2 rule AC3 (commit only if all voted yes): a participant that voted no, or
    never voted, aborts while the rest commit.
    """

    def decide(
        self, tx: str, votes: Mapping[str, bool], participants: Sequence[str]
    ) -> bool | None:
        yes = sum(1 for p in participants if votes.get(p) is True)
        if yes > len(participants) // 2:
            return True
        no = sum(1 for p in participants if votes.get(p) is False)
        if no >= len(participants) - len(participants) // 2:
            return False
        return None


class ForgetfulParticipant(Participant):
    """BROKEN: keeps its prepared record (the tentative writes) in memory only.

    A crash between its yes vote and the decision erases the record: told to commit after the
    restart, it has lost the writes and aborts while the others commit, so atomicity breaks
    (BHG §7.3: the prepared record must be forced to stable storage before voting yes).
    """

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self.memory: dict[str, dict[str, Any]] = {}

    def save_prepared(self, tx: str, record: dict[str, Any]) -> None:
        self.memory[tx] = record

    def load_prepared(self, tx: str) -> dict[str, Any] | None:
        return self.memory.get(tx)

    def prepared_transactions(self) -> list[str]:
        return list(self.memory)


# -- Raft ------------------------------------------------------------------------------------


class BrokenVoteRaft(RaftNode):
    """WRONG on purpose: grants votes without the up-to-date check of §5.4.1.

    A candidate with a stale log can then win an election and overwrite committed entries.
    """

    def handle_request_vote(self, msg: RequestVote) -> RequestVoteReply:
        if msg.term < self.term or self.voted_for not in (None, msg.candidate):
            return RequestVoteReply(self.term, False)
        self.voted_for = msg.candidate
        self.reset_election_timer()
        return RequestVoteReply(self.term, True)


class BrokenCommitRaft(RaftNode):
    """WRONG on purpose: commits any entry stored on a majority, whatever its term (the trap of
    §5.4.2 and Figure 8)."""

    def advance_commit_index(self) -> None:
        matches = sorted([self.last_log_index, *self.match_index.values()], reverse=True)
        n = matches[self.majority - 1]
        if n > self.commit_index:
            self.commit_index = n


class BootLogRaft(RaftNode):
    """WRONG on purpose: writes its log to storage once, at boot, and afterwards only its term
    and vote, as if the stored list stayed shared with the one in memory (Figure 2: the log is on
    stable storage before a reply). Storage keeps copies, so a crash loses every later entry."""

    def persist(self) -> None:
        self.storage["term"] = self.term
        self.storage["voted_for"] = self.voted_for
        self.storage.setdefault("log", self.log)
        self.sync()


class UnsyncedRaft(RaftNode):
    """WRONG on purpose: writes its state but never syncs it (Figure 2 asks for *stable*
    storage). Harmless where every write is durable; with ``durability="sync"`` a crash loses
    its term, vote and log."""

    def persist(self) -> None:
        self.storage["term"] = self.term
        self.storage["voted_for"] = self.voted_for
        self.storage["log"] = self.log
