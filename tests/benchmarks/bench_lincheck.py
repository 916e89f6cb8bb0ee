"""How fast the linearizability checker decides the external and generated histories.

Run from the repository root: ``python tests/benchmarks/bench_lincheck.py [--repeat N]``.
It needs neither Go nor Porcupine; tests/benchmarks/compare_porcupine.py runs Porcupine side by
side on the same files and prints the ratios (targets: <= 1.0 x Porcupine's CPU time on the
Knossos set, <= 1.5 x on kv c01/c10 and on every generated size, <= Porcupine's time and memory
on the 50-client history; the etcd logs stay ahead of it).

External histories (``etcd_all_s``, ``etcd_002_s``, ``kv_c50_ok_s``, ``kv_c50_bad_s``,
``knossos_all_s``) are read first; these figures time the checks only (best of N runs), and every
verdict is compared with the one the data's source asserts. Porcupine (Go, one core) takes about
0.5 s for all etcd histories on this machine kind.

Generated histories (tests/benchmarks/kv_histories.py: a simulated linearizable key-value store,
seeded, written to a file first): ``lincheck_gen_10k_s`` and ``lincheck_gen_100k_s`` read and
check 10 clients / 10 keys / 10,000 and 100,000 operations (CPU seconds, best of N; Porcupine
about 0.04 s and 0.7-1.0 s), ``lincheck_gen_100k_mb`` is the peak memory (maximum RSS) of a child
process that reads and checks the 100,000 (Porcupine about 340 MB), ``lincheck_gen_c50_s`` and
``lincheck_gen_c50_mb`` the same for 50 clients / 10 keys / 10,000 operations in a child
process (Porcupine about 25 s and 4.8 GB). All must be found linearizable.

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
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from kv_histories import write_kv_history

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


def read_and_check(path: Path) -> tuple[float, str]:
    """CPU seconds to read and check a porcupine-kv file, and the verdict."""
    start = time.process_time()
    loaded = load(path, "porcupine-kv")
    verdict = check_linearizable(loaded.history, loaded.model, max_steps=None).verdict
    return time.process_time() - start, verdict


def peak_kb() -> int:
    """This process's peak resident memory in kB: VmHWM from /proc/self/status (getrusage's
    maximum RSS would include the memory of the process that started this one), else the
    maximum RSS."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def in_child(path: Path) -> tuple[float, str, float]:
    """:func:`read_and_check` in a new process: its seconds, verdict and peak memory in MB."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(path)], capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"checking {path} in a child process failed:\n{done.stderr}")
    seconds, verdict, kb = done.stdout.split("\t")
    return float(seconds), verdict, int(kb) / 1024


def generated(repeat: int) -> list[str]:
    """The figures of the generated histories; returns the wrong verdicts."""
    wrong = []
    with tempfile.TemporaryDirectory(prefix="bench-lincheck-") as tmp:
        for ops in (10_000, 100_000):
            path = write_kv_history(Path(tmp) / f"kv-c10-{ops}.txt", 10, 10, ops, seed=1)
            runs = [read_and_check(path) for _ in range(repeat)]
            print(f"figure: lincheck_gen_{ops // 1000}k_s = {min(r[0] for r in runs):.3f} s")
            wrong += [f"{path.name}: {v}" for _, v in runs if v != LINEARIZABLE]
            if ops == 100_000:
                _, _, mb = in_child(path)
                print(f"figure: lincheck_gen_100k_mb = {mb:.0f} MB")
        path = write_kv_history(Path(tmp) / "kv-c50-10000.txt", 50, 10, 10_000, seed=1)
        runs = [in_child(path) for _ in range(repeat)]
        print(f"figure: lincheck_gen_c50_s = {min(r[0] for r in runs):.3f} s")
        print(f"figure: lincheck_gen_c50_mb = {min(r[2] for r in runs):.0f} MB")
        wrong += [f"{path.name}: {v}" for _, v, _ in runs if v != LINEARIZABLE]
    return wrong


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (best is shown)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        seconds, verdict = read_and_check(args.child)
        print(f"{seconds:.6f}\t{verdict}\t{peak_kb()}")
        return 0
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
    failures.extend(generated(args.repeat))
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
