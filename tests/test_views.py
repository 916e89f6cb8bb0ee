"""Tests for distlib.views: the stepper widget and its frames."""

from __future__ import annotations

import matplotlib
import pytest
from conftest import Echo

from distlib import Constant, Simulation
from distlib.trace import Trace
from distlib.views import step

matplotlib.use("Agg")


def small_run() -> Simulation:
    sim = Simulation(seed=3, latency=Constant(0.01))
    sim.add_nodes(["a", "b"], lambda: Echo(chatty=True, period=0.05))
    sim.run(until=0.12)
    return sim


def test_frames_draw_the_run_up_to_each_event():
    """frames() gives one figure per event, each showing only messages delivered so far."""
    trace = small_run().trace
    figs = frames_of(trace)
    assert len(figs) == len(trace)
    arrows = [sum(type(c).__name__ == "Annotation" for c in f.axes[0].get_children()) for f in figs]
    assert arrows == sorted(arrows), "arrows only accumulate as the run advances"
    assert arrows[-1] == len(trace.filter("deliver"))


def frames_of(trace):
    from distlib.views import frames

    return frames(trace)


def test_step_widget_moves_through_events():
    """The stepper is a widget whose slider spans the events and whose listing follows it."""
    trace = small_run().trace
    box = step(trace, kinds=("send", "deliver"))
    controls, _picture, listing = box.children
    _play, slider = controls.children
    assert slider.max == len(trace.filter(["send", "deliver"])) - 1
    slider.value = 3
    assert "<b>" in listing.value and "#" in listing.value


def test_stepper_refuses_an_empty_trace():
    """Stepping through nothing is a clear error."""
    with pytest.raises(ValueError, match="nothing to step through"):
        frames_of(Trace())


def test_every_frame_has_the_same_sensible_time_axis():
    """At every position, the first included, the axis spans the run (from its first event to
    its last), not 0 to a nanosecond: the picture grows to the right instead of rescaling."""
    trace = small_run().trace
    window = Trace([e for e in trace.events if e.time >= 0.05])  # a window that starts late
    for t in (trace, window):
        limits = {f.axes[0].get_xlim() for f in frames_of(t)}
        assert len(limits) == 1, f"the axis changes between frames: {sorted(limits)[:3]}"
        (lo, hi), first, last = limits.pop(), t.events[0].time, t.events[-1].time
        assert lo <= first and hi >= last, (lo, hi, first, last)
        assert first - lo < 0.1 * (last - first) and hi - last < 0.1 * (last - first)
