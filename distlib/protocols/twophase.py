"""Two-phase commit (2PC): atomic commitment of one transaction across several participants.

This is what the course's source article calls a "consensus algorithm" with three steps
(propose, confirm, execute): a coordinator asks every participant to *prepare* (phase 1, the
votes), decides *commit* only if every participant voted yes, and tells everyone the decision
(phase 2). It guarantees atomicity (all participants commit or all abort) but it is **not**
consensus: a participant that voted yes must wait for the decision, and if the coordinator is
unreachable at that moment it stays *blocked*, holding its locks, however long that takes. Gray
and Lamport ("Consensus on Transaction Commit", 2006, §1 and §4) show that 2PC is the special
case of their Paxos Commit with one coordinator and no fault tolerance for it; a consensus
protocol (Paxos, Raft) keeps deciding as long as a majority is up.

Sources cited in the comments:

* Gray, "Notes on Data Base Operating Systems" (1978), the two-phase commit protocol;
* Bernstein, Hadzilacos, Goodman, *Concurrency Control and Recovery in Database Systems* (1987),
  chapter 7 ("BHG §7.x"): the 2PC rules, timeouts, the cooperative termination protocol and
  recovery from the DT log;
* Gray and Lamport, "Consensus on Transaction Commit" (2006) ("Gray-Lamport §x").

Nodes and messages:

* :class:`Coordinator` receives a :class:`TxRequest` from a client, logs the participant list,
  sends :class:`Prepare`, collects :class:`Vote` s, logs its decision, answers the client
  (:class:`TxResult`) and re-sends :class:`Decision` until every participant sent an
  :class:`Ack`.
* :class:`Participant` votes (logging "prepared" with its tentative writes *before* voting yes),
  applies committed writes to ``storage["data"]``, asks for the decision when it is uncertain
  (:class:`DecisionRequest`) and answers other participants' questions (cooperative termination;
  an uncertain participant answers :class:`Uncertain`).
* :class:`TxClient` is a :class:`distlib.Workload` that runs transactions, so runs have a history.

Durable layout (what :mod:`distlib.check.consensus` reads after a run)::

    storage["decision"][tx] = "commit" | "abort"     every node, logged before it is announced
    storage["vote"][tx]     = True | False           participants, logged before the vote is sent
    storage["prepared"][tx] = {"coordinator", "participants", "writes"}   participants' redo log
    storage["begin"][tx]    = (participant, ...)     coordinator, logged before Prepare is sent
    storage["data"]         = {key: value}           participants' committed state

Each node also notes ``vote``, ``decided`` and ``begin`` in the trace with ``tx=`` data.

Exercises replace one method by subclassing: :meth:`Participant.vote`, the participant's pure
rules :meth:`Participant.handle_prepare` and :meth:`Participant.handle_decision_request` (message
in, reply out, as Raft's ``handle_request_vote``; the ``on_x`` handlers send what they return),
:meth:`Participant.commit`, :meth:`Coordinator.decide`, and :meth:`Coordinator.recover` /
:meth:`Participant.recover`. Deliberately broken variants live in
:mod:`distlib.testing.broken`.

Deviations from Gray's 1978 protocol (each marked ``Deviation:`` where it is made): the
cooperative termination protocol and the coordinator's vote timeout come from BHG §7.3; a
coordinator asked about a transaction it never began answers abort, as in presumed abort (Mohan,
Lindsay and Obermarck, 1986); decisions and questions are re-sent on timers until answered.

What this module leaves to others: networking, timing and crashes belong to the runtime; whether
a run was atomic is judged by :func:`distlib.check.consensus.check_twophase`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from distlib.client import Workload
from distlib.node import Node

__all__ = [
    "Ack",
    "Coordinator",
    "Decision",
    "DecisionRequest",
    "Participant",
    "Prepare",
    "TxClient",
    "TxRequest",
    "TxResult",
    "Uncertain",
    "Vote",
]

COMMIT = "commit"
ABORT = "abort"


# --------------------------------------------------------------------------------------------
# Messages


@dataclass(frozen=True, slots=True)
class TxRequest:
    """Client -> coordinator: run transaction ``tx``; ``writes`` are (participant, key, value)."""

    tx: str
    writes: tuple[tuple[str, str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class TxResult:
    """Coordinator -> client: the outcome of ``tx``."""

    tx: str
    committed: bool


@dataclass(frozen=True, slots=True)
class Prepare:
    """Coordinator -> participant: phase 1, "can you commit ``tx``?" (the vote request)."""

    tx: str
    participants: tuple[str, ...]
    writes: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Vote:
    """Participant -> coordinator: yes (prepared, will commit if told) or no (aborted)."""

    tx: str
    yes: bool


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of ``tx``: coordinator -> participants (phase 2), or between participants."""

    tx: str
    commit: bool


@dataclass(frozen=True, slots=True)
class Ack:
    """Participant -> coordinator: the decision on ``tx`` is logged; stop re-sending it."""

    tx: str


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    """An uncertain participant asks "what was decided for ``tx``?" (BHG §7.3 termination)."""

    tx: str
    participants: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Uncertain:
    """Reply to :class:`DecisionRequest`: "I voted yes and do not know the outcome either"."""

    tx: str


def _outcome(commit: bool) -> str:
    return COMMIT if commit else ABORT


# --------------------------------------------------------------------------------------------
# Coordinator


class Coordinator(Node):
    """The 2PC coordinator (transaction manager).

    ``participants``: the nodes every transaction involves (default: all other servers).
    ``retry``: seconds between re-sends of Prepare and Decision messages.
    ``vote_timeout``: seconds to wait for all votes before deciding abort (BHG §7.3).
    """

    def __init__(
        self,
        *,
        participants: Iterable[str] | None = None,
        retry: float = 0.05,
        vote_timeout: float = 0.3,
    ) -> None:
        super().__init__()
        if retry <= 0 or vote_timeout <= 0:
            raise ValueError(
                f"retry and vote_timeout must be positive (got {retry}, {vote_timeout})"
            )
        self.config_participants = None if participants is None else tuple(participants)
        if self.config_participants is not None and not self.config_participants:
            raise ValueError("a coordinator needs at least one participant")
        self.retry = retry
        self.vote_timeout = vote_timeout
        # Volatile state: lost in a crash, which is why decisions go to storage first.
        self.votes: dict[str, dict[str, bool]] = {}
        self.deadline: dict[str, float] = {}
        self.acked: dict[str, set[str]] = {}
        self.clients: dict[str, str] = {}
        self.writes: dict[str, tuple[tuple[str, str, Any], ...]] = {}

    @property
    def participants(self) -> tuple[str, ...]:
        return self.config_participants if self.config_participants is not None else self.peers

    # -- boot and recovery ----------------------------------------------------------------------

    def on_start(self) -> None:
        for key in ("begin", "decision"):
            self.storage.setdefault(key, {})
        self.recover()
        self.sync()

    def recover(self) -> None:
        """Finish what the log says was started (BHG §7.4, coordinator recovery).

        A transaction with a begin record and no decision was still collecting votes when the
        coordinator crashed: the votes are lost, so it decides abort (it never promised anyone to
        commit). A logged decision is re-sent until every participant acknowledges it.
        """
        begun: Mapping[str, tuple[str, ...]] = self.storage["begin"]
        decided: Mapping[str, str] = self.storage["decision"]
        for tx in begun:
            if tx in decided:
                self.note("recovered: re-sending decision", tx=tx, outcome=decided[tx])
                self.announce(tx)
            else:
                self.note("recovered: no decision logged, aborting", tx=tx)
                self.finish(tx, commit=False)

    # -- messages -------------------------------------------------------------------------------

    def on_message(self, src: str, msg: Any) -> None:
        match msg:
            case TxRequest():
                self.on_request(src, msg)
            case Vote():
                self.on_vote(src, msg)
            case Ack():
                self.on_ack(src, msg)
            case DecisionRequest():
                self.on_decision_request(src, msg)
        self.sync()  # every handler forces its log records before its messages leave (BHG §7.3)

    def on_request(self, src: str, msg: TxRequest) -> None:
        """Start phase 1 for a new transaction (a repeated request gets the logged outcome)."""
        tx = msg.tx
        self.clients[tx] = src
        decided = self.storage["decision"].get(tx)
        if decided is not None:
            self.send(src, TxResult(tx, decided == COMMIT))
            return
        if tx in self.storage["begin"]:
            return  # still collecting votes
        parts = self.participants
        unknown = sorted({p for p, _, _ in msg.writes} - set(parts))
        if unknown:
            self.note("rejected: writes for non-participants", tx=tx, nodes=unknown)
            self.finish(tx, commit=False)
            return
        # BHG §7.4: log the participant list before the first Prepare, so that recovery knows
        # whom to tell about the (abort) decision.
        self.storage["begin"][tx] = parts
        self.note("begin", tx=tx, participants=parts)
        self.votes[tx] = {}
        self.deadline[tx] = self.now + self.vote_timeout
        self.writes[tx] = msg.writes
        self.send_prepares(tx)

    def send_prepares(self, tx: str, to: Iterable[str] | None = None) -> None:
        """Phase 1 (Gray 1978; BHG §7.3): ask each participant to prepare and vote."""
        writes = self.writes.get(tx, ())
        parts = tuple(self.storage["begin"][tx])
        for p in self.participants if to is None else to:
            mine = tuple((k, v) for q, k, v in writes if q == p)
            self.send(p, Prepare(tx, parts, mine))
        self.set_timer(f"prepare {tx}", self.retry, payload=("prepare", tx))

    def on_vote(self, src: str, msg: Vote) -> None:
        tx = msg.tx
        decided = self.storage["decision"].get(tx)
        if decided is not None:
            self.send(src, Decision(tx, decided == COMMIT))  # a late voter learns at once
            return
        if tx not in self.votes:
            return  # not ours, or begun before a crash (recovery already aborted it)
        self.votes[tx][src] = msg.yes
        outcome = self.decide(tx, self.votes[tx], tuple(self.storage["begin"][tx]))
        if outcome is not None:
            self.finish(tx, commit=outcome)

    def decide(
        self, tx: str, votes: Mapping[str, bool], participants: Sequence[str]
    ) -> bool | None:
        """The decision rule: True (commit), False (abort) or None (wait for more votes).

        Gray 1978; BHG §7.2 rule AC3: commit only if *every* participant voted yes; a
        single no vote means abort.
        """
        if any(votes.get(p) is False for p in participants):
            return False
        if all(votes.get(p) is True for p in participants):
            return True
        return None

    def finish(self, tx: str, *, commit: bool) -> None:
        """Log the decision, then tell the client and the participants (BHG §7.3)."""
        decided = self.storage["decision"]
        if tx in decided:
            return
        decided[tx] = _outcome(commit)  # durable before anyone hears of it
        self.note("decided", tx=tx, outcome=decided[tx])
        self.votes.pop(tx, None)
        self.deadline.pop(tx, None)
        self.writes.pop(tx, None)
        self.cancel_timer(f"prepare {tx}")
        if tx in self.clients:
            self.send(self.clients[tx], TxResult(tx, commit))
        self.announce(tx)

    def announce(self, tx: str) -> None:
        """Phase 2: send the decision to every participant that has not acknowledged it."""
        parts = self.storage["begin"].get(tx, ())
        commit = self.storage["decision"][tx] == COMMIT
        missing = [p for p in parts if p not in self.acked.get(tx, ())]
        for p in missing:
            self.send(p, Decision(tx, commit))
        if missing:
            self.set_timer(f"announce {tx}", self.retry, payload=("announce", tx))

    def on_ack(self, src: str, msg: Ack) -> None:
        acked = self.acked.setdefault(msg.tx, set())
        acked.add(src)
        if acked >= set(self.storage["begin"].get(msg.tx, ())):
            self.cancel_timer(f"announce {msg.tx}")

    def on_decision_request(self, src: str, msg: DecisionRequest) -> None:
        """Answer an uncertain participant (BHG §7.3, termination protocol)."""
        tx = msg.tx
        decided = self.storage["decision"].get(tx)
        if decided is not None:
            self.send(src, Decision(tx, decided == COMMIT))
        elif tx not in self.storage["begin"]:
            # Deviation (presumed abort, Mohan et al. 1986): never begun here, so no
            # participant can have been asked to prepare by us and abort is safe. Log it first
            # so that a late TxRequest cannot commit it afterwards.
            self.finish(tx, commit=False)
            self.send(src, Decision(tx, False))
        # Otherwise still collecting votes: the decision will come.

    # -- timers ---------------------------------------------------------------------------------

    def on_timer(self, name: str, payload: Any = None) -> None:
        match payload:
            case ("prepare", tx) if tx in self.votes:
                if self.now >= self.deadline[tx]:
                    # Deviation (BHG §7.3, not in Gray 1978): before deciding, the coordinator
                    # may abort unilaterally on a timeout.
                    self.note("vote timeout: aborting", tx=tx, votes=dict(self.votes[tx]))
                    self.finish(tx, commit=False)
                else:
                    missing = [p for p in self.storage["begin"][tx] if p not in self.votes[tx]]
                    self.send_prepares(tx, to=missing)
            case ("announce", tx) if tx in self.storage["decision"]:
                self.announce(tx)
        self.sync()


# --------------------------------------------------------------------------------------------
# Participant


class Participant(Node):
    """A 2PC participant (resource manager) with a durable log in ``self.storage``.

    ``refuse``: transaction ids it votes no on; ``no_rate``: probability of voting no on any
    other transaction (drawn from ``self.rng``). ``ask_after``: seconds a prepared participant
    waits for the decision before asking; ``ask_every``: seconds between later questions.
    """

    def __init__(
        self,
        *,
        refuse: Iterable[str] = (),
        no_rate: float = 0.0,
        ask_after: float = 0.2,
        ask_every: float = 0.1,
    ) -> None:
        super().__init__()
        if not 0.0 <= no_rate <= 1.0:
            raise ValueError(f"no_rate must be a probability in [0, 1], not {no_rate}")
        if ask_after <= 0 or ask_every <= 0:
            raise ValueError(
                f"ask_after and ask_every must be positive (got {ask_after}, {ask_every})"
            )
        self.refuse = frozenset(refuse)
        self.no_rate = no_rate
        self.ask_after = ask_after
        self.ask_every = ask_every
        self.asked: dict[str, int] = {}
        self.uncertain_peers: dict[str, set[str]] = {}

    # -- durable state ---------------------------------------------------------------------------

    def on_start(self) -> None:
        for key in ("vote", "prepared", "decision", "data"):
            self.storage.setdefault(key, {})
        self.recover()
        self.sync()

    def save_prepared(self, tx: str, record: dict[str, Any]) -> None:
        """Force the prepared record (with the redo information) to the log."""
        self.storage["prepared"][tx] = record

    def load_prepared(self, tx: str) -> dict[str, Any] | None:
        """The prepared record of ``tx``, or None."""
        record: dict[str, Any] | None = self.storage["prepared"].get(tx)
        return record

    def prepared_transactions(self) -> list[str]:
        return list(self.storage["prepared"])

    def decision(self, tx: str) -> str | None:
        """The logged outcome of ``tx`` ("commit"/"abort"), or None while uncertain."""
        outcome: str | None = self.storage["decision"].get(tx)
        return outcome

    def recover(self) -> None:
        """After a restart, ask about every transaction left prepared (BHG §7.4).

        A participant that voted yes gave up the right to abort: its log says "prepared" and has
        no decision, so it must find the decision out from the others.
        """
        for tx in self.prepared_transactions():
            if self.decision(tx) is None:
                self.note("recovered: prepared, asking for the decision", tx=tx)
                self.wait_for_decision(tx, delay=0.0)

    # -- messages -------------------------------------------------------------------------------

    def on_message(self, src: str, msg: Any) -> None:
        match msg:
            case Prepare():
                self.on_prepare(src, msg)
            case Decision():
                self.on_decision(src, msg)
            case DecisionRequest():
                self.on_decision_request(src, msg)
            case Uncertain():
                self.on_uncertain(src, msg)
        self.sync()  # every handler forces its log records before its messages leave (BHG §7.3)

    def vote(self, tx: str, writes: tuple[tuple[str, Any], ...]) -> bool:
        """Can this participant commit ``tx``? (Its local concurrency control would say.)"""
        if tx in self.refuse:
            return False
        return not (self.no_rate and self.rng.random() < self.no_rate)

    def on_prepare(self, src: str, msg: Prepare) -> None:
        vote = self.handle_prepare(src, msg)
        if vote is None:
            return
        self.send(src, vote)
        if vote.yes and self.decision(msg.tx) is None:
            # BHG §7.3: a participant that voted yes may not decide alone; it waits, then asks.
            self.wait_for_decision(msg.tx, delay=self.ask_after)

    def handle_prepare(self, src: str, msg: Prepare) -> Vote | None:
        """Phase 1 at a participant: decide the vote on ``msg.tx`` and log it (Gray 1978;
        BHG §7.3). ``src`` is the coordinator; :meth:`on_prepare` sends the vote returned and,
        after a yes, waits for the decision.

        Lab exercise: a repeated Prepare gets the vote already logged; a transaction already
        aborted here gets no; otherwise :meth:`vote` decides. A yes forces the prepared record
        (with the writes) to the log *before* the vote leaves; a no is a unilateral abort.
        """
        tx = msg.tx
        voted = self.storage["vote"].get(tx)
        if voted is not None:
            return Vote(tx, voted)  # a duplicate or re-sent Prepare: the same vote again
        if self.decision(tx) == ABORT:
            yes = False  # already aborted unilaterally (it had not voted): stays no
        else:
            yes = self.vote(tx, msg.writes)
        if yes:
            # BHG §7.3: force the prepared record (with the writes, to redo them after a
            # crash) *before* the yes vote leaves: from now on this node may not abort alone.
            self.save_prepared(
                tx, {"coordinator": src, "participants": msg.participants, "writes": msg.writes}
            )
        else:
            self.storage["decision"][tx] = ABORT  # a no vote is a unilateral abort
        self.storage["vote"][tx] = yes
        self.note("vote", tx=tx, vote="yes" if yes else "no")
        return Vote(tx, yes)

    def on_decision(self, src: str, msg: Decision) -> None:
        """Phase 2 at a participant: log and apply the outcome, then acknowledge."""
        if msg.commit:
            self.commit(msg.tx)
        else:
            self.abort(msg.tx)
        record = self.load_prepared(msg.tx)
        if record is None or src == record["coordinator"]:
            self.send(src, Ack(msg.tx))  # a peer's answer needs no acknowledgement

    def commit(self, tx: str) -> None:
        """Make ``tx``'s writes durable and log "commit" (BHG §7.3)."""
        if self.decision(tx) is not None:
            return
        record = self.load_prepared(tx)
        if record is None:
            # Unreachable with a durable prepared record: a commit decision needs our yes vote,
            # and the yes vote was sent only after the record was logged. A participant that lost
            # the record has lost the writes, cannot commit and aborts: atomicity is broken.
            self.note("cannot commit: no prepared record", tx=tx)
            self.log_decision(tx, ABORT)
            return
        self.storage["data"].update(dict(record["writes"]))
        self.log_decision(tx, COMMIT)

    def abort(self, tx: str) -> None:
        """Discard ``tx``'s tentative writes and log "abort"."""
        if self.decision(tx) is None:
            self.log_decision(tx, ABORT)

    def log_decision(self, tx: str, outcome: str, **why: Any) -> None:
        self.storage["decision"][tx] = outcome
        self.note("decided", tx=tx, outcome=outcome, **why)
        self.cancel_timer(f"ask {tx}")
        self.asked.pop(tx, None)

    # -- termination: finding out the decision --------------------------------------------

    def wait_for_decision(self, tx: str, *, delay: float) -> None:
        self.set_timer(f"ask {tx}", delay, payload=("ask", tx))

    def on_timer(self, name: str, payload: Any = None) -> None:
        match payload:
            case ("ask", tx) if self.decision(tx) is None and self.load_prepared(tx) is not None:
                self.ask(tx)
        self.sync()

    def ask(self, tx: str) -> None:
        """Ask the coordinator, then everyone (BHG §7.3, cooperative termination protocol)."""
        record = self.load_prepared(tx)
        assert record is not None
        attempt = self.asked.get(tx, 0) + 1
        self.asked[tx] = attempt
        self.send(record["coordinator"], DecisionRequest(tx, record["participants"]))
        if attempt >= 2:
            if attempt == 2:
                # The blocking window of 2PC made visible (Gray-Lamport §1; BHG §7.3).
                self.note("blocked: prepared, coordinator unreachable", tx=tx)
            others = [p for p in record["participants"] if p != self.id]
            for p in others:
                self.send(p, DecisionRequest(tx, record["participants"]))
        self.wait_for_decision(tx, delay=self.ask_every)

    def on_decision_request(self, src: str, msg: DecisionRequest) -> None:
        reply = self.handle_decision_request(msg)
        if reply is not None:
            self.send(src, reply)

    def handle_decision_request(self, msg: DecisionRequest) -> Decision | Uncertain | None:
        """Help another participant (BHG §7.3, cooperative termination): the answer to its
        question about ``msg.tx``, which :meth:`on_decision_request` sends back.

        Anyone who knows the decision tells it. A participant that voted no knows the outcome is
        abort. One that has not voted may abort unilaterally (logging it first, so that a later
        Prepare gets a no) and says abort. One that voted yes and knows nothing is uncertain too.
        """
        tx = msg.tx
        decided = self.decision(tx)
        if decided is not None:
            return Decision(tx, decided == COMMIT)
        if self.storage["vote"].get(tx) is None:
            # Logged before answering, so that a later Prepare gets a no vote.
            self.log_decision(tx, ABORT, reason="asked before voting")
            return Decision(tx, False)
        return Uncertain(tx)

    def on_uncertain(self, src: str, msg: Uncertain) -> None:
        tx = msg.tx
        record = self.load_prepared(tx)
        if record is None or self.decision(tx) is not None:
            return
        peers = self.uncertain_peers.setdefault(tx, set())
        if src in peers:
            return
        peers.add(src)
        others = {p for p in record["participants"] if p != self.id}
        if others and peers >= others:
            # Gray-Lamport §1: with every participant prepared and the coordinator silent,
            # nobody may decide: 2PC blocks until the coordinator returns.
            self.note("blocked: every participant is prepared and uncertain", tx=tx)


# --------------------------------------------------------------------------------------------
# Client


class TxClient(Workload):
    """Runs transactions through a coordinator and records them in the history.

    ``transactions``: a list of write sets, each a sequence of (participant, key, value). An
    operation "tx" ends ``ok`` with output "committed", ``fail`` with output "aborted" (it
    definitely had no effect), or ``unknown`` after ``timeout``. The request is re-sent every
    ``resend`` seconds, since the network may lose it.
    """

    def __init__(
        self,
        transactions: Iterable[Iterable[tuple[str, str, Any]]],
        *,
        coordinator: str = "coordinator",
        timeout: float = 2.0,
        resend: float = 0.2,
        think: float = 0.0,
    ) -> None:
        ops = [("tx", tuple(tuple(w) for w in writes)) for writes in transactions]
        super().__init__(ops, timeout=timeout, think=think)
        self.coordinator = coordinator
        self.resend = resend
        self.request_tx: str | None = None
        self.writes: tuple[tuple[str, str, Any], ...] = ()

    def request(self, op: int, f: str, input: Any) -> None:
        self.request_tx = f"{self.id}.{op}"
        self.writes = input
        self.send(self.coordinator, TxRequest(self.request_tx, input))
        self.set_timer("resend", self.resend)

    def on_timer(self, name: str) -> None:
        if name == "resend":
            if self.current is not None and self.request_tx is not None:
                self.send(self.coordinator, TxRequest(self.request_tx, self.writes))
                self.set_timer("resend", self.resend)
            return
        super().on_timer(name)
        if self.current is None:
            self.cancel_timer("resend")

    def on_message(self, src: str, msg: Any) -> None:
        if isinstance(msg, TxResult) and msg.tx == self.request_tx and self.current is not None:
            self.cancel_timer("resend")
            if msg.committed:
                self.finish("committed")
            else:
                self.finish("aborted", status="fail")
