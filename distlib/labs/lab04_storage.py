"""Lab 4: replicated key-value stores under seeded client workloads, and what they cost.

On top of :func:`distlib.testing.workloads.run_kv` (any store under a few seeded clients):

* :func:`failover_run` crashes the primary of a :class:`~distlib.protocols.primary_backup.
  PrimaryBackup` store, and :func:`partition_run` cuts it off from its backups for a while
  (naive failover then splits the brain, safe failover does not);
* :func:`stale_read_rate` measures the fraction of stale reads of a quorum store for given N,
  R and W, and :func:`stale_read_grid` does so for every R and W of one N (a heatmap's data);
* :func:`movement_table` compares how many keys move when a server joins, with consistent
  hashing and with ``hash % n``.

The protocols themselves live in :mod:`distlib.protocols`; judging histories is left to
:mod:`distlib.check`, pictures to :mod:`distlib.views` and the notebooks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from distlib.protocols.hashing import modulo_movement, movement_on_join
from distlib.protocols.kvstore import stale_read_fraction
from distlib.protocols.primary_backup import PrimaryBackup
from distlib.protocols.quorum_replication import QuorumNode
from distlib.sim import Exponential, Simulation, Uniform
from distlib.testing.workloads import run_kv

__all__ = [
    "Movement",
    "failover_run",
    "movement_table",
    "partition_run",
    "quorum_run",
    "stale_read_grid",
    "stale_read_rate",
]


# -- primary-backup under faults ------------------------------------------------------------

#: The network of the primary-backup runs: 1 to 10 ms one way.
PB_LATENCY = Uniform(0.001, 0.01)


def _pb_run(
    setup: Callable[[Simulation], None],
    seed: int,
    node: dict[str, Any],
    options: dict[str, Any],
) -> Simulation:
    settings: dict[str, Any] = {
        "clients": 2,
        "ops": 20,
        "think": 0.02,
        "choose": "sticky",
        "retry": 0.2,
        "timeout": 3.0,
        "final_read": True,
        "latency": PB_LATENCY,
    }
    settings.update(options)
    return run_kv(lambda: PrimaryBackup(**node), seed=seed, setup=setup, **settings)


def failover_run(
    *,
    seed: int = 0,
    failover: str = "safe",
    sync: bool = True,
    crash_at: float = 0.15,
    restart_at: float | None = None,
    **options: Any,
) -> Simulation:
    """Crash the first primary ``s1`` of a three-server :class:`PrimaryBackup` store.

    Two sticky clients of 20 operations each (0.02 s apart, retrying after 0.2 s at the next
    server, each ending with a read) run against s1, s2, s3; s1 crashes at ``crash_at`` and,
    if ``restart_at`` is given, comes back then. ``failover`` and ``sync`` configure the store;
    other keyword arguments go to :func:`run_kv` (``ops=``, ``clients=``, ``latency=``, ...).
    Returns the finished simulation.
    """

    def setup(sim: Simulation) -> None:
        sim.at(crash_at, sim.crash, "s1")
        if restart_at is not None:
            sim.at(restart_at, sim.restart, "s1")

    return _pb_run(setup, seed, {"failover": failover, "sync": sync}, options)


def partition_run(
    *,
    seed: int = 0,
    failover: str = "naive",
    sync: bool = True,
    start: float = 0.1,
    heal: float = 1.0,
    ops: int = 40,
    **options: Any,
) -> Simulation:
    """Cut the primary ``s1`` and client ``c1`` off from ``s2``, ``s3`` and ``c2``, then heal.

    From ``start`` to ``heal`` the network is split into {s1, c1} and {s2, s3, c2}; each
    client keeps working on its side. With ``failover="naive"`` both sides end up with a
    primary acknowledging writes (split brain, see
    :func:`distlib.check.replication.split_brain`) and the minority's writes are lost at
    the heal; with ``"safe"`` the minority primary steps down and its client waits. Other
    keyword arguments go to :func:`run_kv`. Returns the finished simulation.
    """
    if not start < heal:
        raise ValueError(f"the partition must start before it heals (start={start}, heal={heal})")

    def setup(sim: Simulation) -> None:
        sim.at(start, sim.partition, ["s1", "c1"], ["s2", "s3", "c2"])
        sim.at(heal, sim.heal)

    return _pb_run(setup, seed, {"failover": failover, "sync": sync}, {"ops": ops, **options})


# -- quorums -------------------------------------------------------------------------------


def stale_read_rate(
    n: int = 3,
    r: int = 1,
    w: int = 1,
    *,
    seed: int = 0,
    ops: int = 200,
    clients: int = 1,
    keys: Sequence[Any] = ("k",),
    read_fraction: float = 0.5,
    servers: int | None = None,
    latency: Any = None,
    loss: float = 0.0,
    node: type[QuorumNode] = QuorumNode,
    **network: Any,
) -> float:
    """Run a seeded workload on a quorum store and return the fraction of stale reads.

    ``clients`` clients each run ``ops`` random gets and puts on ``keys`` through a random
    coordinator; a read is stale when it misses a write that completed before it began (see
    :func:`distlib.protocols.kvstore.stale_reads`). ``servers`` defaults to ``n``; the latency
    defaults to a long-tailed distribution (1 ms plus an exponential of mean 5 ms), under which
    a write reaches its last replicas well after its W-th acknowledgement. ``node`` may be a
    subclass of :class:`QuorumNode` (a student's). Same arguments, same result.
    """
    names = [f"s{i}" for i in range(1, (servers or n) + 1)]
    sim = run_kv(
        lambda: node(n, r, w),
        servers=names,
        clients=clients,
        ops=ops,
        seed=seed,
        read_fraction=read_fraction,
        keys=list(keys),
        choose="random",
        timeout=2.0,
        latency=latency if latency is not None else Exponential(0.005, 0.001),
        loss=loss,
        limit=10_000.0,
        **network,
    )
    return stale_read_fraction(sim.history)


def quorum_run(
    n: int = 3,
    r: int = 2,
    w: int = 2,
    *,
    seed: int = 0,
    crashed: Iterable[str] = (),
    clients: int = 1,
    ops: int = 30,
    servers: int | None = None,
    node: type[QuorumNode] = QuorumNode,
    **options: Any,
) -> Simulation:
    """Run register reads and writes on a quorum store ``s1 ... s<servers>`` (default N of them).

    The servers named in ``crashed`` are down from the start. Each client sends every operation
    to a random server and, when no answer comes within ``retry`` seconds (default 0.25), tries
    the next one, so a crashed coordinator only delays it. (A retry sent while the first
    coordinator is merely slow makes the write happen twice; ``retry=None`` never retries.)
    Clients pause ``think`` seconds (default 1 ms) between operations, so that each operation
    starts strictly after the previous one ended. Other keyword arguments go to :func:`run_kv`
    (``latency=``, ``loss=``, ...). ``node`` may be a subclass of :class:`QuorumNode`. Returns
    the finished simulation; its history is a register history (reads and writes of one key).
    """
    names = [f"s{i}" for i in range(1, (servers or n) + 1)]
    down = list(crashed)
    strangers = sorted(set(down) - set(names))
    if strangers:
        raise ValueError(f"crashed names servers that do not exist: {strangers} (servers {names})")

    def setup(sim: Simulation) -> None:
        for name in down:
            sim.at(0.0, sim.crash, name)

    settings: dict[str, Any] = {
        "choose": "random",
        "retry": 0.25,
        "think": 0.001,
        "timeout": 2.0,
        "latency": Exponential(0.005, 0.001),
        "limit": 10_000.0,
    }
    settings.update(options)
    return run_kv(
        lambda: node(n, r, w),
        servers=names,
        clients=clients,
        ops=ops,
        seed=seed,
        setup=setup,
        **settings,
    )


def stale_read_grid(
    n: int = 3, *, seeds: Iterable[int] = (0, 1, 2), **options: Any
) -> dict[tuple[int, int], float]:
    """The stale-read fraction for every ``1 <= R, W <= n``, averaged over ``seeds``.

    Keyword arguments go to :func:`stale_read_rate`. Returns ``{(R, W): fraction}``.
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("stale_read_grid needs at least one seed")
    grid = {}
    for r in range(1, n + 1):
        for w in range(1, n + 1):
            rates = [stale_read_rate(n, r, w, seed=s, **options) for s in seeds]
            grid[(r, w)] = sum(rates) / len(rates)
    return grid


# -- consistent hashing ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Movement:
    """The fraction of keys that move when server ``n + 1`` joins ``n`` servers."""

    n: int
    ring: float
    modulo: float

    @property
    def ideal(self) -> float:
        """The least any scheme can move: the newcomer's fair share, 1/(n+1)."""
        return 1 / (self.n + 1)


def movement_table(
    sizes: Iterable[int] = range(1, 11), *, keys: int = 5_000, vnodes: int = 100
) -> list[Movement]:
    """For each ``n`` in ``sizes``: the fraction of ``keys`` sample keys that move when an
    (n+1)-th server joins, on a consistent-hashing ring and under ``hash % n``."""
    rows = []
    for n in sizes:
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"server counts must be positive ints, not {n!r}")
        names = [f"s{i}" for i in range(1, n + 1)]
        ring = movement_on_join(names, f"s{n + 1}", keys=keys, vnodes=vnodes)
        rows.append(Movement(n, ring, modulo_movement(n, keys=keys)))
    return rows
