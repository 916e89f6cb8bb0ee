"""Benchmark of the reference Raft and its lab suite. Run: python tests/benchmarks/bench_raft.py

Prints ``figure:`` lines:

* ``raft_suite_s``: wall time of the scenario suite (``pytest tests/test_raft_scenarios.py``,
  in a fresh interpreter); target <= 30 s on 2 cores;
* ``raft_sim_speedup``: simulated seconds per wall second, 5 servers under steady client load:
  5 clients, each sending its next command 0.1 s after the last one committed (about 40
  commands per simulated second), 60 simulated seconds, tracing on; target >= 1000;
* ``raft_commits_per_wall_s``: entries committed per wall second in that run;
* ``raft_checked_speedup``: the same load in a :class:`RaftCluster`, with every safety check
  running after every step (what graded cells pay); target >= 500: the checks examine only what
  each step changed, so that they at most double the time of the run.

``--quick`` skips the suite. Each figure is the best of ``--repeat`` runs (default 3), the two
kinds interleaved, so that a moment when another program is busy on the machine does not decide
it; each also prints its CPU time (and the checked run its ratio to the unchecked one's). Each
run starts from a collected heap, so that none pays for collecting the previous one's garbage.
The anchor for the first two figures, a bare Raft on raw simpy under the same load, is
bare_simpy_raft.py.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from distlib import Simulation  # noqa: E402
from distlib.protocols.raft import RaftClient, RaftNode, Role  # noqa: E402
from distlib.testing.raft import RaftCluster  # noqa: E402

SERVERS = [f"s{i}" for i in range(1, 6)]
CLIENTS = [f"c{i}" for i in range(1, 6)]
DURATION = 60.0  # simulated seconds of load
THINK = 0.1  # seconds a client waits between a commit and its next command


def suite_seconds() -> float:
    start = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_raft_scenarios.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    child = os.times()
    print(f"  suite CPU: {child.children_user + child.children_system:.1f} s")
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-2000:])
        raise SystemExit("the scenario suite failed: no figure")
    print("  " + result.stdout.strip().splitlines()[-1])
    return elapsed


def _load(add_client) -> None:
    """Five clients, each sending its next command THINK seconds after the last committed."""
    for name in CLIENTS:
        commands = [f"{name}-{k}" for k in range(2_000)]  # more than 60 s can commit
        add_client(name, lambda c=commands: RaftClient(c, timeout=2.0, think=THINK))


def loaded_run(seed: int = 1) -> tuple[float, float, float, int]:
    """Wall and CPU seconds, simulated seconds and commits of a plain simulation under load."""
    sim = Simulation(seed=seed)
    sim.add_nodes(SERVERS, RaftNode)
    _load(sim.add_client)
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    sim.run(until=DURATION)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    commits = max(n.commit_index for n in sim.nodes.values() if isinstance(n, RaftNode))
    return wall, cpu, sim.now, commits


def checked_run(seed: int = 1) -> tuple[float, float, float, int]:
    """The same load in a RaftCluster, all safety checks on."""
    cluster = RaftCluster(RaftNode, 5, seed=seed)
    _load(cluster.sim.add_client)
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    cluster.run(DURATION)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    commits = max(cluster.node(name).commit_index for name in cluster.names)
    leaders = [name for name in cluster.names if cluster.node(name).role is Role.LEADER]
    assert len(leaders) == 1, f"expected one leader at the end, got {leaders}"
    return wall, cpu, cluster.now, commits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the scenario suite")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind (best is shown)")
    args = parser.parse_args()
    if not args.quick:
        suite = suite_seconds()
        print(f"figure: raft_suite_s = {suite:.1f} s")
    plain, checked = [], []
    for _ in range(args.repeat):
        plain.append(loaded_run())
        checked.append(checked_run())
    wall, cpu, simulated, commits = min(plain)
    print(f"  {commits} commits in {simulated:.0f} simulated s: {wall:.2f} wall s, {cpu:.2f} CPU s")
    print(f"figure: raft_sim_speedup = {simulated / wall:.0f}")
    print(f"figure: raft_commits_per_wall_s = {commits / wall:.0f}")
    unchecked_cpu = cpu
    wall, cpu, simulated, commits = min(checked)
    print(
        f"  checked: {commits} commits: {wall:.2f} wall s, {cpu:.2f} CPU s "
        f"({cpu / unchecked_cpu:.2f} x the unchecked run's CPU time)"
    )
    print(f"figure: raft_checked_speedup = {simulated / wall:.0f}")


if __name__ == "__main__":
    main()
