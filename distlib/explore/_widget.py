"""Walk the state graph by hand, in the notebook: the explorer's debugger.

:class:`Session` is the logic, with no widgets: a path of steps from the initial state, the
steps enabled at its end, taking one, going back, and following a counterexample. The widget
(:func:`explore_widget`, ipywidgets, imported when called) shows a session: the enabled steps to
choose from, every node's fields, storage and armed timers, the messages in flight, the
invariant the current state breaks (if any) and the space-time diagram of the path so far.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from distlib.explore._state import ExploreError, State, Step, node_fields

# Explorer and Result are not imported here (_explorer imports this module for Result.widget,
# and the layers test forbids cycles): these aliases only document the annotations.
Explorer = Any
Result = Any

__all__ = ["Session", "explore_widget"]


class Session:
    """A path through ``explorer``'s states, from its initial state.

    ``counterexample``: steps to follow with :meth:`jump` (a :class:`~distlib.explore.Result`'s
    ``trace``). ``states[k]`` is the state after the first ``k`` steps of ``path``.
    """

    def __init__(self, explorer: Explorer, counterexample: Sequence[Step] = ()) -> None:
        self.explorer = explorer
        self.counterexample = list(counterexample)
        self.path: list[Step] = []
        self.states: list[State] = [explorer.initial()]
        #: what went wrong when a step made a handler raise (the state stays where it was)
        self.error = ""

    @property
    def state(self) -> State:
        return self.states[-1]

    def enabled(self) -> list[Step]:
        """The steps that may be taken now, in the explorer's order."""
        return self.explorer.steps(self.state)

    def take(self, step: Step | int) -> State:
        """Take ``step`` (or the enabled step with that index) from the current state."""
        if isinstance(step, int):
            enabled = self.enabled()
            if not 0 <= step < len(enabled):
                raise ExploreError(f"there are {len(enabled)} enabled steps, not a step {step}")
            step = enabled[step]
        try:
            new = self.explorer.take(self.state, step)
        except ExploreError:
            raise
        except Exception as exc:  # a handler raised: a bug the path has found
            self.error = f"{step.node}'s handler raised {exc}"
            raise
        self.error = ""
        self.path.append(step)
        self.states.append(new)
        return new

    def back(self) -> None:
        """Undo the last step (nothing happens at the initial state)."""
        if self.path:
            self.path.pop()
            self.states.pop()
        self.error = ""

    def reset(self) -> None:
        """Back to the initial state."""
        del self.path[:], self.states[1:]
        self.error = ""

    def jump(self) -> State:
        """Follow the counterexample from the initial state to its end."""
        if not self.counterexample:
            raise ExploreError("this session has no counterexample to follow")
        self.reset()
        for step in self.counterexample:
            try:
                self.take(step)
            except ExploreError:
                raise
            except Exception:
                break  # the last step is the handler that raised: stay before it
        return self.state

    def violation(self) -> tuple[str, str]:
        """The invariant the current state breaks and what is wrong, or ("", "")."""
        return self.explorer.check(self.state)

    def nodes(self) -> dict[str, dict[str, Any]]:
        """Each node's fields, storage and armed timers (``None`` fields for a node that is
        down)."""
        explorer, state = self.explorer, self.state
        out: dict[str, dict[str, Any]] = {}
        for i, name in enumerate(explorer.names):
            node = state.nodes[i]
            out[name] = {
                "up": node is not None,
                "fields": None if node is None else node_fields(node),
                "storage": dict(state.disks[i]),
                "timers": sorted(t.name for t in state.timers[i]),
            }
        return out

    def in_flight(self) -> list[tuple[str, str, Any, int]]:
        """The messages in flight: (from, to, message, copies)."""
        objects = self.explorer._message_objects
        if self.explorer.fifo:
            return [
                (src, dst, objects[number], 1)
                for (src, dst), queue in sorted(self.state.network.items())
                for number in queue
            ]
        return [
            (src, dst, objects[number], count)
            for (src, dst, number), count in sorted(self.state.network.items())
        ]

    def diagram(self, **options: Any) -> Any:
        """The space-time diagram of the path so far (None at the initial state)."""
        if not self.path:
            return None
        prop, _ = self.violation()
        return self.explorer.replay(self.path, violated=prop).diagram(**options)


def explore_widget(explorer: Explorer, result: Result | None = None) -> Any:
    """A widget to walk ``explorer``'s states by hand; with ``result``, a button follows its
    counterexample. Returns the widget (make it a cell's last expression, or display it)."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    session = Session(explorer, result.trace if result is not None else ())
    header = widgets.HTML()
    choices = widgets.Select(options=[], rows=8, layout=widgets.Layout(width="100%"))
    take = widgets.Button(description="Take step", button_style="primary")
    back = widgets.Button(description="Back", icon="arrow-left")
    reset = widgets.Button(description="Reset", icon="refresh")
    jump = widgets.Button(
        description="Jump to counterexample",
        button_style="danger",
        disabled=not session.counterexample,
        layout=widgets.Layout(width="auto"),
    )
    table = widgets.HTML()
    picture = widgets.Output()

    def show() -> None:
        enabled = session.enabled()
        choices.options = [(f"{k + 1}. {step}", k) for k, step in enumerate(enabled)]
        if enabled:
            choices.value = 0
        take.disabled = not enabled
        back.disabled = not session.path
        prop, problem = session.violation()
        status = (
            f"<b style='color:#b2182b'>{html.escape(prop)} violated</b>: "
            f"{html.escape(problem.splitlines()[0] if problem else '')}"
            if prop
            else "<span style='color:#1a7837'>every invariant holds here</span>"
        )
        if session.error:
            status += f"<br><b style='color:#b2182b'>{html.escape(session.error)}</b>"
        header.value = (
            f"<div class='distlib-explore-status'>after {len(session.path)} steps "
            f"({len(enabled)} enabled): {status}</div>"
        )
        table.value = _table(session)
        picture.clear_output(wait=True)
        with picture:
            fig = session.diagram(title=f"the path so far: {len(session.path)} steps")
            if fig is not None:
                display(fig)
                plt.close(fig)

    def on_take(_: Any) -> None:
        if choices.value is not None:
            try:
                session.take(choices.value)
            except ExploreError:
                raise
            except Exception:
                pass  # shown by show(): session.error
        show()

    def on_back(_: Any) -> None:
        session.back()
        show()

    def on_reset(_: Any) -> None:
        session.reset()
        show()

    def on_jump(_: Any) -> None:
        session.jump()
        show()

    take.on_click(on_take)
    back.on_click(on_back)
    reset.on_click(on_reset)
    jump.on_click(on_jump)
    show()
    buttons = widgets.HBox([take, back, reset, jump])
    left = widgets.VBox([choices, buttons, table], layout=widgets.Layout(width="50%"))
    right = widgets.VBox([picture], layout=widgets.Layout(width="50%"))
    box = widgets.VBox([header, widgets.HBox([left, right])])
    box.session = session  # for a program (or a test) to drive it
    return box


def _short(value: Any, limit: int = 70) -> str:
    text = repr(value)
    return html.escape(text if len(text) <= limit else text[: limit - 3] + "...")


def _table(session: Session) -> str:
    """Every node's state and the messages in flight, as HTML."""
    rows = []
    for name, info in session.nodes().items():
        if not info["up"]:
            fields = "<i>down</i>"
        else:
            fields = "<br>".join(
                f"{html.escape(k)} = {_short(v)}" for k, v in info["fields"].items()
            )
        storage = "<br>".join(f"{html.escape(k)} = {_short(v)}" for k, v in info["storage"].items())
        timers = ", ".join(html.escape(t) for t in info["timers"]) or "-"
        rows.append(
            f"<tr><td><b>{html.escape(name)}</b></td><td>{fields}</td><td>{storage or '-'}</td>"
            f"<td>{timers}</td></tr>"
        )
    flight = "".join(
        f"<li>{html.escape(src)} &rarr; {html.escape(dst)}: {_short(msg)}"
        + (f" &times;{count}" if count > 1 else "")
        + "</li>"
        for src, dst, msg, count in session.in_flight()
    )
    return (
        "<table class='distlib-explore-nodes' style='font-size:85%'><tr><th>node</th>"
        "<th>fields</th><th>storage</th><th>timers</th></tr>"
        + "".join(rows)
        + "</table><b>in flight</b><ul style='font-size:85%'>"
        + (flight or "<li>nothing</li>")
        + "</ul>"
    )
