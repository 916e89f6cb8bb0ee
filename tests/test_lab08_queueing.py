"""Tests for Lab 8's queueing model (distlib.labs.lab08_resilience.queueing), which runs the
balancing policies."""

from __future__ import annotations

import math

import pytest

from distlib.labs.lab08_resilience.queueing import (
    compare,
    percentile,
    plot,
    simulate_queue,
    table,
    traffic,
)
from distlib.protocols.balance import RoundRobin

# Sizes chosen from runs over seeds 0-7: 10,000 requests put p2c's p99 at 0.19-0.32 of random's
# at 90% load; 20,000 keep the M/M/1 mean within 8% and the p99 within 16% of theory.
REQUESTS = 20_000


def lindley(jobs):
    """Latencies of a FIFO single-server queue: wait = max(0, previous finish - arrival)."""
    free_at = 0.0
    out = []
    for arrival, service in jobs:
        start = max(arrival, free_at)
        free_at = start + service
        out.append(free_at - arrival)
    return out


def test_percentile_interpolates_between_ranks():
    """p0 is the minimum, p100 the maximum, p50 of an even count is the midpoint."""
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == pytest.approx(2.5)
    assert percentile(list(range(101)), 99) == pytest.approx(99.0)


def test_traffic_has_the_requested_rate():
    """Arrivals come at load * servers / service_mean per second; service averages service_mean."""
    jobs = traffic(load=0.8, servers=5, requests=20_000, service_mean=2.0, seed=1)
    rate = len(jobs) / jobs[-1][0]
    mean_service = sum(s for _, s in jobs) / len(jobs)
    assert rate == pytest.approx(2.0, rel=0.03), f"arrival rate {rate:.3f}, expected 2.0"
    assert mean_service == pytest.approx(2.0, rel=0.03), f"mean service {mean_service:.3f}"


def test_round_robin_matches_lindley_recursion():
    """Each server is a FIFO queue: round robin's latencies equal the per-server recursion."""
    n, requests = 3, 600
    jobs = traffic(load=0.8, servers=n, requests=requests, seed=4)
    expected = [0.0] * requests
    for s in range(n):
        idx = list(range(s, requests, n))
        for i, lat in zip(idx, lindley([jobs[i] for i in idx]), strict=True):
            expected[i] = lat
    got = simulate_queue(RoundRobin(), load=0.8, servers=n, requests=requests, warmup=0.0, seed=4)
    assert got.latencies == pytest.approx(expected, abs=1e-9), "the model is not FIFO per server"


def test_single_server_matches_mm1_mean():
    """One server at load 0.5 is an M/M/1 queue: mean latency 1 / (mu - lambda) = 2."""
    r = simulate_queue("random", load=0.5, servers=1, requests=REQUESTS, seed=2)
    assert r.mean == pytest.approx(2.0, rel=0.15), f"mean latency {r.mean:.3f}, expected ~2.0"


def test_random_matches_mm1_p99():
    """Random dispatch splits Poisson traffic into independent M/M/1 queues: p99 = ln(100)/(1-ρ)."""
    r = simulate_queue("random", load=0.8, servers=10, requests=REQUESTS, seed=3)
    expected = math.log(100) / (1 - 0.8)
    assert r.p99 == pytest.approx(expected, rel=0.25), f"p99 {r.p99:.2f}, expected ~{expected:.2f}"


def test_p2c_beats_random_on_p99_at_90_percent_load():
    """Mitzenmacher 2001: two choices cut the tail; at 90% load p99 at least halves."""
    rand = simulate_queue("random", load=0.9, requests=10_000, seed=0)
    p2c = simulate_queue("p2c", load=0.9, requests=10_000, seed=0)
    ratio = p2c.p99 / rand.p99
    assert ratio <= 0.5, (
        f"p2c p99 {p2c.p99:.2f} vs random p99 {rand.p99:.2f}: ratio {ratio:.2f}, expected <= 0.5"
    )


def test_more_information_means_lower_mean_latency():
    """At 90% load: least outstanding < power of two < random, on mean latency."""
    means = {
        p: simulate_queue(p, load=0.9, requests=5000, seed=5).mean
        for p in ("least_outstanding", "p2c", "random")
    }
    assert means["least_outstanding"] < means["p2c"] < means["random"], f"means {means}"


def test_same_seed_same_numbers_and_same_traffic_for_every_policy():
    """A run is reproducible, and all policies serve the same requests for a given seed."""
    a = simulate_queue("p2c", load=0.7, requests=2000, seed=8)
    b = simulate_queue("p2c", load=0.7, requests=2000, seed=8)
    assert a == b, "two runs with the same seed differ"
    rr = simulate_queue("round_robin", load=0.7, requests=2000, seed=8)
    assert sum(rr.per_server) == sum(a.per_server) == 1800  # 10% warmup left out
    assert max(rr.per_server) - min(rr.per_server) <= 1, "round robin should split evenly"


def test_student_function_runs_in_the_model():
    """A plain function (outstanding, rng) -> index can be dropped into the model."""

    def pick_zero(outstanding, rng):
        return 0

    r = simulate_queue(pick_zero, load=0.05, servers=4, requests=500, seed=1)
    assert r.per_server[0] == r.requests and r.policy == "pick zero"


def test_bad_input_is_rejected():
    """Load at or above 1, too few requests and bad policies raise clear errors."""
    with pytest.raises(ValueError, match="load"):
        simulate_queue("random", load=1.0)
    with pytest.raises(ValueError, match="requests"):
        simulate_queue("random", requests=3)
    with pytest.raises(ValueError, match="server"):
        simulate_queue(lambda o, r: -1, requests=50)


def test_compare_table_and_plot():
    """compare() covers every policy and load; table() and plot() show all of them."""
    results = compare(["random", "p2c"], loads=(0.5, 0.9), requests=1000, seed=1)
    assert {(r.policy, r.load) for r in results} == {
        ("random", 0.5),
        ("random", 0.9),
        ("power of two", 0.5),
        ("power of two", 0.9),
    }
    text = table(results)
    assert "random p99" in text and "power of two p50" in text and "0.90" in text
    import matplotlib

    matplotlib.use("Agg")
    fig = plot(results)
    assert len(fig.axes) == 2
    import matplotlib.pyplot as plt

    plt.close(fig)
