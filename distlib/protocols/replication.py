"""Replicated key-value storage: primary-backup with failover, and quorum replication.

Both speak the client messages of :mod:`distlib.protocols.kvstore`, so
:class:`~distlib.protocols.kvstore.KVClient` drives them and records histories a
linearizability checker (:mod:`distlib.check`) can judge.

**Primary-backup** (:class:`PrimaryBackup`). One server, the primary, orders every write in a
log and copies the log to the backups. *Synchronous* replication acknowledges a write to the
client only once every live backup has it; *asynchronous* replication acknowledges at once and
copies in the background, so a failover can lose acknowledged writes. Heartbeats are the
failure detector: a backup that hears nothing from the primary for ``timeout`` seconds takes
over, and a primary drops a backup that stops acknowledging. How it takes over is the
``failover`` setting:

``"naive"``
    the backup promotes itself at once, and a primary goes on with whatever backups it still
    hears. Under a network partition both sides then have a primary accepting writes: split
    brain (see :func:`split_brain`).
``"safe"``
    epochs and majorities, in the manner of Viewstamped Replication (Oki and Liskov 1988) and
    Raft (Ongaro and Ousterhout 2014): a backup becomes primary of a new epoch only with votes
    from a majority, each server votes once per epoch and only for a log at least as up to date
    as its own; a write counts as done only when a majority (and every live backup) has it; a
    read is answered only after a majority confirms the primary is still current; a primary that
    loses contact with a majority steps down. A minority side can then accept nothing.

**Quorum replication** (:class:`QuorumNode`), in the manner of Dynamo (DeCandia et al. 2007):
every key lives on N replicas (its preference list on a :class:`~distlib.protocols.hashing.
HashRing`, or all servers when there are exactly N); any server coordinates a request. A read
asks the N replicas and answers from the first R replies, taking the value with the highest
version; a write asks R replicas for their version, picks a higher one, and is done when W
replicas stored it. Versions are ``(counter, node)`` pairs, so concurrent writers never tie.

Why R + W > N gives fresh reads (Gifford 1979, weighted voting): a read quorum of R replicas and
the W replicas of the last completed write share at least R + W - N > 0 replicas, since two sets
drawn from N replicas with more than N members between them must overlap. That replica holds the
write's version (a replica only ever replaces a version with a higher one), so the highest
version among the R replies is at least that write's. The same argument for the version query
makes a later write's version higher than every completed earlier write's. With R + W <= N the
two quorums can miss each other and a read can return an older value:
:func:`distlib.labs.lab04_storage.stale_read_rate` measures how often. Quorums alone do not
make the store linearizable: a read concurrent with a write may see either value, and a write
that timed out after reaching some replicas can be seen by one read and missed by the next,
because reads answer without first writing the value back to a quorum (the extra phase of
Attiya, Bar-Noy and Dolev 1995).

Left to others: message loss beyond retransmission in primary-backup is handled by resending;
quorum replication has no hinted handoff or anti-entropy (only read repair), and membership is
fixed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from distlib.node import Node
from distlib.protocols.hashing import HashRing
from distlib.protocols.kvstore import ClientGet, ClientPut, ClientReply
from distlib.quorum import majority

__all__ = [
    "Ack",
    "Append",
    "Entry",
    "Failover",
    "Install",
    "PrimaryBackup",
    "PrimarySpan",
    "QuorumNode",
    "ReadReply",
    "ReadRequest",
    "Role",
    "SplitBrain",
    "Version",
    "Vote",
    "VoteRequest",
    "WriteAck",
    "WriteRequest",
    "primary_spans",
    "split_brain",
]


# ============================================================================================
# Primary-backup


class Role(StrEnum):
    """What a primary-backup server is doing."""

    PRIMARY = "primary"
    BACKUP = "backup"
    CANDIDATE = "candidate"


class Failover(StrEnum):
    """How a backup takes over from a failed primary (see the module docstring)."""

    NAIVE = "naive"
    SAFE = "safe"


@dataclass(frozen=True, slots=True)
class Entry:
    """One write in the primary's log; ``(client, req)`` lets a retried request be recognised."""

    client: str
    req: int
    key: Any
    value: Any


@dataclass(frozen=True, slots=True)
class Append:
    """Primary to backup: the log entries after position ``prev``; also the heartbeat."""

    epoch: int
    prev: int
    entries: tuple[Entry, ...]
    commit: int
    round: int


@dataclass(frozen=True, slots=True)
class Install:
    """Primary to backup: replace your log with mine (the first message of a new epoch)."""

    epoch: int
    log: tuple[Entry, ...]
    commit: int
    round: int


@dataclass(frozen=True, slots=True)
class Ack:
    """Backup to primary: my log has ``length`` entries of your epoch (``None``: send me all).

    ``ok=False`` refuses an out-of-date primary and tells it the current ``epoch``/``primary``.
    """

    epoch: int
    ok: bool
    length: int | None
    round: int
    primary: str | None = None


@dataclass(frozen=True, slots=True)
class VoteRequest:
    """A backup asks to become primary of ``epoch``; its log is ``(log_epoch, length)``."""

    epoch: int
    log_epoch: int
    length: int


@dataclass(frozen=True, slots=True)
class Vote:
    """The answer to a :class:`VoteRequest`."""

    epoch: int
    granted: bool


class PrimaryBackup(Node):
    """A primary-backup replicated key-value store (see the module docstring).

    Configuration: ``sync`` (synchronous replication, the default, or asynchronous),
    ``failover`` ("safe" or "naive"), ``heartbeat`` (seconds between the primary's heartbeats)
    and ``timeout`` (silence after which a server is suspected; backups wait a random time
    between ``timeout`` and twice that, so they rarely all move at once).

    The first server in name order is the primary of epoch 0. Durable state (``storage``): the
    epoch, the vote of that epoch, the log and the epoch it was installed in. Everything else is
    rebuilt after a restart; a restarted server comes back as a backup. The trace notes role
    changes ("became primary", "stepped down"), suspicions, and every acknowledged write
    ("ack put x=3"), which :func:`primary_spans` and :func:`split_brain` read back.
    """

    def __init__(
        self,
        *,
        sync: bool = True,
        failover: Failover | str = Failover.SAFE,
        heartbeat: float = 0.05,
        timeout: float = 0.25,
    ) -> None:
        super().__init__()
        try:
            self.failover = Failover(failover)
        except ValueError:
            raise ValueError(f"failover must be 'safe' or 'naive', not {failover!r}") from None
        if not heartbeat > 0 or not timeout > 0:
            raise ValueError("heartbeat and timeout must be positive numbers of seconds")
        if timeout <= heartbeat:
            raise ValueError(
                f"timeout ({timeout}) must exceed the heartbeat interval ({heartbeat}), or "
                "healthy servers get suspected"
            )
        self.sync = bool(sync)
        self.heartbeat = heartbeat
        self.timeout = timeout
        # Volatile state: lost in a crash.
        self.role = Role.BACKUP
        self.primary: str | None = None  # the primary this server follows in its epoch
        self.hint: str | None = None  # where to send clients
        self.last_heard = -1e9  # when the followed primary was last heard
        self.commit = 0  # entries known committed (primary: decided here)
        self.base = 0  # log length when this server became primary
        self.round = 0
        self.match: dict[str, int | None] = {}
        self.last_ack: dict[str, float] = {}
        self.acked_round: dict[str, int] = {}
        self.live: set[str] = set()
        self.votes: set[str] = set()
        self.waiting_writes: dict[int, list[tuple[str, int]]] = {}
        self.waiting_reads: list[tuple[str, int, Any, int]] = []

    # -- configuration and durable state -----------------------------------------------------

    @property
    def servers(self) -> list[str]:
        return sorted((self.id, *self.peers))

    @property
    def majority(self) -> int:
        return majority(len(self.servers))

    @property
    def safe(self) -> bool:
        return self.failover is Failover.SAFE

    @property
    def epoch(self) -> int:
        return self.storage["epoch"]

    @property
    def log(self) -> list[Entry]:
        return self.storage["log"]

    def _set_epoch(self, epoch: int) -> None:
        self.storage["epoch"] = epoch

    def value(self, key: Any, upto: int | None = None) -> Any:
        """The value of ``key`` after the first ``upto`` log entries (default: the committed)."""
        upto = self.commit if upto is None else upto
        for entry in reversed(self.log[:upto]):
            if entry.key == key:
                return entry.value
        return None

    # -- start and timers -------------------------------------------------------------------

    def on_start(self) -> None:
        s = self.storage
        first_boot = "epoch" not in s
        s.setdefault("epoch", 0)
        s.setdefault("voted", None)  # (epoch, candidate) of the last vote cast
        s.setdefault("log", [])
        s.setdefault("log_epoch", 0)
        if first_boot and self.id == self.servers[0]:
            self._become_primary()  # by configuration, the primary of epoch 0
            return
        if first_boot:
            self.primary = self.hint = self.servers[0]
            self.last_heard = self.now
        self._arm_suspicion()

    def _arm_suspicion(self) -> None:
        self.set_timer("suspect", self.timeout * (1.0 + self.rng.random()))

    def on_timer(self, name: str) -> None:
        if name == "heartbeat" and self.role is Role.PRIMARY:
            self._heartbeat()
        elif name == "suspect" and self.role is not Role.PRIMARY:
            self._suspect()

    def _suspect(self) -> None:
        """No primary heard for a while: take over (naive) or stand for election (safe)."""
        if self.primary is not None:
            self.note(f"suspects {self.primary}", epoch=self.epoch)
        if not self.safe:
            # Naive failover: promote on suspicion alone, without asking anyone.
            self._set_epoch(self.epoch + 1)
            self._become_primary()
            return
        self._start_election()

    # -- safe failover: elections -----------------------------------------------------------

    def _start_election(self) -> None:
        # Raft §5.2 / VR §4.2: a new epoch, one vote per server per epoch, our own first.
        self._set_epoch(self.epoch + 1)
        self.storage["voted"] = (self.epoch, self.id)
        self.role = Role.CANDIDATE
        self.primary = self.hint = None
        self.votes = {self.id}
        self.note("stands for election", epoch=self.epoch)
        s = self.storage
        self.broadcast(VoteRequest(self.epoch, s["log_epoch"], len(s["log"])))
        self._arm_suspicion()  # try again later if this epoch elects nobody
        self._count_votes()

    def _on_vote_request(self, src: str, msg: VoteRequest) -> None:
        heard_recently = self.now - self.last_heard < self.timeout
        if self.role is Role.PRIMARY and len(self._live_backups()) + 1 >= self.majority:
            heard_recently = True
        if msg.epoch > self.epoch and heard_recently and self.primary not in (None, src):
            # Raft dissertation §4.2.3: ignore a candidate while the current primary is alive.
            self.send(src, Vote(msg.epoch, False))
            return
        if msg.epoch > self.epoch:
            self._adopt_epoch(msg.epoch, None)
        s = self.storage
        voted = s["voted"]
        free = voted is None or voted[0] < msg.epoch or voted == (msg.epoch, src)
        # Raft §5.4.1: only for a log at least as up to date as ours (compared by the epoch in
        # which it was installed, then length), so a new primary holds every committed write.
        up_to_date = (msg.log_epoch, msg.length) >= (s["log_epoch"], len(s["log"]))
        granted = msg.epoch == self.epoch and free and up_to_date
        if granted:
            s["voted"] = (msg.epoch, src)
            self._arm_suspicion()
        self.send(src, Vote(self.epoch, granted))

    def _on_vote(self, src: str, msg: Vote) -> None:
        if msg.epoch > self.epoch:
            self._adopt_epoch(msg.epoch, None)
            return
        if self.role is Role.CANDIDATE and msg.epoch == self.epoch and msg.granted:
            self.votes.add(src)
            self._count_votes()

    def _count_votes(self) -> None:
        # Raft §5.2: a majority of votes in one epoch; majorities intersect, so one primary each.
        if self.role is Role.CANDIDATE and len(self.votes) >= self.majority:
            self._become_primary()

    # -- roles ---------------------------------------------------------------------------------

    def _become_primary(self) -> None:
        self.role = Role.PRIMARY
        self.primary = self.hint = self.id
        self.storage["log_epoch"] = self.epoch  # our log is the log of this epoch
        self.base = len(self.log)
        self.commit = 0
        self.match = dict.fromkeys(self.peers)
        self.last_ack = dict.fromkeys(self.peers, self.now)
        self.acked_round = {}
        self.live = set(self.peers)
        self.waiting_writes = {}
        self.waiting_reads = []
        self.cancel_timer("suspect")
        self.note("became primary", epoch=self.epoch)
        self._heartbeat()

    def _step_down(self, reason: str) -> None:
        was = self.role
        self.role = Role.BACKUP
        self.cancel_timer("heartbeat")
        if was is Role.PRIMARY:
            self.note("stepped down", epoch=self.epoch, reason=reason)
            self.primary = self.hint = None  # no longer following itself; learns the next one
            for index in sorted(self.waiting_writes):
                for client, req in self.waiting_writes[index]:
                    self.send(client, ClientReply(req, False, error="not primary"))
            for client, req, _key, _round in self.waiting_reads:
                self.send(client, ClientReply(req, False, error="not primary"))
        self.waiting_writes = {}
        self.waiting_reads = []
        self._arm_suspicion()

    def _adopt_epoch(self, epoch: int, primary: str | None) -> None:
        """Move to a newer epoch (or a preferred primary in this one) and follow its primary."""
        if self.role is not Role.BACKUP and primary != self.id:
            self._set_epoch(epoch)
            self._step_down(f"epoch {epoch} has primary {primary}" if primary else "newer epoch")
        self._set_epoch(epoch)
        self.primary = primary
        self.hint = primary

    def _newer_view(self, epoch: int, primary: str) -> bool:
        """Is ``primary`` of ``epoch`` at least as current as the primary this server follows?

        Views are ordered by epoch, then primary name: in safe mode an epoch has one primary,
        and two naive servers that promoted themselves into the same epoch are ranked by name.
        """
        return (epoch, primary) >= (self.epoch, self.primary or "")

    # -- primary: replication and commit ---------------------------------------------------

    def _heartbeat(self) -> None:
        self.round += 1
        self._check_backups()
        if self.role is not Role.PRIMARY:
            return
        for peer in self.peers:
            self._replicate_to(peer)
        self.set_timer("heartbeat", self.heartbeat)

    def _replicate_to(self, peer: str) -> None:
        have = self.match.get(peer)
        if have is None:
            self.send(peer, Install(self.epoch, tuple(self.log), self.commit, self.round))
        else:
            entries = tuple(self.log[have:])
            self.send(peer, Append(self.epoch, have, entries, self.commit, self.round))

    def _live_backups(self) -> set[str]:
        return {p for p in self.peers if self.now - self.last_ack.get(p, -1e9) <= self.timeout}

    def _check_backups(self) -> None:
        """The primary's failure detector: a backup silent for ``timeout`` is dropped."""
        live = self._live_backups()
        for peer in sorted(self.live - live):
            self.note(f"drops backup {peer}", epoch=self.epoch)
        for peer in sorted(live - self.live):
            self.note(f"backup {peer} is back", epoch=self.epoch)
        self.live = live
        if self.safe and len(live) + 1 < self.majority:
            # A primary cut off from a majority can commit nothing; let a majority elect anew.
            self._step_down("lost contact with a majority")
            return
        self._advance_commit()

    def _committed_upto(self) -> int:
        length = len(self.log)
        if not self.sync:
            return length  # asynchronous: a write counts as done once the primary has it
        have = [self.match.get(p) or 0 for p in self.peers]
        # Synchronous: every live backup must have the entry ...
        upto = min([length] + [self.match.get(p) or 0 for p in self.live])
        if self.safe:
            # ... and in safe mode also a majority of all servers (Raft §5.3, VR §4.1).
            ranked = sorted([length, *have], reverse=True)
            upto = min(upto, ranked[self.majority - 1])
        return upto

    def _advance_commit(self) -> None:
        if self.role is not Role.PRIMARY:
            return
        upto = self._committed_upto()
        while self.commit < upto:
            self.commit += 1
            entry = self.log[self.commit - 1]
            for client, req in self.waiting_writes.pop(self.commit, []):
                self._acknowledge(client, req, entry, self.commit)
        self._serve_reads()

    def _acknowledge(self, client: str, req: int, entry: Entry, index: int) -> None:
        self.note(f"ack put {entry.key}={entry.value}", epoch=self.epoch, index=index)
        self.send(client, ClientReply(req, True))

    def _serve_reads(self) -> None:
        if not self.waiting_reads or self.commit < self.base:
            return  # a new primary first commits the log it inherited
        still = []
        for client, req, key, rnd in self.waiting_reads:
            confirmed = 1 + sum(1 for p in self.peers if self.acked_round.get(p, 0) >= rnd)
            if not self.safe or confirmed >= self.majority:
                self.send(client, ClientReply(req, True, self.value(key)))
            else:
                still.append((client, req, key, rnd))
        self.waiting_reads = still

    def _on_ack(self, src: str, msg: Ack) -> None:
        if not msg.ok:
            # Refused: a newer epoch (or, naively, a preferred rival) exists. Follow it.
            if (msg.epoch, msg.primary or "") > (self.epoch, self.primary or ""):
                self._adopt_epoch(msg.epoch, msg.primary)
            return
        if self.role is not Role.PRIMARY or msg.epoch != self.epoch:
            return
        self.last_ack[src] = self.now
        self.acked_round[src] = max(self.acked_round.get(src, 0), msg.round)
        if src not in self.live:
            self.live.add(src)
            self.note(f"backup {src} is back", epoch=self.epoch)
        if msg.length is None:
            if self.match.get(src) is None:
                self._replicate_to(src)  # it needs the whole log of this epoch
        else:
            # A lagging backup gets the rest with the next heartbeat or write.
            self.match[src] = max(self.match.get(src) or 0, msg.length)
        self._advance_commit()

    # -- backup: following a primary ------------------------------------------------------

    def _accept_primary(self, src: str, epoch: int, rnd: int) -> bool:
        """Decide whether to follow ``src`` as primary of ``epoch``; refuse it if it is stale."""
        if not self._newer_view(epoch, src):
            # An out-of-date primary (an older epoch, or a naive rival): tell it who is current.
            self.send(src, Ack(self.epoch, False, None, rnd, self.primary))
            return False
        if self.role is not Role.BACKUP or epoch > self.epoch or self.primary != src:
            if self.role is not Role.BACKUP:
                self._step_down(f"epoch {epoch} has primary {src}")
            self._set_epoch(epoch)
            self.primary = self.hint = src
        self.last_heard = self.now
        self._arm_suspicion()
        return True

    def _on_append(self, src: str, msg: Append) -> None:
        if not self._accept_primary(src, msg.epoch, msg.round):
            return
        s = self.storage
        if s["log_epoch"] != msg.epoch:
            self.send(src, Ack(msg.epoch, True, None, msg.round))  # install first
            return
        log = s["log"]
        if msg.prev <= len(log):
            # Within one epoch a backup's log is a prefix of the primary's: append what is new.
            log.extend(msg.entries[len(log) - msg.prev :])
        self.commit = min(msg.commit, len(log))
        self.send(src, Ack(msg.epoch, True, len(log), msg.round))

    def _on_install(self, src: str, msg: Install) -> None:
        if not self._accept_primary(src, msg.epoch, msg.round):
            return
        s = self.storage
        if s["log_epoch"] != msg.epoch or len(s["log"]) < len(msg.log):
            # VR §4.2: a new view starts from the new primary's log; ours is replaced.
            s["log"] = list(msg.log)
            s["log_epoch"] = msg.epoch
        self.commit = min(msg.commit, len(s["log"]))
        self.send(src, Ack(msg.epoch, True, len(s["log"]), msg.round))

    # -- clients ---------------------------------------------------------------------------

    def _on_client(self, src: str, msg: ClientGet | ClientPut) -> None:
        if self.role is not Role.PRIMARY:
            # Point the client at the primary only while it seems alive.
            alive = self.now - self.last_heard < self.timeout
            hint = self.hint if alive and self.hint != self.id else None
            self.send(src, ClientReply(msg.req, False, redirect=hint, error="not primary"))
            return
        if isinstance(msg, ClientPut):
            index = self._find(src, msg.req)
            if index is None:
                self.log.append(Entry(src, msg.req, msg.key, msg.value))
                index = len(self.log)
                if self.sync:
                    for peer in self.live:
                        self._replicate_to(peer)
                # Asynchronous: the entry goes out with the next heartbeat, in the background.
            if index <= self.commit:
                self._acknowledge(src, msg.req, self.log[index - 1], index)  # a retried write
            else:
                self.waiting_writes.setdefault(index, []).append((src, msg.req))
                self._advance_commit()
            return
        if not self.safe:
            # Naive mode: answer from the committed state without asking anyone.
            self.waiting_reads.append((src, msg.req, msg.key, 0))
            self._serve_reads()
            return
        # Safe mode: answer only after a majority confirms this primary in a fresh round
        # (Raft §6.4: a leader exchanges heartbeats with a majority before serving a read).
        self.waiting_reads.append((src, msg.req, msg.key, self.round + 1))
        self.round += 1
        for peer in self.peers:
            self._replicate_to(peer)
        self._serve_reads()

    def _find(self, client: str, req: int) -> int | None:
        for i in range(len(self.log) - 1, -1, -1):
            entry = self.log[i]
            if entry.client == client and entry.req == req:
                return i + 1
        return None

    # -- dispatch ------------------------------------------------------------------------------

    def on_message(self, src: str, msg: Any) -> None:
        if isinstance(msg, ClientGet | ClientPut):
            self._on_client(src, msg)
        elif isinstance(msg, Append):
            self._on_append(src, msg)
        elif isinstance(msg, Install):
            self._on_install(src, msg)
        elif isinstance(msg, Ack):
            self._on_ack(src, msg)
        elif isinstance(msg, VoteRequest):
            self._on_vote_request(src, msg)
        elif isinstance(msg, Vote):
            self._on_vote(src, msg)


# -- reading a primary-backup run back from its trace -----------------------------------------


@dataclass(frozen=True, slots=True)
class PrimarySpan:
    """``node`` acted as primary of ``epoch`` from ``start`` to ``end`` (inf: still at the end)."""

    node: str
    epoch: int
    start: float
    end: float
    acks: tuple[float, ...] = ()


def primary_spans(trace: Iterable[Any]) -> list[PrimarySpan]:
    """The periods in which each server acted as primary, with the times it acknowledged writes.

    Read from :class:`PrimaryBackup`'s notes ("became primary", "stepped down", "ack put ...")
    and crash events.
    """
    open_: dict[str, tuple[int, float, list[float]]] = {}
    spans: list[PrimarySpan] = []
    for e in trace:
        node = e.node
        if e.kind == "note" and e.detail == "became primary":
            if node in open_:
                epoch, start, acks = open_.pop(node)
                spans.append(PrimarySpan(node, epoch, start, e.time, tuple(acks)))
            open_[node] = ((e.data or {}).get("epoch", 0), e.time, [])
        elif e.kind == "note" and e.detail.startswith("ack put") and node in open_:
            open_[node][2].append(e.time)
        elif node in open_ and (
            e.kind == "crash" or (e.kind == "note" and e.detail == "stepped down")
        ):
            epoch, start, acks = open_.pop(node)
            spans.append(PrimarySpan(node, epoch, start, e.time, tuple(acks)))
    for node, (epoch, start, acks) in open_.items():
        spans.append(PrimarySpan(node, epoch, start, float("inf"), tuple(acks)))
    return sorted(spans, key=lambda s: (s.start, s.node))


@dataclass(frozen=True, slots=True)
class SplitBrain:
    """Two servers were both primary from ``start`` to ``end`` and both acknowledged writes."""

    nodes: tuple[str, str]
    start: float
    end: float
    acks: tuple[int, int]


def split_brain(trace: Iterable[Any]) -> list[SplitBrain]:
    """The periods in which two primaries at once acknowledged client writes.

    Empty for a correct run of :class:`PrimaryBackup` with ``failover="safe"``; under a
    partition, ``failover="naive"`` gives one primary on each side.
    """
    spans = primary_spans(trace)
    found = []
    for i, a in enumerate(spans):
        for b in spans[i + 1 :]:
            if a.node == b.node:
                continue
            start, end = max(a.start, b.start), min(a.end, b.end)
            if start >= end:
                continue
            acks_a = sum(1 for t in a.acks if start <= t <= end)
            acks_b = sum(1 for t in b.acks if start <= t <= end)
            if acks_a and acks_b:
                pair = tuple(sorted((a.node, b.node)))
                found.append(SplitBrain(pair, start, end, (acks_a, acks_b)))  # type: ignore[arg-type]
    return found


# ============================================================================================
# Quorum replication


@dataclass(frozen=True, slots=True, order=True)
class Version:
    """A write's version: a counter, with the writing coordinator's name to break ties.

    Versions are totally ordered; ``Version()`` (counter 0) is older than every write.
    """

    counter: int = 0
    node: str = ""

    def __str__(self) -> str:
        return f"v{self.counter}@{self.node}" if self.node else f"v{self.counter}"


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """Coordinator to replica: what version and value of ``key`` do you hold?"""

    rid: int
    key: Any


@dataclass(frozen=True, slots=True)
class ReadReply:
    """Replica to coordinator: I hold ``value`` at ``version`` (``Version()``: never written)."""

    rid: int
    key: Any
    version: Version
    value: Any


@dataclass(frozen=True, slots=True)
class WriteRequest:
    """Coordinator to replica: store ``value`` at ``version`` unless you hold a newer one.

    ``rid = 0`` marks a read repair, which wants no acknowledgement.
    """

    rid: int
    key: Any
    version: Version
    value: Any


@dataclass(frozen=True, slots=True)
class WriteAck:
    """Replica to coordinator: I now hold ``version`` of ``key`` or a newer one."""

    rid: int
    key: Any
    version: Version


@dataclass(slots=True)
class _Request:
    """A client request this node coordinates (volatile)."""

    kind: str  # "get" or "put"
    client: str
    req: int
    key: Any
    value: Any
    replicas: tuple[str, ...]
    replies: dict[str, ReadReply] = field(default_factory=dict)
    acks: set[str] = field(default_factory=set)
    version: Version | None = None  # a put's chosen version, once chosen
    answer: ReadReply | None = None  # a get's decided reply, once decided
    done: bool = False


class QuorumNode(Node):
    """A replica and coordinator of a quorum-replicated key-value store (see the module doc).

    ``n`` replicas per key, ``r`` replies to answer a read, ``w`` acknowledgements to finish a
    write (``1 <= r, w <= n``). With more than ``n`` servers, a key's replicas are its
    preference list on a :class:`HashRing` of the servers with ``vnodes`` tokens each. A request
    not finished within ``request_timeout`` is answered with an error. ``read_repair`` writes
    the winning version back to replicas that answered a read with an older one.

    Subclass exercise points, each a small method: :meth:`read_quorum` (decide a read from the
    replies so far), :meth:`write_quorum` (is a write done?) and :meth:`next_version`.
    """

    def __init__(
        self,
        n: int = 3,
        r: int = 2,
        w: int = 2,
        *,
        vnodes: int = 16,
        request_timeout: float = 0.5,
        read_repair: bool = True,
    ) -> None:
        super().__init__()
        for name, value in (("n", n), ("r", r), ("w", w)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, not {value!r}")
        if r > n or w > n:
            raise ValueError(f"R and W cannot exceed N (got N={n}, R={r}, W={w})")
        if not request_timeout > 0:
            raise ValueError(f"request_timeout must be positive, not {request_timeout}")
        self.n, self.r, self.w = n, r, w
        self.vnodes = vnodes
        self.request_timeout = request_timeout
        self.read_repair = read_repair
        self.requests: dict[int, _Request] = {}
        self.next_rid = 1
        self._ring: HashRing | None = None

    # -- placement -------------------------------------------------------------------------

    def on_start(self) -> None:
        self.storage.setdefault("data", {})  # key -> (Version, value), durable
        servers = len(self.peers) + 1
        if servers < self.n:
            raise ValueError(f"N={self.n} replicas need at least {self.n} servers, not {servers}")

    def replicas(self, key: Any) -> tuple[str, ...]:
        """The N servers that hold ``key``."""
        servers = sorted((self.id, *self.peers))
        if len(servers) == self.n:
            return tuple(servers)
        if self._ring is None:
            self._ring = HashRing(servers, vnodes=self.vnodes)
        # Dynamo §4.3: the key's preference list on the ring.
        return tuple(self._ring.preference_list(str(key), self.n))

    # -- replica side ----------------------------------------------------------------------

    def held(self, key: Any) -> tuple[Version, Any]:
        """The version and value of ``key`` this replica holds."""
        return self.storage["data"].get(key, (Version(), None))

    def _on_read_request(self, src: str, msg: ReadRequest) -> None:
        version, value = self.held(msg.key)
        self.send(src, ReadReply(msg.rid, msg.key, version, value))

    def _on_write_request(self, src: str, msg: WriteRequest) -> None:
        version, _ = self.held(msg.key)
        if msg.version > version:
            # Thomas's write rule (Thomas 1979): keep the newest version, ignore older ones.
            self.storage["data"][msg.key] = (msg.version, msg.value)
        if msg.rid:
            self.send(src, WriteAck(msg.rid, msg.key, max(version, msg.version)))

    # -- coordinator decisions (subclass these) -------------------------------------------

    def read_quorum(self, replies: Sequence[ReadReply]) -> ReadReply | None:
        """Decide a read from the replies received so far: ``None`` until R replicas answered,
        then the reply carrying the highest version (the newest value among them)."""
        if len(replies) < self.r:
            return None
        # Gifford 1979 §3: the highest version in a read quorum is the current one.
        return max(replies, key=lambda reply: reply.version)

    def write_quorum(self, acks: Sequence[str]) -> bool:
        """Is a write done, given the replicas that acknowledged it? (W of them.)"""
        return len(acks) >= self.w

    def next_version(self, newest: ReadReply) -> Version:
        """The version for a new write, given the newest reply of its version query."""
        return Version(newest.version.counter + 1, self.id)

    # -- coordinator mechanics ----------------------------------------------------------------

    def _on_client(self, src: str, msg: ClientGet | ClientPut) -> None:
        rid = self.next_rid
        self.next_rid += 1
        is_put = isinstance(msg, ClientPut)
        request = _Request(
            "put" if is_put else "get",
            src,
            msg.req,
            msg.key,
            msg.value if is_put else None,
            self.replicas(msg.key),
        )
        self.requests[rid] = request
        # Both a get and the first phase of a put ask every replica for its version.
        for replica in request.replicas:
            self.send(replica, ReadRequest(rid, msg.key))
        self.set_timer(f"request {rid}", self.request_timeout)

    def _on_read_reply(self, src: str, msg: ReadReply) -> None:
        request = self.requests.get(msg.rid)
        if request is None or src in request.replies:
            return
        request.replies[src] = msg
        if request.kind == "get":
            if request.answer is None:
                answer = self.read_quorum(list(request.replies.values()))
                if answer is not None:
                    request.answer = answer
                    request.done = True
                    self.send(request.client, ClientReply(request.req, True, answer.value))
                    for reply_from, reply in request.replies.items():
                        self._repair(reply_from, reply, answer)
            else:
                self._repair(src, msg, request.answer)
            if request.answer is not None and len(request.replies) == len(request.replicas):
                self._forget(msg.rid)
        elif request.version is None:
            newest = self.read_quorum(list(request.replies.values()))
            if newest is not None:
                request.version = self.next_version(newest)
                for replica in request.replicas:
                    self.send(
                        replica, WriteRequest(msg.rid, request.key, request.version, request.value)
                    )

    def _repair(self, replica: str, reply: ReadReply, answer: ReadReply) -> None:
        if self.read_repair and reply.version < answer.version:
            # Dynamo §5 read repair: bring a replica that answered with an old version up to date.
            self.send(replica, WriteRequest(0, answer.key, answer.version, answer.value))

    def _on_write_ack(self, src: str, msg: WriteAck) -> None:
        request = self.requests.get(msg.rid)
        if request is None or request.kind != "put" or request.done:
            return
        request.acks.add(src)
        if self.write_quorum(sorted(request.acks)):
            request.done = True
            self.send(request.client, ClientReply(request.req, True))
            self._forget(msg.rid)

    def _forget(self, rid: int) -> None:
        self.requests.pop(rid, None)
        self.cancel_timer(f"request {rid}")

    def on_timer(self, name: str) -> None:
        if not name.startswith("request "):
            return
        rid = int(name.split()[1])
        request = self.requests.pop(rid, None)
        if request is None or request.done:
            return
        got = len(request.acks) if request.version is not None else len(request.replies)
        need = self.w if request.version is not None else self.r
        self.send(
            request.client,
            ClientReply(request.req, False, error=f"timeout: {got} of {need} replicas answered"),
        )

    def on_message(self, src: str, msg: Any) -> None:
        if isinstance(msg, ClientGet | ClientPut):
            self._on_client(src, msg)
        elif isinstance(msg, ReadRequest):
            self._on_read_request(src, msg)
        elif isinstance(msg, ReadReply):
            self._on_read_reply(src, msg)
        elif isinstance(msg, WriteRequest):
            self._on_write_request(src, msg)
        elif isinstance(msg, WriteAck):
            self._on_write_ack(src, msg)
