"""Pictures of runs: space-time diagrams and timelines (matplotlib is imported lazily)."""

from __future__ import annotations

from typing import Any

__all__ = ["spacetime"]


def spacetime(trace: Any, **options: Any):
    """Draw a space-time diagram of ``trace``; see :func:`distlib.views.spacetime.spacetime`."""
    from distlib.views.spacetime import spacetime as draw

    return draw(trace, **options)
