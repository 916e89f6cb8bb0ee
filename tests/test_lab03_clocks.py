"""Tests for distlib.labs.lab03_consistency: stamped runs and the drifting-clock experiment."""

from __future__ import annotations

import pytest

from distlib.labs.lab03_consistency import drift_demo, stamped_run
from distlib.protocols.clocks import PhysicalClock, misordered, noted_timestamps, timestamps


def test_drift_demo_shows_wall_clocks_misorder_and_lamport_does_not():
    """Lamport 1978 §3: skewed clocks put some receive before its send; Lamport stamps never."""
    report = drift_demo(seed=1)
    assert report.wall_misordered, "skewed wall clocks should misorder a causal pair: " + (
        report.summary()
    )
    assert report.lamport_misordered == [], f"Lamport misordered: {report.lamport_misordered[:3]}"
    a, b = report.wall_misordered[0]
    assert a.happens_before(b) and b.wall <= a.wall
    assert report.summary() == drift_demo(seed=1).summary(), "the same seed must give the same run"


def test_perfect_clocks_do_not_misorder():
    """With no offset and no drift, wall clocks order causal pairs correctly."""
    report = drift_demo(seed=1, max_offset=0.0, max_drift=0.0)
    assert report.wall_misordered == [], f"perfect clocks misordered {report.wall_misordered[:2]}"
    walls = [e.wall for e in report.by("wall")]
    assert walls == pytest.approx(sorted(e.time for e in report.events), abs=1e-8)


def test_drift_report_sorts_by_lamport_and_refuses_other_keys():
    """by("lamport") is ordered by Lamport time then node; an unknown key is named."""
    report = drift_demo(seed=2, duration=0.3)
    stamps = [(e.lamport, e.node) for e in report.by("lamport")]
    assert stamps == sorted(stamps)
    with pytest.raises(ValueError, match="wall"):
        report.by("vector")


def test_stamped_run_stamps_agree_with_the_trace():
    """Mattern 1989 §4: the stamps the nodes noted equal those computed from the messages."""
    sim = stamped_run(seed=3, events=4)
    noted = noted_timestamps(sim.trace)
    computed = timestamps(sim.trace)
    assert [(e.node, e.kind, e.lamport, e.vector) for e in noted] == [
        (e.node, e.kind, e.lamport, e.vector) for e in computed
    ]
    started = sum(1 for e in noted if e.kind in ("send", "local"))
    assert started == 3 * 4, f"each of 3 nodes should start 4 events, found {started}"
    assert not misordered(noted, "lamport")


def test_stamped_run_uses_given_clocks_and_is_seeded():
    """A fixed physical clock is used as given; the same seed gives the same trace."""
    slow = PhysicalClock(offset=-1.0)
    sim = stamped_run(seed=4, events=2, clocks={"b": slow})
    walls = [(e.wall, e.time) for e in noted_timestamps(sim.trace) if e.node == "b"]
    assert walls and all(w == pytest.approx(t - 1.0) for w, t in walls), walls
    again = stamped_run(seed=4, events=2, clocks={"b": slow})
    assert sim.trace.listing() == again.trace.listing()


def test_runs_refuse_bad_configuration():
    """Too few nodes, a negative event count or a clock for a stranger are refused."""
    with pytest.raises(ValueError, match="two nodes"):
        drift_demo(nodes=["a"])
    with pytest.raises(ValueError, match="two nodes"):
        stamped_run(nodes=["a"])
    with pytest.raises(ValueError, match="events"):
        stamped_run(events=-1)
    with pytest.raises(ValueError, match="not in the run"):
        stamped_run(clocks={"z": PhysicalClock()})
