"""Availability arithmetic, and a simulation that checks it.

Availability is the long-run fraction of time a component or system is up. This module gives:

* single components: :func:`availability` from MTTF and MTTR (mean time to failure, mean time to
  repair): ``A = MTTF / (MTTF + MTTR)``;
* combinations of *independent* components: :func:`series` (all must be up: the product of the
  availabilities), :func:`parallel` (one is enough: one minus the product of unavailabilities),
  :func:`k_of_n` (at least ``k`` of ``n``: a binomial tail, or its generalisation when the
  components differ) and :func:`quorum_availability` (a majority of ``n``);
* the "nines" vocabulary: :func:`nines`, :func:`from_nines`, :func:`downtime_per_year`,
  :func:`availability_from_downtime`, :func:`nines_table`;
* systems built from :class:`Component`, :class:`Series`, :class:`Parallel` and :class:`KofN`,
  whose :meth:`~System.availability` applies the formulas above, and
  :func:`simulate_availability`, a seeded simulation of every component as an alternating
  up/down renewal process that *measures* the same number, so a student can check a formula
  against a run.

The formulas assume independent failures and one repair crew per component (a component's repair
never waits for another's). Correlated failures (a shared power supply, a bad deploy pushed to
every replica) are exactly what breaks them; :func:`simulate_availability` can show it by
reusing one component in two places of a structure, which the formulas refuse. Which component
failed and how a system notices (failure detection, fail-over) is left to
:mod:`distlib.protocols.detectors` and the replication protocols.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from distlib import quorum

__all__ = [
    "SECONDS_PER_YEAR",
    "AvailabilityRun",
    "Component",
    "KofN",
    "Parallel",
    "Series",
    "System",
    "availability",
    "availability_from_downtime",
    "downtime_per_year",
    "format_duration",
    "from_nines",
    "k_of_n",
    "majority",
    "nines",
    "nines_table",
    "parallel",
    "quorum_availability",
    "series",
    "simulate_availability",
]

#: A Julian year (365.25 days), the usual basis of "downtime per year" tables.
SECONDS_PER_YEAR = 365.25 * 24 * 3600


# --------------------------------------------------------------------------------------------
# Checking arguments.


def _check_probability(value: Any, what: str = "an availability") -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
        raise TypeError(f"{what} must be a number between 0 and 1, not {value!r}")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{what} must be between 0 and 1, not {value}")
    return float(value)


def _check_positive(value: Any, what: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
        raise TypeError(f"{what} must be a number, not {value!r}")
    if not 0 < value < math.inf:
        raise ValueError(f"{what} must be positive and finite, not {value}")
    return float(value)


def _flatten(values: tuple[Any, ...], what: str) -> list[float]:
    """Accept ``f(0.9, 0.99)`` as well as ``f([0.9, 0.99])``."""
    if len(values) == 1 and isinstance(values[0], Iterable):
        values = tuple(values[0])
    if not values:
        raise ValueError(f"{what} needs at least one availability")
    return [_check_probability(v) for v in values]


# --------------------------------------------------------------------------------------------
# Formulas.


def availability(mttf: float, mttr: float) -> float:
    """Steady-state availability of one component: ``MTTF / (MTTF + MTTR)``.

    This holds for any up-time and repair-time distributions with these means (renewal-reward
    theorem), not only for exponential ones.
    """
    mttf = _check_positive(mttf, "MTTF")
    if not isinstance(mttr, int | float) or isinstance(mttr, bool) or math.isnan(mttr):
        raise TypeError(f"MTTR must be a number, not {mttr!r}")
    if not 0 <= mttr < math.inf:
        raise ValueError(f"MTTR must be zero or positive and finite, not {mttr}")
    return mttf / (mttf + mttr)


def series(*availabilities: float | Iterable[float]) -> float:
    """Availability of components in series (the system needs every one): their product."""
    result = 1.0
    for a in _flatten(availabilities, "series()"):
        result *= a
    return result


def parallel(*availabilities: float | Iterable[float]) -> float:
    """Availability of redundant components (any one is enough): ``1 - prod(1 - a_i)``."""
    down = 1.0
    for a in _flatten(availabilities, "parallel()"):
        down *= 1.0 - a
    return 1.0 - down


def k_of_n(k: int, n: int, a: float | Sequence[float]) -> float:
    """Probability that at least ``k`` of ``n`` independent components are up.

    ``a`` is one availability shared by all ``n`` components (a binomial tail,
    ``sum_{i=k}^{n} C(n, i) a^i (1-a)^(n-i)``) or a sequence of ``n`` availabilities, one per
    component (computed by building the distribution of the number of components up, one
    component at a time). ``k = 1`` is :func:`parallel`, ``k = n`` is :func:`series`.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive whole number of components, not {n!r}")
    if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k <= n:
        raise ValueError(f"k must be a whole number between 0 and n={n}, not {k!r}")
    if isinstance(a, Sequence):
        avail = [_check_probability(x) for x in a]
        if len(avail) != n:
            raise ValueError(f"k_of_n got {len(avail)} availabilities for n={n} components")
        # up[j] = probability that exactly j of the components seen so far are up.
        up = [1.0] + [0.0] * n
        for i, p in enumerate(avail, start=1):
            for j in range(i, 0, -1):
                up[j] = up[j] * (1.0 - p) + up[j - 1] * p
            up[0] *= 1.0 - p
        return math.fsum(up[k:])
    p = _check_probability(a)
    return math.fsum(math.comb(n, i) * p**i * (1.0 - p) ** (n - i) for i in range(k, n + 1))


def majority(n: int) -> int:
    """The size of a majority of ``n`` nodes, ``n // 2 + 1``; it tolerates ``(n-1)//2`` faults."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive whole number of nodes, not {n!r}")
    return quorum.majority(n)


def quorum_availability(n: int, a: float | Sequence[float]) -> float:
    """Availability of a majority-quorum system of ``n`` nodes (Raft, Paxos): k-of-n, k = n//2+1."""
    return k_of_n(majority(n), n, a)


def nines(a: float) -> float:
    """The number of nines of an availability: ``-log10(1 - a)`` (0.999 -> 3.0; 1.0 -> inf)."""
    a = _check_probability(a)
    return math.inf if a == 1.0 else -math.log10(1.0 - a)


def from_nines(k: float) -> float:
    """The availability with ``k`` nines: ``1 - 10**-k`` (3 -> 0.999)."""
    if not isinstance(k, int | float) or isinstance(k, bool) or math.isnan(k) or k < 0:
        raise ValueError(f"a number of nines must be zero or positive, not {k!r}")
    return 1.0 - 10.0 ** (-k)


def downtime_per_year(a: float) -> float:
    """Expected seconds of downtime per (Julian) year at availability ``a``."""
    return (1.0 - _check_probability(a)) * SECONDS_PER_YEAR


def availability_from_downtime(seconds_per_year: float) -> float:
    """The availability that allows ``seconds_per_year`` of downtime per year."""
    if not isinstance(seconds_per_year, int | float) or isinstance(seconds_per_year, bool):
        raise TypeError(f"downtime must be a number of seconds, not {seconds_per_year!r}")
    if not 0 <= seconds_per_year <= SECONDS_PER_YEAR:
        raise ValueError(
            f"downtime per year must be between 0 and {SECONDS_PER_YEAR:g} s, "
            f"not {seconds_per_year}"
        )
    return 1.0 - seconds_per_year / SECONDS_PER_YEAR


def format_duration(seconds: float) -> str:
    """A duration in the largest unit that keeps it readable: ``"5.26 min"``, ``"8.77 h"``."""
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        raise ValueError(f"a duration must be a non-negative number of seconds, not {seconds!r}")
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0), ("s", 1.0)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds * 1000:.3g} ms"


def nines_table(max_nines: int = 6) -> list[tuple[int, float, str]]:
    """Rows ``(nines, availability, downtime per year as text)`` for 1 .. ``max_nines`` nines."""
    if not isinstance(max_nines, int) or max_nines < 1:
        raise ValueError(f"max_nines must be a positive whole number, not {max_nines!r}")
    rows = []
    for k in range(1, max_nines + 1):
        a = from_nines(k)
        rows.append((k, a, format_duration(downtime_per_year(a))))
    return rows


# --------------------------------------------------------------------------------------------
# Systems: a structure of components, with a formula and a simulation.


class _ExpTime:
    """Exponentially distributed durations with the given mean."""

    __slots__ = ("mean",)

    def __init__(self, mean: float) -> None:
        self.mean = mean

    def sample(self, rng: random.Random) -> float:
        return rng.expovariate(1.0 / self.mean)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ExpTime) and other.mean == self.mean

    def __hash__(self) -> int:
        return hash(("exponential", self.mean))

    def __repr__(self) -> str:
        return f"exponential(mean={self.mean:g})"


def _as_duration(value: Any, what: str) -> Any:
    """A number means an exponential with that mean; otherwise anything with sample(rng), mean."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _ExpTime(_check_positive(value, what))
    if not callable(getattr(value, "sample", None)) or not hasattr(value, "mean"):
        raise TypeError(
            f"{what} must be a mean in seconds (exponential) or a distribution with sample(rng) "
            f"and mean, such as distlib.Constant(5) or distlib.Uniform(1, 3); got {value!r}"
        )
    _check_positive(value.mean, f"the mean of {what}")
    return value


class System:
    """A structure of components: a :class:`Component`, :class:`Series`, :class:`Parallel` or
    :class:`KofN`. Subclasses say how they combine (:meth:`availability`) and when they are up."""

    def availability(self) -> float:  # pragma: no cover - abstract
        """The steady-state availability by formula (independent components)."""
        raise NotImplementedError

    def components(self) -> list[Component]:  # pragma: no cover - abstract
        """The leaves of this structure, left to right (a shared component appears twice)."""
        raise NotImplementedError

    def is_up(self, up: dict[str, bool]) -> bool:  # pragma: no cover - abstract
        """Whether the structure is up when component ``name`` is up iff ``up[name]``."""
        raise NotImplementedError

    def _check_independent(self) -> None:
        names = [c.name for c in self.components()]
        shared = sorted({n for n in names if names.count(n) > 1})
        if shared:
            raise ValueError(
                f"component(s) {', '.join(shared)} appear more than once: the formulas assume "
                "independent components; use simulate_availability() to measure a structure "
                "with shared parts"
            )


@dataclass(frozen=True, slots=True)
class Component(System):
    """One repairable component: up for a random time (mean ``up``), then down (mean ``down``).

    ``up`` and ``down`` are mean durations in seconds (exponentially distributed), or
    distributions with ``sample(rng)`` and ``mean``, such as ``distlib.Constant(2.0)`` for a
    fixed repair time. A component's name identifies it: the same name twice in a structure means
    the same physical component (a shared dependency).
    """

    name: str
    up: Any
    down: Any

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"a component needs a non-empty name, not {self.name!r}")
        object.__setattr__(self, "up", _as_duration(self.up, f"{self.name}'s up time (MTTF)"))
        object.__setattr__(self, "down", _as_duration(self.down, f"{self.name}'s repair time"))

    @property
    def mttf(self) -> float:
        return float(self.up.mean)

    @property
    def mttr(self) -> float:
        return float(self.down.mean)

    def availability(self) -> float:
        return availability(self.mttf, self.mttr)

    def components(self) -> list[Component]:
        return [self]

    def is_up(self, up: dict[str, bool]) -> bool:
        return up[self.name]


def _check_parts(parts: tuple[Any, ...], what: str) -> tuple[System, ...]:
    if len(parts) == 1 and isinstance(parts[0], list | tuple):
        parts = tuple(parts[0])
    if not parts:
        raise ValueError(f"{what} needs at least one part")
    for p in parts:
        if not isinstance(p, System):
            raise TypeError(f"{what} parts must be Components or structures of them, not {p!r}")
    return parts


class Series(System):
    """Up only while every part is up (a chain of dependencies: client -> LB -> app -> DB)."""

    def __init__(self, *parts: System) -> None:
        self.parts = _check_parts(parts, "Series")

    def availability(self) -> float:
        self._check_independent()
        return series(p.availability() for p in self.parts)

    def components(self) -> list[Component]:
        return [c for p in self.parts for c in p.components()]

    def is_up(self, up: dict[str, bool]) -> bool:
        return all(p.is_up(up) for p in self.parts)

    def __repr__(self) -> str:
        return f"Series({', '.join(map(repr, self.parts))})"


class Parallel(System):
    """Up while at least one part is up (redundant replicas with perfect fail-over)."""

    def __init__(self, *parts: System) -> None:
        self.parts = _check_parts(parts, "Parallel")

    def availability(self) -> float:
        self._check_independent()
        return parallel(p.availability() for p in self.parts)

    def components(self) -> list[Component]:
        return [c for p in self.parts for c in p.components()]

    def is_up(self, up: dict[str, bool]) -> bool:
        return any(p.is_up(up) for p in self.parts)

    def __repr__(self) -> str:
        return f"Parallel({', '.join(map(repr, self.parts))})"


class KofN(System):
    """Up while at least ``k`` of the parts are up (a quorum: ``KofN(3, *five_replicas)``)."""

    def __init__(self, k: int, *parts: System) -> None:
        self.parts = _check_parts(parts, "KofN")
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= len(self.parts):
            raise ValueError(f"KofN needs 1 <= k <= {len(self.parts)} (the parts), not k={k!r}")
        self.k = k

    def availability(self) -> float:
        self._check_independent()
        return k_of_n(self.k, len(self.parts), [p.availability() for p in self.parts])

    def components(self) -> list[Component]:
        return [c for p in self.parts for c in p.components()]

    def is_up(self, up: dict[str, bool]) -> bool:
        return sum(p.is_up(up) for p in self.parts) >= self.k

    def __repr__(self) -> str:
        return f"KofN({self.k}, {', '.join(map(repr, self.parts))})"


@dataclass(frozen=True, slots=True)
class AvailabilityRun:
    """What :func:`simulate_availability` measured over ``[warmup, horizon]``."""

    availability: float  # fraction of the measured time the system was up
    uptime: float  # seconds up
    measured: float  # seconds measured (horizon - warmup)
    outages: int  # number of times the system went down
    mean_outage: float  # mean length of an outage that ended inside the window (0 if none)
    component_availability: dict[str, float]  # measured per component

    @property
    def downtime_per_year(self) -> float:
        """The measured unavailability, scaled to seconds per year."""
        return (1.0 - self.availability) * SECONDS_PER_YEAR


def simulate_availability(
    system: System, *, horizon: float, seed: int = 0, warmup: float = 0.0
) -> AvailabilityRun:
    """Measure a system's availability by simulating each component's up/down cycles.

    Every distinct component (by name) alternates independently: up for a draw of its ``up``
    distribution, then down for a draw of its ``down`` distribution, and so on; all start up at
    time 0. After each change the structure is evaluated, and the time it spends up between
    ``warmup`` and ``horizon`` is summed. Same seed, same numbers. The horizon should cover many
    failure/repair cycles of the rarest component for the estimate to settle near the formula.
    """
    if not isinstance(system, System):
        raise TypeError(
            f"simulate_availability() needs a Component or a structure of them, not {system!r}"
        )
    horizon = _check_positive(horizon, "horizon")
    if not isinstance(warmup, int | float) or not 0 <= warmup < horizon:
        raise ValueError(f"warmup must be between 0 and the horizon ({horizon}), not {warmup!r}")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, not {seed!r}")
    comps: dict[str, Component] = {}
    for c in system.components():
        if c.name in comps and comps[c.name] != c:
            raise ValueError(f"two different components are both called {c.name!r}")
        comps[c.name] = c
    # One RNG per component: adding a component does not change the others' histories.
    rngs = {name: random.Random(f"{seed}/availability/{name}") for name in comps}
    up = dict.fromkeys(comps, True)
    comp_up_time = dict.fromkeys(comps, 0.0)
    changed_at = dict.fromkeys(comps, warmup)
    events = [(c.up.sample(rngs[name]), name) for name, c in comps.items()]
    heapq.heapify(events)

    sys_up = system.is_up(up)
    uptime = 0.0
    last = 0.0
    outages = 0
    outage_lengths: list[float] = []
    went_down = 0.0
    while events and events[0][0] < horizon:
        t, name = heapq.heappop(events)
        if sys_up and t > warmup:
            uptime += t - max(last, warmup)
        if up[name] and t > warmup:
            comp_up_time[name] += t - max(changed_at[name], warmup)
        changed_at[name] = t
        last = t
        up[name] = not up[name]
        dist = comps[name].up if up[name] else comps[name].down
        heapq.heappush(events, (t + dist.sample(rngs[name]), name))
        now_up = system.is_up(up)
        if now_up != sys_up:
            if not now_up:
                went_down = t
                if t >= warmup:
                    outages += 1
            elif went_down >= warmup:
                outage_lengths.append(t - went_down)
            sys_up = now_up
    if sys_up:
        uptime += horizon - max(last, warmup)
    for name in comps:
        if up[name]:
            comp_up_time[name] += horizon - max(changed_at[name], warmup)
    measured = horizon - warmup
    return AvailabilityRun(
        availability=uptime / measured,
        uptime=uptime,
        measured=measured,
        outages=outages,
        mean_outage=math.fsum(outage_lengths) / len(outage_lengths) if outage_lengths else 0.0,
        component_availability={n: t / measured for n, t in comp_up_time.items()},
    )
