"""Tests for Lab 8's detection measurements (distlib.labs.lab08_resilience.detection): detection
time against false suspicions."""

from __future__ import annotations

import itertools

import pytest

from distlib import Constant
from distlib.labs.lab08_resilience.detection import detector_factory, measure, plot, table, tradeoff
from distlib.protocols.detectors import FixedTimeout

# Short runs: 6 trials of 5 simulated minutes each take well under a second per setting.
FAST = {"duration": 300.0, "trials": 6}


def test_clean_network_timeout_detection_is_bounded():
    """Without loss, detection takes between timeout - period and timeout + latency."""
    r = measure(lambda: FixedTimeout(2.0), latency=Constant(0.01), loss=0.0, **FAST)
    assert r.missed == 0 and r.false_suspicions == 0, f"{r}"
    assert all(1.0 <= t <= 2.01 + 1e-9 for t in r.detection_times), f"{r.detection_times}"


@pytest.mark.parametrize("kind,values", [("phi", [1, 3, 8, 16]), ("timeout", [1.2, 1.6, 2.5, 4])])
def test_stricter_settings_trade_speed_for_accuracy(kind, values):
    """Chen et al. 2002: on equal heartbeats a higher threshold is slower but errs less often."""
    results = tradeoff(kind, values, **FAST)
    for lo, hi in itertools.pairwise(results):
        assert hi.mean_detection >= lo.mean_detection, f"{hi.label} detected faster than {lo.label}"
        assert hi.false_suspicions <= lo.false_suspicions, (
            f"{hi.label} made {hi.false_suspicions} false suspicions, {lo.label} only "
            f"{lo.false_suspicions}"
        )
    assert results[0].false_suspicions > results[-1].false_suspicions, "no trade-off visible"
    assert all(r.missed == 0 for r in results), "a crash went undetected"


def test_measurement_is_seeded():
    """Same seed, same numbers; another seed, another network history."""
    factory = detector_factory("phi", 4.0)
    a = measure(factory, seed=1, **FAST)
    b = measure(factory, seed=1, **FAST)
    c = measure(factory, seed=2, **FAST)
    assert a == b, "two runs with seed 1 differ"
    assert a.detection_times != c.detection_times, "seeds 1 and 2 gave the same crash timings"


def test_rates_are_per_hour_of_failure_free_time():
    """false_per_hour is suspicions per observed hour; accuracy is the truthful share of time."""
    r = measure(detector_factory("timeout", 1.1), loss=0.05, **FAST)
    assert r.observed >= 6 * 300.0
    assert r.false_per_hour == pytest.approx(r.false_suspicions / (r.observed / 3600))
    assert 0.0 < r.query_accuracy < 1.0


def test_table_and_plot_show_every_setting():
    """The table has a row per setting and the plot a line per detector family."""
    results = tradeoff("phi", [2, 8], **FAST) + tradeoff("timeout", [1.5, 3], **FAST)
    text = table(results)
    for label in ("phi 2", "phi 8", "timeout 1.5 s", "timeout 3 s"):
        assert label in text, f"{label!r} missing from\n{text}"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plot(results)
    assert len(fig.axes[0].get_lines()) == 2
    plt.close(fig)


def test_bad_arguments_are_refused():
    """Unknown detector families and non-positive durations raise clear errors."""
    with pytest.raises(ValueError, match="kind"):
        detector_factory("heartbeat", 1.0)
    with pytest.raises(ValueError, match="duration"):
        measure(detector_factory("timeout", 2.0), duration=0)
    with pytest.raises(TypeError, match="factory"):
        measure(FixedTimeout(2.0))
