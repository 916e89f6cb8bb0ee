"""Benchmark of autograding. Run: python tests/benchmarks/bench_grading.py [--copies N]

Autogrades N (default 30) copies of Lab 1's solution in a scratch copy of the course, with the
default number of parallel jobs, and prints

* ``grade_s_per_submission``: wall seconds per submission (target: 30 in under 3 minutes on
  2 cores, i.e. at most 6 s).
"""

from __future__ import annotations

import argparse
import os
import shutil
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=default_jobs())
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        root = Path(tmp)
        (root / "course").mkdir()
        shutil.copy(ROOT / "course" / "nbgrader_config.py", root / "course")
        shutil.copytree(ROOT / "solutions" / LAB, root / "solutions" / LAB)
        course = Course(root)
        (source,) = course.source_notebooks(LAB)
        inbox = root / "inbox"
        inbox.mkdir()
        for i in range(args.copies):
            shutil.copy(source, inbox / f"s{i:02d}.ipynb")
        collect(course, LAB, inbox)
        start = time.perf_counter()
        code = grade(course, LAB, jobs=args.jobs)
        wall = time.perf_counter() - start
    assert code == 0, "grading failed"
    print(f"# {args.copies} submissions of {LAB}, {args.jobs} jobs, {wall:.1f} s in all")
    print(f"figure: grade_s_per_submission = {wall / args.copies:.2f} s")


if __name__ == "__main__":
    main()
