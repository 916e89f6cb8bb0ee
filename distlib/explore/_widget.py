"""Walk the state space by hand: the explorer's states, one step at a time, in a notebook.

This is stateright's Explorer and DSLabs' visual debugger inside JupyterLab. From the initial
state :func:`explore_widget` lists the steps enabled there; take one and see every node's fields
(changes since the previous state highlighted), its storage and armed timers, the messages in
flight, the invariant the state breaks (if any) and the space-time diagram of the path so far.
Go back, go forward again, reset, or jump to a search's counterexample and step through it.

The logic is :class:`ExplorerSession`, plain Python with no widgets (a path of states, the steps
enabled in each, back, forward, jump); the widget only draws it. ipywidgets and matplotlib are
imported when a widget is built, so ``import distlib.explore`` stays light.

>>> result = explorer.search()
>>> explore_widget(explorer, result)      # or result.widget()
"""

from __future__ import annotations

import enum
import html
import io
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from distlib.explore._replay import Replay
from distlib.explore._state import ExploreError, State, Step, canonical

__all__ = ["ExplorerSession", "explore_widget"]

# An Explorer and a search's Result. Not imported: Result.widget() imports this module, and the
# import graph has no cycles (tests/test_layers.py), so this module knows them by what they do.
_Explorer = Any
_Result = Any


class _Visit:
    """A state on the path, with what is worked out about it once (enabled steps, the check)."""

    __slots__ = ("check", "enabled", "flight", "replay", "state")

    def __init__(self, state: State) -> None:
        self.state = state
        self.enabled: list[Step] | None = None
        self.check: tuple[str, str] | None = None
        self.replay: Replay | None = None
        self.flight: list[tuple[str, str, Any, int]] | None = None


class ExplorerSession:
    """A path through the explorer's state space, walked by hand.

    The path starts at ``explorer.initial()``; :meth:`take` adds one of the steps
    :meth:`enabled` in the current state, :meth:`back` undoes the last one (and keeps it, so that
    :meth:`forward` takes it again), :meth:`reset` goes back to the initial state and
    :meth:`jump` makes the path ``result``'s counterexample. Taking a step other than the one
    :meth:`forward` would take forgets the steps that were undone, as a browser's history does.
    Every state is computed once: going back and forward reuses it.
    """

    def __init__(self, explorer: _Explorer, result: _Result | None = None) -> None:
        self.explorer = explorer
        self.result = result
        #: the counterexample :meth:`jump` follows ([] when there is none; a violation in the
        #: initial state is an empty counterexample, see :attr:`has_counterexample`)
        self.counterexample: list[Step] = list(result.trace) if result is not None else []
        self._visits: list[_Visit] = [_Visit(explorer.initial())]
        self._steps: list[Step] = []
        self._future: list[tuple[Step, _Visit]] = []  # undone steps, the next one last
        #: why the last :meth:`jump` stopped short of the counterexample's end ("" if it did not,
        #: and "" again once the path moves)
        self.failure = ""

    # -- where we are -------------------------------------------------------------------------

    @property
    def state(self) -> State:
        """The current state (the last on the path)."""
        return self._visits[-1].state

    @property
    def states(self) -> list[State]:
        """The states along the path: ``states[0]`` is the initial state."""
        return [v.state for v in self._visits]

    @property
    def path(self) -> list[Step]:
        """The steps taken from the initial state to the current one."""
        return list(self._steps)

    @property
    def depth(self) -> int:
        return len(self._steps)

    @property
    def future(self) -> list[Step]:
        """The steps :meth:`forward` would take again, in order."""
        return [step for step, _ in reversed(self._future)]

    @property
    def has_counterexample(self) -> bool:
        return self.result is not None and self.result.verdict == "violated"

    def on_counterexample(self) -> bool:
        """Whether the path so far is a beginning of the counterexample."""
        return self.has_counterexample and self._steps == self.counterexample[: self.depth]

    def next_on_counterexample(self) -> Step | None:
        """The counterexample's next step, when the path so far follows it."""
        if self.on_counterexample() and self.depth < len(self.counterexample):
            return self.counterexample[self.depth]
        return None

    def enabled(self) -> list[Step]:
        """The steps enabled in the current state, in the explorer's order."""
        visit = self._visits[-1]
        if visit.enabled is None:
            visit.enabled = self.explorer.steps(visit.state)
        return visit.enabled

    def violated(self) -> tuple[str, str]:
        """The invariant the current state breaks and what is wrong, or ("", "")."""
        visit = self._visits[-1]
        if visit.check is None:
            visit.check = self.explorer.check(visit.state)
        return visit.check

    # -- moving -------------------------------------------------------------------------------

    def take(self, step: Step | int) -> State:
        """Take ``step`` (a :class:`Step` or an index into :meth:`enabled`) from the current
        state and return the new state. A step that is not enabled raises
        :class:`ExploreError`; a handler that raises lets its exception through, and the path
        stays as it was."""
        self.failure = ""
        enabled = self.enabled()
        if isinstance(step, int):
            if not 0 <= step < len(enabled):
                raise ExploreError(f"there are {len(enabled)} enabled steps, not step {step}")
            step = enabled[step]
        elif step not in enabled:
            raise ExploreError(f"step '{step}' is not enabled in this state")
        if self._future and self._future[-1][0] == step:
            self.forward()
            return self.state
        new = self.explorer.take(self.state, step)
        self._future.clear()
        self._steps.append(step)
        self._visits.append(_Visit(new))
        return new

    def back(self) -> bool:
        """Undo the last step (False at the initial state). :meth:`forward` takes it again."""
        self.failure = ""
        if not self._steps:
            return False
        self._future.append((self._steps.pop(), self._visits.pop()))
        return True

    def forward(self) -> bool:
        """Take again the step :meth:`back` undid last (False when there is none)."""
        self.failure = ""
        if not self._future:
            return False
        step, visit = self._future.pop()
        self._steps.append(step)
        self._visits.append(visit)
        return True

    def reset(self) -> None:
        """Back to the initial state; the path walked stays ahead (:meth:`forward`)."""
        while self.back():
            pass

    def goto(self, depth: int) -> None:
        """Back or forward along the path and the steps ahead to ``depth`` steps."""
        if not 0 <= depth <= self.depth + len(self._future):
            raise ExploreError(
                f"depth {depth} is outside the path (0 to {self.depth + len(self._future)})"
            )
        while self.depth > depth:
            self.back()
        while self.depth < depth:
            self.forward()

    def follow(self, steps: Sequence[Step]) -> None:
        """Make the path ``steps``: go back to where the path and ``steps`` part, then take the
        rest (reusing the states already computed). If a step's handler raises, stop before it
        and say so in :attr:`failure`; a step that is not enabled raises :class:`ExploreError`."""
        self.failure = ""
        steps = list(steps)
        common = 0
        while (
            common < min(len(steps), self.depth) and self._steps[common] == steps[common]
        ):  # the part of the path that stays
            common += 1
        self.goto(common)
        for k in range(common, len(steps)):
            try:
                self.take(steps[k])
            except ExploreError:
                raise  # the step is not enabled: the path is wrong, not the protocol
            except Exception as exc:  # the handler raised
                self.failure = f"step {k + 1}, '{steps[k]}', cannot be taken: {exc}"
                return

    def jump(self) -> None:
        """Make the path the counterexample and go to its end (the violated state, or the state
        before the step whose handler raised). Going back from there steps through it."""
        if not self.has_counterexample:
            raise ExploreError("there is no counterexample to jump to: give a violated result")
        self.follow(self.counterexample)

    # -- pictures -----------------------------------------------------------------------------

    def replay(self) -> Replay:
        """The path so far as a :class:`~distlib.explore.Replay` (an ordinary trace), its last
        event naming the invariant the current state breaks, if it breaks one."""
        visit = self._visits[-1]
        if visit.replay is None:
            prop, _ = self.violated()
            visit.replay = self.explorer.replay(self._steps, violated=prop)
        return visit.replay

    def in_flight(self) -> list[tuple[str, str, Any, int]]:
        """The messages in flight in the current state, as ``(src, dst, message, copies)``:
        read from the path's replayed trace (sent, less delivered or dropped, plus duplicated),
        so only the explorer's public methods are relied on."""
        visit = self._visits[-1]
        if visit.flight is None:
            visit.flight = in_flight(self.replay().trace)
        return visit.flight

    def path_key(self) -> Any:
        """A hashable identity of the path (equal paths, equal keys)."""
        return canonical(tuple(self._steps))


# -- describing a state in HTML ---------------------------------------------------------------

_RUNTIME_FIELDS = frozenset({"_ctx", "_actions"})


def node_fields(node: Any) -> dict[str, Any]:
    """The fields that make up a node's state, as the explorer compares them: the class's
    ``explore_fields`` if it declares them, else every field but the runtime's."""
    declared = getattr(type(node), "explore_fields", None)
    if declared is not None:
        return {name: getattr(node, name) for name in declared}
    return {k: v for k, v in vars(node).items() if k not in _RUNTIME_FIELDS}


def _text(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value)


def _cell(value: Any, limit: int = 70) -> str:
    """``value`` as escaped HTML, cut at ``limit`` characters (the whole of it on hover)."""
    text = _text(value)
    if len(text) <= limit:
        return html.escape(text)
    return f'<span title="{html.escape(text)}">{html.escape(text[: limit - 1])}…</span>'


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:
        return repr(a) == repr(b)


_CHANGED = "background:#fff3b0"


def state_html(
    explorer: _Explorer,
    state: State,
    previous: State | None = None,
    enabled: Sequence[Step] = (),
) -> str:
    """A table of every node in ``state``, one column per node: up or down (with its logical
    clock), its fields, its storage (``storage[key]`` rows) and its armed timers (with their
    payloads when a timer step in ``enabled`` shows them). A value that differs from
    ``previous`` is highlighted."""
    payloads = {
        (step.node, step.timer): step.payload
        for step in enabled
        if step.kind == "timer" and step.payload is not None
    }
    names = explorer.names
    rows: dict[str, list[str]] = {}  # row label -> one cell per node

    def put(label: str, i: int, value: str) -> None:
        rows.setdefault(label, [""] * len(names))[i] = value

    for i in range(len(names)):
        node = state.nodes[i]
        before = previous.nodes[i] if previous is not None else None
        if node is None:
            down = '<b style="color:#b00">down</b>'
            put("(status)", i, _mark(down, previous is not None and before is not None))
        else:
            status = f'<span style="color:#070">up</span>, t={state.clocks[i]:g}'
            if previous is not None and (before is None or previous.clocks[i] != state.clocks[i]):
                status = f'<span style="{_CHANGED}">{status}</span>'
            put("(status)", i, status)
            put("(class)", i, html.escape(type(node).__name__))
            old = node_fields(before) if before is not None and before is not node else None
            for field, value in node_fields(node).items():
                changed = (
                    previous is not None
                    and before is not node
                    and (old is None or field not in old or not _same(old[field], value))
                )
                put(field, i, _mark(_cell(value), changed))
        disk = state.disks[i]
        old_disk = previous.disks[i] if previous is not None else None
        for key in sorted(disk, key=str):
            changed = old_disk is not None and (
                key not in old_disk or not _same(old_disk[key], disk[key])
            )
            put(f"storage[{key!r}]", i, _mark(_cell(disk[key], 50), changed))
        timers = sorted(state.timers[i], key=lambda t: (t.due, t.name))
        lines = [
            html.escape(t.name)
            + f" @ {t.due:g}"
            + (
                f" ({_cell(payloads[names[i], t.name], 30)})"
                if (names[i], t.name) in payloads
                else ""
            )
            for t in timers
        ]
        changed_timers = previous is not None and previous.timers[i] != state.timers[i]
        put("(armed timers)", i, _mark("<br>".join(lines) or "—", changed_timers))
    special = ("(class)", "(status)", "(armed timers)")
    fields = [r for r in rows if r not in special and not r.startswith("storage[")]
    storage = [r for r in rows if r.startswith("storage[")]
    order = ["(class)", "(status)", *fields, *storage, "(armed timers)"]
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    body = "".join(
        f'<tr><th style="text-align:left">{html.escape(label)}</th>'
        + "".join(f"<td>{cell}</td>" for cell in rows[label])
        + "</tr>"
        for label in order
        if label in rows
    )
    return (
        '<table class="distlib-explorer-nodes" style="font-family:monospace;font-size:11px;'
        'border-collapse:collapse" border="1" cellpadding="3">'
        f"<tr><th></th>{head}</tr>{body}</table>"
    )


def _mark(cell: str, changed: bool) -> str:
    return f'<span style="{_CHANGED}">{cell}</span>' if changed else cell


def in_flight(trace: Any) -> list[tuple[str, str, Any, int]]:
    """The messages a trace sent that have not arrived (nor been lost): ``(src, dst, message,
    copies)``, alike messages on one link counted together, in the order first sent."""
    pending: dict[Any, list[Any]] = {}  # message id -> [src, dst, message, copies]
    for e in trace.events:
        if e.kind == "send":
            pending[e.mid] = [e.node, e.peer, e.msg, 1]
        elif e.kind == "dup" and e.mid in pending:
            pending[e.mid][3] += 1
        elif e.kind in ("deliver", "drop") and e.mid in pending:
            pending[e.mid][3] -= 1
            if not pending[e.mid][3]:
                del pending[e.mid]
    links: dict[Any, list[Any]] = {}
    for src, dst, msg, copies in pending.values():
        try:
            key: Any = (src, dst, canonical(msg))
        except ExploreError:
            key = (src, dst, repr(msg))
        if key in links:
            links[key][3] += copies
        else:
            links[key] = [src, dst, msg, copies]
    return [(src, dst, msg, copies) for src, dst, msg, copies in links.values()]


def network_html(session: ExplorerSession) -> str:
    """The messages in flight in the session's current state (each with its number of copies)
    and the fault budgets spent."""
    explorer, state = session.explorer, session.state
    flight = sorted(session.in_flight(), key=lambda m: (m[0], m[1]))
    rows = [
        f"<tr><td>{html.escape(src)} → {html.escape(dst)}</td>"
        f"<td>{_cell(msg, 110)}</td>"
        f"<td>{'×' + str(copies) if copies > 1 else ''}</td></tr>"
        for src, dst, msg, copies in flight
    ]
    drops, dups, crashes, fired = state.spent
    budgets = [
        f"drops {drops}/{explorer.drops}",
        f"duplicates {dups}/{explorer.duplicates}",
        f"crashes {crashes}/{explorer.crashes}",
    ]
    firings = [
        f"{name} {fired[i]}/{'∞' if explorer.timer_budget[i] is None else explorer.timer_budget[i]}"
        for i, name in enumerate(explorer.names)
        if explorer.timer_budget[i] != 0 or fired[i]
    ]
    if firings:
        budgets.append("timer firings: " + ", ".join(firings))
    table = (
        (
            '<table style="font-family:monospace;font-size:11px;border-collapse:collapse" '
            'border="1" cellpadding="3">' + "".join(rows) + "</table>"
        )
        if rows
        else "<i>none</i>"
    )
    return (
        f"<b>messages in flight ({sum(m[3] for m in flight)})</b>{table}"
        f'<div style="font-size:11px;color:#555">spent: {html.escape("; ".join(budgets))}</div>'
    )


def status_html(session: ExplorerSession) -> str:
    """Which invariant the current state breaks (or that none does), and why a jump stopped
    short."""
    prop, problem = session.violated()
    if prop:
        first = problem.splitlines()[0] if problem else ""
        out = (
            '<div class="distlib-explorer-violated" style="background:#fdd;border:1px solid #b00;'
            f'padding:4px"><b>✗ {html.escape(prop)} violated</b> in this state: '
            f"{html.escape(first)}</div>"
        )
    else:
        out = (
            '<div style="background:#e6f4e6;border:1px solid #070;padding:4px">'
            "✓ every invariant holds in this state</div>"
        )
    if session.failure:
        out += (
            '<div style="background:#ffe5cc;border:1px solid #c60;padding:4px">'
            f"{html.escape(session.failure)}</div>"
        )
    return out


def path_html(session: ExplorerSession) -> str:
    """The path as a numbered list, the steps ahead (that forward takes again) in grey."""
    lines = []
    for k, step in enumerate(session.path, 1):
        text = f"{k:>3}. {html.escape(str(step))}"
        lines.append(f"<b>{text}</b>" if k == session.depth else text)
    for k, step in enumerate(session.future, session.depth + 1):
        lines.append(f'<span style="color:#999">{k:>3}. {html.escape(str(step))}</span>')
    body = "\n".join(lines) or "(the initial state: no step taken)"
    return f'<pre style="font-size:11px;line-height:1.3;margin:0">{body}</pre>'


# -- the widget ------------------------------------------------------------------------------


class _Diagrams:
    """The path's space-time diagram as PNG bytes with its title, the last few kept (back and
    forth again is free)."""

    def __init__(self, keep: int = 64) -> None:
        self.keep = keep
        self.pictures: OrderedDict[Any, tuple[bytes, str]] = OrderedDict()
        self.draws = 0  # diagrams drawn (not taken from the cache)

    def picture(self, session: ExplorerSession) -> tuple[bytes, str]:
        key = session.path_key()
        if key in self.pictures:
            self.pictures.move_to_end(key)
            return self.pictures[key]
        import matplotlib.pyplot as plt

        run = session.replay()
        self.draws += 1
        fig = run.diagram(nodes=list(session.explorer.names), show_timers=True)
        buf = io.BytesIO()
        try:
            fig.savefig(buf, format="png", dpi=80)
        finally:
            plt.close(fig)
        title = run.title() if run.steps else "no step taken yet"
        self.pictures[key] = (buf.getvalue(), title)
        while len(self.pictures) > self.keep:
            self.pictures.popitem(last=False)
        return self.pictures[key]


#: Step buttons show their whole label, wrapped and left-aligned (a message can be long).
_STYLE = (
    "<style>.distlib-explorer-step { white-space: normal !important; height: auto !important;"
    " min-height: 28px; text-align: left !important; line-height: 1.3 !important;"
    " padding: 2px 8px !important; }</style>"
)


class _ExplorerUI:
    """The widgets of :func:`explore_widget` and what each button does."""

    def __init__(self, session: ExplorerSession, *, diagram: bool = True) -> None:
        import ipywidgets as widgets

        self.widgets = widgets
        self.session = session
        self.diagrams = _Diagrams()
        self.show_diagram = diagram
        button = widgets.Layout(width="auto")
        self.reset_button = widgets.Button(
            description="reset", icon="undo", tooltip="back to the initial state", layout=button
        )
        self.back_button = widgets.Button(
            description="back", icon="arrow-left", tooltip="undo the last step", layout=button
        )
        self.forward_button = widgets.Button(
            description="forward",
            icon="arrow-right",
            tooltip="take again the step undone last",
            layout=button,
        )
        self.jump_button = widgets.Button(
            description="jump to the counterexample",
            icon="bug",
            button_style="danger",
            tooltip="make the path the search's counterexample and go to its end",
            layout=button,
            disabled=not session.has_counterexample,
        )
        self.position = widgets.HTML()
        self.status = widgets.HTML()
        self.steps_title = widgets.HTML()
        self.step_buttons: list[Any] = []
        self.steps_box = widgets.VBox(layout=widgets.Layout(max_height="320px", overflow="auto"))
        self.path = widgets.HTML(layout=widgets.Layout(max_height="320px", overflow="auto"))
        self.nodes = widgets.HTML()
        self.network = widgets.HTML()
        self.diagram = widgets.Output()
        self.error = widgets.HTML()
        self.reset_button.on_click(lambda _: self._do(session.reset))
        self.back_button.on_click(lambda _: self._do(session.back))
        self.forward_button.on_click(lambda _: self._do(session.forward))
        self.jump_button.on_click(lambda _: self._do(session.jump))
        names = ", ".join(session.explorer.names)
        title = f"<b>explorer</b>: {html.escape(names)}"
        if session.result is not None:
            title += f" — search: {html.escape(str(session.result).splitlines()[0])}"
        left = widgets.VBox([self.steps_title, self.steps_box], layout=widgets.Layout(width="60%"))
        right = widgets.VBox(
            [widgets.HTML("<b>path</b>"), self.path], layout=widgets.Layout(width="40%")
        )
        self.box = widgets.VBox(
            [
                widgets.HTML(_STYLE + title),
                widgets.HBox(
                    [
                        self.reset_button,
                        self.back_button,
                        self.forward_button,
                        self.jump_button,
                        self.position,
                    ]
                ),
                self.error,
                self.status,
                widgets.HBox([left, right]),
                self.diagram,
                self.nodes,
                self.network,
            ]
        )
        self.box.add_class("distlib-explorer")
        for part, name in [
            (self.position, "position"),
            (self.status, "status"),
            (self.path, "path"),
            (self.nodes, "nodes"),
            (self.network, "network"),
            (self.diagram, "diagram"),
            (self.error, "error"),
            (self.reset_button, "reset"),
            (self.back_button, "back"),
            (self.forward_button, "forward"),
            (self.jump_button, "jump"),
        ]:
            part.add_class(f"distlib-explorer-{name}")
        self._shown: State | None = None  # the state drawn last
        self._drawn: Any = None  # the path whose diagram is drawn
        self.refresh()

    # -- actions ------------------------------------------------------------------------------

    def _do(self, action: Any, *args: Any) -> None:
        self.error.value = ""
        try:
            action(*args)
        except Exception as exc:  # a handler that raised, a counterexample that does not apply
            self.error.value = (
                '<div style="background:#ffe5cc;border:1px solid #c60;padding:4px">'
                f"{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</div>"
            )
        self.refresh()

    def _take(self, index: int) -> None:
        enabled = self.session.enabled()
        if index < len(enabled):
            self._do(self.session.take, enabled[index])

    # -- drawing: only what changed -------------------------------------------------------------

    def refresh(self) -> None:
        session = self.session
        state = session.state
        self.back_button.disabled = session.depth == 0
        self.reset_button.disabled = session.depth == 0
        self.forward_button.disabled = not session.future
        where = f"depth {session.depth}"
        if session.has_counterexample and session.on_counterexample():
            total = len(session.counterexample)
            where += f" · step {session.depth} of the {total}-step counterexample"
        self.position.value = f'<span style="padding-left:8px">{html.escape(where)}</span>'
        self.path.value = path_html(session)
        self.status.value = status_html(session)  # (the check is cached: cheap, sent if changed)
        if state is not self._shown:
            previous = session.states[-2] if session.depth else None
            self._draw_steps()
            self.nodes.value = state_html(session.explorer, state, previous, session.enabled())
            self.network.value = network_html(session)
            self._shown = state
        if self.show_diagram:
            key = session.path_key()
            if key != self._drawn:
                self._draw_diagram()
                self._drawn = key

    def _draw_steps(self) -> None:
        widgets = self.widgets
        session = self.session
        enabled = session.enabled()
        hint = session.next_on_counterexample()
        ahead = session.future[0] if session.future else None
        while len(self.step_buttons) < len(enabled):
            k = len(self.step_buttons)
            b = widgets.Button(layout=widgets.Layout(width="auto", max_width="100%"))
            b.style.font_family = "monospace"
            b.on_click(lambda _, k=k: self._take(k))
            b.add_class("distlib-explorer-step")
            self.step_buttons.append(b)
        for k, b in enumerate(self.step_buttons):
            if k >= len(enabled):
                b.layout.display = "none"
                continue
            step = enabled[k]
            b.layout.display = None
            b.description = str(step)
            tip = str(step)
            if hint is not None and step == hint:
                b.button_style = "danger"
                tip += " (the counterexample's next step)"
            elif ahead is not None and step == ahead:
                b.button_style = "info"
                tip += " (the step undone last)"
            else:
                b.button_style = ""
            b.tooltip = tip
        self.steps_box.children = tuple(self.step_buttons[: len(enabled)])
        if enabled:
            self.steps_title.value = f"<b>enabled steps ({len(enabled)})</b>: click one to take it"
        else:
            self.steps_title.value = "<b>no step is enabled</b>: nothing can happen from here"

    def _draw_diagram(self) -> None:
        from IPython.display import Image, display

        try:
            png, title = self.diagrams.picture(self.session)
        except Exception as exc:
            self.diagram.clear_output(wait=True)
            with self.diagram:
                print(f"no diagram: {type(exc).__name__}: {exc}")
            return
        self.diagram.clear_output(wait=True)
        with self.diagram:
            display(Image(data=png, format="png"))
            display({"text/plain": f"space-time diagram of the path: {title}"}, raw=True)


def explore_widget(explorer: _Explorer, result: _Result | None = None, *, diagram: bool = True):
    """A widget to walk ``explorer``'s state space by hand, from its initial state: click an
    enabled step to take it, see every node's state, the messages in flight, the invariant the
    state breaks and the space-time diagram of the path; back, forward, reset; with a violated
    ``result`` (from ``explorer.search()``), jump to its counterexample and step through it.

    Returns an ipywidgets box (make it a cell's last expression); its ``session`` attribute is
    the :class:`ExplorerSession` it draws. ``diagram=False`` leaves out the diagram.
    """
    if result is not None and not (hasattr(result, "verdict") and hasattr(result, "trace")):
        raise TypeError(f"result must be a search's Result, not {type(result).__name__}")
    ui = _ExplorerUI(ExplorerSession(explorer, result), diagram=diagram)
    box = ui.box
    box.session = ui.session
    box.ui = ui
    return box
