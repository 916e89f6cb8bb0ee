"""How fast the linearizability checker decides the external histories.

Run from the repository root: ``python tests/benchmarks/bench_lincheck.py [--repeat N]``.
Histories are read first; the figures time the checks only (best of N runs), and every
verdict is compared with the one the data's source asserts. Porcupine (Go, one core) takes
0.378 s for all etcd histories, 0.144 s for etcd_002 and 0.153 s for kv c50-ok.

``lincheck_cli_s``: the whole ``distcourse lincheck FILE`` process on one Jepsen etcd log (a new
Python process each time: start, imports, reading, checking, printing), the median of 15 runs
(target <= 0.060 s).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from distlib.check.formats import load
from distlib.check.linearizability import (
    LINEARIZABLE,
    NOT_LINEARIZABLE,
    check_linearizable,
)


def data_root() -> Path:
    here = Path(__file__).resolve().parents[1] / "data" / "linearizability"
    if here.is_dir():
        return here
    sys.exit(f"the external histories are missing: expected them in {here}")


def cases():
    root = data_root()
    etcd, kv, knossos = [], {}, []
    with open(root / "porcupine" / "verdicts.csv", newline="") as f:
        for row in csv.DictReader(f):
            want = LINEARIZABLE if row["linearizable"] == "true" else NOT_LINEARIZABLE
            if row["file"].startswith("jepsen/"):
                etcd.append(
                    (row["file"], load(root / "porcupine" / row["file"], "jepsen-etcd"), want)
                )
            else:
                kv[row["file"]] = (
                    row["file"],
                    load(root / "porcupine" / row["file"], "porcupine-kv"),
                    want,
                )
    for line in (root / "knossos" / "verdicts.csv").read_text().splitlines()[1:]:
        name, valid = line.split(",")[0], line.split(",")[-1]
        want = LINEARIZABLE if valid == "true" else NOT_LINEARIZABLE
        knossos.append((name, load(root / "knossos" / name, "knossos-edn"), want))
    return etcd, kv, knossos


def timed(items, repeat: int) -> tuple[float, int, list[str]]:
    """Best total time over ``repeat`` runs, steps of the last run, and wrong verdicts."""
    best = float("inf")
    for _ in range(repeat):
        total = 0.0
        steps = 0
        wrong = []
        for name, loaded, want in items:
            start = time.perf_counter()
            result = check_linearizable(loaded.history, loaded.model, max_steps=None, timeout=60)
            total += time.perf_counter() - start
            steps += result.steps
            if result.verdict != want:
                wrong.append(f"{name}: {result.verdict}, expected {want}")
        best = min(best, total)
    return best, steps, wrong


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (best is shown)")
    args = parser.parse_args()
    etcd, kv, knossos = cases()
    figures = [
        ("etcd_all_s", etcd),
        ("etcd_002_s", [c for c in etcd if c[0] == "jepsen/etcd_002.log"]),
        ("kv_c50_ok_s", [kv["kv/c50-ok.txt"]]),
        ("kv_c50_bad_s", [kv["kv/c50-bad.txt"]]),
        ("knossos_all_s", knossos),
    ]
    failures = []
    for name, items in figures:
        seconds, steps, wrong = timed(items, args.repeat)
        print(f"figure: {name} = {seconds:.3f} s")
        print(f"  ({len(items)} histories, {steps:,} model steps, {len(wrong)} wrong verdicts)")
        failures.extend(wrong)
    log = data_root() / "porcupine" / "jepsen" / "etcd_038.log"
    command = [sys.executable, "-m", "distlib.course.cli", "lincheck", str(log), "--quiet"]
    runs = []
    for _ in range(15):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False)
        runs.append(time.perf_counter() - start)
    print(f"figure: lincheck_cli_s = {statistics.median(runs):.3f} s   (target <= 0.060)")
    for line in failures:
        print(f"WRONG VERDICT {line}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
