"""Quorums: the one place the size of a majority is written.

Any two majorities of the same ``n`` nodes share at least one node (Lamport, "Paxos Made Simple"
§2.2; Ongaro and Ousterhout, "In Search of an Understandable Consensus Algorithm" §5.2): that
overlap is what lets Paxos, Raft and quorum replication carry a decision from one majority to the
next. A majority of ``n`` tolerates ``(n - 1) // 2`` failures.
"""

from __future__ import annotations

__all__ = ["majority", "tolerated"]


def majority(n: int) -> int:
    """The size of a majority of ``n`` nodes: ``n // 2 + 1``."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"a majority needs a positive number of nodes, not {n!r}")
    return n // 2 + 1


def tolerated(n: int) -> int:
    """How many of ``n`` nodes may fail while a majority is left: ``(n - 1) // 2``."""
    return n - majority(n)
