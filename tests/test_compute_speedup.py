"""Tests of distlib.compute's speedup laws, their fit, measure_speedup, and the CostModel.

Timings are never asserted on: the fit is checked on synthetic times made from the law itself,
and measure_speedup only for the shape and honesty of its report.
"""

from __future__ import annotations

import math
import operator
import os

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from distlib import compute


@pytest.fixture
def axes():
    """A fresh matplotlib Axes on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def square(x):
    return x * x


def my_pid(_x):
    return os.getpid()


# -- the laws ------------------------------------------------------------------------------


def test_amdahl_limits():
    """Amdahl: no serial part gives S = N, all serial gives S = 1, one worker gives S = 1."""
    assert compute.amdahl_speedup(8, 0.0) == 8, "a fully parallel job scales linearly"
    assert compute.amdahl_speedup(8, 1.0) == 1, "a fully serial job does not speed up"
    assert compute.amdahl_speedup(1, 0.3) == pytest.approx(1), "one worker is the serial time"
    assert compute.amdahl_speedup(10**9, 0.05) == pytest.approx(20, rel=1e-6), (
        "with 5% serial work the speedup tends to 1/0.05 = 20"
    )


def test_gustafson_grows_linearly_with_workers():
    """Gustafson: S(N) = s + (1 - s) N, so each extra worker adds (1 - s)."""
    s = 0.25
    steps = [compute.gustafson_speedup(n + 1, s) - compute.gustafson_speedup(n, s) for n in (1, 5)]
    assert steps == [pytest.approx(1 - s)] * 2, f"each worker should add 0.75, got {steps}"
    assert compute.gustafson_speedup(1, s) == pytest.approx(1), "one worker: no speedup"


def test_laws_reject_impossible_inputs():
    """A serial fraction outside [0, 1] or fewer than one worker is a ValueError."""
    for call in (
        lambda: compute.amdahl_speedup(4, 1.5),
        lambda: compute.amdahl_speedup(0, 0.5),
        lambda: compute.gustafson_speedup(4, -0.1),
    ):
        with pytest.raises(ValueError, match=r"serial_fraction|workers"):
            call()


@settings(max_examples=60, deadline=None)
@given(
    s=st.floats(0.0, 1.0),
    counts=st.lists(st.integers(1, 64), min_size=2, max_size=8, unique=True).filter(
        lambda c: max(c) > 1
    ),
    noise=st.lists(st.floats(-0.02, 0.02), min_size=8, max_size=8),
    serial_time=st.floats(0.01, 100.0),
)
def test_fit_recovers_a_known_serial_fraction(s, counts, noise, serial_time):
    """Times made from Amdahl's law (with 2% noise) give back the serial fraction they came from."""
    times = [
        serial_time / compute.amdahl_speedup(n, s) * (1 + e)
        for n, e in zip(counts, noise, strict=False)
    ]
    report = compute.SpeedupReport(serial_time=serial_time, workers=counts, times=times)
    assert report.serial_fraction == pytest.approx(s, abs=0.05), (
        f"fitted {report.serial_fraction:.4f} from timings made with s = {s:.4f}"
    )
    exact = [compute.amdahl_speedup(n, s) for n in counts]
    assert compute.fit_serial_fraction(counts, exact) == pytest.approx(s, abs=1e-9), (
        "noise-free speedups must give s back exactly"
    )


def test_fit_is_clamped_to_zero_and_one():
    """Superlinear speedups fit to s = 0 and slowdowns to s = 1, never outside [0, 1]."""
    assert compute.fit_serial_fraction([1, 2, 4], [1.0, 2.5, 5.0]) == 0.0, "superlinear"
    assert compute.fit_serial_fraction([1, 2, 4], [1.0, 0.8, 0.6]) == 1.0, "slower with workers"


def test_fit_needs_more_than_one_worker():
    """Measurements with one worker only cannot place the curve: a ValueError says so."""
    with pytest.raises(ValueError, match="more than one worker"):
        compute.fit_serial_fraction([1, 1], [1.0, 0.9])
    with pytest.raises(ValueError, match="same length"):
        compute.fit_serial_fraction([1, 2], [1.0])


# -- reports and measurement ---------------------------------------------------------------


def test_report_computes_speedup_and_efficiency():
    """speedup = serial / time and efficiency = speedup / workers, per row of the table."""
    report = compute.SpeedupReport(serial_time=8.0, workers=(1, 2, 4), times=(8.0, 5.0, 4.0))
    assert report.speedups == (1.0, 1.6, 2.0), f"speedups {report.speedups}"
    assert report.efficiencies == (1.0, 0.8, 0.5), f"efficiencies {report.efficiencies}"
    table = report.table()
    assert "fitted serial fraction" in table and "50%" in table, table
    with pytest.raises(ValueError, match="positive"):
        compute.SpeedupReport(serial_time=1.0, workers=(1,), times=(0.0,))


def test_report_plot_draws_measured_fit_and_ideal(axes):
    """plot() draws three series: the ideal line, the fitted Amdahl curve, the measurements."""
    report = compute.SpeedupReport(serial_time=8.0, workers=(1, 2, 4), times=(8.0, 5.0, 4.0))
    ax = report.plot(ax=axes)
    labels = [line.get_label() for line in ax.get_lines()]
    assert len(labels) == 3 and "measured" in labels, f"plotted series: {labels}"
    assert any(label.startswith("Amdahl") for label in labels), f"plotted series: {labels}"


def test_measure_speedup_times_every_worker_count():
    """measure_speedup reports a positive time for the serial run and each worker count."""
    report = compute.measure_speedup(
        square, range(200), reducer=operator.add, workers=2, repeat=1, start_method="fork"
    )
    assert report.workers == (1, 2), f"worker counts {report.workers}"
    assert report.serial_time > 0 and all(t > 0 for t in report.times), str(report)
    assert 0.0 <= report.serial_fraction <= 1.0, "the fit is clamped to [0, 1]"


def test_measure_speedup_refuses_results_that_differ_from_serial():
    """A job whose result depends on where it runs (a pid) is caught by the serial check."""
    with pytest.raises(ValueError, match="differs from the serial run"):
        compute.measure_speedup(my_pid, range(4), workers=[2], repeat=1, start_method="fork")


# -- the cost model ------------------------------------------------------------------------

models = st.builds(
    compute.CostModel,
    per_item=st.floats(0.0, 1.0),
    per_task=st.floats(0.0, 0.1),
    per_chunk=st.floats(0.0, 5.0),
    workers=st.integers(1, 6),
)


@settings(max_examples=150, deadline=None)
@given(model=models, n_items=st.integers(0, 200), chunksize=st.integers(1, 250))
def test_prediction_is_the_end_of_the_simulated_schedule(model, n_items, chunksize):
    """predict() equals the finish time of the chunk-by-chunk schedule it summarises."""
    runs = model.schedule(n_items, chunksize)
    simulated = max((r.end for r in runs), default=0.0)
    assert model.predict(n_items, chunksize) == pytest.approx(simulated, rel=1e-9, abs=1e-12)
    assert sum(r.size for r in runs) == n_items, "every item is in exactly one chunk"


@settings(max_examples=100, deadline=None)
@given(model=models, n_items=st.integers(1, 300))
@example(
    model=compute.CostModel(per_item=0.0, per_task=5e-324, per_chunk=1.0, workers=1), n_items=2
)
def test_best_chunksize_is_the_minimum_over_all_sizes(model, n_items):
    """best_chunksize() finds a size whose predicted time no other chunk size beats."""
    best = model.best_chunksize(n_items)
    times = [model.predict(n_items, c) for c in range(1, n_items + 1)]
    assert model.predict(n_items, best) == pytest.approx(min(times), rel=1e-9, abs=1e-12), (
        f"size {best} predicts {model.predict(n_items, best)}, but {min(times)} is possible"
    )


def test_cost_model_shows_both_ways_to_lose():
    """Tiny chunks pay the per-chunk overhead; one giant chunk leaves workers idle."""
    model = compute.CostModel(per_item=1e-3, per_task=1e-5, per_chunk=5e-3, workers=4)
    n = 1000
    best = model.best_chunksize(n)
    assert model.predict(n, 1) > 2 * model.predict(n, best), "chunks of 1 should be far slower"
    assert model.predict(n, n) > 3 * model.predict(n, best), "one chunk uses a single worker"
    assert model.speedup(n, best) == pytest.approx(model.serial_time(n) / model.predict(n, best)), (
        "speedup is serial time over predicted time"
    )
    assert model.predict(n, compute.default_chunksize(n, 4)) >= model.predict(n, best)


def test_best_chunksize_scales_to_a_million_items():
    """The exact search stays fast for large inputs (it checks ranges, not every size)."""
    model = compute.CostModel(per_item=1e-7, per_task=5e-8, per_chunk=1e-3, workers=2)
    best = model.best_chunksize(1_000_000)
    assert 1 <= best <= 1_000_000
    nearby = [model.predict(1_000_000, c) for c in (best - 1, best + 1) if c >= 1]
    assert all(model.predict(1_000_000, best) <= t for t in nearby), "not a local minimum"


def test_cost_model_rejects_bad_costs():
    """Negative or infinite costs and non-positive worker counts are ValueErrors."""
    for kwargs in (
        {"per_item": -1.0},
        {"per_item": 1.0, "per_chunk": math.inf},
        {"per_item": 1.0, "workers": 0},
    ):
        with pytest.raises(ValueError, match=r"per_|workers"):
            compute.CostModel(**kwargs)
    with pytest.raises(ValueError, match="chunksize"):
        compute.CostModel(per_item=1.0).predict(10, 0)


def test_cost_model_plot_marks_the_best_chunk_size(axes):
    """CostModel.plot draws predicted time against chunk size with the best size labelled."""
    model = compute.CostModel(per_item=1e-3, per_chunk=5e-3, workers=4)
    ax = model.plot(1000, ax=axes)
    labels = [line.get_label() for line in ax.get_lines()]
    assert f"best: {model.best_chunksize(1000)}" in labels, f"plotted series: {labels}"
