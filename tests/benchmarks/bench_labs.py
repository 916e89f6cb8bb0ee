"""How long each lab's solution notebook takes to run, top to bottom, as grading runs it.

Run from the repository root: ``python tests/benchmarks/bench_labs.py [LAB ...]``. Each notebook
runs in a fresh kernel (nbclient) from its own folder; the time is the whole execution, kernel
start included. Prints one ``figure: lab_exec_<lab>_s`` line per lab and ``lab_exec_max_s``, the
slowest (target: <= 8 s each). ``--repeat N`` runs each notebook N times and keeps the best (on a
shared machine one run can take a quarter longer than the next).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(notebook: Path) -> float:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    start = time.perf_counter()
    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(notebook.parent)}},
    ).execute()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labs", nargs="*", help="lab folders under solutions/ (default: all)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per notebook (best is shown)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, not {args.repeat}")
    os.environ["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    labs = args.labs or sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
    times = {}
    for lab in labs:
        (notebook,) = (ROOT / "solutions" / lab).glob("*.ipynb")
        times[lab] = min(run(notebook) for _ in range(args.repeat))
        print(f"figure: lab_exec_{lab.split('-')[0]}_s = {times[lab]:.1f} s", flush=True)
    slowest = max(times, key=times.get)
    print(f"figure: lab_exec_max_s = {times[slowest]:.1f} s   ({slowest}; target <= 8)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
