"""A seeded random fault injector for any protocol's tests: the nemesis.

A :class:`Nemesis` plans a schedule of faults over a window of simulated time and installs it
into a :class:`distlib.Simulation`:

* **network weather**: the window is cut into phases; each phase draws fresh loss, duplication
  and reordering probabilities (``sim.network.configure``);
* **partitions** and one-way **link cuts** that come and go with the phases;
* **crashes**: chosen nodes crash at random times and restart after a random downtime (their
  ``storage`` survives, as always).

At the end of the window (:attr:`Nemesis.heal_time`) everything is repaired: the network becomes
reliable, partitions and cuts are healed and every crashed node restarts. A test can then run a
little longer and check liveness ("after healing, the transaction decides").

The same seed gives the same schedule, and the schedule is independent of the protocol under
test: it never reads node state. Every step is recorded in the trace (``net``, ``crash`` and
``restart`` events; the network weather as ``net`` events whose detail starts with
``nemesis:``), and :attr:`Nemesis.faults` lists the plan for printing.

What the nemesis leaves to others: it injects faults and judges nothing; the checkers in
:mod:`distlib.check` judge the run afterwards.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from distlib.sim.network import Latency, Uniform

__all__ = ["Fault", "Nemesis"]

#: The default extra delay of a reordered message: short, to keep runs short.
REORDER_DELAY = Uniform(0.01, 0.1)


@dataclass(frozen=True, slots=True)
class Fault:
    """One planned step of a fault schedule.

    ``kind`` is one of "weather" (new loss/duplicate/reorder probabilities in ``settings``),
    "partition" (``groups``), "cut" (one-way link ``groups[0][0] -> groups[1][0]``), "connect"
    (undo partitions and cuts), "crash", "restart" (of ``node``) or "heal" (repair everything).
    """

    time: float
    kind: str
    node: str | None = None
    groups: tuple[tuple[str, ...], ...] = ()
    settings: tuple[tuple[str, float], ...] = ()

    def __str__(self) -> str:
        if self.kind == "weather":
            what = " ".join(f"{k}={v:.3f}" for k, v in self.settings)
        elif self.kind == "partition":
            what = " | ".join(",".join(g) for g in self.groups)
        elif self.kind == "cut":
            what = f"{self.groups[0][0]} -> {self.groups[1][0]}"
        elif self.node is not None:
            what = self.node
        else:
            what = ""
        return f"t={self.time:.3f} {self.kind} {what}".rstrip()


def _check_range(value: Any, what: str) -> tuple[float, float]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = (value, value)
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a number or a (low, high) pair, not {value!r}") from None
    if not 0 <= lo <= hi:
        raise ValueError(f"{what} needs 0 <= low <= high (got {lo}, {hi})")
    return lo, hi


def _check_probability(value: Any, what: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
        raise ValueError(f"{what} must be a probability in [0, 1], not {value!r}")
    return float(value)


class Nemesis:
    """Random faults from ``start`` to ``until`` (simulated seconds), then a full repair.

    >>> nemesis = Nemesis(seed=7, until=1.0, crashes=2)
    >>> nemesis.install(sim)           # plans over sim.servers and schedules with sim.at
    >>> sim.run(until=nemesis.heal_time + 1.0)

    Keyword configuration:

    * ``loss``, ``duplicate``, ``reorder``: the *largest* probability a phase may draw (each
      phase draws uniformly between 0 and this);
    * ``reorder_delay``: extra delay of a reordered message (a :class:`~distlib.sim.Latency`);
    * ``phase``: (low, high) length of one phase, in seconds;
    * ``partition``: probability that a phase splits the nodes into two random groups;
    * ``cut``: probability that a phase also cuts one random link in one direction;
    * ``crashes``: how many crash-and-restart episodes to plan; ``downtime``: (low, high)
      seconds a crashed node stays down; ``max_down``: at most this many nodes down at once
      (``None``: no limit);
    * ``targets``: the node names to partition and crash (default: the simulation's servers
      when installed); ``crash_targets``: the nodes that may crash (default: ``targets``);
    * ``seed``: the schedule's seed (default: the simulation's seed).
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        start: float = 0.0,
        until: float = 1.0,
        loss: float = 0.2,
        duplicate: float = 0.1,
        reorder: float = 0.1,
        reorder_delay: Latency = REORDER_DELAY,
        phase: float | tuple[float, float] = (0.05, 0.3),
        partition: float = 0.3,
        cut: float = 0.1,
        crashes: int = 2,
        downtime: float | tuple[float, float] = (0.05, 0.3),
        max_down: int | None = None,
        targets: Iterable[str] | None = None,
        crash_targets: Iterable[str] | None = None,
    ) -> None:
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise TypeError(f"the nemesis seed must be an int or None, not {seed!r}")
        if not 0 <= start <= until:
            raise ValueError(f"the nemesis needs 0 <= start <= until (got {start}, {until})")
        if not isinstance(crashes, int) or crashes < 0:
            raise ValueError(f"crashes must be a non-negative int, not {crashes!r}")
        if max_down is not None and (not isinstance(max_down, int) or max_down < 1):
            raise ValueError(f"max_down must be a positive int or None, not {max_down!r}")
        if not isinstance(reorder_delay, Latency):
            raise TypeError(
                f"reorder_delay must be a Latency such as Uniform(lo, hi), not {reorder_delay!r}"
            )
        self.seed = seed
        self.start = float(start)
        self.until = float(until)
        self.loss = _check_probability(loss, "loss")
        self.duplicate = _check_probability(duplicate, "duplicate")
        self.reorder = _check_probability(reorder, "reorder")
        self.reorder_delay = reorder_delay
        self.phase = _check_range(phase, "phase")
        if self.phase[1] <= 0:
            raise ValueError("phase length must be positive")
        self.partition = _check_probability(partition, "partition")
        self.cut = _check_probability(cut, "cut")
        self.crashes = crashes
        self.downtime = _check_range(downtime, "downtime")
        self.max_down = max_down
        self.targets = None if targets is None else tuple(targets)
        self.crash_targets = None if crash_targets is None else tuple(crash_targets)
        self.faults: list[Fault] = []

    @property
    def heal_time(self) -> float:
        """When everything is repaired (the end of the fault window)."""
        return self.until

    # -- planning ------------------------------------------------------------------------------

    def plan(
        self,
        names: Sequence[str],
        *,
        seed: int | None = None,
        crash_names: Sequence[str] | None = None,
    ) -> list[Fault]:
        """The fault schedule over the nodes ``names``, sorted by time (nothing is installed)."""
        names = tuple(names)
        crash_names = names if crash_names is None else tuple(crash_names)
        seed = self.seed if seed is None else seed
        if seed is None:
            raise ValueError("plan() needs a seed: give Nemesis(seed=...) or plan(..., seed=...)")
        rng = random.Random(f"{seed}/nemesis")
        faults: list[Fault] = []
        t = self.start
        while t < self.until:
            settings = (
                ("loss", rng.uniform(0, self.loss)),
                ("duplicate", rng.uniform(0, self.duplicate)),
                ("reorder", rng.uniform(0, self.reorder)),
            )
            faults.append(Fault(t, "weather", settings=settings))
            split = len(names) >= 2 and rng.random() < self.partition
            if split:
                shuffled = list(names)
                rng.shuffle(shuffled)
                k = rng.randint(1, len(shuffled) - 1)
                groups = (tuple(sorted(shuffled[:k])), tuple(sorted(shuffled[k:])))
                faults.append(Fault(t, "partition", groups=groups))
            severed = len(names) >= 2 and rng.random() < self.cut
            if severed:
                a, b = rng.sample(names, 2)
                faults.append(Fault(t, "cut", groups=((a,), (b,))))
            t += rng.uniform(*self.phase)
            if (split or severed) and t < self.until:
                faults.append(Fault(t, "connect"))
        faults.extend(self._plan_crashes(rng, crash_names))
        faults.append(Fault(self.until, "heal"))
        order = {
            "connect": 0,
            "weather": 1,
            "partition": 2,
            "cut": 3,
            "restart": 4,
            "crash": 5,
            "heal": 6,
        }
        faults.sort(key=lambda f: (f.time, order[f.kind]))
        return faults

    def _plan_crashes(self, rng: random.Random, names: Sequence[str]) -> list[Fault]:
        if not names or self.until <= self.start:
            return []
        episodes: list[tuple[float, float, str]] = []
        for _ in range(self.crashes):
            begin = rng.uniform(self.start, self.until)
            end = min(begin + rng.uniform(*self.downtime), self.until)
            node = rng.choice(list(names))
            overlapping = [e for e in episodes if e[0] < end and begin < e[1]]
            if any(e[2] == node for e in overlapping):
                continue  # that node is already down then
            if self.max_down is not None and self._peak(overlapping, begin, end) >= self.max_down:
                continue
            episodes.append((begin, end, node))
        out = []
        for begin, end, node in episodes:
            out.append(Fault(begin, "crash", node=node))
            if end < self.until:
                out.append(Fault(end, "restart", node=node))
        return out

    @staticmethod
    def _peak(episodes: list[tuple[float, float, str]], begin: float, end: float) -> int:
        """The most of ``episodes`` down at once during [begin, end)."""
        points = [begin] + [e[0] for e in episodes if begin <= e[0] < end]
        return max(sum(1 for e in episodes if e[0] <= p < e[1]) for p in points)

    # -- installing --------------------------------------------------------------------------

    def install(self, sim: Any) -> list[Fault]:
        """Plan over ``sim``'s servers (or ``targets``), schedule every fault, return the plan."""
        names = self.targets if self.targets is not None else tuple(sim.servers)
        crash_names = self.crash_targets if self.crash_targets is not None else names
        if self.until < sim.now:
            raise ValueError(f"the nemesis window ends at t={self.until}, before now (t={sim.now})")
        seed = self.seed if self.seed is not None else sim.seed
        self.faults = self.plan(names, seed=seed, crash_names=crash_names)
        sim.network.configure(reorder_delay=self.reorder_delay)
        for fault in self.faults:
            if fault.time < sim.now:
                continue
            sim.at(fault.time, self._apply, sim, fault, crash_names)
        return list(self.faults)

    def _apply(self, sim: Any, fault: Fault, crash_names: Sequence[str]) -> None:
        kind = fault.kind
        if kind == "weather":
            sim.network.configure(**dict(fault.settings))
            sim.trace.record(sim.now, "net", detail=f"nemesis: {str(fault).split(' ', 2)[2]}")
        elif kind == "partition":
            sim.partition(*fault.groups)
        elif kind == "cut":
            sim.cut(fault.groups[0][0], fault.groups[1][0])
        elif kind == "connect":
            sim.heal()
        elif kind == "crash":
            if sim.is_up(fault.node):
                sim.crash(fault.node)
        elif kind == "restart":
            if not sim.is_up(fault.node):
                sim.restart(fault.node)
        elif kind == "heal":
            sim.network.configure(loss=0.0, duplicate=0.0, reorder=0.0)
            sim.trace.record(sim.now, "net", detail="nemesis: network reliable again")
            sim.heal()
            for name in crash_names:
                if not sim.is_up(name):
                    sim.restart(name)

    def describe(self) -> str:
        """The planned schedule, one fault per line."""
        return "\n".join(str(f) for f in self.faults)

    def __repr__(self) -> str:
        return (
            f"Nemesis(seed={self.seed}, window=[{self.start:g}, {self.until:g}], "
            f"loss<={self.loss:g}, duplicate<={self.duplicate:g}, reorder<={self.reorder:g}, "
            f"partition={self.partition:g}, crashes={self.crashes})"
        )
