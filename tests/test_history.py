"""Tests for distlib.history: recording operations and their real-time order."""

from __future__ import annotations

import math

import pytest

from distlib.history import History


def test_invoke_and_complete():
    """An operation records call and return times, output and status."""
    h = History()
    op = h.invoke("c1", "write", 5, time=1.0)
    h.complete(op, None, time=2.0)
    assert (op.call, op.ret, op.status) == (1.0, 2.0, "ok")
    assert "c1: write(5)" in h.listing()


def test_unknown_outcome_stays_open_for_ever():
    """An operation completed as 'unknown' has no return time and ends at infinity."""
    h = History()
    op = h.invoke("c1", "read", time=1.0)
    h.complete(op, time=3.0, status="unknown")
    assert op.ret is None and op.end == math.inf


def test_real_time_precedence():
    """precedes() is strict: an op precedes another only if it returned before the other began."""
    h = History()
    a = h.invoke("c1", "write", 1, time=0.0)
    b = h.invoke("c2", "read", time=1.0)
    h.complete(a, time=1.0)
    h.complete(b, 1, time=2.0)
    c = h.invoke("c1", "read", time=2.5)
    assert not a.precedes(b) and b.precedes(c) and not c.precedes(a)


def test_bad_completions_are_refused():
    """Completing twice, before the call, or with an unknown status is a clear error."""
    h = History()
    op = h.invoke("c", "read", time=5.0)
    with pytest.raises(ValueError, match="before its call"):
        h.complete(op, time=4.0)
    with pytest.raises(ValueError, match="status must be one of"):
        h.complete(op, time=6.0, status="maybe")
    h.complete(op, time=6.0)
    with pytest.raises(ValueError, match="already completed"):
        h.complete(op, time=7.0)
    with pytest.raises(ValueError, match="non-empty string"):
        h.invoke("c", "", time=1.0)


def test_same_client_back_to_back_operations_are_ordered():
    """A client's next operation invoked at the instant its previous one returned follows it."""
    h = History()
    a = h.invoke("c1", "write", 1, time=0.0)
    h.complete(a, time=1.0)
    b = h.invoke("c1", "read", time=1.0)
    c = h.invoke("c2", "read", time=1.0)
    assert a.precedes(b), "same client, ret == call: ordered"
    assert not a.precedes(c), "another client at the same instant: concurrent"
