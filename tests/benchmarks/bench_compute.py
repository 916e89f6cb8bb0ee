"""Benchmarks of distlib.compute: parallel speedup and the cost of fine-grained tasks.

Run from the repository root: ``python tests/benchmarks/bench_compute.py [--quick]``. Prints
``figure: <name> = <value> <unit>`` lines:

- ``speedup_process_2``: a CPU-bound map/reduce on 2 worker processes vs the serial backend
  (target >= 1.7 on a quiet machine with 2 free cores);
- ``fine_grained_overhead``: a million tiny tasks (x + 1 over ``range(10**6)``) with the default
  chunking on 2 worker processes, divided by a plain serial loop (target <= 1.5); every item is
  computed by a worker and every result travels back; a range travels as a few numbers;
- ``fine_grained_overhead_list``: the same over a list of a million ints, which must be pickled
  to the workers too (the caller then does about as much pickling as the loop does arithmetic);
- ``speedup_dask_local_2``: the CPU-bound job on a 2-worker Dask LocalCluster vs serial
  (target >= 1.5).

Workers are started (and warmed up) before timing: the figures measure a call, not pool start-up,
which is reported apart. Each time is the best of a few runs, the usual way to filter out noise
from other programs; on a shared machine the figures still move by tens of percent.
"""

from __future__ import annotations

import argparse
import operator
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

from distlib import compute


def collatz_steps(n: int) -> int:
    """CPU-bound work: the total number of Collatz steps of every number in [n, n + 2000)."""
    total = 0
    for start in range(n, n + 2000):
        x = start
        while x != 1:
            x = x // 2 if x % 2 == 0 else 3 * x + 1
            total += 1
    return total


def increment(x: int) -> int:
    return x + 1


def best_times(repeat: int, *fns) -> list[float]:
    """The best wall time of each function over `repeat` rounds, the functions interleaved so
    that a burst of load from other programs hits all of them alike."""
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def cpu_seconds(fn) -> tuple[float, float]:
    """CPU seconds (this process, its descendant processes) spent by one call of fn.

    Unlike wall time this hardly depends on other programs' load: caller + workers CPU over the
    serial CPU is the work the parallel run adds. Needs psutil (installed with dask).
    """
    import psutil

    def workers() -> float:
        total = 0.0
        for child in psutil.Process().children(recursive=True):
            try:
                times = child.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total

    own, theirs = time.process_time(), workers()
    fn()
    return time.process_time() - own, workers() - theirs


def figure(name: str, value: float, unit: str = "") -> None:
    print(f"figure: {name} = {value:.3f}{(' ' + unit) if unit else ''}", flush=True)


def cpu_job(pool: compute.Pool, items: list[int]) -> int:
    return pool.map_reduce(collatz_steps, operator.add, items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller jobs, fewer repeats")
    parser.add_argument("--skip-dask", action="store_true")
    args = parser.parse_args()
    repeat = 2 if args.quick else 3
    cpu_items = list(range(1, 2000 * (24 if args.quick else 64), 2000))  # ~1 s / ~3 s serial
    tiny_items = list(range(1_000_000))

    serial = compute.Pool("serial", workers=2)
    expected = cpu_job(serial, cpu_items)

    def serial_loop() -> list[int]:
        return [increment(x) for x in tiny_items]

    start = time.perf_counter()
    with compute.Pool("process", workers=2) as pool:
        print(f"# process pool start: {time.perf_counter() - start:.3f} s ({pool.start_method})")
        pool.map(increment, range(100))  # warm up: workers running, code imported
        assert cpu_job(pool, cpu_items) == expected, "process backend disagrees with serial"
        t_serial, t_process = best_times(
            repeat, lambda: cpu_job(serial, cpu_items), lambda: cpu_job(pool, cpu_items)
        )
        print(f"# CPU-bound job: serial {t_serial:.3f} s, 2 processes {t_process:.3f} s")
        figure("speedup_process_2", t_serial / t_process)

        assert pool.map(increment, range(1_000_000)) == serial_loop(), "results differ"
        # Each of these takes a tenth of a second: take the best of many, since one hiccup of a
        # shared machine is as long as the whole measurement.
        loop, t_range, t_list = best_times(
            5 * repeat,
            serial_loop,
            lambda: pool.map(increment, range(1_000_000)),
            lambda: pool.map(increment, tiny_items),
        )
        print(
            f"# 1e6 x + 1: serial loop {loop:.3f} s, pool.map over a range {t_range:.3f} s, "
            f"over a list {t_list:.3f} s",
            flush=True,
        )
        figure("fine_grained_overhead", t_range / loop)
        figure("fine_grained_overhead_list", t_list / loop)
        try:
            loop_cpu, _ = cpu_seconds(serial_loop)
            for name, items in (("range", range(1_000_000)), ("list", tiny_items)):
                caller, workers = cpu_seconds(lambda items=items: pool.map(increment, items))
                print(
                    f"# CPU seconds, 1e6 x + 1 over a {name}: serial loop {loop_cpu:.3f}, "
                    f"caller {caller:.3f} + workers {workers:.3f} (clock ticks: +-0.01 each)"
                )
        except ImportError:
            pass

    if args.skip_dask:
        return
    start = time.perf_counter()
    with compute.Pool("dask", workers=2) as pool:
        print(f"# dask LocalCluster start: {time.perf_counter() - start:.3f} s", flush=True)
        pool.map(increment, range(100))
        assert cpu_job(pool, cpu_items) == expected, "dask backend disagrees with serial"
        t_serial, t_dask = best_times(
            repeat, lambda: cpu_job(serial, cpu_items), lambda: cpu_job(pool, cpu_items)
        )
        print(f"# CPU-bound job: serial {t_serial:.3f} s, Dask 2 workers {t_dask:.3f} s")
        figure("speedup_dask_local_2", t_serial / t_dask)


if __name__ == "__main__":
    main()
