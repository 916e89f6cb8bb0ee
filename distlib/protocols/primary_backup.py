"""Replicated key-value storage, primary-backup with failover.

It speaks the client messages of :mod:`distlib.protocols.kvstore`, so
:class:`~distlib.protocols.kvstore.KVClient` drives it and records histories a
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
    brain (see :func:`distlib.check.replication.split_brain`).
``"safe"``
    epochs and majorities, in the manner of Viewstamped Replication (Oki and Liskov 1988) and
    Raft (Ongaro and Ousterhout 2014): a backup becomes primary of a new epoch only with votes
    from a majority, each server votes once per epoch and only for a log at least as up to date
    as its own; a write counts as done only when a majority (and every live backup) has it; a
    read is answered only after a majority confirms the primary is still current; a primary that
    loses contact with a majority steps down. A minority side can then accept nothing.

Deviations from the papers: the safe mode mixes its sources on purpose. Its view change is not
VR's (no DoViewChange/StartView exchange): a backup is elected with votes, Raft-style, and the
new primary then installs its whole log on the backups (:class:`Install`), VR-style.

Left to others: message loss beyond retransmission is handled by resending; reading a run back
from its trace (who was primary when, split brain) is :mod:`distlib.check.replication`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from distlib.node import Node
from distlib.protocols.kvstore import ClientGet, ClientPut, ClientReply
from distlib.quorum import majority

__all__ = [
    "Ack",
    "Append",
    "Entry",
    "Failover",
    "Install",
    "PrimaryBackup",
    "Role",
    "Vote",
    "VoteRequest",
]


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
        self.synchronous = bool(sync)
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
        epoch: int = self.storage["epoch"]
        return epoch

    @property
    def log(self) -> list[Entry]:
        log: list[Entry] = self.storage["log"]
        return log

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

    def on_vote_request(self, src: str, msg: VoteRequest) -> None:
        self.send(src, self.handle_vote_request(src, msg))

    def handle_vote_request(self, src: str, msg: VoteRequest) -> Vote:
        """A server's vote for candidate ``src`` (Raft §5.2 and §5.4.1, in VR's vocabulary)."""
        heard_recently = self.now - self.last_heard < self.timeout
        if self.role is Role.PRIMARY and len(self._live_backups()) + 1 >= self.majority:
            heard_recently = True
        if msg.epoch > self.epoch and heard_recently and self.primary not in (None, src):
            # Raft dissertation §4.2.3: ignore a candidate while the current primary is alive.
            return Vote(msg.epoch, False)
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
        return Vote(self.epoch, granted)

    def on_vote(self, src: str, msg: Vote) -> None:
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
        if not self.synchronous:
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

    def on_ack(self, src: str, msg: Ack) -> None:
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

    def on_append(self, src: str, msg: Append) -> None:
        reply = self.handle_append(src, msg)
        if reply is not None:
            self.send(src, reply)

    def handle_append(self, src: str, msg: Append) -> Ack | None:
        """A backup appends the primary's new entries (VR §4.1); ``None`` if ``src`` is not its
        primary."""
        if not self._accept_primary(src, msg.epoch, msg.round):
            return None
        s = self.storage
        if s["log_epoch"] != msg.epoch:
            return Ack(msg.epoch, True, None, msg.round)  # install first
        log = s["log"]
        if msg.prev <= len(log):
            # Within one epoch a backup's log is a prefix of the primary's: append what is new.
            log.extend(msg.entries[len(log) - msg.prev :])
        self.commit = min(msg.commit, len(log))
        return Ack(msg.epoch, True, len(log), msg.round)

    def on_install(self, src: str, msg: Install) -> None:
        reply = self.handle_install(src, msg)
        if reply is not None:
            self.send(src, reply)

    def handle_install(self, src: str, msg: Install) -> Ack | None:
        """A backup takes a new primary's whole log (VR §4.2); ``None`` if ``src`` is not its
        primary."""
        # Deviation: in VR the new primary collects the backups' logs and keeps the most recent
        # (DoViewChange); here the elected primary's log, up to date by Raft's voting rule,
        # replaces the backup's.
        if not self._accept_primary(src, msg.epoch, msg.round):
            return None
        s = self.storage
        if s["log_epoch"] != msg.epoch or len(s["log"]) < len(msg.log):
            # VR §4.2: a new view starts from the new primary's log; ours is replaced.
            s["log"] = list(msg.log)
            s["log_epoch"] = msg.epoch
        self.commit = min(msg.commit, len(s["log"]))
        return Ack(msg.epoch, True, len(s["log"]), msg.round)

    # -- clients ---------------------------------------------------------------------------

    def on_client(self, src: str, msg: ClientGet | ClientPut) -> None:
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
                if self.synchronous:
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
        match msg:
            case ClientGet() | ClientPut():
                self.on_client(src, msg)
            case Append():
                self.on_append(src, msg)
            case Install():
                self.on_install(src, msg)
            case Ack():
                self.on_ack(src, msg)
            case VoteRequest():
                self.on_vote_request(src, msg)
            case Vote():
                self.on_vote(src, msg)
