"""Timelines of histories, with what a linearizability check found, drawn with matplotlib.

One row per client, time flowing left to right; each operation is a bar from its invocation
to its completion, labelled with what it asked and what it was told. Operations of unknown
outcome run off to the right edge (hatched), failed ones are grey. Given a
:class:`~distlib.check.linearizability.CheckResult`, the picture adds what the checker found:
for a legal history, a dot where each operation can take effect, numbered in the legal order;
for an illegal one, the numbered operations of the longest legal start and, in red, the
operation that cannot follow them. Reads histories and results only; matplotlib is imported
when a picture is asked for.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from distlib.history import History, Operation

__all__ = ["timeline"]

_COLOURS = {"ok": "#8fb8de", "fail": "#c8c8c8", "unknown": "#f3c68c"}
_PREFIX = "#6fbf73"
_CULPRIT = "#d62728"


def _label(op: Operation) -> str:
    shown = f"{op.f}({op.input!r})" if op.input is not None else f"{op.f}()"
    if op.status == "ok":
        # A read that returned nothing still returned something: show "→ None" for reads.
        if op.output is not None or op.f in ("read", "get"):
            return f"{shown} → {op.output!r}"
        return shown
    return f"{shown} → {'fail' if op.status == 'fail' else '?'}"


def timeline(
    history: History | Iterable[Operation],
    result: Any = None,
    *,
    clients: Sequence[str] | None = None,
    since: float | None = None,
    until: float | None = None,
    labels: bool | None = None,
    title: str | None = None,
    ax: Any = None,
):
    """Draw ``history`` as one row of operation bars per client; return the matplotlib Figure.

    ``result`` (from :func:`~distlib.check.check_linearizable` or
    :func:`~distlib.check.check_sequential`) adds the legal order or the failure; ``clients``
    picks and orders the rows (default: in order of first invocation); ``since``/``until``
    crop the time axis; ``labels`` writes each operation on its bar (default: when there are
    at most 60 bars).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    ops = sorted(history, key=lambda o: (o.call, o.id))
    if not ops:
        raise ValueError("the history has no operations: nothing to draw")
    for op in ops:
        if not isinstance(op, Operation):
            raise TypeError(f"a history holds Operation objects, not {type(op).__name__}")
    if clients is not None:
        ops = [op for op in ops if op.client in set(clients)]
    ends = [op.ret for op in ops if op.ret is not None] + [op.call for op in ops]
    if not ends:
        raise ValueError(f"none of the clients {list(clients or [])} has an operation")
    lo = min(ends) if since is None else since
    hi = max(ends) if until is None else until
    if hi < lo:
        raise ValueError(f"nothing to draw between since={since} and until={until}")
    span = (hi - lo) or 1.0
    right = hi + 0.04 * span  # where operations that never returned are cut off
    ops = [op for op in ops if op.call <= hi and (op.ret is None or op.ret >= lo)]
    order = list(clients) if clients is not None else list(dict.fromkeys(op.client for op in ops))
    row = {c: i for i, c in enumerate(order)}
    if labels is None:
        labels = len(ops) <= 60

    if ax is None:
        fig, ax = plt.subplots(figsize=(11, 1.4 + 0.45 * len(order)), layout="constrained")
    else:
        fig = ax.figure

    numbers: dict[int, int] = {}
    points: dict[int, float] = {}
    culprit = None
    prefix: set[int] = set()
    if result is not None:
        if result.ok and result.order:
            t = -math.inf
            for i, op in enumerate(result.order, 1):
                t = max(t, op.call)
                numbers[id(op)] = i
                points[id(op)] = t
        elif result.prefix or result.culprit is not None:
            for i, op in enumerate(result.prefix, 1):
                numbers[id(op)] = i
                prefix.add(id(op))
            culprit = result.culprit

    height = 0.56
    for op in ops:
        y = row[op.client]
        end = right if op.ret is None else op.ret
        width = max(end - op.call, span * 0.002)
        colour = _COLOURS.get(op.status, "#dddddd")
        edge, lw = "#40556a", 0.8
        if id(op) in prefix:
            colour = _PREFIX
        if culprit is not None and op is culprit:
            colour, edge, lw = _CULPRIT, "black", 2.0
        ax.barh(
            y,
            width,
            left=op.call,
            height=height,
            color=colour,
            edgecolor=edge,
            linewidth=lw,
            hatch="//" if op.status == "unknown" else None,
            zorder=2,
        )
        if labels:
            ax.text(
                (max(op.call, lo) + min(end, right)) / 2,
                y,
                _label(op),
                ha="center",
                va="center",
                fontsize=7,
                clip_on=True,
                zorder=4,
            )
        if id(op) in numbers:
            x = points.get(id(op), op.call)
            if id(op) in points:
                ax.plot([x], [y - height / 2], marker="o", color="black", markersize=4, zorder=5)
            ax.text(
                x,
                y - height / 2 - 0.1,
                str(numbers[id(op)]),
                ha="center",
                va="bottom",
                fontsize=7,
                clip_on=True,
                zorder=5,
            )

    ax.set_yticks(range(len(order)))
    ax.set_yticklabels([str(c) for c in order])
    ax.set_ylim(len(order) - 0.4, -0.6)
    ax.set_xlim(lo - 0.02 * span, right)
    ax.set_xlabel("time")
    ax.set_ylabel("client")
    ax.grid(axis="x", color="#eeeeee", zorder=0)
    handles = [
        Patch(facecolor=_COLOURS["ok"], edgecolor="#40556a", label="ok"),
        Patch(facecolor=_COLOURS["unknown"], edgecolor="#40556a", hatch="//", label="unknown"),
        Patch(facecolor=_COLOURS["fail"], edgecolor="#40556a", label="fail"),
    ]
    if prefix:
        handles.append(Patch(facecolor=_PREFIX, edgecolor="#40556a", label="longest legal start"))
    if culprit is not None:
        handles.append(Patch(facecolor=_CULPRIT, edgecolor="black", label="cannot be placed"))
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.5 / (1 + 0.45 * len(order))),
        ncol=len(handles),
        fontsize=8,
        frameon=False,
    )
    if title is None and result is not None:
        title = result.verdict
        if result.partitions > 1 and result.partition is not None and not result.ok:
            title += f" (key {result.partition!r})"
    if title:
        ax.set_title(title)
    return fig
