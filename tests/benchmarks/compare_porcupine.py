"""distlib's linearizability checker side by side with Porcupine (Go), history set by history set.

Run from the repository root:

    python tests/benchmarks/compare_porcupine.py --porcupine PATH [--repeat N] [--rows ROW ...]

It needs two things the project does not ship:

* Go (1.19 or later): ``apt-get install golang-go``, or https://go.dev/dl/;
* Porcupine's source: ``git clone https://github.com/anishathalye/porcupine PATH``.

It builds tests/benchmarks/porcupine_driver (a small Go program of this project that reads the
three file formats and checks them with Porcupine) against that clone, offline (a go.mod
``replace`` points at PATH; Porcupine has no dependencies). Then, for every row, it runs the
same files through both checkers, interleaved, ``--repeat`` rounds (best of each side): each
side times its own reading and checking of the files in CPU time, Go on one core
(GOMAXPROCS=1) like Python. The generated histories (tests/benchmarks/kv_histories.py, seeded)
are written to files first, so both read the very same text. For the 50-client history the
check runs in a child process per side, which also gives its peak memory (maximum RSS).

Each row prints ``figure: porcupine_<row>_ratio = <python / go> x`` with both times and the
target; every verdict of one side must be the other's (and the one the data asserts, where it
does), else the script says which and exits with status 1.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from bench_lincheck import peak_kb  # noqa: E402
from kv_histories import write_kv_history  # noqa: E402

from distlib.check.formats import load  # noqa: E402
from distlib.check.linearizability import (  # noqa: E402
    LINEARIZABLE,
    NOT_LINEARIZABLE,
    check_linearizable,
)

DATA = ROOT / "tests" / "data" / "linearizability"
GO_VERDICT = {"ok": LINEARIZABLE, "illegal": NOT_LINEARIZABLE, "unknown": "unknown"}

#: row -> (what it holds, target ratio python / go)
ROWS = {
    "knossos": ("the 121 Knossos histories", 1.0),
    "kv_small": ("Porcupine's kv c01 and c10 (ok and bad)", 1.5),
    "etcd": ("the 102 Jepsen etcd logs", 1.0),
    "gen_1k": ("generated, 10 clients, 10 keys, 1,000 operations", 1.5),
    "gen_10k": ("generated, 10 clients, 10 keys, 10,000 operations", 1.5),
    "gen_100k": ("generated, 10 clients, 10 keys, 100,000 operations", 1.5),
    "gen_c50": ("generated, 50 clients, 10 keys, 10,000 operations (time and peak memory)", 1.0),
}


def expected_verdicts() -> dict[str, str]:
    """Path -> the verdict the data's source asserts."""
    out = {}
    with open(DATA / "porcupine" / "verdicts.csv", newline="") as f:
        for row in csv.DictReader(f):
            want = LINEARIZABLE if row["linearizable"] == "true" else NOT_LINEARIZABLE
            out[str(DATA / "porcupine" / row["file"])] = want
    for line in (DATA / "knossos" / "verdicts.csv").read_text().splitlines()[1:]:
        name, valid = line.split(",")[0], line.split(",")[-1]
        out[str(DATA / "knossos" / name)] = LINEARIZABLE if valid == "true" else NOT_LINEARIZABLE
    return out


def row_files(row: str, work: Path) -> list[tuple[str, str]]:
    """(format, path) of the files of ``row``."""
    if row == "knossos":
        return [("knossos-edn", str(p)) for p in sorted((DATA / "knossos").glob("*/*/*.edn"))]
    if row == "kv_small":
        kv = DATA / "porcupine" / "kv"
        return [
            ("porcupine-kv", str(kv / f"{n}.txt"))
            for n in ("c01-ok", "c01-bad", "c10-ok", "c10-bad")
        ]
    if row == "etcd":
        logs = sorted((DATA / "porcupine" / "jepsen").glob("etcd_*.log"))
        return [("jepsen-etcd", str(p)) for p in logs if p.stat().st_size > 0]
    clients, ops = {"gen_1k": (10, 1_000), "gen_10k": (10, 10_000), "gen_100k": (10, 100_000)}.get(
        row, (50, 10_000)
    )
    path = write_kv_history(work / f"kv-c{clients}-k10-{ops}.txt", clients, 10, ops, seed=1)
    return [("porcupine-kv", str(path))]


def build_driver(go: str, porcupine: Path, work: Path) -> Path:
    build = work / "driver"
    build.mkdir(exist_ok=True)
    shutil.copy(HERE / "porcupine_driver" / "main.go", build / "main.go")
    (build / "go.mod").write_text(
        "module porcupine_driver\n\ngo 1.19\n\n"
        "require github.com/anishathalye/porcupine v0.0.0\n\n"
        f"replace github.com/anishathalye/porcupine => {porcupine}\n"
    )
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GOPROXY": "off"}
    done = subprocess.run(
        [go, "build", "-o", "porcupine_driver", "."],
        cwd=build,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.exit(f"building the Go driver failed:\n{done.stderr}")
    return build / "porcupine_driver"


def run_go(
    driver: Path, files: list[tuple[str, str]], repeat: int
) -> tuple[float, dict[str, str], float]:
    """Go's best CPU seconds over ``repeat`` runs inside one process, its verdicts, and the
    process's peak memory in MB."""
    manifest = "".join(f"{fmt}\t{path}\n" for fmt, path in files)
    env = {**os.environ, "GOMAXPROCS": "1"}
    out, mb = run_child([str(driver), "-repeat", str(repeat)], manifest, env)
    verdicts = {}
    seconds = float("inf")
    for line in out.splitlines():
        parts = line.split("\t")
        if parts[0] == "verdict":
            verdicts[parts[1]] = GO_VERDICT[parts[2]]
        elif parts[0] == "time":
            seconds = float(parts[1])
        elif parts[0] == "memory" and int(parts[1]):
            mb = int(parts[1]) / 1024
    return seconds, verdicts, mb


def python_once(files: list[tuple[str, str]]) -> tuple[float, dict[str, str]]:
    """CPU seconds to read and check ``files`` in this process, and the verdicts."""
    verdicts = {}
    start = time.process_time()
    for fmt, path in files:
        loaded = load(path, fmt)
        verdicts[path] = check_linearizable(loaded.history, loaded.model, max_steps=None).verdict
    return time.process_time() - start, verdicts


def run_child(
    command: list[str], stdin: str | None = None, env: dict[str, str] | None = None
) -> tuple[str, float]:
    """A child's standard output and its peak memory in MB (its maximum RSS)."""
    proc = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdin is not None and proc.stdout is not None
    if stdin is not None:
        proc.stdin.write(stdin)
    proc.stdin.close()
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.exit(f"{command[0]} failed (status {proc.returncode})")
    return out, usage.ru_maxrss / 1024


def child_main(fmt: str, path: str) -> int:
    """--child: read and check one file, print the verdict and the CPU seconds."""
    seconds, verdicts = python_once([(fmt, path)])
    print(f"{verdicts[path]}\t{seconds:.6f}\t{peak_kb()}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--porcupine", type=Path, help="a clone of github.com/anishathalye/porcupine"
    )
    parser.add_argument("--go", default="go", help="the go command (default: go on the PATH)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds per row (best is shown)")
    parser.add_argument("--rows", nargs="*", choices=list(ROWS), default=list(ROWS))
    parser.add_argument("--child", nargs=2, metavar=("FORMAT", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child_main(*args.child)
    go = shutil.which(args.go)
    if go is None:
        sys.exit(
            "Go is needed and was not found: install it (apt-get install golang-go, or "
            "https://go.dev/dl/) or name it with --go PATH."
        )
    if args.porcupine is None or not (args.porcupine / "checker.go").is_file():
        sys.exit(
            "Porcupine's source is needed: git clone https://github.com/anishathalye/porcupine "
            "PATH, then run this script with --porcupine PATH."
            + (f" ({args.porcupine} holds no checker.go.)" if args.porcupine else "")
        )
    want = expected_verdicts()
    disagreements = []
    with tempfile.TemporaryDirectory(prefix="compare-porcupine-") as tmp:
        work = Path(tmp)
        driver = build_driver(go, args.porcupine.resolve(), work)
        for row in args.rows:
            what, target = ROWS[row]
            files = row_files(row, work)
            py_best = go_best = float("inf")
            py_mb = go_mb = float("inf")
            if row == "gen_c50":
                # One child process per side and round: time and peak memory.
                ((fmt, path),) = files
                for _ in range(args.repeat):
                    go_s, go_verdicts, mb = run_go(driver, files, 1)
                    go_best, go_mb = min(go_best, go_s), min(go_mb, mb)
                    out, mb = run_child([sys.executable, __file__, "--child", fmt, path])
                    verdict, seconds, kb = out.split("\t")
                    mb = int(kb) / 1024 if int(kb) else mb
                    py_verdicts = {path: verdict}
                    py_best, py_mb = min(py_best, float(seconds)), min(py_mb, mb)
            else:
                python_once(files)  # warm up (imports, compiled expressions), as Go's runs do
                for _ in range(args.repeat):
                    go_s, go_verdicts, _ = run_go(driver, files, 3)
                    go_best = min(go_best, go_s)
                    for _ in range(3):
                        seconds, py_verdicts = python_once(files)
                        py_best = min(py_best, seconds)
            for _, path in files:
                verdicts = {py_verdicts[path], go_verdicts[path], want.get(path, py_verdicts[path])}
                if len(verdicts) > 1:
                    disagreements.append(
                        f"{path}: distlib {py_verdicts[path]}, Porcupine {go_verdicts[path]}, "
                        f"expected {want.get(path, '-')}"
                    )
            ratio = py_best / go_best
            print(
                f"figure: porcupine_{row}_ratio = {ratio:.2f} x   (python {py_best:.3f} s, "
                f"go {go_best:.3f} s, CPU; target <= {target}; {what}, {len(files)} files)"
            )
            if row == "gen_c50":
                print(
                    f"figure: porcupine_{row}_memory_ratio = {py_mb / go_mb:.2f} x   "
                    f"(python {py_mb:.0f} MB, go {go_mb:.0f} MB, peak RSS; target <= 1.0)"
                )
    for line in disagreements:
        print(f"VERDICTS DISAGREE {line}")
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
