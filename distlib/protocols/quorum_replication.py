"""Replicated key-value storage, quorum replication in the manner of Dynamo.

It speaks the client messages of :mod:`distlib.protocols.kvstore`, so
:class:`~distlib.protocols.kvstore.KVClient` drives it and records histories a
linearizability checker (:mod:`distlib.check`) can judge.

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

Deviations from Gifford (1979): every replica has one vote (no weights), and a version is a
(counter, coordinator) pair so that two coordinators never write the same version; a read
answers once R replicas replied, and repairs stale replicas afterwards, best effort.

Left to others: no hinted handoff or anti-entropy (only read repair), and membership is fixed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from distlib.node import Node
from distlib.protocols.hashing import HashRing
from distlib.protocols.kvstore import ClientGet, ClientPut, ClientReply

__all__ = [
    "QuorumNode",
    "ReadReply",
    "ReadRequest",
    "Version",
    "WriteAck",
    "WriteRequest",
]


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
        held: tuple[Version, Any] = self.storage["data"].get(key, (Version(), None))
        return held

    def on_read_request(self, src: str, msg: ReadRequest) -> None:
        self.send(src, self.handle_read_request(msg))

    def handle_read_request(self, msg: ReadRequest) -> ReadReply:
        """A replica's answer to a read: the version and value it holds (Gifford 1979)."""
        version, value = self.held(msg.key)
        return ReadReply(msg.rid, msg.key, version, value)

    def on_write_request(self, src: str, msg: WriteRequest) -> None:
        reply = self.handle_write_request(msg)
        if reply is not None:
            self.send(src, reply)

    def handle_write_request(self, msg: WriteRequest) -> WriteAck | None:
        """Store a write if it is newer than what this replica holds; acknowledge it unless it
        is a read repair (``rid`` 0)."""
        version, _ = self.held(msg.key)
        if msg.version > version:
            # Thomas's write rule (Thomas 1979): keep the newest version, ignore older ones.
            self.storage["data"][msg.key] = (msg.version, msg.value)
        if not msg.rid:
            return None
        return WriteAck(msg.rid, msg.key, max(version, msg.version))

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

    def on_client(self, src: str, msg: ClientGet | ClientPut) -> None:
        rid = self.next_rid
        self.next_rid += 1
        is_put = isinstance(msg, ClientPut)
        request = _Request(
            "put" if is_put else "get",
            src,
            msg.req,
            msg.key,
            msg.value if isinstance(msg, ClientPut) else None,
            self.replicas(msg.key),
        )
        self.requests[rid] = request
        # Both a get and the first phase of a put ask every replica for its version.
        for replica in request.replicas:
            self.send(replica, ReadRequest(rid, msg.key))
        self.set_timer(f"request {rid}", self.request_timeout)

    def on_read_reply(self, src: str, msg: ReadReply) -> None:
        # Deviation from Gifford 1979: answer at R replies; stale replicas are repaired after.
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

    def on_write_ack(self, src: str, msg: WriteAck) -> None:
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
        match msg:
            case ClientGet() | ClientPut():
                self.on_client(src, msg)
            case ReadRequest():
                self.on_read_request(src, msg)
            case ReadReply():
                self.on_read_reply(src, msg)
            case WriteRequest():
                self.on_write_request(src, msg)
            case WriteAck():
                self.on_write_ack(src, msg)
