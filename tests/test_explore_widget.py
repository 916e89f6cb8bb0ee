"""Tests of the explorer's debugger: a :class:`~distlib.explore.Session` walks the state graph
by hand (take a step, go back, reset, follow a counterexample) and the notebook widget built on
it shows the enabled steps, the nodes, the violated invariant and the diagram."""

from __future__ import annotations

from functools import partial

import pytest

from distlib.explore import ExploreError, Explorer, Session, agreement, explore_widget
from distlib.protocols.paxos import PaxosNode
from distlib.testing.broken import PromiseBreakingAcceptor


def broken_paxos() -> Explorer:
    nodes = {
        "n0": partial(PaxosNode, value="v0", learners=("n0",)),
        "n1": partial(PaxosNode, value="v1", learners=("n0",)),
        "n2": partial(PromiseBreakingAcceptor, learners=("n0",)),
    }
    return Explorer(nodes, properties=[agreement()], timers={"n0": 1, "n1": 1})


def test_taking_a_step_and_going_back_restores_the_enabled_steps():
    """A step moves the session one state on (the path grows by that step); back returns to
    the previous state, with the same enabled steps as before."""
    session = Session(broken_paxos())
    first = session.enabled()
    assert first and all(s.kind == "timer" for s in first)  # nothing in flight yet
    session.take(0)
    assert session.path == [first[0]] and len(session.states) == 2
    assert session.enabled() != first
    session.back()
    assert session.path == [] and session.enabled() == first
    session.back()  # nothing to undo at the start
    assert session.path == []


def test_a_step_that_is_not_enabled_is_refused():
    """Only an enabled step's index is taken; another gets an error naming the count."""
    session = Session(broken_paxos())
    count = len(session.enabled())
    with pytest.raises(ExploreError, match=f"{count} enabled steps"):
        session.take(count)


def test_jumping_to_the_counterexample_ends_in_the_violated_state():
    """Following a search's counterexample ends where the invariant breaks; reset goes back to
    the initial state, where every invariant holds."""
    explorer = broken_paxos()
    result = explorer.search()
    session = Session(explorer, result.trace)
    assert session.violation() == ("", "")
    session.jump()
    assert session.path == result.trace
    prop, problem = session.violation()
    assert prop == "Agreement" and "two values" in problem
    session.reset()
    assert session.path == [] and session.violation() == ("", "")


def test_the_session_shows_every_node_and_the_messages_in_flight():
    """After a proposer's timer fires, its Prepare messages are in flight and every node's
    fields and storage are shown; a crashed node shows as down."""
    explorer = Explorer(
        {"n0": partial(PaxosNode, value="v0"), "n1": PaxosNode, "n2": PaxosNode},
        timers={"n0": 1},
        crashes=1,
    )
    session = Session(explorer)
    session.take(next(i for i, s in enumerate(session.enabled()) if s.kind == "timer"))
    kinds = sorted(type(msg).__name__ for _, _, msg, _ in session.in_flight())
    assert kinds == ["Prepare", "Prepare"]
    nodes = session.nodes()
    assert set(nodes) == {"n0", "n1", "n2"} and nodes["n0"]["fields"]["value"] == "v0"
    session.take(next(i for i, s in enumerate(session.enabled()) if str(s) == "crash n1"))
    assert session.nodes()["n1"]["up"] is False and session.nodes()["n1"]["fields"] is None
    assert session.diagram() is not None


def test_without_a_counterexample_there_is_nothing_to_jump_to():
    session = Session(broken_paxos())
    with pytest.raises(ExploreError, match="no counterexample"):
        session.jump()


def test_the_widget_takes_steps_and_shows_the_violation():
    """Clicking through the widget: its buttons drive the session, and after the jump the
    header names the violated invariant."""
    explorer = broken_paxos()
    result = explorer.search()
    box = explore_widget(explorer, result)
    header, body = box.children
    left, _ = body.children
    _choices, buttons, table = left.children
    take, back, _reset, jump = buttons.children
    assert "every invariant holds" in header.value and "n0" in table.value
    take.click()
    assert len(box.session.path) == 1 and not back.disabled
    back.click()
    assert box.session.path == []
    jump.click()
    assert "Agreement violated" in header.value
    assert len(box.session.path) == len(result.trace)
    assert result.widget().session.counterexample == result.trace
