"""Multi-Paxos: a replicated log (here, of key-value commands) built from one Paxos instance per
slot, with a stable leader.

Lamport, "Paxos Made Simple" §3 ("PMS §3"): a leader runs phase 1 *once for all future slots*
(a single :class:`Prepare` covering every slot from the first one it does not know to be
chosen), and from then on only phase 2 per slot: :class:`Accept` to every acceptor,
:class:`Accepted` back; a majority makes the value chosen and the leader tells everyone
(:class:`Learn`). Every node here is an acceptor, a learner and a possible leader.

Leader change: a node that hears nothing from a leader for a random election timeout runs a new
phase 1 with a higher ballot. The promises report every value accepted in the slots it covers;
the new leader re-proposes, in each slot, the value with the highest ballot, and fills the gaps
(slots with nothing accepted below the highest one) with :data:`NOOP` (PMS §3), then goes on
with new commands. Two nodes believing themselves leader is harmless for safety: the one with
the lower ballot is rejected.

Clients (:class:`KVClient`) send :class:`Request` s to any node; a non-leader answers
:class:`Redirect`. The leader replies (:class:`Reply`) once the command's slot is chosen and
applied in log order, so puts and gets are linearizable. A command proposed twice (the client
retried across a leader change) may be chosen in two slots; it is executed once.

Durable layout (read by :mod:`distlib.check.consensus`): ``storage["promised"]`` a Ballot,
``storage["accepted"]`` {slot: (Ballot, value)}, ``storage["chosen"]`` {slot: value},
``storage["round"]`` the highest round this node tried. Notes: ``accepted`` (slot, ballot,
value), ``learned`` (slot, value), ``became leader`` (ballot); clients note ``propose``.

Exercises replace one method: :meth:`MultiPaxosNode.handle_prepare`,
:meth:`MultiPaxosNode.handle_accept` (pure: message in, reply out) and
:meth:`MultiPaxosNode.choose_value` (the new leader's choice per slot). A deliberately broken
variant lives in :mod:`distlib.testing.broken`.

Deviations from the paper (each marked ``Deviation:`` where it is made): PMS §3 leaves open how
the distinguished proposer is chosen; here a node that hears no heartbeat for a random election
timeout runs phase 1 with a higher ballot, and the leader's heartbeats re-send Accepts that got
no answer. The leader tells every server what was chosen (:class:`Learn`) instead of each
acceptor telling every learner, which PMS §2.3 names as one of its options.

What this module leaves to others: single-decree Paxos (:mod:`distlib.protocols.paxos`), the
runtime, and judging runs (:mod:`distlib.check.consensus`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from distlib.client import Workload
from distlib.node import Node
from distlib.protocols.paxos import Ballot
from distlib.quorum import majority

__all__ = [
    "NOOP",
    "Accept",
    "Accepted",
    "CatchUp",
    "Command",
    "Heartbeat",
    "KVClient",
    "Learn",
    "MultiPaxosNode",
    "Noop",
    "Prepare",
    "Promise",
    "Redirect",
    "Reject",
    "Reply",
    "Request",
    "Role",
]


@dataclass(frozen=True, slots=True)
class Noop:
    """The value a new leader puts into a gap of the log (PMS §3); executing it does nothing."""

    def __repr__(self) -> str:
        return "NOOP"


NOOP = Noop()


@dataclass(frozen=True, slots=True)
class Command:
    """A client command: ``op`` is ``("put", (key, value))`` or ``("get", key)``."""

    client: str
    seq: int
    op: tuple[str, Any]

    @property
    def key(self) -> tuple[str, int]:
        return (self.client, self.seq)


# --------------------------------------------------------------------------------------------
# Messages


@dataclass(frozen=True, slots=True)
class Request:
    """Client -> node: please run ``command``."""

    command: Command


@dataclass(frozen=True, slots=True)
class Redirect:
    """Node -> client: I am not the leader; ``leader`` may be (None: I do not know)."""

    command: Command
    leader: str | None


@dataclass(frozen=True, slots=True)
class Reply:
    """Leader -> client: ``command`` was chosen in ``slot`` and returned ``result``."""

    command: Command
    slot: int
    result: Any


@dataclass(frozen=True, slots=True)
class Prepare:
    """Phase 1a for every slot from ``first`` on (PMS §3)."""

    ballot: Ballot
    first: int


@dataclass(frozen=True, slots=True)
class Promise:
    """Phase 1b: the promise, with every (slot, ballot, value) accepted from ``first`` on."""

    ballot: Ballot
    first: int
    accepted: tuple[tuple[int, Ballot, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Accept:
    """Phase 2a for one slot."""

    ballot: Ballot
    slot: int
    value: Any


@dataclass(frozen=True, slots=True)
class Accepted:
    """Phase 2b for one slot (to the leader)."""

    ballot: Ballot
    slot: int


@dataclass(frozen=True, slots=True)
class Reject:
    """``ballot`` is refused: the sender promised ``promised``, which is higher."""

    ballot: Ballot
    promised: Ballot


@dataclass(frozen=True, slots=True)
class Learn:
    """Leader -> node: these (slot, value) pairs are chosen."""

    entries: tuple[tuple[int, Any], ...]


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """Leader -> node: I am alive with ``ballot``; slots below ``chosen_upto`` are chosen."""

    ballot: Ballot
    chosen_upto: int


@dataclass(frozen=True, slots=True)
class CatchUp:
    """Node -> leader: send me the chosen values from slot ``first`` on."""

    first: int


class Role(StrEnum):
    FOLLOWER = "follower"
    CANDIDATE = "candidate"
    LEADER = "leader"


# --------------------------------------------------------------------------------------------
# The node


class MultiPaxosNode(Node):
    """A multi-Paxos replica: acceptor, learner, and leader when elected.

    ``heartbeat``: seconds between a leader's heartbeats (and re-sent Accepts);
    ``election_timeout``: (low, high) seconds of silence before a node tries to lead;
    ``catch_up_batch``: most chosen entries sent in one :class:`Learn` reply.
    """

    def __init__(
        self,
        *,
        heartbeat: float = 0.05,
        election_timeout: tuple[float, float] = (0.15, 0.3),
        catch_up_batch: int = 32,
    ) -> None:
        super().__init__()
        lo, hi = election_timeout
        if heartbeat <= 0 or not 0 < lo <= hi:
            raise ValueError(
                f"need heartbeat > 0 and 0 < low <= high election timeout (got "
                f"{heartbeat}, {election_timeout})"
            )
        if heartbeat >= lo:
            raise ValueError(
                f"the heartbeat ({heartbeat}) must be shorter than the election "
                f"timeout ({lo}), or followers keep starting elections"
            )
        self.heartbeat = heartbeat
        self.election_timeout = (float(lo), float(hi))
        self.catch_up_batch = catch_up_batch
        self.role = Role.FOLLOWER
        self.leader: str | None = None
        self.ballot: Ballot | None = None
        self.highest_round_seen = 0
        self.promises: dict[str, Promise] = {}
        self.phase1_first = 0
        self.next_slot = 0
        self.proposals: dict[int, Any] = {}
        self.acks: dict[int, set[str]] = {}
        self.sent_at: dict[int, float] = {}
        self.waiting: dict[tuple[str, int], str] = {}
        # The state machine (volatile: rebuilt from the chosen log at every start).
        self.applied = 0
        self.kv: dict[Any, Any] = {}
        self.results: dict[tuple[str, int], tuple[int, Any]] = {}

    # -- membership and plumbing ----------------------------------------------------------------

    @property
    def servers(self) -> tuple[str, ...]:
        return tuple(sorted((self.id, *self.peers)))

    @property
    def majority(self) -> int:
        return majority(len(self.servers))

    def owner(self, ballot: Ballot) -> str:
        return self.servers[ballot.index]

    @property
    def chosen(self) -> dict[int, Any]:
        chosen: dict[int, Any] = self.storage["chosen"]
        return chosen

    # -- handlers ---------------------------------------------------------------------------------

    def on_start(self) -> None:
        for key, default in (("promised", None), ("accepted", {}), ("chosen", {}), ("round", 0)):
            self.storage.setdefault(key, default)
        self.apply_ready()  # replay the chosen log into the state machine
        self.reset_election_timer()
        self.sync()

    # Every handler ends by syncing what it wrote (PMS §2.5: stable storage before a reply; the
    # runtime sends a handler's messages after it returns).

    def on_message(self, src: str, msg: Any) -> None:
        self.dispatch(src, msg)
        self.sync()

    def on_timer(self, name: str) -> None:
        self.on_server_timer(name)
        self.sync()

    def on_server_timer(self, name: str) -> None:
        if name == "election":
            # Deviation: PMS §3 leaves the leader's election open; silence for a random timeout
            # starts phase 1 with a higher ballot.
            if self.role is not Role.LEADER:
                self.start_phase1()
        elif name == "heartbeat" and self.role is Role.LEADER:
            self.send_heartbeats()

    def dispatch(self, src: str, msg: Any) -> None:
        match msg:
            case Request():
                self.on_request(src, msg)
            case Prepare():
                self.on_prepare(src, msg)
            case Promise():
                self.on_promise(src, msg)
            case Accept():
                self.on_accept(src, msg)
            case Accepted():
                self.on_accepted(src, msg)
            case Reject():
                self.on_reject(src, msg)
            case Learn():
                self.on_learn(src, msg)
            case Heartbeat():
                self.on_heartbeat(src, msg)
            case CatchUp():
                self.on_catch_up(src, msg)

    def reset_election_timer(self) -> None:
        self.set_timer("election", self.rng.uniform(*self.election_timeout))

    def hear_from(self, ballot: Ballot) -> None:
        """A message of ``ballot``'s owner shows it is alive and leading (or trying to)."""
        self.highest_round_seen = max(self.highest_round_seen, ballot.round)
        owner = self.owner(ballot)
        if owner == self.id:
            return
        if self.role is not Role.FOLLOWER and (self.ballot is None or ballot > self.ballot):
            self.step_down(f"{owner} leads with a higher ballot {ballot}")
        if self.role is Role.FOLLOWER:
            self.leader = owner
            self.reset_election_timer()

    def step_down(self, reason: str) -> None:
        if self.role is Role.LEADER:
            self.note("stepped down", reason=reason)
        self.role = Role.FOLLOWER
        self.leader = None
        self.proposals.clear()
        self.acks.clear()
        self.sent_at.clear()
        self.waiting.clear()
        self.cancel_timer("heartbeat")
        self.reset_election_timer()

    # -- acceptor ---------------------------------------------------------------------------------

    def on_prepare(self, src: str, msg: Prepare) -> None:
        reply = self.handle_prepare(msg)
        if isinstance(reply, Promise):
            self.hear_from(msg.ballot)
        if reply is not None:
            self.send(src, reply)

    def handle_prepare(self, msg: Prepare) -> Promise | Reject | None:
        """Phase 1b for all slots >= first (PMS §2.2 P1a, PMS §3): reject a ballot below the
        promise; else promise it (stable first) and report every proposal accepted from
        ``msg.first`` on."""
        promised = self.storage["promised"]
        if promised is not None and msg.ballot < promised:
            return Reject(msg.ballot, promised)
        self.storage["promised"] = msg.ballot  # PMS §2.5: stable storage before the reply
        accepted = tuple(
            (slot, b, v)
            for slot, (b, v) in sorted(self.storage["accepted"].items())
            if slot >= msg.first
        )
        return Promise(msg.ballot, msg.first, accepted)

    def on_accept(self, src: str, msg: Accept) -> None:
        reply = self.handle_accept(msg)
        if isinstance(reply, Accepted):
            self.note("accepted", slot=msg.slot, ballot=msg.ballot, value=msg.value)
            self.hear_from(msg.ballot)
        if reply is not None:
            self.send(src, reply)

    def handle_accept(self, msg: Accept) -> Accepted | Reject | None:
        """Phase 2b for one slot (PMS §2.2 P1a): accept unless a higher ballot was promised."""
        promised = self.storage["promised"]
        if promised is not None and msg.ballot < promised:
            return Reject(msg.ballot, promised)
        self.storage["promised"] = msg.ballot
        self.storage["accepted"][msg.slot] = (msg.ballot, msg.value)  # stable before the reply
        return Accepted(msg.ballot, msg.slot)

    # -- leader: phase 1 once --------------------------------------------------------------------

    def start_phase1(self) -> None:
        """PMS §3: a would-be leader runs phase 1 for every slot it does not know to be chosen."""
        promised = self.storage["promised"]
        seen = max(self.highest_round_seen, promised.round if promised is not None else 0)
        round_ = max(self.storage["round"], seen) + 1
        self.storage["round"] = round_  # never reuse a ballot, even after a crash
        self.ballot = Ballot(round_, self.servers.index(self.id))
        self.role = Role.CANDIDATE
        self.leader = None
        self.promises = {}
        self.phase1_first = self.applied
        self.reset_election_timer()  # retry with a higher ballot if this one fails
        for server in self.servers:  # this node too: the runtime delivers its own copy
            self.send(server, Prepare(self.ballot, self.phase1_first))

    def on_promise(self, src: str, msg: Promise) -> None:
        if self.role is not Role.CANDIDATE or msg.ballot != self.ballot:
            return
        self.promises[src] = msg
        if len(self.promises) >= self.majority:
            self.become_leader()

    def become_leader(self) -> None:
        """Adopt accepted values, fill gaps with no-ops, then serve new commands (PMS §3)."""
        self.role = Role.LEADER
        self.leader = self.id
        self.cancel_timer("election")
        self.note("became leader", ballot=self.ballot)
        reported: dict[int, list[tuple[Ballot, Any]]] = {}
        for promise in self.promises.values():
            for slot, b, v in promise.accepted:
                reported.setdefault(slot, []).append((b, v))
        top = max([self.phase1_first - 1, *reported, *self.chosen])
        for slot in range(self.phase1_first, top + 1):
            if slot not in self.chosen:
                self.propose(slot, self.choose_value(slot, reported.get(slot, [])))
        self.next_slot = top + 1
        self.send_heartbeats()

    def choose_value(self, slot: int, accepted: list[tuple[Ballot, Any]]) -> Any:
        """PMS §2.2 (P2c) per slot: the value with the highest ballot among the promises, or a
        no-op if no acceptor of the majority accepted anything there (PMS §3)."""
        if not accepted:
            return NOOP
        return max(accepted, key=lambda bv: bv[0])[1]

    # -- leader: phase 2 per slot ----------------------------------------------------------------

    def propose(self, slot: int, value: Any) -> None:
        assert self.ballot is not None, "only a leader proposes, and a leader has a ballot"
        self.proposals[slot] = value
        self.acks[slot] = set()
        self.sent_at[slot] = self.now
        for server in self.servers:
            self.send(server, Accept(self.ballot, slot, value))

    def on_accepted(self, src: str, msg: Accepted) -> None:
        if self.role is not Role.LEADER or msg.ballot != self.ballot:
            return
        if msg.slot not in self.proposals:
            return
        self.acks[msg.slot].add(src)
        if len(self.acks[msg.slot]) >= self.majority:
            # PMS §2.3: chosen once a majority accepted it; the leader tells the others.
            value = self.proposals.pop(msg.slot)
            del self.acks[msg.slot]
            self.sent_at.pop(msg.slot, None)
            self.learn(msg.slot, value)
            self.broadcast(Learn(((msg.slot, value),)))

    def on_reject(self, src: str, msg: Reject) -> None:
        self.highest_round_seen = max(self.highest_round_seen, msg.promised.round)
        if msg.ballot == self.ballot and self.role is not Role.FOLLOWER:
            self.step_down(f"{src} promised {msg.promised}")

    def send_heartbeats(self) -> None:
        """Keep followers from starting elections, and re-send Accepts that got no answer for
        a whole heartbeat period (younger ones may still be on their way)."""
        assert self.ballot is not None, "only a leader sends heartbeats, and it has a ballot"
        beat = Heartbeat(self.ballot, self.applied)
        self.broadcast(beat)
        for slot, value in sorted(self.proposals.items()):
            if self.now - self.sent_at.get(slot, self.now) < self.heartbeat:
                continue
            self.sent_at[slot] = self.now
            missing = [p for p in self.servers if p not in self.acks[slot]]
            for server in missing:
                self.send(server, Accept(self.ballot, slot, value))
        self.set_timer("heartbeat", self.heartbeat)

    def on_request(self, src: str, msg: Request) -> None:
        cmd = msg.command
        done = self.results.get(cmd.key)
        if done is not None:
            self.send(src, Reply(cmd, done[0], done[1]))
            return
        if self.role is not Role.LEADER:
            self.send(src, Redirect(cmd, self.leader))
            return
        self.waiting[cmd.key] = src
        if cmd not in self.proposals.values() and cmd not in self.chosen.values():
            self.propose(self.next_slot, cmd)
            self.next_slot += 1

    # -- learner and state machine ---------------------------------------------------------------

    def on_learn(self, src: str, msg: Learn) -> None:
        for slot, value in msg.entries:
            self.learn(slot, value)

    def on_heartbeat(self, src: str, msg: Heartbeat) -> None:
        promised = self.storage["promised"]
        if promised is not None and msg.ballot < promised:
            self.send(src, Reject(msg.ballot, promised))  # a stale leader: make it step down
            return
        self.hear_from(msg.ballot)
        if self.applied < msg.chosen_upto:
            self.send(src, CatchUp(self.applied))

    def on_catch_up(self, src: str, msg: CatchUp) -> None:
        end = min(self.applied, msg.first + self.catch_up_batch)
        entries = tuple((slot, self.chosen[slot]) for slot in range(msg.first, end))
        if entries:
            self.send(src, Learn(entries))

    def learn(self, slot: int, value: Any) -> None:
        chosen = self.chosen
        if slot not in chosen:
            chosen[slot] = value
            self.note("learned", slot=slot, value=value)
            self.apply_ready()
        elif chosen[slot] != value:
            self.note("learned", slot=slot, value=value)  # a second value: the checker objects

    def apply_ready(self) -> None:
        """Execute chosen commands in slot order, each command once (PMS §3)."""
        chosen = self.chosen
        while self.applied in chosen:
            slot, value = self.applied, chosen[self.applied]
            self.applied += 1
            if isinstance(value, Command) and value.key not in self.results:
                self.results[value.key] = (slot, self.execute(value.op))
            if isinstance(value, Command) and value.key in self.waiting:
                done = self.results[value.key]
                self.send(self.waiting.pop(value.key), Reply(value, done[0], done[1]))

    def execute(self, op: tuple[str, Any]) -> Any:
        """The replicated state machine: a key-value store."""
        f, arg = op
        if f == "put":
            key, value = arg
            self.kv[key] = value
            return "ok"
        if f == "get":
            return self.kv.get(arg)
        return f"unknown operation {f!r}"


# --------------------------------------------------------------------------------------------
# Client


class KVClient(Workload):
    """Runs ("put", (key, value)) and ("get", key) operations against a multi-Paxos cluster.

    Each request goes to the node believed to lead; a :class:`Redirect` names the leader, and
    silence for ``resend`` seconds moves on to the next server. Every command is noted as
    ``propose`` (for the validity checker).
    """

    def __init__(
        self,
        ops: Iterable[tuple[str, Any]],
        *,
        servers: Sequence[str],
        timeout: float = 5.0,
        resend: float = 0.2,
        think: float = 0.0,
    ) -> None:
        super().__init__(ops, timeout=timeout, think=think)
        if not servers:
            raise ValueError("a KVClient needs the names of the servers")
        self.servers = tuple(servers)
        self.target = self.servers[0]
        self.resend = resend
        self.command: Command | None = None

    def request(self, op: int, f: str, input: Any) -> None:
        self.command = Command(self.id, op, (f, input))
        self.note("propose", value=self.command)
        self.transmit()

    def transmit(self) -> None:
        if self.command is not None and self.current is not None:
            self.send(self.target, Request(self.command))
            self.set_timer("resend", self.resend)

    def on_timer(self, name: str) -> None:
        if name == "resend":
            self.target = self.servers[(self.servers.index(self.target) + 1) % len(self.servers)]
            self.transmit()
            return
        super().on_timer(name)

    def on_message(self, src: str, msg: Any) -> None:
        if self.command is None or getattr(msg, "command", None) != self.command:
            return
        if isinstance(msg, Reply):
            self.cancel_timer("resend")
            self.command = None
            self.finish(msg.result)
        elif isinstance(msg, Redirect) and msg.leader is not None and msg.leader != self.target:
            self.target = msg.leader
            self.transmit()
