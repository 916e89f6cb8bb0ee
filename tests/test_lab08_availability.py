"""Tests for Lab 8's availability module (distlib.labs.lab08_resilience.availability): the
formulas, the nines vocabulary, and the simulation."""

from __future__ import annotations

import math

import pytest

from distlib import Constant, Uniform
from distlib.labs.lab08_resilience.availability import (
    SECONDS_PER_YEAR,
    Component,
    KofN,
    Parallel,
    Series,
    availability,
    availability_from_downtime,
    downtime_per_year,
    format_duration,
    from_nines,
    k_of_n,
    majority,
    nines,
    nines_table,
    parallel,
    quorum_availability,
    series,
    simulate_availability,
)

# Simulated availability over HORIZON seconds has a standard deviation of about 0.001 for the
# systems below (measured over 30 seeds); TOLERANCE is five of those.
HORIZON = 2e5
TOLERANCE = 0.005


def test_availability_from_mttf_and_mttr():
    """A = MTTF / (MTTF + MTTR)."""
    assert availability(999, 1) == pytest.approx(0.999)
    assert availability(10, 0) == 1.0


def test_series_is_the_product():
    """Components in series are all needed: availabilities multiply."""
    assert series(0.99, 0.99) == pytest.approx(0.9801)
    assert series([0.9, 0.5, 0.1]) == pytest.approx(0.045)


def test_parallel_is_one_minus_product_of_unavailabilities():
    """Redundant components fail together only if each one is down."""
    assert parallel(0.9, 0.9) == pytest.approx(0.99)
    assert parallel([0.5, 0.5, 0.5]) == pytest.approx(0.875)


def test_k_of_n_matches_binomial_tail_and_extremes():
    """k-of-n is the binomial tail; 1-of-n is parallel and n-of-n is series."""
    a = 0.9
    assert k_of_n(2, 3, a) == pytest.approx(3 * a**2 * (1 - a) + a**3)
    assert k_of_n(1, 4, a) == pytest.approx(parallel([a] * 4))
    assert k_of_n(4, 4, a) == pytest.approx(series([a] * 4))
    assert k_of_n(0, 3, a) == pytest.approx(1.0)


def test_k_of_n_with_different_components():
    """The per-component form agrees with enumerating every up/down combination."""
    avail = [0.9, 0.8, 0.7]
    brute = 0.0
    for mask in range(8):
        ups = [(mask >> i) & 1 for i in range(3)]
        if sum(ups) >= 2:
            p = 1.0
            for u, a in zip(ups, avail, strict=True):
                p *= a if u else 1 - a
            brute += p
    assert k_of_n(2, 3, avail) == pytest.approx(brute)
    assert k_of_n(2, 3, [0.9] * 3) == pytest.approx(k_of_n(2, 3, 0.9))


def test_majority_quorums():
    """A majority of n is n//2 + 1, so 2f + 1 nodes tolerate f failures."""
    assert [majority(n) for n in (1, 2, 3, 4, 5)] == [1, 2, 2, 3, 3]
    assert quorum_availability(3, 0.99) == pytest.approx(k_of_n(2, 3, 0.99))
    assert quorum_availability(5, 0.99) > quorum_availability(3, 0.99) > 0.99


def test_nines_round_trip_and_downtime():
    """Three nines is 0.999, about 8.77 hours of downtime a year, and back again."""
    assert nines(0.999) == pytest.approx(3.0)
    assert from_nines(3) == pytest.approx(0.999)
    assert nines(1.0) == math.inf
    assert downtime_per_year(0.999) == pytest.approx(0.001 * SECONDS_PER_YEAR)
    assert downtime_per_year(from_nines(5)) / 60 == pytest.approx(5.26, abs=0.01)
    assert availability_from_downtime(downtime_per_year(0.9995)) == pytest.approx(0.9995)
    assert format_duration(downtime_per_year(0.999)) == "8.77 h"
    assert [row[0] for row in nines_table(4)] == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (lambda: series(1.5), ValueError),
        (lambda: parallel(), ValueError),
        (lambda: k_of_n(4, 3, 0.9), ValueError),
        (lambda: k_of_n(1, 3, [0.9, 0.9]), ValueError),
        (lambda: availability(0, 1), ValueError),
        (lambda: nines("high"), TypeError),
        (lambda: Component("x", 10, "soon"), TypeError),
        (lambda: KofN(3, Component("a", 1, 1), Component("b", 1, 1)), ValueError),
    ],
)
def test_bad_input_is_rejected(bad, error):
    """Impossible probabilities, counts and durations raise a clear error."""
    with pytest.raises(error):
        bad()


def _systems():
    c = [Component(f"n{i}", 10.0, 1.0) for i in range(5)]
    return {
        "single": c[0],
        "series": Series(c[0], c[1]),
        "parallel": Parallel(c[0], c[1]),
        "2-of-3": KofN(2, *c[:3]),
        "3-of-5": KofN(3, *c),
        "mixed": Series(
            Component("lb", 100.0, Constant(1.0)),
            Parallel(Component("a", 5.0, Uniform(0.5, 1.5)), Component("b", 5.0, 1.0)),
        ),
    }


@pytest.mark.parametrize("name", list(_systems()))
def test_simulation_matches_formula(name):
    """Measured availability agrees with the formula within the stated tolerance."""
    system = _systems()[name]
    run = simulate_availability(system, horizon=HORIZON, seed=7)
    expected = system.availability()
    assert abs(run.availability - expected) < TOLERANCE, (
        f"{name}: simulated availability {run.availability:.5f}, formula {expected:.5f}"
    )


def test_formula_holds_for_non_exponential_repairs():
    """A = MTTF/(MTTF+MTTR) needs only the means: a fixed repair time gives the same answer."""
    comp = Component("disk", Uniform(5.0, 15.0), Constant(1.0))
    run = simulate_availability(comp, horizon=HORIZON, seed=3)
    assert abs(run.availability - 10 / 11) < TOLERANCE, f"measured {run.availability:.5f}"


def test_parallel_outage_is_shorter_than_a_repair():
    """Two exponential repairs in parallel end an outage after MTTR/2 on average."""
    c = [Component(f"r{i}", 10.0, 1.0) for i in range(2)]
    run = simulate_availability(Parallel(*c), horizon=HORIZON, seed=5)
    assert run.outages > 200, f"only {run.outages} outages: too few to estimate their length"
    assert run.mean_outage == pytest.approx(0.5, rel=0.15), f"mean outage {run.mean_outage:.3f}"


def test_shared_component_breaks_the_formula():
    """A component used twice is not independent: the formula refuses, the simulation measures."""
    power = Component("power", 50.0, 1.0)
    system = Parallel(
        Series(power, Component("a", 10.0, 1.0)), Series(power, Component("b", 10.0, 1.0))
    )
    with pytest.raises(ValueError, match="independent"):
        system.availability()
    run = simulate_availability(system, horizon=HORIZON, seed=1)
    a_branch = availability(10.0, 1.0)
    right = power.availability() * parallel(a_branch, a_branch)  # condition on the supply
    naive = parallel(series(power.availability(), a_branch), series(power.availability(), a_branch))
    assert abs(run.availability - right) < TOLERANCE, (
        f"measured {run.availability:.5f}, expected {right:.5f} (power times the pair)"
    )
    assert abs(run.availability - naive) > TOLERANCE, "the naive formula should be visibly wrong"
    assert run.availability <= run.component_availability["power"] + 1e-12, (
        "the system was up while its only power supply was down"
    )


def test_simulation_is_seeded():
    """Same seed, same measurement; another seed, another sample."""
    system = _systems()["2-of-3"]
    a = simulate_availability(system, horizon=1e4, seed=11)
    b = simulate_availability(system, horizon=1e4, seed=11)
    c = simulate_availability(system, horizon=1e4, seed=12)
    assert a == b, "two runs with seed 11 differ"
    assert a.availability != c.availability, "seeds 11 and 12 gave identical runs"


def test_warmup_is_excluded():
    """Only the time after warmup is measured."""
    run = simulate_availability(Component("x", 10.0, 1.0), horizon=1000.0, warmup=400.0, seed=2)
    assert run.measured == pytest.approx(600.0)
    assert 0.0 <= run.uptime <= run.measured
