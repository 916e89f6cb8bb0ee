"""Key-value stores and their clients: the messages, a client that records histories, two small
stores for the consistency lab, and a check for stale reads.

What is here:

* the client messages every store in this package speaks: :class:`ClientGet`, :class:`ClientPut`
  and :class:`ClientReply` (a reply may *redirect* the client to another server);
* :class:`KVClient`, a :class:`distlib.Workload` that runs a list of operations against a set of
  servers, retrying and following redirects, and :class:`RandomKVClient`, which draws its
  operations from its seeded RNG. Both record every operation in ``sim.history``;
* :class:`SingleServerStore`, one server that applies operations in arrival order: its
  histories are always linearizable; and :class:`LazyReplicatedStore`, replicas that answer from
  their own copy and copy writes to each other later (asynchronous replication, no
  coordination): its histories are often not linearizable;
* :func:`stale_reads` and :func:`stale_read_fraction`, which find reads that returned a value
  older than a write that had already completed when the read began.

History format. Operations on a single register are ``f="read"`` (input ``None``, output the
value) and ``f="write"`` (input the value, output ``None``). Operations on a key-value map are
``f="get"`` with input ``(key, None)`` and output the value, and ``f="put"`` with input ``(key,
value)`` and output ``None``. A missing key or an unwritten register reads as ``None``. Deciding
whether a history is linearizable is left to :mod:`distlib.check`; replicated stores live in
:mod:`distlib.protocols.primary_backup` and :mod:`distlib.protocols.quorum_replication`; running
a store under a workload in a simulation to :func:`distlib.testing.workloads.run_kv`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from distlib.client import Workload
from distlib.node import Node

__all__ = [
    "ClientGet",
    "ClientPut",
    "ClientReply",
    "KVClient",
    "LazyReplicatedStore",
    "RandomKVClient",
    "SingleServerStore",
    "Update",
    "stale_read_fraction",
    "stale_reads",
    "wire_request",
]

#: The key that register operations ("read"/"write") use on the wire.
REGISTER_KEY = "x"


# --------------------------------------------------------------------------------------------
# Client messages


@dataclass(frozen=True, slots=True)
class ClientGet:
    """Read ``key``. ``req`` numbers the request; a retry of it keeps the same number."""

    req: int
    key: Any


@dataclass(frozen=True, slots=True)
class ClientPut:
    """Set ``key`` to ``value``."""

    req: int
    key: Any
    value: Any


@dataclass(frozen=True, slots=True)
class ClientReply:
    """The answer to request ``req``.

    ``ok`` with ``value`` (for a get) on success. Otherwise ``redirect`` names the server to ask
    instead (``None`` if the server does not know), or ``error`` says what went wrong.
    """

    req: int
    ok: bool
    value: Any = None
    redirect: str | None = None
    error: str = ""


def wire_request(f: str, input: Any, *, register_key: Any = REGISTER_KEY) -> tuple[str, Any, Any]:
    """Translate a history operation into ``("get" | "put", key, value)``."""
    if f == "read":
        return "get", register_key, None
    if f == "write":
        return "put", register_key, input
    if f in ("get", "put"):
        if not isinstance(input, tuple) or len(input) != 2:
            raise ValueError(f"a {f} operation takes input (key, value), not {input!r}")
        return f, input[0], input[1] if f == "put" else None
    raise ValueError(f"unknown operation {f!r}: use read/write (a register) or get/put (a map)")


def _is_read(f: str) -> bool:
    return f in ("read", "get")


# --------------------------------------------------------------------------------------------
# Clients


class KVClient(Workload):
    """Runs ``ops`` (pairs ``(f, input)``, see the module docstring) one at a time against
    ``servers``, recording each in the history.

    Where a request goes (``choose``):

    ``"sticky"``
        to the server that answered last, starting with ``servers[0]``; a redirect moves it
        (this is how a client finds a primary);
    ``"random"``
        to a random server for each operation (any coordinator, any replica).

    If a request gets no answer within ``retry`` seconds it is sent again, with the same request
    number, to the next server in ``servers`` (``retry=None``: never). A redirect is followed at
    once; a "not primary" refusal without a hint moves on to the next server after ``backoff``
    seconds. An operation still unanswered after ``timeout`` ends with status "unknown". Any other
    refusal ends a read with "fail" and a write with "unknown" (it may have taken effect).
    """

    def __init__(
        self,
        ops: Iterable[tuple[str, Any]],
        *,
        servers: Sequence[str],
        timeout: float = 1.0,
        retry: float | None = None,
        think: float = 0.0,
        choose: str = "sticky",
        backoff: float = 0.02,
        register_key: Any = REGISTER_KEY,
    ) -> None:
        super().__init__(ops, timeout=timeout, think=think)
        servers = tuple(servers)
        if not servers or not all(isinstance(s, str) for s in servers):
            raise ValueError(f"a client needs a non-empty list of server names, not {servers!r}")
        if choose not in ("sticky", "random"):
            raise ValueError(f"choose must be 'sticky' or 'random', not {choose!r}")
        if retry is not None and retry <= 0:
            raise ValueError(f"retry must be a positive number of seconds or None, not {retry}")
        for f, input in self.todo:
            wire_request(f, input, register_key=register_key)  # fail early on a bad operation
        if not backoff > 0:
            raise ValueError(f"backoff must be a positive number of seconds, not {backoff}")
        self.servers = servers
        self.retry = retry
        self.backoff = backoff
        self.choose = choose
        self.register_key = register_key
        self.target = servers[0]
        self._wire: tuple[str, Any, Any] | None = None

    def request(self, op: int, f: str, input: Any) -> None:
        self._wire = wire_request(f, input, register_key=self.register_key)
        if self.choose == "random":
            self.target = self.rng.choice(self.servers)
        self._send_current()

    def _send_current(self) -> None:
        assert self.current is not None and self._wire is not None
        kind, key, value = self._wire
        msg = ClientGet(self.current, key) if kind == "get" else ClientPut(self.current, key, value)
        self.send(self.target, msg)
        if self.retry is not None:
            self.set_timer("retry", self.retry)

    def _next_server(self) -> str:
        i = self.servers.index(self.target) if self.target in self.servers else -1
        return self.servers[(i + 1) % len(self.servers)]

    def on_timer(self, name: str) -> None:
        if name == "retry" and self.current is not None:
            self.target = self._next_server()
            self._send_current()
        elif name == "resend" and self.current is not None:
            self._send_current()
        else:
            super().on_timer(name)

    def on_message(self, src: str, msg: Any) -> None:
        if not isinstance(msg, ClientReply) or msg.req != self.current:
            return  # a late reply to an operation that is over
        f, _ = self._open[self.current]
        if msg.ok:
            self.target = src
            self.finish(msg.value if _is_read(f) else None)
        elif msg.redirect is not None and msg.redirect != src:
            self.target = msg.redirect
            self._send_current()
        elif msg.error == "not primary":
            self.target = self._next_server()
            self.set_timer("resend", self.backoff)
        else:
            self.finish(None, status="fail" if _is_read(f) else "unknown")

    def finish(self, output: Any, status: str = "ok") -> None:
        self.cancel_timer("retry")
        self.cancel_timer("resend")
        super().finish(output, status)


class RandomKVClient(KVClient):
    """A :class:`KVClient` that draws ``count`` operations from its own seeded RNG at start.

    Each operation is a read with probability ``read_fraction``, else a write of a fresh value
    ``first_value``, ``first_value + 1``, ... (so every written value is unique, as history
    checkers like). With ``keys=None`` the operations are register reads and writes; with a list
    of keys they are gets and puts on a random key. ``final_read`` appends a read of every key,
    which shows whether the acknowledged writes survived.
    """

    def __init__(
        self,
        count: int,
        *,
        servers: Sequence[str],
        read_fraction: float = 0.5,
        keys: Sequence[Any] | None = None,
        first_value: int = 1,
        final_read: bool = False,
        **options: Any,
    ) -> None:
        super().__init__([], servers=servers, **options)
        if not isinstance(count, int) or count < 0:
            raise ValueError(f"count must be a non-negative int, not {count!r}")
        if not 0.0 <= read_fraction <= 1.0:
            raise ValueError(f"read_fraction must be in [0, 1], not {read_fraction}")
        if keys is not None and not keys:
            raise ValueError("keys must be None (a register) or a non-empty list of keys")
        self.count = count
        self.read_fraction = read_fraction
        self.keys = list(keys) if keys is not None else None
        self.first_value = first_value
        self.final_read = final_read

    def on_start(self) -> None:
        if not self.todo and self.count and self._next_op == 0:
            self.todo = self._draw()
        super().on_start()

    def _draw(self) -> list[tuple[str, Any]]:
        ops: list[tuple[str, Any]] = []
        value = self.first_value
        for _ in range(self.count):
            key = self.rng.choice(self.keys) if self.keys is not None else None
            if self.rng.random() < self.read_fraction:
                ops.append(("read", None) if key is None else ("get", (key, None)))
            else:
                ops.append(("write", value) if key is None else ("put", (key, value)))
                value += 1
        if self.final_read:
            if self.keys is None:
                ops.append(("read", None))
            else:
                ops.extend(("get", (k, None)) for k in self.keys)
        return ops


# --------------------------------------------------------------------------------------------
# Two stores for the consistency lab


class SingleServerStore(Node):
    """One server holding the whole map: every operation takes effect when it arrives.

    Its histories are linearizable: each operation takes effect at one instant between its
    invocation and its reply (Herlihy and Wing 1990 §3). The map and the last reply to each
    client live in ``storage``, so a crash loses nothing and a retried request is answered from
    the cache instead of being applied twice.
    """

    def on_start(self) -> None:
        self.storage.setdefault("data", {})
        self.storage.setdefault("replies", {})

    def on_message(self, src: str, msg: Any) -> None:
        if not isinstance(msg, ClientGet | ClientPut):
            return
        cached = self.storage["replies"].get(src)
        if cached is not None and cached.req == msg.req:
            self.send(src, cached)  # a retry: answer again, do not apply twice
            return
        data = self.storage["data"]
        if isinstance(msg, ClientPut):
            data[msg.key] = msg.value
            reply = ClientReply(msg.req, True)
        else:
            reply = ClientReply(msg.req, True, data.get(msg.key))
        self.storage["replies"][src] = reply
        self.send(src, reply)


@dataclass(frozen=True, slots=True)
class Update:
    """A write copied from one replica to another by :class:`LazyReplicatedStore`."""

    key: Any
    value: Any


class LazyReplicatedStore(Node):
    """Replicas without coordination: a deliberately weak store for the consistency lab.

    Any replica answers a read from its own copy and acknowledges a write as soon as it has
    applied it locally; every ``lag`` seconds it copies the writes it accepted to the other
    replicas, which apply them in whatever order they arrive. So a read at another replica can
    miss an acknowledged write (a stale read), and two replicas can end up disagreeing: with
    clients that pick a random replica, the histories are often not linearizable. (Compare the
    asynchronous mode of :class:`distlib.protocols.primary_backup.PrimaryBackup`.)
    """

    def __init__(self, *, lag: float = 0.05) -> None:
        super().__init__()
        if not lag > 0:
            raise ValueError(f"lag must be a positive number of seconds, not {lag}")
        self.lag = lag
        self.data: dict[Any, Any] = {}
        self.outbox: list[Update] = []

    def on_message(self, src: str, msg: Any) -> None:
        match msg:
            case ClientGet():
                self.send(src, ClientReply(msg.req, True, self.data.get(msg.key)))
            case ClientPut():
                self.data[msg.key] = msg.value
                self.send(src, ClientReply(msg.req, True))  # acknowledged before anyone has it
                self.outbox.append(Update(msg.key, msg.value))
                self.set_timer("flush", self.lag)
            case Update():
                self.data[msg.key] = msg.value  # last arrival wins: replicas may disagree

    def on_timer(self, name: str) -> None:
        if name == "flush":
            for update in self.outbox:
                self.broadcast(update)
            self.outbox.clear()


# --------------------------------------------------------------------------------------------
# Stale reads


def _key_of(op: Any) -> Any:
    if op.f in ("read", "write"):
        return None
    if not isinstance(op.input, tuple) or len(op.input) != 2:
        raise ValueError(f"operation {op} should have input (key, value)")
    return op.input[0]


def stale_reads(history: Iterable[Any], *, initial: Any = None) -> list[Any]:
    """The reads that returned a value older than the latest write completed before they began.

    For each successful read (``read`` or ``get``) let W be the write to the same key with the
    latest completion among those that completed before the read was invoked. The read is stale
    when it returned the ``initial`` value though W exists, or the value of a write that itself
    completed before W was invoked (so W certainly replaced it); "before" is
    :meth:`distlib.history.Operation.precedes`.
    A linearizable history has no stale reads; one without stale reads may still not be
    linearizable.

    Written values must be unique per key (as :class:`RandomKVClient` writes them). Failed
    writes are ignored; writes with unknown outcome may have taken effect at any time after
    their invocation and never count as W. Reads of a value nobody wrote are not counted here.
    """
    ops = list(history)
    writes: dict[tuple[Any, Any], Any] = {}
    done_writes: dict[Any, list[Any]] = {}
    for op in ops:
        if op.f not in ("write", "put") or op.status == "fail":
            continue
        key = _key_of(op)
        value = op.input if op.f == "write" else op.input[1]
        if (key, value) in writes:
            raise ValueError(
                f"value {value!r} was written twice to the same key ({op}); stale_reads needs "
                "unique written values"
            )
        writes[(key, value)] = op
        if op.status == "ok":
            done_writes.setdefault(key, []).append(op)
    stale = []
    for op in ops:
        if op.f not in ("read", "get") or op.status != "ok":
            continue
        key = _key_of(op)
        before = [w for w in done_writes.get(key, []) if w.precedes(op)]
        if not before:
            continue
        latest = max(before, key=lambda w: w.ret)
        if op.output == initial and (key, op.output) not in writes:
            stale.append(op)
            continue
        source = writes.get((key, op.output))
        if source is not None and source.precedes(latest):
            stale.append(op)
    return stale


def stale_read_fraction(history: Iterable[Any], *, initial: Any = None) -> float:
    """The fraction of successful reads that were stale (0.0 when there were no reads)."""
    ops = list(history)
    reads = [op for op in ops if op.f in ("read", "get") and op.status == "ok"]
    if not reads:
        return 0.0
    return len(stale_reads(ops, initial=initial)) / len(reads)
