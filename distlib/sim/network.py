"""The simulated network: latency distributions, per-link behaviour and connectivity.

This module describes the network; :class:`distlib.sim.Simulation` moves the messages. A link
(``src -> dst``) has a latency distribution, a loss probability, a duplication probability and a
reordering probability (a reordered message waits an extra ``reorder_delay``). Every link uses the
network's defaults unless :meth:`Network.set_link` overrides it. Connectivity (partitions into
groups, one-way cuts, isolated nodes) is separate from link behaviour, so a partition can come and
go without forgetting per-link settings.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

__all__ = ["Constant", "Exponential", "Latency", "Link", "Network", "Uniform", "as_latency"]


def _check_delay(value: Any, what: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
        raise TypeError(f"{what} must be a number of seconds, not {value!r}")
    if value < 0:
        raise ValueError(f"{what} must not be negative (got {value})")
    if math.isinf(value):
        raise ValueError(f"{what} must be finite (got {value})")
    return float(value)


class Latency:
    """A distribution of one-way message delays, in seconds."""

    def sample(self, rng: random.Random) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def mean(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Constant(Latency):
    """Every message takes exactly ``delay`` seconds (so a link delivers in FIFO order)."""

    delay: float

    def __post_init__(self) -> None:
        _check_delay(self.delay, "Constant latency")

    def sample(self, rng: random.Random) -> float:
        return self.delay

    @property
    def mean(self) -> float:
        return self.delay


@dataclass(frozen=True, slots=True)
class Uniform(Latency):
    """Delays drawn uniformly from ``[low, high]``."""

    low: float
    high: float

    def __post_init__(self) -> None:
        _check_delay(self.low, "Uniform latency's low bound")
        _check_delay(self.high, "Uniform latency's high bound")
        if self.high < self.low:
            raise ValueError(f"Uniform latency needs low <= high (got {self.low} > {self.high})")

    def sample(self, rng: random.Random) -> float:
        return self.low + (self.high - self.low) * rng.random()

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2


@dataclass(frozen=True, slots=True)
class Exponential(Latency):
    """Delays of ``minimum`` plus an exponential tail with the given mean (long, rare delays)."""

    mean_extra: float
    minimum: float = 0.0

    def __post_init__(self) -> None:
        _check_delay(self.mean_extra, "Exponential latency's mean")
        _check_delay(self.minimum, "Exponential latency's minimum")
        if self.mean_extra == 0:
            raise ValueError("Exponential latency needs a positive mean")

    def sample(self, rng: random.Random) -> float:
        return self.minimum + rng.expovariate(1.0 / self.mean_extra)

    @property
    def mean(self) -> float:
        return self.minimum + self.mean_extra


def as_latency(value: Latency | float | int, what: str = "latency") -> Latency:
    """Accept a :class:`Latency` or a plain number of seconds (meaning :class:`Constant`)."""
    if isinstance(value, Latency):
        return value
    return Constant(_check_delay(value, what))


def _check_probability(value: Any, what: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
        raise TypeError(f"{what} must be a probability (a number in [0, 1]), not {value!r}")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{what} must be a probability in [0, 1], not {value}")
    return float(value)


#: A link's latency unless configured: 1 to 10 ms, uniformly.
DEFAULT_LATENCY: Latency = Uniform(0.001, 0.010)
#: The extra delay of a reordered message unless configured: 0.2 to 2.2 s, uniformly.
DEFAULT_REORDER_DELAY: Latency = Uniform(0.2, 2.2)


@dataclass(frozen=True, slots=True)
class Link:
    """How one direction of a link behaves."""

    latency: Latency = DEFAULT_LATENCY
    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    reorder_delay: Latency = DEFAULT_REORDER_DELAY

    def __post_init__(self) -> None:
        object.__setattr__(self, "latency", as_latency(self.latency))
        object.__setattr__(self, "reorder_delay", as_latency(self.reorder_delay, "reorder_delay"))
        for name in ("loss", "duplicate", "reorder"):
            object.__setattr__(self, name, _check_probability(getattr(self, name), name))


def _changed(
    link: Link,
    latency: Latency | float | None,
    loss: float | None,
    duplicate: float | None,
    reorder: float | None,
    reorder_delay: Latency | float | None,
) -> Link:
    """``link`` with the given fields changed (None: keep the field)."""
    return Link(
        latency=link.latency if latency is None else as_latency(latency),
        loss=link.loss if loss is None else loss,
        duplicate=link.duplicate if duplicate is None else duplicate,
        reorder=link.reorder if reorder is None else reorder,
        reorder_delay=link.reorder_delay
        if reorder_delay is None
        else as_latency(reorder_delay, "reorder_delay"),
    )


class Network:
    """Link behaviour and connectivity of a simulation's network.

    ``Network(latency=..., loss=..., duplicate=..., reorder=..., reorder_delay=...)`` sets the
    defaults for every link. Change them later with :meth:`configure`, or for one link with
    :meth:`set_link`. Connectivity is changed through the simulation (``sim.partition``,
    ``sim.cut``, ``sim.isolate``, ``sim.heal``) so that the trace records it.
    """

    def __init__(
        self,
        *,
        latency: Latency | float = DEFAULT_LATENCY,
        loss: float = 0.0,
        duplicate: float = 0.0,
        reorder: float = 0.0,
        reorder_delay: Latency | float = DEFAULT_REORDER_DELAY,
    ) -> None:
        self.default = Link(
            as_latency(latency), loss, duplicate, reorder, as_latency(reorder_delay)
        )
        self.links: dict[tuple[str, str], Link] = {}
        self.groups: dict[str, int] | None = None
        self.cuts: set[tuple[str, str]] = set()
        self.isolated: set[str] = set()

    def configure(
        self,
        *,
        latency: Latency | float | None = None,
        loss: float | None = None,
        duplicate: float | None = None,
        reorder: float | None = None,
        reorder_delay: Latency | float | None = None,
    ) -> None:
        """Change the default behaviour of every link without an override (None: unchanged)."""
        self.default = _changed(self.default, latency, loss, duplicate, reorder, reorder_delay)

    def set_link(
        self,
        src: str,
        dst: str,
        *,
        both: bool = True,
        latency: Latency | float | None = None,
        loss: float | None = None,
        duplicate: float | None = None,
        reorder: float | None = None,
        reorder_delay: Latency | float | None = None,
    ) -> None:
        """Override behaviour of ``src -> dst`` (and ``dst -> src`` unless ``both=False``)."""
        pairs = [(src, dst), (dst, src)] if both else [(src, dst)]
        for pair in pairs:
            self.links[pair] = _changed(
                self.links.get(pair, self.default), latency, loss, duplicate, reorder, reorder_delay
            )

    def clear_link(self, src: str, dst: str, *, both: bool = True) -> None:
        """Return a link to the network's defaults."""
        self.links.pop((src, dst), None)
        if both:
            self.links.pop((dst, src), None)

    def link(self, src: str, dst: str) -> Link:
        """The behaviour of ``src -> dst`` right now."""
        return self.links.get((src, dst), self.default)

    def blocked(self, src: str, dst: str) -> str | None:
        """Why ``src -> dst`` is blocked now ("partition", "cut", "isolated"), or None."""
        if src == dst:
            return None
        if self.isolated and (src in self.isolated or dst in self.isolated):
            return "isolated"
        groups = self.groups
        if groups is not None:
            gs, gd = groups.get(src), groups.get(dst)
            if gs is not None and gd is not None and gs != gd:
                return "partition"
        if self.cuts and (src, dst) in self.cuts:
            return "cut"
        return None
