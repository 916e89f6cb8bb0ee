"""Benchmarks for the storage protocols: clocks, the hash ring, and replicated stores.

Run from the repository root: ``PYTHONPATH=. python tests/benchmarks/bench_storage.py``. Prints
``figure: <name> = <value> <unit>`` lines; speeds depend on the machine, the other figures
(fractions, rates) are seeded and exact.
"""

from __future__ import annotations

import time

from distlib.labs.lab04_storage import stale_read_rate
from distlib.protocols.clocks import VectorClock
from distlib.protocols.hashing import HashRing, balance_vs_vnodes, movement_on_join, sample_keys
from distlib.protocols.primary_backup import PrimaryBackup
from distlib.protocols.quorum_replication import QuorumNode
from distlib.testing.workloads import run_kv


def best_of(fn, repeat: int = 3) -> float:
    """The shortest of ``repeat`` timings of ``fn()``, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def figure(name: str, value: float, unit: str) -> None:
    print(f"figure: {name} = {value:.4g} {unit}")


def main() -> None:
    # Vector clocks: merges of two 8-node clocks.
    a = VectorClock({f"n{i}": i for i in range(8)})
    b = VectorClock({f"n{i}": 8 - i for i in range(8)})
    count = 20_000
    seconds = best_of(lambda: [a.merge(b) for _ in range(count)])
    figure("vector_clock_merges", count / seconds, "merges/s")

    # Hash ring: lookups on 10 servers x 100 virtual nodes; movement and balance.
    ring = HashRing([f"s{i}" for i in range(10)], vnodes=100)
    keys = sample_keys(50_000)
    seconds = best_of(lambda: [ring.lookup(k) for k in keys])
    figure("hash_ring_lookups", len(keys) / seconds, "lookups/s")
    moved = movement_on_join([f"s{i}" for i in range(9)], "s9", keys=20_000)
    figure("hash_ring_moved_on_join_9_to_10", moved, "fraction")  # ideal: 1/10
    for stats in balance_vs_vnodes([f"s{i}" for i in range(10)], (1, 16, 256), keys=20_000):
        figure(f"hash_ring_max_over_mean_vnodes_{stats.vnodes}", stats.max_over_mean, "ratio")

    # Stale reads against R and W (N = 3), averaged over three seeds.
    for r, w in ((1, 1), (2, 1), (1, 2), (2, 2)):
        rates = [stale_read_rate(3, r, w, seed=s, ops=300, loss=0.02) for s in range(3)]
        figure(f"quorum_stale_read_fraction_N3_R{r}_W{w}", sum(rates) / len(rates), "fraction")

    # Simulation speed: client operations completed per wall-clock second.
    def primary_backup() -> int:
        sim = run_kv(lambda: PrimaryBackup(), clients=3, ops=200, seed=1, choose="sticky")
        return len(sim.history)

    def quorum() -> int:
        sim = run_kv(lambda: QuorumNode(3, 2, 2), clients=3, ops=200, seed=1, keys=["a", "b"])
        return len(sim.history)

    for name, run in (("primary_backup", primary_backup), ("quorum_3_2_2", quorum)):
        ops = run()
        seconds = best_of(run, repeat=2)
        figure(f"{name}_simulated_ops", ops / seconds, "ops/s")


if __name__ == "__main__":
    main()
