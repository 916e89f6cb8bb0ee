"""Three system models, as small key-value services: client-server, master-slave, peer-to-peer.

Each model is a set of pure nodes serving ``("get", key)`` and ``("put", key, value)`` requests
from :class:`ServiceClient`. They are deliberately simple so that the *shape* of each model is
what a reader sees:

* **client-server**: one :class:`Server` holds all data and answers every request. Simple and
  consistent; when it fails, the service is gone.
* **master-slave** (primary/replicas): :class:`Master` takes every write and copies it to the
  :class:`Slave` nodes, which answer reads. Reads survive a slave's or the master's failure;
  writes do not survive the master's. Copies are asynchronous, so a read may be stale.
* **peer-to-peer**: every :class:`Peer` takes reads and writes and spreads writes to the others
  (last writer wins, by a (clock, node) stamp). Any peer can fail and the rest carry on; replicas
  may briefly disagree.

:class:`ServiceClient` tries the servers it knows in turn, moving to the next after a timeout, so
the same client measures each model's availability under the same failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from distlib.client import Client
from distlib.node import Node

__all__ = [
    "Master",
    "Peer",
    "Reply",
    "Request",
    "Server",
    "ServiceClient",
    "Slave",
    "Update",
]


@dataclass(frozen=True, slots=True)
class Request:
    """A client's request: ``op`` is "get" or "put"; ``rid`` matches the reply."""

    rid: int
    op: str
    key: str
    value: Any = None


@dataclass(frozen=True, slots=True)
class Reply:
    """The answer to request ``rid``: ``ok`` False means "not here, ask someone else"."""

    rid: int
    ok: bool
    value: Any = None


@dataclass(frozen=True, slots=True)
class Update:
    """A replicated write: ``stamp`` orders concurrent writes (higher wins)."""

    key: str
    value: Any
    stamp: tuple[int, str]


class Server(Node):
    """Client-server: the single server holds the data and answers everything."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, Any] = {}

    def on_message(self, src: str, msg: Request) -> None:
        if msg.op == "put":
            self.data[msg.key] = msg.value
            self.send(src, Reply(msg.rid, True))
        else:
            self.send(src, Reply(msg.rid, True, self.data.get(msg.key)))


class Master(Node):
    """Master-slave: the master applies writes and copies them to every slave."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, Any] = {}
        self.clock = 0

    def on_message(self, src: str, msg: Request) -> None:
        if msg.op == "put":
            self.clock += 1
            self.data[msg.key] = msg.value
            self.broadcast(Update(msg.key, msg.value, (self.clock, self.id)))
            self.send(src, Reply(msg.rid, True))  # asynchronous: reply before slaves confirm
        else:
            self.send(src, Reply(msg.rid, True, self.data.get(msg.key)))


class Slave(Node):
    """Master-slave: a slave applies the master's updates and answers reads; it refuses writes."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, Any] = {}

    def on_message(self, src: str, msg: Request | Update) -> None:
        if isinstance(msg, Update):
            self.data[msg.key] = msg.value
        elif msg.op == "get":
            self.send(src, Reply(msg.rid, True, self.data.get(msg.key)))
        else:
            self.send(src, Reply(msg.rid, False))  # writes go to the master


class Peer(Node):
    """Peer-to-peer: any peer takes reads and writes and spreads writes to all others."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, tuple[Any, tuple[int, str]]] = {}
        self.clock = 0

    def _apply(self, key: str, value: Any, stamp: tuple[int, str]) -> None:
        current = self.data.get(key)
        if current is None or stamp > current[1]:  # last writer wins
            self.data[key] = (value, stamp)
        self.clock = max(self.clock, stamp[0])

    def on_message(self, src: str, msg: Request | Update) -> None:
        if isinstance(msg, Update):
            self._apply(msg.key, msg.value, msg.stamp)
        elif msg.op == "put":
            self.clock += 1
            stamp = (self.clock, self.id)
            self._apply(msg.key, msg.value, stamp)
            self.broadcast(Update(msg.key, msg.value, stamp))
            self.send(src, Reply(msg.rid, True))
        else:
            value = self.data.get(msg.key, (None, None))[0]
            self.send(src, Reply(msg.rid, True, value))


class ServiceClient(Client):
    """Issues requests one after another, trying its servers in turn after each timeout.

    ``routes`` maps "get" and "put" to the servers to try for that kind of request (in order).
    An operation that no server answers within ``tries`` attempts ends with status "unknown"
    (the client cannot tell whether a lost put took effect).
    """

    def __init__(
        self,
        routes: dict[str, Sequence[str]],
        requests: Sequence[tuple],
        *,
        timeout: float = 0.1,
        tries: int = 3,
        think: float = 0.05,
    ) -> None:
        super().__init__()
        if timeout <= 0 or tries < 1:
            raise ValueError("timeout must be positive and tries at least 1")
        self.routes = {op: list(servers) for op, servers in routes.items()}
        self.requests = list(requests)
        self.timeout, self.tries, self.think = timeout, tries, think
        self.current: tuple[int, Request] | None = None
        self.attempt = 0
        self.rid = 0

    def on_start(self) -> None:
        self.set_timer("next", self.think)

    def _send_current(self) -> None:
        _op, req = self.current  # type: ignore[misc]
        servers = self.routes[req.op]
        self.send(servers[self.attempt % len(servers)], req)
        self.set_timer("retry", self.timeout)

    def on_timer(self, name: str) -> None:
        if name == "next" and self.requests and self.current is None:
            kind, key, *rest = self.requests.pop(0)
            self.rid += 1
            req = Request(self.rid, kind, key, rest[0] if rest else None)
            op = self.begin(kind, (key, req.value))  # a get records (key, None)
            self.current, self.attempt = (op, req), 0
            self._send_current()
        elif name == "retry" and self.current is not None:
            self.attempt += 1
            if self.attempt < self.tries:
                self._send_current()
            else:
                self._finish(None, "unknown")

    def on_message(self, src: str, msg: Reply) -> None:
        if self.current is None or msg.rid != self.current[1].rid:
            return  # a late reply to an earlier attempt
        if not msg.ok:
            self.cancel_timer("retry")
            self.on_timer("retry")  # refused: try the next server at once
            return
        self._finish(msg.value, "ok")

    def _finish(self, value: Any, status: str) -> None:
        op, _ = self.current  # type: ignore[misc]
        self.end(op, value, status)
        self.current = None
        self.cancel_timer("retry")
        if self.requests:
            self.set_timer("next", self.think)
