"""Single-decree Paxos: a set of nodes chooses one value, despite loss, duplication, reordering,
partitions and crashes, as long as a majority of acceptors can eventually talk.

The phases, as in Lamport's "Paxos Made Simple" (2001) ("PMS §x" in the comments). The course's
source article describes them wrongly (as rounds of voting for who becomes proposer and who
becomes acceptor); what really happens is:

1. **prepare / promise** (phase 1): a proposer picks a proposal number ``n`` and sends
   :class:`Prepare` to the acceptors. An acceptor that has not promised a higher number promises
   never again to accept a lower one and replies :class:`Promise`, reporting the highest-numbered
   proposal it has accepted, if any.
2. **accept / accepted** (phase 2): with promises from a majority, the proposer sends
   :class:`Accept` with number ``n`` and a value: the value of the highest-numbered accepted
   proposal among the promises, or its own value if there is none. An acceptor accepts unless it
   has promised a higher number, and tells the learners (:class:`Accepted`).
3. **learn**: a learner learns the value once a majority of acceptors accepted the same
   proposal number. A learner that missed it asks the others (:class:`WhatWasChosen`).

Roles are combined per node: every node listed in ``acceptors`` is an acceptor, every node in
``learners`` a learner (default: all servers), and a node given a ``value`` is also a proposer.
Messages a node sends to itself are handled locally, after the current handler, without the
network (so the message counts of a run are those of a real deployment with colocated roles).

Proposal numbers are :class:`Ballot` s ``(round, index)``: ``index`` is the proposer's position
among the sorted server names, so two proposers never use the same number (PMS §2.5). Promises
and acceptances are written to ``self.storage`` before the reply leaves (PMS §2.5: an acceptor
remembers them in stable storage); a proposer also stores the highest round it has tried.
Duelling proposers back off for a random time from ``self.rng`` (PMS §2.4 on progress).

Durable layout (read by :mod:`distlib.check.consensus`): ``storage["promised"]`` a Ballot,
``storage["accepted"]`` (Ballot, value), ``storage["learned"]`` the learned value,
``storage["round"]`` the proposer's highest round. Notes: ``propose`` (value), ``accepted``
(slot 0, ballot, value), ``learned`` (slot 0, value), ``chosen`` (the proposer saw a majority).

Exercises replace one method by subclassing: the acceptor's pure rules
:meth:`PaxosNode.handle_prepare` and :meth:`PaxosNode.handle_accept` (message in, reply out, as
Raft's ``handle_request_vote``; ``on_prepare``/``on_accept`` send what they return),
:meth:`PaxosNode.next_ballot` and
:meth:`PaxosNode.choose_value` (proposer), :meth:`PaxosNode.count_acceptance` (learner).
Deliberately broken variants live in :mod:`distlib.testing.broken`.

Deviations from the paper (each marked ``Deviation:`` where it is made):

* duelling proposers retry after a randomized, growing back-off; PMS §3 instead makes progress
  by electing a distinguished proposer, which is what :mod:`distlib.protocols.multipaxos` does;
* a learner that missed the acceptances asks the others (:class:`WhatWasChosen`) and takes a
  learner's answer (:class:`Chosen`); PMS §2.3 has it wait for a proposer to issue a new
  proposal;
* acceptors send :class:`Accepted` to the proposer as well as to the learners, so that it can
  stop, and answer a proposal below their promise with :class:`Reject` (the optimization PMS
  §2.3 suggests in passing: "it should probably inform the proposer").

What this module leaves to others: delivery, timing and crashes are the runtime's; agreement and
validity are judged by :mod:`distlib.check.consensus`; the replicated log is
:mod:`distlib.protocols.multipaxos`.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, NamedTuple

from distlib.node import Node
from distlib.quorum import majority

__all__ = [
    "Accept",
    "Accepted",
    "Ballot",
    "Chosen",
    "PaxosNode",
    "Phase",
    "Prepare",
    "Promise",
    "Reject",
    "WhatWasChosen",
]


class Ballot(NamedTuple):
    """A proposal number ``(round, index)``; compared as a tuple, unique per proposer (PMS §2.5)."""

    round: int
    # The field hides tuple.index (a method); PMS numbers proposers, and nothing here searches a
    # ballot, so the paper's name wins.
    index: int  # type: ignore[assignment]

    def __str__(self) -> str:
        return f"{self.round}.{self.index}"


# --------------------------------------------------------------------------------------------
# Messages


@dataclass(frozen=True, slots=True)
class Prepare:
    """Phase 1a: "promise not to accept proposals numbered below ``ballot``"."""

    ballot: Ballot


@dataclass(frozen=True, slots=True)
class Promise:
    """Phase 1b: the promise, with the highest-numbered proposal accepted so far (or None)."""

    ballot: Ballot
    accepted_ballot: Ballot | None = None
    accepted_value: Any = None


@dataclass(frozen=True, slots=True)
class Accept:
    """Phase 2a: "accept ``value`` as proposal number ``ballot``"."""

    ballot: Ballot
    value: Any


@dataclass(frozen=True, slots=True)
class Accepted:
    """Phase 2b: an acceptor accepted proposal ``ballot`` with ``value`` (sent to learners)."""

    ballot: Ballot
    value: Any


@dataclass(frozen=True, slots=True)
class Reject:
    """An acceptor refuses ``ballot`` because it promised ``promised`` (PMS §2.4's hint)."""

    ballot: Ballot
    promised: Ballot


@dataclass(frozen=True, slots=True)
class WhatWasChosen:
    """A learner that has not learned yet asks the others (PMS §2.3)."""


@dataclass(frozen=True, slots=True)
class Chosen:
    """Reply to :class:`WhatWasChosen` from a node that has learned ``value``."""

    value: Any


class Phase(Enum):
    """Where a proposer is."""

    IDLE = "idle"
    PREPARING = "preparing"
    ACCEPTING = "accepting"
    BACKING_OFF = "backing off"
    DONE = "done"


# --------------------------------------------------------------------------------------------
# The node


class PaxosNode(Node):
    """A Paxos node: acceptor, learner and (if given a ``value``) proposer.

    Keyword configuration:

    * ``value``: the value this node proposes (``None``: not a proposer);
    * ``acceptors`` / ``learners``: the names in those roles (default: every server);
    * ``timeout``: seconds a proposer waits in a phase before trying a higher number;
    * ``backoff``: base of the randomized back-off between attempts (doubles per failure, up
      to ``max_backoff``);
    * ``ask_every``: seconds between a learner's questions while it has not learned;
    * ``start_delay``: seconds before a proposer's first attempt.
    """

    def __init__(
        self,
        *,
        value: Any = None,
        acceptors: Iterable[str] | None = None,
        learners: Iterable[str] | None = None,
        timeout: float = 0.1,
        backoff: float = 0.02,
        max_backoff: float = 0.5,
        ask_every: float = 0.3,
        start_delay: float = 0.0,
    ) -> None:
        super().__init__()
        for name, v in (
            ("timeout", timeout),
            ("backoff", backoff),
            ("max_backoff", max_backoff),
            ("ask_every", ask_every),
        ):
            if not isinstance(v, int | float) or v <= 0:
                raise ValueError(f"{name} must be a positive number of seconds, not {v!r}")
        if start_delay < 0:
            raise ValueError(f"start_delay must not be negative, not {start_delay!r}")
        self.value = value
        self.config_acceptors = None if acceptors is None else tuple(acceptors)
        self.config_learners = None if learners is None else tuple(learners)
        if self.config_acceptors is not None and not self.config_acceptors:
            raise ValueError("Paxos needs at least one acceptor")
        self.timeout = timeout
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.ask_every = ask_every
        self.start_delay = start_delay
        # Proposer (volatile).
        self.phase = Phase.IDLE
        self.ballot: Ballot | None = None
        self.promises: dict[str, Promise] = {}
        self.accepted_by: set[str] = set()
        self.highest_round_seen = 0
        self.failures = 0
        # Learner (volatile): who accepted what, per ballot.
        self.acceptances: dict[Ballot, dict[str, Any]] = {}

    # -- membership -------------------------------------------------------------------------------

    @property
    def servers(self) -> tuple[str, ...]:
        """Every server, sorted (the order that numbers proposers)."""
        return tuple(sorted((self.id, *self.peers)))

    @property
    def acceptors(self) -> tuple[str, ...]:
        return self.config_acceptors if self.config_acceptors is not None else self.servers

    @property
    def learners(self) -> tuple[str, ...]:
        return self.config_learners if self.config_learners is not None else self.servers

    @property
    def majority(self) -> int:
        """PMS §2.2: any two majorities of the acceptors share at least one acceptor."""
        return majority(len(self.acceptors))

    @property
    def is_proposer(self) -> bool:
        return self.value is not None

    @property
    def learned(self) -> Any:
        """The value this node learned, or None."""
        return self.storage.get("learned")

    # -- handlers ---------------------------------------------------------------------------------

    def on_start(self) -> None:
        self.storage.setdefault("round", 0)
        if self.is_proposer and self.learned is None:
            self.set_timer("proposer", self.start_delay)
        if self.id in self.learners and self.learned is None:
            self.set_timer("ask", self.ask_every * (1 + self.rng.random()))
        self.sync()

    # Every handler ends by syncing what it wrote (PMS §2.5: stable storage before a reply; the
    # runtime sends a handler's messages after it returns).

    def on_message(self, src: str, msg: Any) -> None:
        self.dispatch(src, msg)
        self.sync()

    def on_timer(self, name: str) -> None:
        if name == "proposer":
            self.on_proposer_timer()
        elif name == "ask":
            self.on_ask_timer()
        self.sync()

    def dispatch(self, src: str, msg: Any) -> None:
        """Route one message to the handler of the role it is meant for."""
        match msg:
            case Prepare() if self.id in self.acceptors:
                self.on_prepare(src, msg)
            case Accept() if self.id in self.acceptors:
                self.on_accept(src, msg)
            case Promise():
                self.on_promise(src, msg)
            case Accepted():
                self.on_accepted(src, msg)
            case Reject():
                self.on_reject(src, msg)
            case WhatWasChosen() if self.learned is not None:
                self.send(src, Chosen(self.learned))
            case Chosen():
                self.learn(msg.value, source=src)

    # -- acceptor ---------------------------------------------------------------------------------

    @property
    def acceptor_log(self) -> MutableMapping[str, Any]:
        """Where the acceptor keeps "promised" and "accepted": stable storage (PMS §2.5)."""
        return self.storage

    def on_prepare(self, src: str, msg: Prepare) -> None:
        reply = self.handle_prepare(msg)
        if reply is not None:
            self.send(src, reply)

    def handle_prepare(self, msg: Prepare) -> Promise | Reject | None:
        """Answer a Prepare (PMS §2.2, phase 1b; P1a): promise unless a higher ballot was
        already promised.

        Lab exercise: the acceptor's first rule. Return ``Reject(msg.ballot, promised)`` if a
        ballot higher than ``msg.ballot`` was promised; otherwise store ``msg.ballot`` as the
        promise (PMS §2.5: in stable storage before the reply leaves) and return a
        :class:`Promise` that reports the proposal accepted so far, if any. ``None`` sends
        nothing (an acceptor may stay silent; the proposer's timeout then retries).
        """
        log = self.acceptor_log
        promised = log.get("promised")
        if promised is not None and msg.ballot < promised:
            return Reject(msg.ballot, promised)
        log["promised"] = msg.ballot  # PMS §2.5: in stable storage before the reply leaves
        accepted = log.get("accepted")
        if accepted is None:
            return Promise(msg.ballot)
        return Promise(msg.ballot, accepted[0], accepted[1])

    def on_accept(self, src: str, msg: Accept) -> None:
        reply = self.handle_accept(msg)
        if isinstance(reply, Accepted):
            self.announce_accepted(src, reply)
        elif reply is not None:
            self.send(src, reply)

    def handle_accept(self, msg: Accept) -> Accepted | Reject | None:
        """Answer an Accept (PMS §2.2, phase 2b; P1a): accept unless a higher ballot was
        promised.

        Lab exercise: the acceptor's second rule. Return ``Reject(msg.ballot, promised)`` if a
        ballot higher than ``msg.ballot`` was promised; otherwise store ``msg.ballot`` as the
        promise and ``(msg.ballot, msg.value)`` as accepted (stable before the reply, PMS §2.5)
        and return ``Accepted(msg.ballot, msg.value)``, which :meth:`on_accept` announces to the
        learners and the proposer.
        """
        log = self.acceptor_log
        promised = log.get("promised")
        if promised is not None and msg.ballot < promised:
            return Reject(msg.ballot, promised)
        log["promised"] = msg.ballot
        log["accepted"] = (msg.ballot, msg.value)  # PMS §2.5: stable before the reply leaves
        return Accepted(msg.ballot, msg.value)

    def announce_accepted(self, src: str, reply: Accepted) -> None:
        """Note the acceptance in the trace (for the checkers), then tell the learners, and the
        proposer ``src`` so it can stop (PMS §2.3)."""
        self.note("accepted", slot=0, ballot=reply.ballot, value=reply.value)
        for learner in self.learners:  # this node too, if it learns: the runtime delivers it
            self.send(learner, reply)
        if src not in self.learners:
            self.send(src, reply)

    # -- proposer ---------------------------------------------------------------------------------

    def on_proposer_timer(self) -> None:
        if self.phase in (Phase.PREPARING, Phase.ACCEPTING):
            self.give_up("timeout")
        elif self.phase in (Phase.IDLE, Phase.BACKING_OFF) and self.learned is None:
            self.start_round()

    def start_round(self) -> None:
        """Phase 1a (PMS §2.2): choose a new, higher proposal number and send Prepare."""
        self.ballot = self.next_ballot()
        self.phase = Phase.PREPARING
        self.promises = {}
        self.accepted_by = set()
        if self.failures == 0:
            self.note("propose", value=self.value)
        self.set_timer("proposer", self.timeout)
        for acceptor in self.acceptors:
            self.send(acceptor, Prepare(self.ballot))

    def next_ballot(self) -> Ballot:
        """PMS §2.5: a proposal number higher than any this proposer has used or heard of, unique
        to it (its index among the servers breaks ties), and never reused after a crash (the
        round is in stable storage before the number is used)."""
        round_ = max(self.storage["round"], self.highest_round_seen) + 1
        self.storage["round"] = round_
        return Ballot(round_, self.servers.index(self.id))

    def on_promise(self, src: str, msg: Promise) -> None:
        if self.phase is not Phase.PREPARING or msg.ballot != self.ballot:
            return  # a late or duplicate promise
        self.promises[src] = msg
        if len(self.promises) >= self.majority:
            value = self.choose_value(list(self.promises.values()))
            self.phase = Phase.ACCEPTING
            self.set_timer("proposer", self.timeout)
            for acceptor in self.acceptors:
                self.send(acceptor, Accept(self.ballot, value))

    def choose_value(self, promises: list[Promise]) -> Any:
        """PMS §2.2 (P2c): the value of the highest-numbered proposal the majority accepted, or
        this proposer's own value if none of them accepted anything."""
        best: Promise | None = None
        best_ballot: Ballot | None = None
        for p in promises:
            ballot = p.accepted_ballot
            if ballot is not None and (best_ballot is None or ballot > best_ballot):
                best, best_ballot = p, ballot
        return self.value if best is None else best.accepted_value

    def on_reject(self, src: str, msg: Reject) -> None:
        self.highest_round_seen = max(self.highest_round_seen, msg.promised.round)
        if msg.ballot == self.ballot and self.phase in (Phase.PREPARING, Phase.ACCEPTING):
            self.give_up(f"rejected: {src} promised {msg.promised}")

    def give_up(self, reason: str) -> None:
        """Abandon this number and retry after a random back-off (PMS §2.4: duelling proposers
        can prevent progress; randomized waiting lets one of them finish).

        Deviation: PMS §3 elects a distinguished proposer instead; single-decree Paxos here
        backs off at random.
        """
        self.failures += 1
        self.phase = Phase.BACKING_OFF
        ceiling = min(self.max_backoff, self.backoff * 2 ** min(self.failures, 10))
        self.set_timer("proposer", ceiling * self.rng.random())

    # -- learner (and the proposer's own count) ----------------------------------------------------

    def on_accepted(self, src: str, msg: Accepted) -> None:
        if msg.ballot == self.ballot and self.phase is Phase.ACCEPTING:
            self.accepted_by.add(src)
            if len(self.accepted_by) >= self.majority:
                self.note("chosen", value=msg.value, ballot=msg.ballot)
                self.finish_proposing()
        if self.id in self.learners:
            self.count_acceptance(src, msg)

    def count_acceptance(self, src: str, msg: Accepted) -> None:
        """Learner: acceptor ``src`` accepted ``msg.value`` as proposal ``msg.ballot``.

        PMS §2.3: the value is chosen, and learned, once a majority of the acceptors accepted
        the same proposal (the same ballot); a duplicated message counts its acceptor once.
        """
        by_acceptor = self.acceptances.setdefault(msg.ballot, {})
        by_acceptor[src] = msg.value
        if len(by_acceptor) >= self.majority:
            self.learn(msg.value, source="majority")

    def learn(self, value: Any, *, source: str) -> None:
        if self.learned is None:
            self.storage["learned"] = value
            self.note("learned", slot=0, value=value, source=source)
            self.cancel_timer("ask")
            if self.is_proposer:
                self.finish_proposing()
        elif self.learned != value:
            self.note("learned", slot=0, value=value, source=source)  # the checker will object

    def finish_proposing(self) -> None:
        if self.phase is not Phase.DONE:
            self.phase = Phase.DONE
            self.cancel_timer("proposer")

    def on_ask_timer(self) -> None:
        # Deviation: PMS §2.3 lets a learner wait for a new proposal; this one asks its peers.
        if self.learned is None:
            self.broadcast(WhatWasChosen(), to=self.servers)
            self.set_timer("ask", self.ask_every * (1 + self.rng.random()))
