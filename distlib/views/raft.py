"""Pictures of Raft runs: who was follower, candidate or leader, in which term, and when.

Reads only a trace: a Raft node announces each change of role with a note
``"became follower"``, ``"became candidate"`` or ``"became leader"`` carrying ``term=...``
(as :class:`distlib.protocols.raft.RaftNode` does), and the runtime records crashes and
restarts. :func:`role_intervals` turns that into spans of time; :func:`raft_timeline` draws them;
:func:`split_vote_plot` draws the split-vote model beside measured frequencies. matplotlib is
imported only inside the drawing functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["ROLE_COLOURS", "Span", "raft_timeline", "role_intervals", "split_vote_plot"]

#: Note texts that announce a role, and the role each announces.
ROLE_NOTES = {
    "became follower": "follower",
    "became candidate": "candidate",
    "became leader": "leader",
}

#: Colours of the roles (and of a crashed server) in :func:`raft_timeline`.
ROLE_COLOURS = {
    "follower": "#d9d9d9",
    "candidate": "#f4a261",
    "leader": "#2a9d8f",
    "down": "#264653",
}


@dataclass(frozen=True, slots=True)
class Span:
    """``node`` held ``role`` (or was "down") in ``term`` from ``start`` to ``end`` seconds."""

    node: str
    start: float
    end: float
    role: str
    term: int | None


def role_intervals(
    trace: Any, *, nodes: Iterable[str] | None = None, until: float | None = None
) -> dict[str, list[Span]]:
    """Each node's roles over time, as consecutive :class:`Span` objects.

    A span starts at a role note (or a crash, for "down") and ends at the next one, or at
    ``until`` (default: the time of the trace's last event). Nodes that never announced a role
    are left out unless named in ``nodes``.
    """
    events = list(trace)
    end = until if until is not None else (events[-1].time if events else 0.0)
    current: dict[str, tuple[float, str, int | None]] = {}
    spans: dict[str, list[Span]] = {name: [] for name in nodes or ()}

    def close(name: str, t: float) -> None:
        if name in current:
            start, role, term = current.pop(name)
            if t > start:  # roles held for no time at all are not drawn
                spans.setdefault(name, []).append(Span(name, start, t, role, term))

    for e in events:
        if until is not None and e.time > until:
            break
        if e.kind == "note" and e.detail in ROLE_NOTES:
            close(e.node, e.time)
            term = (e.data or {}).get("term")
            current[e.node] = (e.time, ROLE_NOTES[e.detail], term)
        elif e.kind == "crash" and e.node is not None:
            last_term = current[e.node][2] if e.node in current else None
            close(e.node, e.time)
            current[e.node] = (e.time, "down", last_term)
        elif e.kind == "restart" and e.node in current and current[e.node][1] == "down":
            close(e.node, e.time)
    for name in list(current):
        close(name, end)
    if nodes is not None:
        wanted = list(nodes)
        return {name: spans.get(name, []) for name in wanted}
    return spans


def raft_timeline(
    trace: Any,
    *,
    nodes: Sequence[str] | None = None,
    since: float | None = None,
    until: float | None = None,
    label_terms: bool = True,
    title: str | None = None,
    ax: Any = None,
):
    """Draw each node's role over time, one row per node; return the matplotlib Figure.

    Followers are grey, candidates orange, leaders green, crashed servers dark; leader and
    candidate bars are labelled with their term (``label_terms``) where they are wide enough.
    ``since``/``until`` crop the time axis.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    spans = role_intervals(trace, nodes=nodes, until=until)
    order = list(nodes) if nodes is not None else sorted(spans)
    if not order:
        raise ValueError(
            "the trace has no role notes ('became leader', ...): nothing to draw; "
            "run a node that announces its roles, with tracing on"
        )
    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 0.8 + 0.45 * len(order)))
    else:
        fig = ax.figure
    lo = since if since is not None else 0.0
    hi = max((s.end for row in spans.values() for s in row), default=lo + 1.0)
    if until is not None:
        hi = until
    width = max(hi - lo, 1e-9)
    for y, name in enumerate(order):
        for s in spans.get(name, []):
            start, end = max(s.start, lo), min(s.end, hi)
            if end < start:
                continue
            ax.broken_barh(
                [(start, max(end - start, width * 0.002))],
                (y - 0.35, 0.7),
                facecolors=ROLE_COLOURS[s.role],
                edgecolors="white",
                linewidth=0.5,
            )
            wide = (end - start) / width > 0.03
            if label_terms and wide and s.role in ("leader", "candidate") and s.term is not None:
                ax.text(
                    (start + end) / 2,
                    y,
                    f"T{s.term}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if s.role == "leader" else "black",
                )
    ax.set_yticks(range(len(order)), order)
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.set_xlim(lo, hi)
    ax.set_xlabel("time (s)")
    handles = [Patch(color=c, label=r) for r, c in ROLE_COLOURS.items()]
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8
    )
    ax.set_title(title or "Raft roles and terms")
    fig.tight_layout()
    return fig


def split_vote_plot(
    delays: Sequence[float],
    model: Sequence[float],
    measured: Sequence[float] | None = None,
    *,
    timeout: float | None = None,
    title: str | None = None,
    ax: Any = None,
):
    """Plot split-vote probability against message delay: the model as a line, measured
    frequencies (if given) as dots. ``timeout`` (the T of [T, 2T]) labels the x axis as d/T."""
    import matplotlib.pyplot as plt

    if len(model) != len(delays) or (measured is not None and len(measured) != len(delays)):
        raise ValueError("delays, model and measured must have the same length")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4))
    else:
        fig = ax.figure
    xs = [d / timeout for d in delays] if timeout else list(delays)
    ax.plot(xs, model, "-", color=ROLE_COLOURS["leader"], label="model")
    if measured is not None:
        ax.plot(xs, measured, "o", color=ROLE_COLOURS["candidate"], label="simulation")
    ax.set_xlabel("message delay / timeout (d/T)" if timeout else "message delay d (s)")
    ax.set_ylabel("P(first round splits)")
    ax.set_ylim(0, 1)
    ax.legend()
    ax.set_title(title or "Split votes")
    fig.tight_layout()
    return fig
