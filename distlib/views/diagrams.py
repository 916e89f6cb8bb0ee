"""Space-time (Lamport) diagrams of a trace, drawn with matplotlib.

One horizontal line per node, time flowing left to right. A delivered message is an arrow from
its send to its delivery; a lost one ends in a red cross where it was dropped; crashes are black
bars, restarts green ticks, timers small dots and annotations labelled diamonds. A node's messages
to itself never cross the network (the runtime delivers them) and are not drawn. Reads only the
trace, never a protocol's insides.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from distlib.trace import Trace, msg_type

__all__ = ["spacetime"]


def spacetime(
    trace: Trace,
    *,
    nodes: Sequence[str] | None = None,
    since: float | None = None,
    until: float | None = None,
    types: Iterable[str] | None = None,
    show_timers: bool = False,
    show_notes: bool = True,
    label_messages: bool | None = None,
    max_messages: int = 400,
    title: str | None = None,
    ax: Any = None,
):
    """Draw ``trace`` as a space-time diagram and return the matplotlib Figure.

    ``nodes`` picks and orders the lines (default: every node, in order of appearance);
    ``since``/``until`` crop the time axis; ``types`` keeps only those message types;
    ``label_messages`` writes each message's type on its arrow (default: when there are at most
    24 arrows). At most ``max_messages`` arrows are drawn (the earliest ones), so a long run
    still draws quickly; crop with since/until to see later parts.
    """
    import matplotlib.pyplot as plt

    events = trace.filter(since=since, until=until)
    order = list(nodes) if nodes is not None else trace.nodes
    if not order:
        raise ValueError("the trace names no nodes: nothing to draw")
    row = {name: i for i, name in enumerate(order)}
    keep = set(types) if types is not None else None

    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 0.6 + 0.55 * len(order)))
    else:
        fig = ax.figure

    sends: dict[int | None, tuple[float, str | None, str | None, Any]] = {}
    arrows: list[tuple[float, str, float, str, str, bool]] = []  # t0, src, t1, dst, label, lost
    marks: list[tuple[str, float, str, str]] = []
    for e in events:
        if e.kind == "send":
            sends[e.mid] = (e.time, e.node, e.peer, e.msg)
        elif e.kind in ("deliver", "drop"):
            t0, src, dst, msg = sends.get(e.mid, (e.time, e.node, e.peer, e.msg))
            if keep is not None and msg_type(msg) not in keep:
                continue
            if src in row and dst in row and src != dst:
                arrows.append((t0, src, e.time, dst, msg_type(msg), e.kind == "drop"))
        elif e.kind in ("crash", "restart", "timer", "note", "error") and e.node in row:
            marks.append((e.kind, e.time, e.node, e.detail))
    arrows = arrows[:max_messages]
    if label_messages is None:
        label_messages = len(arrows) <= 24

    times = [a[0] for a in arrows] + [a[2] for a in arrows] + [m[1] for m in marks]
    lo = since if since is not None else (min(times) if times else 0.0)
    hi = until if until is not None else (max(times) if times else 1.0)
    if hi <= lo:
        hi = lo + 1.0

    for y in row.values():
        ax.hlines(y, lo, hi, color="0.75", lw=1, zorder=0)
    colours = plt.get_cmap("tab10")
    palette: dict[str, Any] = {}
    for t0, src, t1, dst, label, lost in arrows:
        colour = palette.setdefault(label, colours(len(palette) % 10))
        y0, y1 = row[src], row[dst]
        if lost:
            # A lost message goes part of the way and ends in a cross.
            frac = 0.5 if t1 == t0 else 1.0
            t_end = t0 + (t1 - t0) * frac if t1 > t0 else t0 + (hi - lo) * 0.01
            y_end = y0 + (y1 - y0) * 0.4
            ax.plot([t0, t_end], [y0, y_end], color="tab:red", lw=1, ls="--", zorder=2)
            ax.plot([t_end], [y_end], marker="x", color="tab:red", ms=7, zorder=3)
        else:
            ax.annotate(
                "",
                xy=(t1, y1),
                xytext=(t0, y0),
                zorder=2,
                arrowprops={"arrowstyle": "->", "color": colour, "lw": 1.2},
            )
            if label_messages:
                ax.text(
                    (t0 + t1) / 2,
                    (y0 + y1) / 2,
                    label,
                    fontsize=7,
                    color=colour,
                    ha="center",
                    va="bottom",
                    zorder=4,
                )
    style = {
        "crash": ("s", "black", 8),
        "restart": ("^", "tab:green", 8),
        "timer": (".", "0.4", 5),
        "note": ("D", "tab:purple", 6),
        "error": ("X", "red", 10),
    }
    for kind, t, name, detail in marks:
        if kind == "timer" and not show_timers:
            continue
        if kind == "note" and not show_notes:
            continue
        marker, colour, size = style[kind]
        ax.plot([t], [row[name]], marker=marker, color=colour, ms=size, zorder=5, ls="none")
        if kind in ("note", "crash", "error"):
            ax.text(
                t,
                row[name] - 0.18,
                detail[:30],
                fontsize=7,
                color=colour,
                ha="center",
                va="top",
                zorder=6,
            )

    ax.set_yticks(range(len(order)), order)
    ax.set_ylim(len(order) - 0.5, -0.6)
    ax.set_xlim(lo - (hi - lo) * 0.02, hi + (hi - lo) * 0.02)
    ax.set_xlabel("simulated time (s)")
    ax.set_title(title or "space-time diagram")
    if palette and not label_messages:
        handles = [plt.Line2D([], [], color=c, lw=1.5, label=k) for k, c in palette.items()]
        ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return fig
