"""Tests of distlib.testing.nemesis: the plan is seeded and well formed, it is installed into a
simulation and recorded in the trace, and everything is repaired at the end."""

from __future__ import annotations

import pytest

from distlib import Node, Simulation, Uniform
from distlib.testing.nemesis import Fault, Nemesis

NAMES = ("a", "b", "c", "d", "e")


class Chatty(Node):
    """Pings every peer every 10 ms, so that faults have messages to hit."""

    def on_start(self):
        self.set_timer("ping", 0.01)

    def on_timer(self, name):
        self.broadcast("ping")
        self.set_timer("ping", 0.01)


def chatty_sim(seed=0, trace=True):
    sim = Simulation(seed=seed, latency=Uniform(0.001, 0.005), trace=trace)
    sim.add_nodes(NAMES, Chatty)
    return sim


def test_same_seed_same_plan_and_different_seeds_differ():
    """The schedule depends only on the seed (and the node names)."""
    nemesis = Nemesis(until=2.0, crashes=4)
    plans = [nemesis.plan(NAMES, seed=s) for s in (1, 1, 2)]
    assert plans[0] == plans[1]
    assert plans[0] != plans[2]


def test_plan_stays_in_its_window_and_ends_with_a_heal():
    """Every fault lies in [start, until], sorted by time, and the last one heals."""
    for seed in range(50):
        plan = Nemesis(start=0.5, until=1.5, crashes=3).plan(NAMES, seed=seed)
        times = [f.time for f in plan]
        assert times == sorted(times)
        assert all(0.5 <= t <= 1.5 for t in times), f"seed {seed}: {times}"
        assert plan[-1] == Fault(1.5, "heal")


def test_crash_episodes_do_not_overlap_and_respect_max_down():
    """A node is never crashed while down, and at most max_down nodes are down at once."""
    for seed in range(100):
        plan = Nemesis(until=1.0, crashes=8, max_down=2).plan(NAMES, seed=seed)
        down: set[str] = set()
        for fault in plan:
            if fault.kind == "crash":
                assert fault.node not in down, f"seed {seed}: {fault.node} crashed twice"
                down.add(fault.node)
                assert len(down) <= 2, f"seed {seed}: {sorted(down)} down at t={fault.time}"
            elif fault.kind == "restart":
                down.discard(fault.node)


def test_crash_targets_limit_who_crashes():
    """Only the named crash targets are ever crashed."""
    nemesis = Nemesis(until=1.0, crashes=10, crash_targets=["a"])
    sim = chatty_sim()
    plan = nemesis.install(sim)
    assert {f.node for f in plan if f.kind == "crash"} == {"a"}


def test_partitions_split_the_targets_into_two_nonempty_groups():
    """A planned partition covers every target exactly once, in two non-empty groups."""
    for seed in range(30):
        for fault in Nemesis(until=2.0, partition=1.0).plan(NAMES, seed=seed):
            if fault.kind == "partition":
                a, b = fault.groups
                assert a and b and sorted(a + b) == sorted(NAMES)


def test_installed_faults_happen_and_are_traced():
    """Crashes, restarts, partitions and network weather show up in the trace, and the
    network really drops and duplicates messages meanwhile."""
    sim = chatty_sim(seed=3)
    nemesis = Nemesis(until=1.0, crashes=3, partition=0.5, loss=0.3, duplicate=0.2)
    plan = nemesis.install(sim)
    sim.run(until=1.0)
    kinds = {e.kind for e in sim.trace}
    planned = {f.kind for f in plan}
    assert "crash" in planned and "crash" in kinds and "restart" in kinds
    assert any(e.kind == "net" and e.detail.startswith("partition") for e in sim.trace)
    assert any(e.kind == "net" and e.detail.startswith("nemesis:") for e in sim.trace)
    drops = {e.detail for e in sim.trace.filter("drop")}
    assert {"loss", "partition"} <= drops, f"drop reasons seen: {drops}"
    assert sim.stats["duplicated"] > 0


def test_everything_is_repaired_at_heal_time():
    """After heal_time the network is reliable and connected, and every node is up."""
    for seed in range(20):
        sim = chatty_sim(seed, trace=False)
        nemesis = Nemesis(until=0.5, crashes=4, downtime=(0.3, 0.6), cut=0.5)
        nemesis.install(sim)
        sim.run(until=nemesis.heal_time + 0.001)
        link = sim.network.default
        assert (link.loss, link.duplicate, link.reorder) == (0.0, 0.0, 0.0)
        assert sim.network.groups is None and not sim.network.cuts
        assert all(sim.is_up(n) for n in NAMES), f"seed {seed}: someone is still down"
        before = sim.stats["dropped"]
        sim.run(duration=0.5)
        assert sim.stats["dropped"] == before, "messages were lost after healing"


def test_same_seed_same_run():
    """A simulation with a nemesis is reproducible: same seed, same trace."""
    listings = []
    for _ in range(2):
        sim = chatty_sim(seed=9)
        Nemesis(until=0.5, crashes=2).install(sim)
        sim.run(until=0.6)
        listings.append(sim.trace.listing())
    assert listings[0] == listings[1]


def test_default_seed_is_the_simulations():
    """Without a seed the nemesis follows the simulation's seed."""
    a, b = chatty_sim(seed=4), chatty_sim(seed=4)
    assert Nemesis(until=1.0).install(a) == Nemesis(until=1.0).install(b)
    assert Nemesis(until=1.0).install(chatty_sim(seed=5)) != Nemesis(until=1.0).install(
        chatty_sim(seed=4)
    )


def test_describe_lists_the_plan():
    """describe() prints one line per fault, ending with the heal."""
    nemesis = Nemesis(seed=1, until=1.0, crashes=1)
    nemesis.install(chatty_sim())
    lines = nemesis.describe().splitlines()
    assert len(lines) == len(nemesis.faults) and lines[-1] == "t=1.000 heal"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"loss": 1.5}, "loss must be a probability"),
        ({"start": 2.0, "until": 1.0}, "start <= until"),
        ({"crashes": -1}, "crashes"),
        ({"downtime": (0.5, 0.1)}, "low <= high"),
        ({"max_down": 0}, "max_down"),
        ({"reorder_delay": 0.1}, "Latency"),
    ],
)
def test_bad_configuration_is_refused(config, message):
    """Each configuration mistake is named in the error."""
    with pytest.raises((ValueError, TypeError), match=message):
        Nemesis(**config)
