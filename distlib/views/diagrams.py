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

__all__ = ["PALETTE", "spacetime"]

#: Colours of the message types, in order of first appearance: Okabe and Ito's palette for
#: colour-blind readers (its yellow left out: too pale for text on white). Lost messages are
#: told apart by shape as well (dashed, ending in a cross), not by colour alone.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#999999")


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
    annotations: Iterable[tuple[float, str, str, str]] = (),
):
    """Draw ``trace`` as a space-time diagram and return the matplotlib Figure.

    ``nodes`` picks and orders the lines (default: every node, in order of appearance);
    ``since``/``until`` crop the time axis; ``types`` keeps only those message types;
    ``label_messages`` writes each message's type on its arrow (default: when there are at most
    24 arrows). At most ``max_messages`` arrows are drawn (the earliest ones), so a long run
    still draws quickly; crop with since/until to see later parts. ``annotations``: extra marks
    ``(time, node, text, colour)``, a dot on the node's line labelled with the text; like every
    label, placed where it overlaps no other.
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
    palette: dict[str, Any] = {}
    # Texts to place once the layout is fixed: (text, colour, candidate (x, y) spots, alignment).
    labels: list[tuple[str, Any, list[tuple[float, float]], dict[str, str]]] = []
    for t0, src, t1, dst, label, lost in arrows:
        colour = palette.setdefault(label, PALETTE[len(palette) % len(PALETTE)])
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
                # Candidate places along the arrow, the middle first; placed after the layout.
                spots = [
                    (t0 + (t1 - t0) * f, y0 + (y1 - y0) * f) for f in (0.5, 0.3, 0.7, 0.15, 0.85)
                ]
                labels.append((label, colour, spots, {"ha": "center", "va": "bottom"}))
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
            # Above the line, else below it; placed (before the messages' labels) after layout.
            spots = [(t, row[name] - 0.18), (t, row[name] + 0.42)]
            labels.insert(0, (detail[:30], colour, spots, {"ha": "center", "va": "top"}))

    ax.set_yticks(range(len(order)), order)
    ax.set_ylim(len(order) - 0.5, -0.6)
    ax.set_xlim(lo - (hi - lo) * 0.02, hi + (hi - lo) * 0.02)
    ax.set_xlabel("simulated time (s)")
    ax.set_title(title or "space-time diagram")
    for t, name, text, colour in annotations:
        if name in row and lo <= t <= hi:
            ax.plot([t], [row[name]], marker="o", color=colour, ms=6, zorder=6)
            spots = [(t, row[name] + 0.3), (t, row[name] - 0.22), (t, row[name] + 0.5)]
            labels.insert(0, (text, colour, spots, {"ha": "center", "va": "top"}))
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    written, dropped = _place_labels(fig, ax, labels)
    if palette and (not label_messages or dropped):
        # Colours name the message types where their labels are not (all) written. The legend
        # narrows the axes, so the labels are placed again in the final layout.
        handles = [plt.Line2D([], [], color=c, lw=1.5, label=k) for k, c in palette.items()]
        ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        fig.tight_layout()
        for artist in written:
            artist.remove()
        _place_labels(fig, ax, labels)
    return fig


def _place_labels(
    fig: Any, ax: Any, labels: list[tuple[str, Any, list[tuple[float, float]], dict[str, str]]]
) -> tuple[list[Any], int]:
    """Write each label at the first of its spots where it overlaps no label written before
    (nor leaves the axes); a label with no free spot is left out. Returns the texts written
    and how many were left out."""
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    placed: list[Any] = []
    written: list[Any] = []
    dropped = 0
    for text, colour, spots, align in labels:
        for x, y in spots:
            artist = ax.text(x, y, text, fontsize=7, color=colour, zorder=6, **align)
            box = artist.get_window_extent(renderer).expanded(1.05, 1.1)
            inside = frame.x0 - 2 <= box.x0 and box.x1 <= frame.x1 + 2
            if inside and not any(box.overlaps(other) for other in placed):
                placed.append(box)
                written.append(artist)
                break
            artist.remove()
        else:
            dropped += 1
    return written, dropped
