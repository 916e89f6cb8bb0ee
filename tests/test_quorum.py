"""Tests for distlib.quorum: the one definition of a majority."""

from __future__ import annotations

import itertools

import pytest

from distlib.quorum import majority, tolerated


@pytest.mark.parametrize("n", range(1, 10))
def test_any_two_majorities_intersect_and_a_minority_does_not_suffice(n):
    """Every two sets of majority(n) of n nodes share a node; two disjoint sets one smaller
    exist once n > 1 (so the size is the least that works)."""
    k = majority(n)
    nodes = range(n)
    for a, b in itertools.combinations(itertools.combinations(nodes, k), 2):
        assert set(a) & set(b), f"two majorities of {n} share no node: {a}, {b}"
    if n > 1:
        assert 2 * (k - 1) <= n, f"{k - 1} of {n} would already be enough"
    assert tolerated(n) == (n - 1) // 2


@pytest.mark.parametrize("n", [0, -1, 2.5, True, "3"])
def test_majority_of_no_nodes_is_an_error(n):
    """A cluster size that is not a positive int is refused, naming it."""
    with pytest.raises(ValueError, match="positive number of nodes"):
        majority(n)
