"""Tests for distlib.protocols.balance: the load-balancing policies, one decision at a time."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from distlib.protocols.balance import (
    POLICIES,
    LeastOutstanding,
    PowerOfTwoChoices,
    RandomChoice,
    RoundRobin,
    least_outstanding,
    make_policy,
    power_of_two_choices,
    random_choice,
)


def test_round_robin_takes_turns():
    """Round robin visits servers 0, 1, 2, 0, ... whatever their load."""
    rr = RoundRobin()
    rng = random.Random(0)
    picks = [rr.choose([9, 0, 0], rng) for _ in range(7)]
    assert picks == [0, 1, 2, 0, 1, 2, 0], f"round robin chose {picks}"


def test_random_choice_is_uniform_and_seeded():
    """Random choice spreads evenly over servers and repeats under the same seed."""
    rng = random.Random(1)
    counts = Counter(random_choice([0, 50, 0, 50], rng) for _ in range(8000))
    assert set(counts) == {0, 1, 2, 3}
    assert all(1700 < c < 2300 for c in counts.values()), f"uneven counts {dict(counts)}"
    first, second = random.Random(1), random.Random(1)
    a = [random_choice([0] * 4, first) for _ in range(20)]
    b = [random_choice([0] * 4, second) for _ in range(20)]
    assert a == b, "same seed, different choices"


def test_least_outstanding_picks_the_minimum_and_breaks_ties_randomly():
    """Join the shortest queue; break ties at random, not always towards the first server."""
    rng = random.Random(2)
    assert least_outstanding([4, 1, 3], rng) == 1
    picks = Counter(least_outstanding([2, 0, 5, 0], rng) for _ in range(2000))
    assert set(picks) == {1, 3}, f"ties between servers 1 and 3 went to {dict(picks)}"
    assert min(picks.values()) > 800, f"tie-breaking is lopsided: {dict(picks)}"


def test_power_of_two_never_takes_the_single_busiest_server():
    """Mitzenmacher 2001: of two distinct samples, the unique busiest server never wins."""
    rng = random.Random(3)
    picks = Counter(power_of_two_choices([5, 5, 9], rng) for _ in range(3000))
    assert picks[2] == 0, f"p2c sent {picks[2]} requests to the busiest server"


def test_power_of_two_prefers_the_idle_server_when_it_is_sampled():
    """Mitzenmacher 2001: an idle server among four is picked whenever sampled, half the time."""
    rng = random.Random(4)
    share = sum(power_of_two_choices([0, 9, 9, 9], rng) == 0 for _ in range(4000)) / 4000
    # P(server 0 among 2 of 4 sampled) = 1 - (3/4)(2/3) = 1/2 (sampling without replacement).
    assert 0.45 < share < 0.55, f"the idle server got {share:.2f} of requests, expected ~0.50"


def test_best_of_n_is_least_outstanding_and_best_of_one_is_random():
    """d = number of servers always finds the minimum; d = 1 ignores the load."""
    rng = random.Random(5)
    state = [3, 7, 1, 4]
    assert all(power_of_two_choices(state, rng, d=4) == 2 for _ in range(50))
    picks = Counter(power_of_two_choices(state, rng, d=1) for _ in range(2000))
    assert set(picks) == {0, 1, 2, 3}, f"best of 1 should pick every server, got {dict(picks)}"


def test_policies_are_seeded():
    """Every policy gives the same sequence of choices for the same seed."""
    state = [1, 0, 2, 0, 3]
    for name in POLICIES:
        pa, ra = make_policy(name), random.Random(9)
        pb, rb = make_policy(name), random.Random(9)
        a = [pa.choose(state, ra) for _ in range(20)]
        b = [pb.choose(state, rb) for _ in range(20)]
        assert a == b, f"{name} is not reproducible under seed 9"


def test_make_policy_accepts_names_objects_and_functions():
    """A name, a Policy, a Policy class or a plain function all become a Policy."""
    assert isinstance(make_policy("p2c"), PowerOfTwoChoices)
    assert isinstance(make_policy(LeastOutstanding), LeastOutstanding)
    rc = RandomChoice()
    assert make_policy(rc) is rc

    def always_last(outstanding, rng):
        return len(outstanding) - 1

    pol = make_policy(always_last)
    assert pol.choose([0, 0, 0], random.Random(0)) == 2
    assert pol.name == "always last"


def test_bad_input_is_explained():
    """Unknown names, no servers and out-of-range answers raise errors that say what is wrong."""
    with pytest.raises(ValueError, match="unknown policy"):
        make_policy("fastest")
    with pytest.raises(ValueError, match="no servers"):
        random_choice([], random.Random(0))
    with pytest.raises(ValueError, match="d "):
        PowerOfTwoChoices(d=0)
    with pytest.raises(ValueError, match="server index"):
        make_policy(lambda outstanding, rng: 7).choose([0, 0], random.Random(0))
