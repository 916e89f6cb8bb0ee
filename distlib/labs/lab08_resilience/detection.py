"""Measuring failure detectors: detection time against false suspicions, by simulation.

One experiment (:func:`measure`) runs two nodes over a simulated network: ``p`` sends a heartbeat
every ``period`` and ``q`` watches it with the detector under test
(:mod:`distlib.protocols.detectors`). The network loses and delays heartbeats (by default 1% loss
and a long-tailed delay), so an alive ``p`` sometimes falls silent long enough to be suspected.

Each trial runs ``p`` failure-free for ``duration`` seconds, counting ``q``'s *false suspicions*
(it suspected ``p`` while ``p`` was up) and the time they lasted, then crashes ``p`` at a random
point of its heartbeat cycle and measures the *detection time*: from the crash until ``q`` starts
suspecting ``p`` for good (Chen, Toueg and Aguilera 2002 call these the mistake rate λ_M and the
detection time T_D). Trials use different seeds; a given seed gives the same numbers.

:func:`tradeoff` repeats the experiment across thresholds (φ levels, or timeouts), with the same
seeds for every threshold, so the curve compares detectors on identical network histories.
:func:`table` prints the result and :func:`plot` draws detection time against false suspicions
per hour, one curve per detector family.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from distlib.protocols.detectors import Detector, FixedTimeout, HeartbeatNode, PhiAccrual
from distlib.sim.network import Exponential, Latency
from distlib.sim.simulation import Simulation

__all__ = ["DetectorQuality", "detector_factory", "measure", "plot", "table", "tradeoff"]

#: The default network of the experiments: 1% loss, 10 ms minimum delay plus an exponential
#: tail of mean 100 ms (so one delay in a thousand exceeds about 0.7 s).
DEFAULT_LATENCY = Exponential(0.1, 0.01)
DEFAULT_LOSS = 0.01


@dataclass(frozen=True, slots=True)
class DetectorQuality:
    """What :func:`measure` observed for one detector configuration."""

    label: str  # e.g. "phi 8" or "timeout 2.5 s"
    kind: str  # "phi", "timeout" or "custom"
    parameter: float  # the threshold or timeout (nan for a custom detector)
    detection_times: tuple[float, ...]  # one per trial whose crash was detected
    missed: int  # trials in which the crash was not detected within `patience`
    false_suspicions: int  # suspicions of an alive process
    mistake_seconds: float  # total time spent wrongly suspecting
    observed: float  # seconds of failure-free operation observed (all trials)

    @property
    def mean_detection(self) -> float:
        """Mean detection time in seconds (nan if no crash was detected)."""
        return statistics.fmean(self.detection_times) if self.detection_times else math.nan

    @property
    def max_detection(self) -> float:
        return max(self.detection_times) if self.detection_times else math.nan

    @property
    def false_per_hour(self) -> float:
        """False suspicions per hour of failure-free operation (the mistake rate)."""
        return self.false_suspicions / (self.observed / 3600.0)

    @property
    def query_accuracy(self) -> float:
        """Fraction of failure-free time during which the detector told the truth."""
        return 1.0 - self.mistake_seconds / self.observed


def _label(kind: str, parameter: float) -> str:
    if kind == "phi":
        return f"phi {parameter:g}"
    if kind == "timeout":
        return f"timeout {parameter:g} s"
    return "custom"


def measure(
    detector: Callable[[], Detector],
    *,
    kind: str = "custom",
    parameter: float = math.nan,
    period: float = 1.0,
    latency: Latency | float = DEFAULT_LATENCY,
    loss: float = DEFAULT_LOSS,
    duration: float = 600.0,
    trials: int = 6,
    patience: float = 60.0,
    seed: int = 0,
) -> DetectorQuality:
    """Run ``trials`` experiments with detectors built by ``detector()``; see the module doc.

    ``duration`` is the failure-free time per trial, ``patience`` how long after the crash a
    detection still counts. ``kind`` and ``parameter`` only label the result.
    """
    if not callable(detector):
        raise TypeError(
            f"detector must be a factory such as lambda: PhiAccrual(8), not {detector!r}"
        )
    if not isinstance(trials, int) or isinstance(trials, bool) or trials < 1:
        raise ValueError(f"trials must be a positive int, not {trials!r}")
    for name, value in (("period", period), ("duration", duration), ("patience", patience)):
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not 0 < value < math.inf
        ):
            raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, not {seed!r}")

    detections: list[float] = []
    missed = 0
    false_suspicions = 0
    mistake = 0.0
    observed = 0.0
    for trial in range(trials):
        sim = Simulation(seed=seed * 1000 + trial, trace=False, latency=latency, loss=loss)
        sim.add_node("p", lambda: HeartbeatNode(period=period, watch=()))
        sim.add_node(
            "q", lambda: HeartbeatNode(period=period, detector=detector, watch=("p",), send_to=())
        )
        # Crash at a random phase of p's heartbeat cycle, not always right after a beat.
        crash_at = duration + random.Random(f"{seed}/{trial}/crash").uniform(0.0, period)
        sim.run(until=crash_at)
        sim.crash("p")
        sim.run(until=crash_at + patience)
        log = sim.node("q", HeartbeatNode).log

        suspected_since: float | None = None
        for t, _peer, what in log:
            if t > crash_at:
                break
            if what == "suspect":
                false_suspicions += 1
                suspected_since = t
            elif suspected_since is not None:
                mistake += t - suspected_since
                suspected_since = None
        if suspected_since is not None:
            mistake += crash_at - suspected_since
        observed += crash_at

        # Chen et al. 2002: T_D runs from the crash to the start of the permanent suspicion.
        if log and log[-1][2] == "suspect":
            detections.append(max(0.0, log[-1][0] - crash_at))
        else:
            missed += 1

    return DetectorQuality(
        label=_label(kind, parameter),
        kind=kind,
        parameter=float(parameter),
        detection_times=tuple(detections),
        missed=missed,
        false_suspicions=false_suspicions,
        mistake_seconds=mistake,
        observed=observed,
    )


def detector_factory(
    kind: str, value: float, *, period: float = 1.0, window: int = 100, margin: float = 0.0
) -> Callable[[], Detector]:
    """A zero-argument factory of detectors of one family at one setting.

    ``kind="phi"``: :class:`PhiAccrual` with threshold ``value`` (the heartbeat period as its
    expected interval, ``window`` and ``margin`` as given); ``kind="timeout"``:
    :class:`FixedTimeout` with a timeout of ``value`` seconds.
    """
    if kind == "phi":
        return lambda: PhiAccrual(value, window=window, expected_interval=period, margin=margin)
    if kind == "timeout":
        return lambda: FixedTimeout(value)
    raise ValueError(f"kind must be 'phi' or 'timeout', not {kind!r}")


def tradeoff(
    kind: str, values: Iterable[float], *, window: int = 100, margin: float = 0.0, **options: Any
) -> list[DetectorQuality]:
    """Measure one detector family at several settings, on the same network histories.

    See :func:`detector_factory` for ``kind``, ``window`` and ``margin``; other options go to
    :func:`measure`. Every setting sees the same heartbeats, so raising a threshold can only
    slow detection and remove false suspicions, never the reverse.
    """
    period = options.get("period", 1.0)
    return [
        measure(
            detector_factory(kind, v, period=period, window=window, margin=margin),
            kind=kind,
            parameter=v,
            **options,
        )
        for v in values
    ]


def table(results: Iterable[DetectorQuality]) -> str:
    """A plain-text table: setting, mean and worst detection time, false suspicions per hour."""
    lines = [
        f"{'detector':<16}{'T_D mean':>10}{'T_D max':>10}{'missed':>8}{'false/h':>10}"
        f"{'accuracy':>10}"
    ]
    for r in results:
        lines.append(
            f"{r.label:<16}{r.mean_detection:>9.2f}s{r.max_detection:>9.2f}s{r.missed:>8d}"
            f"{r.false_per_hour:>10.2f}{r.query_accuracy:>10.5f}"
        )
    return "\n".join(lines)


def plot(results: Sequence[DetectorQuality], *, ax=None):
    """Detection time (x) against false suspicions per hour (y), one line per detector family.

    Each point is labelled with its setting. Zero false suspicions are drawn on the linear part
    of a symmetric-log axis. Returns the matplotlib figure.
    """
    import matplotlib.pyplot as plt

    results = list(results)
    if not results:
        raise ValueError("no results to plot")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 4.2))
    else:
        fig = ax.figure
    # Each family writes its settings at its own offset, so coinciding points stay readable.
    offsets = ((4, 4), (4, -11), (-14, 5))
    for j, kind in enumerate(dict.fromkeys(r.kind for r in results)):
        rs = sorted((r for r in results if r.kind == kind), key=lambda r: r.mean_detection)
        xs = [r.mean_detection for r in rs]
        ys = [r.false_per_hour for r in rs]
        name = {"phi": "φ accrual", "timeout": "fixed timeout"}.get(kind, kind)
        (line,) = ax.plot(xs, ys, marker="o", label=name)
        for r, x, y in zip(rs, xs, ys, strict=True):
            ax.annotate(
                f"{r.parameter:g}",
                (x, y),
                textcoords="offset points",
                xytext=offsets[j % len(offsets)],
                fontsize=8,
                color=line.get_color(),
            )
    ax.set_yscale("symlog", linthresh=0.1)
    ax.set_xlabel("mean detection time after a crash (s)")
    ax.set_ylabel("false suspicions per hour")
    ax.set_title("Failure detectors: speed against accuracy")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig
