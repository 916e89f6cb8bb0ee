"""Lab 1: three system models, and the runs its exercises are graded on.

The models are small key-value services of pure nodes serving ``("get", key)`` and
``("put", key, value)`` requests from :class:`ServiceClient`, deliberately simple so that the
*shape* of each model is what a reader sees:

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

:func:`run_model` builds one model with three server machines and a few clients, optionally
crashes one machine at a given time, and reports how many reads and writes succeeded.
:func:`retry_run` and :func:`heartbeat_run` run the student's retry client and monitor (passed in
as classes, so a graded cell depends on nothing a notebook could rebind).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from distlib.client import Client
from distlib.node import Node
from distlib.sim import Simulation, Uniform

__all__ = [
    "MODELS",
    "Heartbeat",
    "Master",
    "ModelResult",
    "Peer",
    "Reply",
    "Request",
    "Server",
    "ServiceClient",
    "Slave",
    "Update",
    "compare_models",
    "count_stale_reads",
    "heartbeat_run",
    "retry_run",
    "run_model",
    "sample_availability",
    "suspicions",
    "workload",
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
        routes: Mapping[str, Sequence[str]],
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
        assert self.current is not None, "called only while a request is in flight"
        _op, req = self.current
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
        assert self.current is not None, "called only while a request is in flight"
        op, _ = self.current
        self.end(op, value, status)
        self.current = None
        self.cancel_timer("retry")
        if self.requests:
            self.set_timer("next", self.think)


MODELS = ("client-server", "master-slave", "peer-to-peer")
MACHINES = ("m1", "m2", "m3")


@dataclass
class ModelResult:
    """What one run of a model gave its clients."""

    model: str
    crashed: str | None
    ok: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    sim: Simulation | None = None

    def success(self, op: str | None = None) -> float:
        """Fraction of operations (of kind ``op``, or all) that got an answer."""
        ops = [op] if op else list(self.ok)
        done = sum(self.ok.get(o, 0) for o in ops)
        total = done + sum(self.failed.get(o, 0) for o in ops)
        return done / total if total else 0.0


def workload(n: int, seed: int, *, client: int = 0, clients: int = 1) -> list[tuple]:
    """``n`` requests, alternating writes and reads over a few keys (deterministic). Written
    values are unique across ``clients`` clients (client number ``client`` of them), so a read
    says which write it saw."""
    import random

    rng = random.Random(seed)
    out: list[tuple] = []
    for i in range(n):
        key = f"k{rng.randrange(3)}"
        out.append(("put", key, i * clients + client) if i % 2 == 0 else ("get", key))
    return out


def run_model(
    model: str,
    *,
    crash: str | None = None,
    crash_at: float = 1.0,
    clients: int = 3,
    requests: int = 40,
    seed: int = 0,
    until: float = 10.0,
    latency: tuple[float, float] = (0.005, 0.02),
    think: float = 0.05,
) -> ModelResult:
    """Run ``model`` with machines m1 (the server/master), m2, m3; crash ``crash`` at ``crash_at``.

    ``latency`` is the (low, high) range of one-way message delays; ``think`` the pause between
    a client's requests.
    """
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}: choose one of {', '.join(MODELS)}")
    sim = Simulation(seed=seed, latency=Uniform(*latency))
    if model == "client-server":
        sim.add_node("m1", Server)
        routes = {"get": ["m1"], "put": ["m1"]}
    elif model == "master-slave":
        sim.add_node("m1", Master)
        sim.add_nodes(["m2", "m3"], Slave)
        routes = {"get": ["m2", "m3", "m1"], "put": ["m1"]}
    else:
        sim.add_nodes(MACHINES, Peer)
        routes = {"get": list(MACHINES), "put": list(MACHINES)}
    for i in range(clients):
        # Each client starts with a different machine, so load is spread where the model allows.
        shifted = {op: s[i % len(s) :] + s[: i % len(s)] for op, s in routes.items()}
        reqs = workload(requests, seed * 100 + i, client=i, clients=clients)
        sim.add_client(f"c{i + 1}", functools.partial(ServiceClient, shifted, reqs, think=think))
    if crash is not None:
        if crash not in MACHINES:
            raise ValueError(f"crash must be one of {', '.join(MACHINES)}, not {crash!r}")
        if crash in sim.names:
            sim.at(crash_at, sim.crash, crash)
    sim.run(until=until)
    result = ModelResult(model, crash, sim=sim)
    for op in sim.history:
        book = result.ok if op.status == "ok" else result.failed
        book[op.f] = book.get(op.f, 0) + 1
    return result


def compare_models(*, crash: str | None = "m1", seed: int = 0, **options) -> list[ModelResult]:
    """Run all three models under the same crash; one result per model."""
    return [run_model(m, crash=crash, seed=seed, **options) for m in MODELS]


def count_stale_reads(history) -> tuple[int, int]:
    """(stale, total) successful reads; "stale" as in :func:`distlib.protocols.kvstore.stale_reads`
    (the read missed a put that had completed before it began)."""
    from distlib.protocols.kvstore import stale_reads

    ops = list(history)
    reads = sum(1 for op in ops if op.f == "get" and op.status == "ok")
    return len(stale_reads(ops)), reads


def sample_availability(
    avails: list[float], mode: str, *, trials: int = 100_000, seed: int = 0
) -> float:
    """Monte Carlo estimate of a system's availability.

    Each trial draws every component up (with its probability) or down, independently; a
    ``"series"`` system is up when all components are, a ``"parallel"`` one when any is.
    """
    import random

    if mode not in ("series", "parallel"):
        raise ValueError(f"mode must be 'series' or 'parallel', not {mode!r}")
    for a in avails:
        if not 0.0 <= a <= 1.0:
            raise ValueError(f"an availability must lie in [0, 1], not {a}")
    rng = random.Random(seed)
    up = 0
    for _ in range(trials):
        states = [rng.random() < a for a in avails]
        up += all(states) if mode == "series" else any(states)
    return up / trials


def retry_run(
    client_class,
    seed: int,
    *,
    loss: float = 0.15,
    down: tuple[str, ...] = ("s1",),
    latency=None,
    n: int = 8,
    tries: int = 6,
) -> Simulation:
    """Three key-value servers ``s1``-``s3`` (those in ``down`` crashed from the start) and one
    ``client_class(servers, requests, tries=tries)`` making ``n`` alternating puts and gets of
    ``x``; run for 30 simulated seconds."""
    sim = Simulation(seed=seed, latency=latency or Uniform(0.01, 0.03), loss=loss)
    sim.add_nodes(["s1", "s2", "s3"], Peer)
    requests = [("put", "x", i) if i % 2 == 0 else ("get", "x") for i in range(n)]
    sim.add_client("client", lambda: client_class(["s1", "s2", "s3"], requests, tries=tries))
    for server in down:
        sim.at(0.0, sim.crash, server)
    sim.run(until=30.0)
    return sim


class Heartbeat(Node):
    """Sends a heartbeat to the monitor every `period` seconds."""

    def __init__(self, period: float = 0.1) -> None:
        super().__init__()
        self.period = period

    def on_start(self) -> None:
        self.set_timer("beat", 0.0)

    def on_timer(self, name: str) -> None:
        self.send("monitor", "heartbeat")
        self.set_timer("beat", self.period)


def heartbeat_run(
    monitor_class,
    seed: int,
    *,
    crash: str | tuple[str, ...] | None = None,
    crash_at: float | tuple[float, ...] = 2.0,
    loss: float = 0.05,
    until: float = 6.0,
    timeout: float = 0.35,
) -> Simulation:
    """A ``monitor_class(timeout=timeout)`` node ``monitor`` and three heartbeat senders
    ``w1``-``w3``; ``crash`` (a name or several) crashes at ``crash_at`` (a time or one each)."""
    sim = Simulation(seed=seed, latency=Uniform(0.005, 0.03), loss=loss)
    sim.add_node("monitor", lambda: monitor_class(timeout=timeout))
    sim.add_nodes(["w1", "w2", "w3"], Heartbeat)
    victims = (crash,) if isinstance(crash, str) else tuple(crash or ())
    times = crash_at if isinstance(crash_at, tuple) else (crash_at,) * len(victims)
    for victim, at in zip(victims, times, strict=True):
        sim.at(at, sim.crash, victim)
    sim.run(until=until)
    return sim


def suspicions(sim: Simulation) -> list[tuple[float, str]]:
    """(time, peer) of every "suspect" note in the run, in order."""
    notes = sim.trace.notes()
    return [(round(t, 3), data["peer"]) for t, _node, text, data in notes if text == "suspect"]
