"""Reading a primary-backup run back from its trace: who was primary when, and split brain.

:func:`primary_spans` finds the periods in which each server acted as primary (from the notes of
:class:`distlib.protocols.primary_backup.PrimaryBackup`: "became primary", "stepped down",
"ack put ..." and crash events); :func:`split_brain` finds the periods in which two primaries at
once acknowledged client writes. Reads only the trace, never a protocol's insides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["PrimarySpan", "SplitBrain", "primary_spans", "split_brain"]


@dataclass(frozen=True, slots=True)
class PrimarySpan:
    """``node`` acted as primary of ``epoch`` from ``start`` to ``end`` (inf: still at the end)."""

    node: str
    epoch: int
    start: float
    end: float
    acks: tuple[float, ...] = ()


def primary_spans(trace: Iterable[Any]) -> list[PrimarySpan]:
    """The periods in which each server acted as primary, with the times it acknowledged writes.

    Read from the primary-backup notes ("became primary", "stepped down", "ack put ...") and
    crash events.
    """
    open_: dict[str, tuple[int, float, list[float]]] = {}
    spans: list[PrimarySpan] = []
    for e in trace:
        node = e.node
        if e.kind == "note" and e.detail == "became primary":
            if node in open_:
                epoch, start, acks = open_.pop(node)
                spans.append(PrimarySpan(node, epoch, start, e.time, tuple(acks)))
            open_[node] = ((e.data or {}).get("epoch", 0), e.time, [])
        elif e.kind == "note" and e.detail.startswith("ack put") and node in open_:
            open_[node][2].append(e.time)
        elif node in open_ and (
            e.kind == "crash" or (e.kind == "note" and e.detail == "stepped down")
        ):
            epoch, start, acks = open_.pop(node)
            spans.append(PrimarySpan(node, epoch, start, e.time, tuple(acks)))
    for node, (epoch, start, acks) in open_.items():
        spans.append(PrimarySpan(node, epoch, start, float("inf"), tuple(acks)))
    return sorted(spans, key=lambda s: (s.start, s.node))


@dataclass(frozen=True, slots=True)
class SplitBrain:
    """Two servers were both primary from ``start`` to ``end`` and both acknowledged writes."""

    nodes: tuple[str, str]
    start: float
    end: float
    acks: tuple[int, int]


def split_brain(trace: Iterable[Any]) -> list[SplitBrain]:
    """The periods in which two primaries at once acknowledged client writes.

    Empty for a correct primary-backup run with ``failover="safe"``; under a partition,
    ``failover="naive"`` gives one primary on each side.
    """
    spans = primary_spans(trace)
    found = []
    for i, a in enumerate(spans):
        for b in spans[i + 1 :]:
            if a.node == b.node:
                continue
            start, end = max(a.start, b.start), min(a.end, b.end)
            if start >= end:
                continue
            acks_a = sum(1 for t in a.acks if start <= t <= end)
            acks_b = sum(1 for t in b.acks if start <= t <= end)
            if acks_a and acks_b:
                pair = tuple(sorted((a.node, b.node)))
                found.append(SplitBrain(pair, start, end, (acks_a, acks_b)))  # type: ignore[arg-type]
    return found
