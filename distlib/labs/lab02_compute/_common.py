"""What Lab 2's runners share: argument checks and plain log axes."""

from __future__ import annotations

import math
import numbers
from typing import Any


def _check_positive_int(value: object, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")


def _check_seconds(value: object, what: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not 0 <= float(value) < math.inf
    ):
        raise ValueError(f"{what} must be a finite number of seconds >= 0, got {value!r}")
    return float(value)


def _plain_log_axes(ax: Any, *, x_base: int = 2, y: bool = True) -> None:
    """Log scales whose tick labels read 1, 2, 4, ... rather than 2^0, 2^1, 2^2."""
    from matplotlib.ticker import FuncFormatter

    plain = FuncFormatter(lambda value, _pos: f"{value:g}")
    ax.set_xscale("log", base=x_base)
    ax.xaxis.set_major_formatter(plain)
    if y:
        ax.set_yscale("log", base=x_base)
        ax.yaxis.set_major_formatter(plain)
