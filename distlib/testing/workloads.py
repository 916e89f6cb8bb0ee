"""Standard workloads: a protocol under seeded clients on the simulation, ready to be judged.

:func:`run_kv` runs any store that speaks the client messages of
:mod:`distlib.protocols.kvstore` (a single server, lazy replicas, primary-backup, quorums) with a
few :class:`~distlib.protocols.kvstore.RandomKVClient` clients and returns the finished
simulation, whose ``history`` a linearizability checker can judge. Labs 3 and 4 and the tests of
the stores use it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from distlib.node import Node
from distlib.protocols.kvstore import RandomKVClient
from distlib.sim import Simulation

__all__ = ["run_kv"]


def run_kv(
    server: Callable[[], Node],
    *,
    servers: Sequence[str] = ("s1", "s2", "s3"),
    clients: int = 2,
    ops: int = 10,
    seed: int = 0,
    read_fraction: float = 0.5,
    keys: Sequence[Any] | None = None,
    choose: str = "random",
    timeout: float = 1.0,
    retry: float | None = None,
    think: float = 0.0,
    final_read: bool = False,
    setup: Callable[[Simulation], None] | None = None,
    limit: float = 100.0,
    **network: Any,
) -> Simulation:
    """Run ``clients`` :class:`RandomKVClient` clients of ``ops`` operations each against
    ``servers`` built by ``server()``; return the finished :class:`distlib.Simulation`.

    Client ``c{i}`` writes the values ``1000*i + 1``, ``1000*i + 2``, ... so all written values
    are unique. ``setup(sim)`` runs before the start, to schedule faults (``sim.at(0.5,
    sim.crash, "s1")``). The run stops when every client is done, or at time ``limit``. Network
    keyword arguments (``latency=``, ``loss=``, ...) go to the simulation.
    """
    if not isinstance(ops, int) or ops < 0:
        raise ValueError(f"ops must be a non-negative int, not {ops!r}")
    if ops >= 1000:
        raise ValueError(f"run_kv gives each client 999 values to write; ops={ops} is too many")
    if not isinstance(clients, int) or clients < 1:
        raise ValueError(f"clients must be a positive int, not {clients!r}")
    sim = Simulation(seed=seed, **network)
    sim.add_nodes(servers, server)
    names = [f"c{i}" for i in range(1, clients + 1)]
    for i, name in enumerate(names, start=1):
        sim.add_client(
            name,
            functools.partial(
                RandomKVClient,
                ops,
                servers=servers,
                read_fraction=read_fraction,
                keys=keys,
                first_value=1000 * i + 1,
                final_read=final_read,
                choose=choose,
                timeout=timeout,
                retry=retry,
                think=think,
            ),
        )
    if setup is not None:
        setup(sim)

    def all_done() -> bool:
        nodes = sim.nodes
        return all(isinstance(c, RandomKVClient) and c.done for c in (nodes[n] for n in names))

    sim.run(until=all_done, limit=limit)
    return sim
