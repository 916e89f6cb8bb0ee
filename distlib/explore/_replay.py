"""A counterexample as an ordinary :class:`~distlib.trace.Trace`.

The explorer's steps are taken again, one by one, through the same handlers, and every event
is recorded as the simulation records it (``send``, ``deliver``, ``drop``, ``dup``, ``timer``,
``crash``, ``restart``, ``note``), one step per millisecond of a made-up clock. So the space-time
diagram, the stepper and the listing show a counterexample exactly as they show any run, and the
last event names the property that the last step broke.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from distlib.explore._state import ExploreError, State, Step, canonical
from distlib.node import Note, Send
from distlib.trace import Trace

__all__ = ["Replay", "replay"]

#: Simulated seconds between two steps of a replay.
TICK = 0.001


@dataclass
class Replay:
    """A replayed path: its ``trace``, the ``states`` after each step (``states[0]`` is the
    initial state), the ``steps`` and the property the last step broke (``violated``)."""

    trace: Trace
    states: list[State]
    steps: list[Step]
    violated: str = ""
    problem: str = ""
    times: list[float] = field(default_factory=list)

    @property
    def end(self) -> float:
        return self.times[-1] if self.times else 0.0

    def diagram(self, **options: Any) -> Any:
        """The space-time diagram of the whole path."""
        from distlib.views import spacetime

        options.setdefault("title", self.title())
        return spacetime(self.trace, **options)

    def title(self) -> str:
        if self.violated:
            return f"{self.violated} violated after {len(self.steps)} steps"
        return f"{len(self.steps)} steps"

    def listing(self) -> str:
        return self.trace.listing()


def replay(explorer: Any, steps: Sequence[Step], *, violated: str = "") -> Replay:
    """Take ``steps`` from the :class:`~distlib.explore.Explorer`'s initial state and record
    them as a trace."""
    trace = Trace()
    clock = [0.0]
    mids: dict[tuple[str, str, Any], list[int]] = {}
    counter = [0]

    def listen(name: str, what: str, actions: list[Any]) -> None:
        now = clock[0]
        for act in actions:
            if isinstance(act, Send):
                counter[0] += 1
                key = (name, act.dst, canonical(act.msg))
                mids.setdefault(key, []).append(counter[0])
                trace.record(now, "send", name, act.dst, counter[0], act.msg)
                if act.dst == name:  # delivered by the runtime at once
                    mids[key].pop()
                    trace.record(now, "deliver", name, name, counter[0], act.msg)
            elif isinstance(act, Note):
                trace.record(now, "note", name, detail=act.text, data=dict(act.data))

    explorer._listen = listen
    try:
        for name in explorer.names:
            trace.record(0.0, "start", name, detail="started")
        state = explorer.initial()
        states = [state]
        times = [0.0]
        for k, step in enumerate(steps, 1):
            clock[0] = now = k * TICK
            key = (step.src, step.node, canonical(step.msg)) if step.src is not None else None
            if step.kind in ("deliver", "drop"):
                queue = mids.get(key) if key is not None else None
                mid = queue.pop(0) if queue else None
                kind = "deliver" if step.kind == "deliver" else "drop"
                detail = "" if kind == "deliver" else "loss"
                trace.record(now, kind, step.src, step.node, mid, step.msg, detail)
            elif step.kind == "duplicate":
                queue = mids.get(key) if key is not None else None
                mid = queue[0] if queue else None
                if queue and mid is not None:
                    queue.append(mid)  # the copy arrives (or not) later, under the same id
                trace.record(now, "dup", step.src, step.node, mid, step.msg)
            elif step.kind == "timer":
                trace.record(now, "timer", step.node, detail=step.timer or "")
            elif step.kind == "crash":
                trace.record(now, "crash", step.node, detail="crashed")
            elif step.kind == "restart":
                trace.record(now, "restart", step.node, detail="restarted")
            try:
                state = explorer.take(state, step)
            except ExploreError:
                raise  # a step that does not apply: the path is wrong, not the protocol
            except Exception as exc:  # the step that made a handler raise
                trace.record(now, "error", step.node, detail=f"{type(exc).__name__}: {exc}")
                break
            states.append(state)
            times.append(now)
    finally:
        explorer._listen = None
    prop, problem = explorer.check(state) if violated else ("", "")
    if violated:
        what = f"violated: {prop or violated}" + (f": {problem.splitlines()[0]}" if problem else "")
        trace.record(times[-1], "error", steps[-1].node if steps else None, detail=what)
    return Replay(trace, states, list(steps), prop or violated, problem, times)
