"""Step through a run, event by event, with a slider (ipywidgets, imported when called).

:func:`step` shows a slider over the trace's events; moving it redraws the space-time diagram up
to that event (the current one highlighted) and lists the events around it. Outside a notebook
(no widget frontend) :func:`frames` gives the same pictures as a list of figures.
"""

from __future__ import annotations

from typing import Any

from distlib.trace import Trace

__all__ = ["frames", "step"]


def _draw(trace: Trace, index: int, options: dict[str, Any]):
    import matplotlib.pyplot as plt

    from distlib.views.diagrams import spacetime

    event = trace.events[index]
    shown = Trace(trace.events[: index + 1])
    # The same time axis at every position: the whole trace (or the window asked for), so the
    # picture grows to the right as one steps instead of being rescaled at each event.
    since = options.get("since")
    lo = since if since is not None else trace.events[0].time
    hi = max(options.get("until") or trace.events[-1].time, lo)
    if hi - lo < 1e-6:  # one instant: give the axis some width
        hi = lo + 1e-3
    fig = spacetime(
        shown,
        nodes=options.get("nodes") or trace.nodes,
        since=lo,
        until=hi,
        title=options.get("title") or f"event {index}: {event.kind}",
    )
    ax = fig.axes[0]
    row = {name: i for i, name in enumerate(options.get("nodes") or trace.nodes)}
    y = row.get(event.peer if event.kind == "deliver" else event.node)
    if y is not None:
        ax.plot([event.time], [y], marker="o", ms=14, mfc="none", mec="red", mew=2, zorder=10)
    plt.close(fig)
    return fig


def frames(trace: Trace, *, every: int = 1, **options: Any) -> list:
    """Figures of the run after every ``every``-th event (for a non-widget display or a file)."""
    if not len(trace):
        raise ValueError("the trace is empty: nothing to step through")
    return [_draw(trace, i, options) for i in range(0, len(trace), every)]


def step(trace: Trace, *, kinds: tuple[str, ...] | None = None, context: int = 4, **options: Any):
    """A slider that walks through ``trace`` (only events of ``kinds``, if given).

    Returns the widget (display it, or make it a cell's last expression). ``options`` are passed
    to :func:`distlib.views.diagrams.spacetime` (``nodes``, ``since``, ``title``).
    """
    import ipywidgets as widgets
    from IPython.display import display

    events = trace.filter(kinds) if kinds else trace
    if not len(events):
        raise ValueError(
            "the trace has no events to step through" + (f" of kinds {kinds}" if kinds else "")
        )
    full = Trace(events.events)
    slider = widgets.IntSlider(
        value=0,
        min=0,
        max=len(full) - 1,
        description="event",
        continuous_update=False,
        layout=widgets.Layout(width="70%"),
    )
    play = widgets.Play(value=0, min=0, max=len(full) - 1, interval=700)
    widgets.jslink((play, "value"), (slider, "value"))
    picture = widgets.Output()
    listing = widgets.HTML()

    def show(change: Any = None) -> None:
        i = slider.value
        lo, hi = max(0, i - context), min(len(full), i + context + 1)
        lines = []
        for j in range(lo, hi):
            text = full.events[j].line().replace("&", "&amp;").replace("<", "&lt;")
            lines.append(f"<b>{text}</b>" if j == i else text)
        listing.value = (
            "<pre style='font-size:11px;line-height:1.25'>" + "\n".join(lines) + "</pre>"
        )
        picture.clear_output(wait=True)
        with picture:
            display(_draw(full, i, options))

    slider.observe(show, names="value")
    show()
    return widgets.VBox([widgets.HBox([play, slider]), picture, listing])
