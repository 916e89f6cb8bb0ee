"""Lab 1's experiment: the three system models under the same failure.

:func:`run_model` builds client-server, master-slave or peer-to-peer (see
:mod:`distlib.protocols.models`) with three server machines and a few clients, optionally crashes
one machine at a given time, and reports how many reads and writes succeeded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from distlib.protocols.models import Master, Peer, Server, ServiceClient, Slave
from distlib.sim import Simulation, Uniform

__all__ = [
    "MODELS",
    "ModelResult",
    "compare_models",
    "count_stale_reads",
    "run_model",
    "sample_availability",
    "workload",
]

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
        sim.add_client(f"c{i + 1}", lambda r=shifted, q=reqs: ServiceClient(r, q, think=think))
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
