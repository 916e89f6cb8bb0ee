"""Harnesses that tests and graded notebook cells use to judge protocol implementations."""

__all__ = [
    "broken",
    "grading",
    "nemesis",
    "raft",
    "raft_scenarios",
    "unit",
    "workloads",
]
