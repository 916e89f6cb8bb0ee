"""A seeded random fault injector for any protocol's tests: the nemesis.

A :class:`Nemesis` plans a schedule of faults over a window of simulated time and installs it
into a :class:`distlib.Simulation`:

* **network weather**: the window is cut into phases; each phase draws fresh loss, duplication
  and reordering probabilities (``sim.network.configure``);
* **partitions** and one-way **link cuts** that come and go with the phases;
* **crashes**: chosen nodes crash at random times and restart after a random downtime (their
  ``storage`` survives, as always);
* faults chosen to hurt, each off by default (a probability per phase, or a count):
  ``one_way`` partitions (one side hears the other, not back), ``bridge`` partitions (two sides
  and one node that sees both), a ``flap`` (a link going down and up several times in a phase),
  ``swizzle``-clogging (a random set of nodes loses its links one node at a time, then gets them
  back in a random order: a fault schedule known for finding bugs nothing else finds), a
  ``slow`` node (its links ``slowdown`` times slower for a phase), clock ``drift`` (a node's
  clock runs fast or slow for a phase, by a rate drawn from ``drift_rate``: its timers fire early
  or late), clock ``jump`` (a node's clock leaps forward or back by up to ``jump_by`` seconds),
  and ``crash_points`` (a node
  crashes at one of its next storage writes, after what it did before it: a reply sent before
  the write it relies on is caught).

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
    (undo partitions and cuts), "crash", "restart" (of ``node``) or "heal" (repair everything);
    and for the faults chosen to hurt: "one-way" (``groups[0]`` cannot reach ``groups[1]``),
    "bridge" (``groups``: two sides and the bridge node), "link-down" / "link-up" (both ways
    between ``groups[0][0]`` and ``groups[1][0]``), "clog" / "unclog" (every link of ``node``),
    "slow" / "fast" (``node``'s links, ``settings`` the factor), "crash-point" (``node``
    crashes at its ``writes``-th next storage write), "disarm" (that crash point is over),
    "drift" / "steady" (``node``'s clock rate, ``settings`` the rate) and "jump" (``node``'s
    clock leaps by ``settings``' seconds).
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
        elif self.kind == "one-way":
            what = f"{','.join(self.groups[0])} -/-> {','.join(self.groups[1])}"
        elif self.kind == "bridge":
            left, right, middle = self.groups
            what = f"{','.join(left)} | {','.join(right)} via {middle[0]}"
        elif self.kind in ("link-down", "link-up"):
            what = f"{self.groups[0][0]} <-> {self.groups[1][0]}"
        elif self.node is not None:
            extra = " ".join(f"{k}={v:g}" for k, v in self.settings)
            what = f"{self.node} {extra}".rstrip()
        else:
            what = ""
        return f"t={self.time:.3f} {self.kind} {what}".rstrip()


@dataclass(frozen=True, slots=True)
class _Scaled(Latency):
    """A latency ``factor`` times another (a slow node's links)."""

    base: Latency
    factor: float

    def sample(self, rng: random.Random) -> float:
        return self.base.sample(rng) * self.factor

    @property
    def mean(self) -> float:
        return self.base.mean * self.factor


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
        one_way: float = 0.0,
        bridge: float = 0.0,
        flap: float = 0.0,
        swizzle: float = 0.0,
        slow: float = 0.0,
        slowdown: float = 10.0,
        drift: float = 0.0,
        drift_rate: tuple[float, float] = (0.5, 2.0),
        jump: float = 0.0,
        jump_by: float = 0.2,
        crash_points: int = 0,
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
        self.one_way = _check_probability(one_way, "one_way")
        self.bridge = _check_probability(bridge, "bridge")
        self.flap = _check_probability(flap, "flap")
        self.swizzle = _check_probability(swizzle, "swizzle")
        self.slow = _check_probability(slow, "slow")
        if not isinstance(slowdown, int | float) or isinstance(slowdown, bool) or slowdown < 1:
            raise ValueError(f"slowdown must be a factor >= 1, not {slowdown!r}")
        self.slowdown = float(slowdown)
        self.drift = _check_probability(drift, "drift")
        self.drift_rate = _check_range(drift_rate, "drift_rate")
        if self.drift_rate[0] <= 0:
            raise ValueError(f"drift_rate must be positive rates, not {drift_rate!r}")
        self.jump = _check_probability(jump, "jump")
        if not isinstance(jump_by, int | float) or isinstance(jump_by, bool) or jump_by < 0:
            raise ValueError(f"jump_by must be a non-negative number of seconds, not {jump_by!r}")
        self.jump_by = float(jump_by)
        if not isinstance(crash_points, int) or crash_points < 0:
            raise ValueError(f"crash_points must be a non-negative int, not {crash_points!r}")
        self.crash_points = crash_points
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
            length = rng.uniform(*self.phase)
            hurt = self._plan_hurting(rng, names, t, min(t + length, self.until))
            faults.extend(hurt)
            t += length
            if (split or severed or hurt) and t < self.until:
                faults.append(Fault(t, "connect"))
        faults.extend(self._plan_crashes(rng, crash_names))
        faults.extend(self._plan_crash_points(rng, crash_names))
        faults.append(Fault(self.until, "heal"))
        order = {
            "connect": 0,
            "fast": 0,
            "link-up": 0,
            "unclog": 0,
            "disarm": 0,
            "steady": 0,
            "weather": 1,
            "partition": 2,
            "cut": 3,
            "one-way": 3,
            "bridge": 3,
            "link-down": 3,
            "clog": 3,
            "slow": 3,
            "drift": 3,
            "jump": 3,
            "restart": 4,
            "crash": 5,
            "crash-point": 5,
            "heal": 6,
        }
        faults.sort(key=lambda f: (f.time, order[f.kind]))
        return faults

    def _plan_hurting(
        self, rng: random.Random, names: Sequence[str], begin: float, end: float
    ) -> list[Fault]:
        """The faults chosen to hurt during one phase ``[begin, end)`` (each drawn only when its
        probability is not 0, so that schedules without them keep their old draws)."""
        out: list[Fault] = []
        n = len(names)
        if self.one_way and n >= 2 and rng.random() < self.one_way:
            shuffled = list(names)
            rng.shuffle(shuffled)
            k = rng.randint(1, n - 1)
            groups = (tuple(sorted(shuffled[:k])), tuple(sorted(shuffled[k:])))
            out.append(Fault(begin, "one-way", groups=groups))
        if self.bridge and n >= 3 and rng.random() < self.bridge:
            shuffled = list(names)
            rng.shuffle(shuffled)
            middle, rest = shuffled[0], shuffled[1:]
            k = rng.randint(1, len(rest) - 1)
            sides = (tuple(sorted(rest[:k])), tuple(sorted(rest[k:])), (middle,))
            out.append(Fault(begin, "bridge", groups=sides))
        if self.flap and n >= 2 and rng.random() < self.flap:
            a, b = rng.sample(list(names), 2)
            t, down = begin, True
            while t < end:
                out.append(Fault(t, "link-down" if down else "link-up", groups=((a,), (b,))))
                down = not down
                t += rng.uniform(0.005, 0.05)
        if self.swizzle and n >= 2 and rng.random() < self.swizzle:
            chosen = rng.sample(list(names), rng.randint(1, n))
            step = (end - begin) / (2 * len(chosen) + 1)
            t = begin
            for node in chosen:  # clog them one at a time ...
                out.append(Fault(t, "clog", node=node))
                t += step
            for node in rng.sample(chosen, len(chosen)):  # ... and unclog in a random order
                t += step
                out.append(Fault(t, "unclog", node=node))
        if self.slow and rng.random() < self.slow:
            node = rng.choice(list(names))
            out.append(Fault(begin, "slow", node=node, settings=(("factor", self.slowdown),)))
            out.append(Fault(end, "fast", node=node))
        if self.drift and rng.random() < self.drift:
            node = rng.choice(list(names))
            rate = rng.uniform(*self.drift_rate)
            out.append(Fault(begin, "drift", node=node, settings=(("rate", rate),)))
            out.append(Fault(end, "steady", node=node, settings=(("rate", 1.0),)))
        if self.jump and rng.random() < self.jump:
            node = rng.choice(list(names))
            by = rng.uniform(-self.jump_by, self.jump_by)
            out.append(Fault(rng.uniform(begin, end), "jump", node=node, settings=(("by", by),)))
        return out

    def _plan_crash_points(self, rng: random.Random, names: Sequence[str]) -> list[Fault]:
        out: list[Fault] = []
        if not names or self.until <= self.start:
            return out
        for _ in range(self.crash_points):
            at = rng.uniform(self.start, self.until)
            node = rng.choice(list(names))
            writes = rng.randint(1, 4)  # a Raft persist: three writes and a sync
            out.append(Fault(at, "crash-point", node=node, settings=(("writes", writes),)))
            back = min(at + rng.uniform(*self.downtime), self.until)
            out.append(Fault(back, "disarm", node=node))
        return out

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

    def install(self, sim: Any, *, faults: Iterable[Fault] | None = None) -> list[Fault]:
        """Plan over ``sim``'s servers (or ``targets``), schedule every fault, return the plan.

        ``faults``: install exactly this schedule instead of planning one (a replay, or a
        schedule being shrunk)."""
        names = self.targets if self.targets is not None else tuple(sim.servers)
        crash_names = self.crash_targets if self.crash_targets is not None else names
        if self.until < sim.now:
            raise ValueError(f"the nemesis window ends at t={self.until}, before now (t={sim.now})")
        seed = self.seed if self.seed is not None else sim.seed
        if faults is None:
            self.faults = self.plan(names, seed=seed, crash_names=crash_names)
        else:
            self.faults = sorted(faults, key=lambda f: f.time)
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
        elif kind == "one-way":
            for a in fault.groups[0]:
                for b in fault.groups[1]:
                    sim.network.cuts.add((a, b))
            self._note(sim, fault)
        elif kind == "bridge":
            left, right, _ = fault.groups
            for a in left:
                for b in right:
                    sim.network.cuts.update({(a, b), (b, a)})
            self._note(sim, fault)
        elif kind in ("link-down", "link-up"):
            a, b = fault.groups[0][0], fault.groups[1][0]
            if kind == "link-down":
                sim.network.cuts.update({(a, b), (b, a)})
            else:
                sim.network.cuts.difference_update({(a, b), (b, a)})
            self._note(sim, fault)
        elif kind == "clog":
            sim.isolate(fault.node)
        elif kind == "unclog":
            sim.reconnect(fault.node)
        elif kind in ("slow", "fast"):
            self._set_speed(sim, fault)
        elif kind in ("drift", "steady"):
            sim.set_clock(fault.node, rate=dict(fault.settings)["rate"])
        elif kind == "jump":
            sim.set_clock(fault.node, jump=dict(fault.settings)["by"])
        elif kind == "crash-point":
            if sim.is_up(fault.node):
                sim.storage(fault.node).crash_at(int(dict(fault.settings)["writes"]))
                self._note(sim, fault)
        elif kind == "disarm":
            sim.storage(fault.node).crash_at(0)
            if not sim.is_up(fault.node):
                sim.restart(fault.node)
        elif kind == "heal":
            sim.network.configure(loss=0.0, duplicate=0.0, reorder=0.0)
            sim.trace.record(sim.now, "net", detail="nemesis: network reliable again")
            sim.heal()
            for slow in sorted({f.node for f in self.faults if f.kind == "slow" and f.node}):
                self._set_speed(sim, Fault(sim.now, "fast", node=slow))
            for drifted in sorted({f.node for f in self.faults if f.kind == "drift" and f.node}):
                sim.set_clock(drifted, rate=1.0)
            for name in crash_names:
                sim.storage(name).crash_at(0)
                if not sim.is_up(name):
                    sim.restart(name)

    @staticmethod
    def _note(sim: Any, fault: Fault) -> None:
        sim.trace.record(sim.now, "net", detail=f"nemesis: {str(fault).split(' ', 2)[2]}")

    def _set_speed(self, sim: Any, fault: Fault) -> None:
        """Make every link of ``fault.node`` slower by its factor ("slow"), or normal ("fast")."""
        node = fault.node
        for other in sim.nodes:
            if other == node:
                continue
            if fault.kind == "slow":
                factor = dict(fault.settings)["factor"]
                base = sim.network.link(node, other).latency
                sim.network.set_link(node, other, latency=_Scaled(base, factor))
            else:
                sim.network.clear_link(node, other)
        self._note(sim, fault)

    def describe(self) -> str:
        """The planned schedule, one fault per line."""
        return "\n".join(str(f) for f in self.faults)

    def __repr__(self) -> str:
        return (
            f"Nemesis(seed={self.seed}, window=[{self.start:g}, {self.until:g}], "
            f"loss<={self.loss:g}, duplicate<={self.duplicate:g}, reorder<={self.reorder:g}, "
            f"partition={self.partition:g}, crashes={self.crashes})"
        )
