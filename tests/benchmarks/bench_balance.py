"""Benchmark: how much power-of-two-choices cuts the latency tail compared with random dispatch.

Runs the queueing model of :mod:`distlib.labs.lab08_resilience.queueing` at 90% load
(10 servers, exponential service, Poisson arrivals) with the same requests for both policies,
and prints

    figure: p99_ratio_p2c_vs_random = X

the p99 latency under power of two choices divided by the p99 under random choice (target: at
most 0.5), plus the other headline figures. Usage::

    PYTHONPATH=. python tests/benchmarks/bench_balance.py [--requests N] [--seeds K]

The ratio is averaged over several seeds so that one unlucky burst does not decide it; each
seed's value is printed too.
"""

from __future__ import annotations

import argparse
import statistics
import time

from distlib.labs.lab08_resilience.queueing import simulate_queue


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200_000, help="requests per run")
    parser.add_argument("--seeds", type=int, default=3, help="independent runs per policy")
    parser.add_argument("--load", type=float, default=0.9, help="utilisation of each server")
    parser.add_argument("--servers", type=int, default=10)
    args = parser.parse_args(argv)

    ratios = []
    rows = []
    started = time.perf_counter()
    for seed in range(args.seeds):
        opts = dict(load=args.load, servers=args.servers, requests=args.requests, seed=seed)
        rand = simulate_queue("random", **opts)
        p2c = simulate_queue("p2c", **opts)
        ratios.append(p2c.p99 / rand.p99)
        rows.append((seed, rand, p2c))
        print(
            f"seed {seed}: random p50 {rand.p50:.2f} p99 {rand.p99:.2f} | "
            f"p2c p50 {p2c.p50:.2f} p99 {p2c.p99:.2f} | ratio {ratios[-1]:.3f}"
        )
    elapsed = time.perf_counter() - started
    simulated = 2 * args.seeds * args.requests

    print(f"figure: p99_ratio_p2c_vs_random = {statistics.fmean(ratios):.3f}")
    print(f"figure: p99_random = {statistics.fmean(r.p99 for _, r, _ in rows):.2f} service_times")
    print(f"figure: p99_p2c = {statistics.fmean(p.p99 for _, _, p in rows):.2f} service_times")
    print(f"figure: queueing_model_speed = {simulated / elapsed:.0f} requests/s")


if __name__ == "__main__":
    main()
