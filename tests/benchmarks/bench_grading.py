"""Benchmark of autograding. Run: python tests/benchmarks/bench_grading.py [--copies N]

Autogrades N (default 30) copies of Lab 1's solution in a scratch copy of the course, with the
default number of parallel jobs, once in the sandbox and once without it, and prints

* ``grade_s_per_submission``: wall seconds per submission in the sandbox, as ``distcourse
  grade`` runs by default (target: 30 in under 3 minutes on 2 cores, i.e. at most 6 s);
* ``grade_s_per_submission_unsandboxed``: the same with ``--sandbox off``;
* ``sandbox_overhead_s``: what the sandbox adds to one kernel's life (start, a cell, shutdown),
  the median of 15 kernels each way (target: at most 0.3 s);
* ``sandbox_peak_mb_<lab>``: the peak resident memory of each lab's solution in the sandbox
  (with ``--labs``), against the 4096 MB limit per process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")

from distlib.course.commands import collect, default_jobs, grade  # noqa: E402
from distlib.course.nbg import Course  # noqa: E402

LAB = "lab01-models"


def scratch_course(root: Path, labs: list[str]) -> Course:
    (root / "course").mkdir()
    shutil.copy(ROOT / "course" / "nbgrader_config.py", root / "course")
    for lab in labs:
        shutil.copytree(ROOT / "solutions" / lab, root / "solutions" / lab)
    return Course(root)


def grade_copies(copies: int, jobs: int, sandbox: str) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        course = scratch_course(Path(tmp), [LAB])
        (source,) = course.source_notebooks(LAB)
        inbox = Path(tmp) / "inbox"
        inbox.mkdir()
        for i in range(copies):
            shutil.copy(source, inbox / f"s{i:02d}.ipynb")
        collect(course, LAB, inbox)
        start = time.perf_counter()
        code = grade(course, LAB, jobs=jobs, sandbox=sandbox)
        wall = time.perf_counter() - start
    assert code == 0, "grading failed"
    return wall


async def kernel_life(manager_class) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-kernel-") as work:
        km = manager_class(kernel_name="python3")
        start = time.perf_counter()
        await km.start_kernel(cwd=work)
        client = km.client()
        client.start_channels()
        await client.wait_for_ready(timeout=60)
        msg = client.execute("x = sum(range(1000))")
        while (await client.get_shell_msg(timeout=60))["parent_header"].get("msg_id") != msg:
            pass
        client.stop_channels()
        await km.shutdown_kernel()
        return time.perf_counter() - start


def sandbox_overhead(rounds: int) -> float:
    from jupyter_client.manager import AsyncKernelManager

    from distlib.course.sandbox import SandboxKernelManager

    plain, boxed = [], []
    for _ in range(rounds):
        plain.append(asyncio.run(kernel_life(AsyncKernelManager)))
        boxed.append(asyncio.run(kernel_life(SandboxKernelManager)))
    return statistics.median(boxed) - statistics.median(plain)


def lab_peaks() -> dict[str, float]:
    labs = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
    peaks = {}
    with tempfile.TemporaryDirectory(prefix="bench-peaks-") as tmp:
        course = scratch_course(Path(tmp), labs)
        for lab in labs:
            (source,) = course.source_notebooks(lab)
            inbox = Path(tmp) / "inbox" / lab
            inbox.mkdir(parents=True)
            shutil.copy(source, inbox / "peak.ipynb")
            collect(course, lab, inbox)
            grade(course, lab, jobs=1, sandbox="require")
            report = json.loads((course.autograded / "peak" / lab / ".sandbox.json").read_text())
            peaks[lab] = report["peaks"]
    return peaks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=default_jobs())
    parser.add_argument("--labs", action="store_true", help="also each lab's peak in the sandbox")
    args = parser.parse_args()
    from distlib.course.sandbox import sandbox_problem

    why = sandbox_problem()
    boxed = grade_copies(args.copies, args.jobs, "auto")
    plain = grade_copies(args.copies, args.jobs, "off")
    print(
        f"# {args.copies} submissions of {LAB}, {args.jobs} jobs: {boxed:.1f} s in the "
        f"sandbox, {plain:.1f} s without" + (f" (no sandbox here: {why})" if why else "")
    )
    print(f"figure: grade_s_per_submission = {boxed / args.copies:.2f} s")
    print(f"figure: grade_s_per_submission_unsandboxed = {plain / args.copies:.2f} s")
    if why is None:
        print(f"figure: sandbox_overhead_s = {sandbox_overhead(15):.3f} s")
    if args.labs and why is None:
        for lab, peak in lab_peaks().items():
            print(f"# {lab}: peak {peak.get('tasks')} tasks")
            print(f"figure: sandbox_peak_mb_{lab.split('-')[0]} = {peak.get('rss_mb')} MB")


if __name__ == "__main__":
    main()
