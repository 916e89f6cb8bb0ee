"""Pictures of runs: space-time diagrams, timelines and a stepper (plotting and widget
libraries are imported only when a picture is asked for)."""

from __future__ import annotations

from typing import Any

__all__ = ["frames", "spacetime", "step", "timeline"]


def spacetime(trace: Any, **options: Any):
    """Draw a space-time diagram of ``trace``; see :func:`distlib.views.diagrams.spacetime`."""
    from distlib.views.diagrams import spacetime as draw

    return draw(trace, **options)


def step(trace: Any, **options: Any):
    """A slider widget that walks through ``trace``; see :func:`distlib.views.stepper.step`."""
    from distlib.views.stepper import step as widget

    return widget(trace, **options)


def frames(trace: Any, **options: Any) -> list:
    """Space-time figures after each event; see :func:`distlib.views.stepper.frames`."""
    from distlib.views.stepper import frames as draw

    return draw(trace, **options)


def timeline(*args: Any, **options: Any):
    """A checked history drawn per client; see :mod:`distlib.views.lincheck`."""
    from distlib.views.lincheck import timeline as draw

    return draw(*args, **options)
