"""Tests of walking the explorer's state space by hand (distlib.explore._widget): the session's
rules (a step taken is the explorer's step, back and forward restore states and their enabled
steps, jumping ends in the violated state), the HTML that describes a state, and the widget's
buttons driven without a browser (tests/test_browser.py clicks them in a real JupyterLab)."""

from __future__ import annotations

import html
import random
import re
import subprocess
import sys
from typing import Any

import pytest

from distlib.explore import (
    ExploreError,
    Explorer,
    ExplorerSession,
    Step,
    explore_widget,
    invariant,
)
from distlib.explore._widget import network_html, state_html, status_html
from distlib.node import Node
from distlib.testing.broken import (
    EagerCoordinator,
    ForgetfulParticipant,
    PromiseBreakingAcceptor,
    ValueIgnoringProposer,
)
from tests.test_explore import paxos, twopc


def eager():
    """2PC whose coordinator commits without waiting for p1 (who would refuse): Atomicity
    breaks in 5 steps."""
    return twopc(EagerCoordinator, participants=3, refuse=("t1",), timers=0)


@pytest.fixture(scope="module")
def eager_result():
    explorer = eager()
    result = explorer.search()
    assert result.verdict == "violated" and len(result.trace) == 5
    return explorer, result


# -- the session ---------------------------------------------------------------------------------


def test_a_session_starts_at_the_initial_state_with_its_enabled_steps():
    """Depth 0, the explorer's initial state, the explorer's enabled steps, and no way back."""
    explorer = eager()
    session = ExplorerSession(explorer)
    assert session.depth == 0 and session.path == []
    assert session.state.key == explorer.initial().key
    assert session.enabled() == explorer.steps(explorer.initial())
    assert session.back() is False and session.forward() is False
    assert session.violated() == ("", "")


def test_taking_a_step_is_the_explorers_step():
    """The state after taking an enabled step is explorer.take's state, with its enabled steps;
    a step may be given by its index in enabled()."""
    explorer = eager()
    session = ExplorerSession(explorer)
    first = session.enabled()[0]
    session.take(0)
    expected = explorer.take(explorer.initial(), first)
    assert session.path == [first] and session.depth == 1
    assert session.state.key == expected.key
    assert session.enabled() == explorer.steps(expected)
    second = session.enabled()[1]
    session.take(second)
    assert session.path == [first, second]


def test_going_back_restores_the_previous_state_and_its_enabled_steps():
    """back() undoes the last step: the same state object as before it, the same enabled
    steps, one step shorter."""
    session = ExplorerSession(eager())
    session.take(0)
    before = session.state
    enabled = list(session.enabled())
    session.take(0)
    assert session.state is not before
    assert session.back() is True
    assert session.state is before and session.depth == 1
    assert session.enabled() == enabled


def test_forward_takes_the_undone_step_again_and_a_new_step_forgets_it():
    """After back(), forward() returns to the very state left (not recomputed); taking the same
    step by hand does too; taking another step forgets the steps undone."""
    session = ExplorerSession(eager())
    session.take(0)
    session.take(0)
    after = session.state
    undone = session.path[-1]
    session.back()
    assert session.future == [undone]
    assert session.forward() is True and session.state is after
    session.back()
    session.take(undone)
    assert session.state is after
    session.back()
    other = next(s for s in session.enabled() if s != undone)
    session.take(other)
    assert session.future == [] and session.forward() is False
    assert session.path[-1] == other


def test_a_step_that_is_not_enabled_is_refused_and_the_path_is_unchanged():
    """A step that is not enabled in the current state raises ExploreError, and so does an
    index past the enabled steps; the path stays as it was."""
    session = ExplorerSession(eager())
    session.take(0)
    path, state = session.path, session.state
    with pytest.raises(ExploreError, match="not enabled"):
        session.take(Step("crash", "c"))
    with pytest.raises(ExploreError, match="enabled steps"):
        session.take(99)
    assert session.path == path and session.state is state


def test_reset_goes_to_the_initial_state_and_forward_walks_the_path_again():
    """reset() returns to depth 0 with the walked path ahead; forward() retraces it step by
    step; goto(k) moves to any depth along it."""
    session = ExplorerSession(eager())
    for _ in range(3):
        session.take(0)
    path, states = session.path, session.states
    session.reset()
    assert session.depth == 0 and session.state is states[0]
    assert session.future == path
    session.goto(2)
    assert session.path == path[:2] and session.state is states[2]
    while session.forward():
        pass
    assert session.path == path and session.state is states[-1]
    with pytest.raises(ExploreError):
        session.goto(4)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(eager, id="EagerCoordinator"),
        pytest.param(lambda: twopc(participant=ForgetfulParticipant, crashes=1), id="Forgetful2PC"),
        pytest.param(lambda: paxos(acceptor=PromiseBreakingAcceptor), id="PromiseBreaking"),
        pytest.param(lambda: paxos(proposer=ValueIgnoringProposer), id="ValueIgnoring"),
    ],
)
def test_jumping_to_a_counterexample_ends_in_the_violated_state(make):
    """jump() makes the path the search's counterexample and ends in a state that breaks the
    property the search named; every state before it on the path is fine (the search is
    breadth-first, so the last step is the one that breaks it)."""
    explorer = make()
    result = explorer.search()
    session = ExplorerSession(explorer, result)
    session.jump()
    assert session.path == result.trace
    assert session.violated()[0] == result.violated
    assert session.violated()[1] == result.violation
    session.back()
    assert session.violated() == ("", "")
    assert session.next_on_counterexample() == result.trace[-1]


def test_jumping_from_elsewhere_keeps_the_common_beginning_and_steps_back_through_it(
    eager_result,
):
    """From a path that shares the counterexample's first step and then leaves it, jump()
    keeps the shared state (the same object), lands on the counterexample's end, and back()
    walks through the counterexample's states one by one, each the explorer's own."""
    explorer, result = eager_result
    session = ExplorerSession(explorer, result)
    session.take(result.trace[0])
    shared = session.state
    off = next(s for s in session.enabled() if s != result.trace[1])
    session.take(off)
    assert not session.on_counterexample()
    session.jump()
    assert session.states[1] is shared
    assert session.on_counterexample() and session.depth == len(result.trace)
    replayed = explorer.replay(result.trace).states
    for k in range(len(result.trace), -1, -1):
        assert session.depth == k
        assert session.state.key == replayed[k].key
        session.back()


def test_a_session_without_a_violated_result_has_nothing_to_jump_to():
    """jump() with no result, or with a search that found nothing, raises ExploreError."""
    explorer = twopc(timers=0)
    with pytest.raises(ExploreError, match="no counterexample"):
        ExplorerSession(explorer).jump()
    ok = explorer.search()
    assert ok.verdict == "ok"
    with pytest.raises(ExploreError, match="no counterexample"):
        ExplorerSession(explorer, ok).jump()


class Fragile(Node):
    """Sends itself nothing; pings its peer at start and raises when it gets a ping."""

    def on_start(self) -> None:
        if self.id == "a":
            self.send("b", "ping")

    def on_message(self, src: str, msg: Any) -> None:
        raise ValueError("cannot handle a ping")


def test_a_handler_that_raises_leaves_the_path_as_it_was():
    """Taking a step whose handler raises lets the error through and keeps the path; jumping to
    the 'handlers do not raise' counterexample stops before that step and says why, until the
    path moves again."""
    explorer = Explorer({"a": Fragile, "b": Fragile})
    result = explorer.search()
    assert result.violated == "handlers do not raise"
    session = ExplorerSession(explorer, result)
    (deliver,) = session.enabled()
    with pytest.raises(Exception, match="cannot handle a ping"):
        session.take(deliver)
    assert session.depth == 0
    session.jump()
    assert session.depth == len(result.trace) - 1
    assert "cannot handle a ping" in session.failure and str(deliver) in session.failure
    session.reset()
    assert session.failure == ""


def test_the_replay_of_the_path_names_the_violated_property_only_when_broken(eager_result):
    """The session's replay is the path as a trace; its last event names the invariant only in
    a violated state."""
    explorer, result = eager_result
    session = ExplorerSession(explorer, result)
    session.jump()
    run = session.replay()
    assert run.steps == result.trace
    assert run.trace.events[-1].kind == "error" and "Atomicity" in run.trace.events[-1].detail
    session.back()
    assert not [e for e in session.replay().trace.events if e.kind == "error"]


# -- describing a state ----------------------------------------------------------------------------


def test_the_state_table_shows_fields_storage_timers_and_who_is_down():
    """Every node is a column; a crashed node says "down"; the fields come first, then storage,
    then timers; what the last step changed is highlighted, and nothing is highlighted in the
    initial state."""
    explorer = twopc(participant=ForgetfulParticipant, crashes=1)
    session = ExplorerSession(explorer)
    first = state_html(explorer, session.state)
    assert "background" not in first
    for name in explorer.names:
        assert f"<th>{name}</th>" in first
    assert "storage[&#x27;vote&#x27;]" in first or "storage[&#x27;begin&#x27;]" in first
    session.take(Step("crash", "p1"))
    crashed = state_html(explorer, session.state, session.states[-2])
    assert "down" in crashed and "fff3b0" in crashed
    # the rows are the nodes' fields, then their storage, even when the first node is down
    session.reset()
    session.take(Step("crash", "c"))
    rows = re.findall(r"<tr><th[^>]*>([^<]+)</th>", state_html(explorer, session.state))
    assert rows[:2] == ["(class)", "(status)"] and rows[-1] == "(armed timers)"
    first_storage = next(i for i, r in enumerate(rows) if r.startswith("storage["))
    assert "refuse" in rows[:first_storage] and "asked" in rows[:first_storage]
    assert all(r.startswith("storage[") for r in rows[first_storage:-1])
    session.reset()
    session.back()
    session.take(0)  # the coordinator gets the request: its fields change
    changed = state_html(explorer, session.state, session.states[-2])
    assert "fff3b0" in changed and "clients" in changed


def test_the_network_lists_messages_in_flight_with_their_copies():
    """A duplicated message shows twice over; the fault budgets spent are listed."""
    explorer = twopc(duplicates=1, timers=0)
    session = ExplorerSession(explorer)
    (dup,) = [s for s in session.enabled() if s.kind == "duplicate"]
    assert "×" not in network_html(session)
    session.take(dup)
    text = network_html(session)
    assert "×2" in text and "TxRequest" in text and "duplicates 1/1" in text
    assert session.in_flight() == [("client", "c", dup.msg, 2)]
    session.take(Step("deliver", "c", "client", dup.msg))
    assert ("client", "c", dup.msg, 1) in session.in_flight()


@pytest.mark.parametrize("seed", range(5))
def test_the_messages_in_flight_are_those_the_explorer_can_deliver(seed):
    """With every node up and no drops or duplicates allowed, the messages listed in flight are
    exactly the ones the explorer offers to deliver, in every state of a random walk (the list
    is read from the replayed trace, so this checks it against the explorer's own state)."""
    rng = random.Random(seed)
    explorer = paxos(acceptor=PromiseBreakingAcceptor)
    session = ExplorerSession(explorer)
    for _ in range(12):
        delivers = {(s.src, s.node, s.msg) for s in session.enabled() if s.kind == "deliver"}
        flight = session.in_flight()
        assert {(src, dst, msg) for src, dst, msg, _ in flight} == delivers
        assert all(copies == 1 for *_, copies in flight)
        if not session.enabled():
            break
        session.take(rng.randrange(len(session.enabled())))


class Retrier(Node):
    """Arms a timer with a payload at start."""

    def on_start(self) -> None:
        self.set_timer("retry", 0.5, payload=("again", 1))

    def on_timer(self, name: str, payload: Any = None) -> None:
        pass

    def on_message(self, src: str, msg: Any) -> None:
        pass


def test_an_armed_timer_shows_its_due_time_and_payload():
    """A timer's name, due time and payload (from the enabled step that fires it) are shown."""
    explorer = Explorer({"r": Retrier}, timers=1)
    session = ExplorerSession(explorer)
    text = state_html(explorer, session.state, None, session.enabled())
    assert "retry @ 0.5 ((&#x27;again&#x27;, 1))" in text


def test_the_status_names_the_violated_invariant_and_what_is_wrong(eager_result):
    """In the violated state the status says which invariant broke and how; elsewhere it says
    every invariant holds."""
    explorer, result = eager_result
    session = ExplorerSession(explorer, result)
    assert "every invariant holds" in status_html(session)
    session.jump()
    text = status_html(session)
    assert "Atomicity violated" in text and "without a vote from p1" in text


def test_a_custom_invariant_is_reported_in_the_first_state_that_breaks_it():
    """explorer.check decides: an invariant of our own that fails once the coordinator knows a
    client is reported as soon as that step is taken, and no sooner."""

    def no_clients(view):
        c = view.nodes["c"]
        return "the coordinator has a client" if c is not None and c.clients else ""

    explorer = twopc(timers=0)
    explorer.properties.append(invariant("No clients", no_clients))
    session = ExplorerSession(explorer)
    assert session.violated() == ("", "")
    session.take(0)
    assert session.violated() == ("No clients", "the coordinator has a client")


# -- the widget, without a browser -----------------------------------------------------------------


def test_the_widget_buttons_take_steps_go_back_and_jump(eager_result):
    """Clicking an enabled step takes it, back undoes it, jump lands on the counterexample's end
    and the status names the broken property; the counterexample's next step is marked."""
    explorer, result = eager_result
    box = explore_widget(explorer, result, diagram=False)
    ui = box.ui
    assert [b.description for b in ui.step_buttons] == [
        str(s) for s in explorer.steps(explorer.initial())
    ]
    assert ui.back_button.disabled and not ui.jump_button.disabled
    assert ui.step_buttons[0].button_style == "danger"  # the counterexample starts there
    ui.step_buttons[0].click()
    assert box.session.depth == 1 and not ui.back_button.disabled
    assert "depth 1" in ui.position.value and html.escape(str(result.trace[0])) in ui.path.value
    ui.back_button.click()
    assert box.session.depth == 0 and not ui.forward_button.disabled
    ui.jump_button.click()
    assert box.session.path == result.trace
    assert "Atomicity violated" in ui.status.value
    assert f"step 5 of the {len(result.trace)}-step counterexample" in ui.position.value
    ui.back_button.click()
    assert "every invariant holds" in ui.status.value
    ui.reset_button.click()
    assert box.session.depth == 0 and ui.reset_button.disabled


def test_the_widget_redraws_the_diagram_once_per_path(eager_result):
    """The diagram of a path is drawn once: going back and forward again draws nothing new, and
    a state's table is rebuilt only when the state changes."""
    _, result = eager_result
    ui = result.widget().ui
    assert ui.diagrams.draws == 1
    ui.jump_button.click()
    assert ui.diagrams.draws == 2
    png, title = ui.diagrams.pictures[ui.session.path_key()]
    assert png.startswith(b"\x89PNG") and title == "Atomicity violated after 5 steps"
    ui.back_button.click()
    ui.forward_button.click()
    assert ui.diagrams.draws == 3  # the violated state's picture was reused
    table = ui.nodes.value
    ui.jump_button.click()  # already there: nothing changes
    assert ui.nodes.value is table and ui.diagrams.draws == 3
    ui.reset_button.click()
    assert ui.diagrams.draws == 3  # the initial state's picture is still there


def test_a_step_whose_handler_raises_is_reported_in_the_widget():
    """Clicking a step whose handler raises shows the error and leaves the path unchanged."""
    explorer = Explorer({"a": Fragile, "b": Fragile})
    ui = explore_widget(explorer, diagram=False).ui
    assert ui.jump_button.disabled
    ui.step_buttons[0].click()
    assert "cannot handle a ping" in ui.error.value and ui.session.depth == 0


def test_importing_the_explorer_loads_no_widget_or_plotting_library():
    """import distlib.explore stays light: ipywidgets and matplotlib load only when a widget or
    a diagram is asked for."""
    code = (
        "import sys, distlib.explore; "
        "print(sorted(m for m in ('ipywidgets', 'matplotlib', 'IPython') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
