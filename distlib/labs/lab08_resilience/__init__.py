"""Lab 8's experiments: failure detectors on changing networks, fail-over, and queue tails.

Three runners build on the measuring modules of the library and add what Lab 8 asks beyond them:

* **Detectors on several networks** (:func:`across_networks`, :func:`adaptation`). The trade-off
  curve of :mod:`distlib.labs.lab08_resilience.detection` compares detectors on one network.
  Here one *setting* of each detector is run on networks of very different delay
  (:data:`NETWORKS`), and on a network whose delay changes in the middle of a run: a fixed
  timeout must be re-tuned for each, the φ accrual detector re-estimates the heartbeat
  distribution from its sliding window.
  :func:`heartbeat_arrivals` records when fresh heartbeats arrive; :func:`allowed_silences`
  replays those arrivals through a detector offline and reports how long a silence it would
  tolerate after each one (the same decision :class:`~distlib.protocols.detectors.HeartbeatNode`
  makes in a run, without re-simulating the network for every detector).
* **Fail-over** (:func:`detector_failover_run`, :func:`failover_table`). A primary serves a
  client; a backup watches it with a failure detector and takes over when it suspects the
  primary. A crash then costs the client about one detection time of unanswered requests; a false
  suspicion makes the backup take over from a live primary, so that for a while *two* nodes
  believe they are the primary. This naive scheme has no epochs or fencing (Labs 4 and 7 add
  them); it is here to show what a detector's mistakes cost.
* **Queue lengths under a balancing policy** (:func:`queue_tail`, :func:`supermarket_tail`).
  The fraction of servers holding at least ``i`` requests, as seen by arriving requests in the
  model of :mod:`distlib.labs.lab08_resilience.queueing`, against Mitzenmacher's limit for
  ``n → ∞`` servers: ``λ^i`` for random choice and ``λ^((d^i - 1)/(d - 1))`` for the best of
  ``d`` choices.

Everything is seeded; same arguments, same numbers. Plots import matplotlib lazily.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any

from distlib.labs.lab08_resilience.detection import DetectorQuality, measure, tradeoff
from distlib.labs.lab08_resilience.queueing import simulate_queue
from distlib.node import Node
from distlib.protocols.balance import Policy, make_policy
from distlib.protocols.detectors import Detector, Heartbeat, HeartbeatNode
from distlib.sim.network import Exponential, Latency
from distlib.sim.simulation import Simulation

__all__ = [
    "NETWORKS",
    "AdaptationResult",
    "FailoverClient",
    "FailoverReplica",
    "FailoverRun",
    "NetworkCondition",
    "NetworkRow",
    "Primary",
    "Reply",
    "Request",
    "across_networks",
    "adaptation",
    "allowed_silences",
    "bank_using",
    "detector_failover_run",
    "failover_table",
    "heartbeat_arrivals",
    "networks_table",
    "plot_adaptation",
    "plot_failover",
    "plot_networks",
    "plot_queue_tail",
    "queue_tail",
    "steady_tradeoff",
    "supermarket_tail",
]


# --------------------------------------------------------------------------------------------
# Networks.


@dataclass(frozen=True, slots=True)
class NetworkCondition:
    """A named network: one-way delay distribution and loss probability of every message."""

    name: str
    latency: Latency
    loss: float
    description: str = ""


#: Three networks of very different delay, each losing 1% of the messages. Delays are a minimum
#: plus an exponential tail: a LAN (mean 6 ms), a WAN link (mean 110 ms), and a congested path
#: (mean 520 ms, so one delay in a hundred exceeds 2.4 s).
NETWORKS: dict[str, NetworkCondition] = {
    "LAN": NetworkCondition("LAN", Exponential(0.005, 0.001), 0.01, "mean delay 6 ms"),
    "WAN": NetworkCondition("WAN", Exponential(0.1, 0.01), 0.01, "mean delay 110 ms"),
    "congested": NetworkCondition(
        "congested", Exponential(0.5, 0.02), 0.01, "mean delay 520 ms, long tail"
    ),
}


def _check_network(net: Any) -> NetworkCondition:
    if isinstance(net, str):
        try:
            return NETWORKS[net]
        except KeyError:
            raise ValueError(f"unknown network {net!r} (known: {', '.join(NETWORKS)})") from None
    if not isinstance(net, NetworkCondition):
        raise TypeError(f"a network is a NetworkCondition or one of {list(NETWORKS)}, not {net!r}")
    return net


def _check_factories(detectors: Any) -> dict[str, Callable[[], Detector]]:
    if not isinstance(detectors, Mapping) or not detectors:
        raise TypeError(
            "detectors must be a non-empty dict from a label to a factory, "
            "such as {'phi 8': lambda: PhiAccrual(8, expected_interval=1.0)}"
        )
    for label, factory in detectors.items():
        if not isinstance(label, str) or not callable(factory):
            raise TypeError(f"detectors[{label!r}] must be a zero-argument factory of detectors")
    return dict(detectors)


# --------------------------------------------------------------------------------------------
# One detector setting, several networks.


@dataclass(frozen=True, slots=True)
class NetworkRow:
    """One detector setting measured on one network."""

    network: str
    detector: str
    quality: DetectorQuality


def across_networks(
    detectors: Mapping[str, Callable[[], Detector]],
    networks: Sequence[str | NetworkCondition] = tuple(NETWORKS),
    *,
    period: float = 1.0,
    duration: float = 600.0,
    trials: int = 6,
    seed: int = 0,
) -> list[NetworkRow]:
    """Measure every detector setting, unchanged, on every network (same seeds throughout).

    Each measurement is :func:`distlib.labs.lab08_resilience.detection.measure`: ``trials``
    runs of ``duration`` failure-free seconds followed by a crash.
    """
    factories = _check_factories(detectors)
    rows = []
    for net in map(_check_network, networks):
        for label, factory in factories.items():
            q = measure(
                factory,
                kind="custom",
                period=period,
                latency=net.latency,
                loss=net.loss,
                duration=duration,
                trials=trials,
                seed=seed,
            )
            rows.append(NetworkRow(net.name, label, q))
    return rows


def networks_table(rows: Sequence[NetworkRow]) -> str:
    """Plain text: per network and detector, mean detection time and false suspicions/hour."""
    if not rows:
        raise ValueError("no rows to tabulate")
    width = max(10, *(len(r.detector) for r in rows))
    lines = [f"{'network':<11}{'detector':<{width}}{'T_D mean':>10}{'false/h':>10}"]
    for r in rows:
        q = r.quality
        lines.append(
            f"{r.network:<11}{r.detector:<{width}}{q.mean_detection:>9.2f}s{q.false_per_hour:>10.1f}"
        )
    return "\n".join(lines)


def plot_networks(rows: Sequence[NetworkRow]):
    """Two bar charts side by side: detection time and false suspicions per hour, grouped by
    network, one bar per detector setting, each bar labelled with its value. Returns the
    matplotlib figure."""
    import matplotlib.pyplot as plt

    if not rows:
        raise ValueError("no rows to plot")
    nets = list(dict.fromkeys(r.network for r in rows))
    dets = list(dict.fromkeys(r.detector for r in rows))
    by = {(r.network, r.detector): r.quality for r in rows}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    width = 0.8 / len(dets)
    panels = (
        ("mean detection time after a crash (s)", lambda q: q.mean_detection, "{:.1f}"),
        ("false suspicions per hour", lambda q: q.false_per_hour, "{:.0f}"),
    )
    for ax, (title, value, fmt) in zip(axes, panels, strict=True):
        for j, det in enumerate(dets):
            xs = [i + (j - (len(dets) - 1) / 2) * width for i in range(len(nets))]
            ys = [value(by[n, det]) for n in nets]
            bars = ax.bar(xs, ys, width, label=det)
            ax.bar_label(bars, labels=[fmt.format(y) for y in ys], fontsize=8, padding=2)
        ax.set_xticks(range(len(nets)), nets)
        ax.set_title(title)
        ax.margins(y=0.15)
        ax.grid(True, axis="y", alpha=0.3)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=len(dets))
    fig.suptitle("One setting per detector, three networks")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def steady_tradeoff(
    phi_thresholds: Sequence[float] = (0.5, 1, 2, 4, 8, 16),
    timeouts: Sequence[float] = (1.5, 2, 2.5, 3, 4),
    *,
    margin: float = 1.0,
    network: str | NetworkCondition = "WAN",
    period: float = 1.0,
    duration: float = 600.0,
    trials: int = 6,
    seed: int = 0,
) -> list[DetectorQuality]:
    """The trade-off curves of three detector families on one steady network: φ accrual as in
    the paper, φ accrual with a ``margin`` (seconds added to the estimated mean interval), and
    a fixed timeout. Every setting sees the same heartbeats. Results are labelled by family in
    ``kind``, ready for :func:`distlib.labs.lab08_resilience.detection.plot`."""
    net = _check_network(network)
    on_net = functools.partial(
        tradeoff,
        period=period,
        latency=net.latency,
        loss=net.loss,
        duration=duration,
        trials=trials,
        seed=seed,
    )
    plain = [replace(q, kind="φ accrual (paper)") for q in on_net("phi", phi_thresholds)]
    padded = [
        replace(q, kind=f"φ accrual + {margin:g} s margin", label=f"{q.label} +{margin:g}s")
        for q in on_net("phi", phi_thresholds, margin=margin)
    ]
    fixed = on_net("timeout", timeouts)
    return plain + padded + fixed


# --------------------------------------------------------------------------------------------
# A network that changes during the run.


class _ArrivalRecorder(Node):
    """Records the arrival time of every fresh heartbeat (duplicates and overtaken ones ignored,
    as :class:`~distlib.protocols.detectors.HeartbeatNode` does)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[float] = []
        self.highest = 0

    def on_message(self, src: str, msg: object) -> None:
        if isinstance(msg, Heartbeat) and msg.seq > self.highest:
            self.highest = msg.seq
            self.arrivals.append(self.now)


def heartbeat_arrivals(
    *,
    before: str | NetworkCondition = "LAN",
    after: str | NetworkCondition = "congested",
    change_at: float = 600.0,
    duration: float = 1800.0,
    period: float = 1.0,
    seed: int = 0,
) -> list[float]:
    """Arrival times of fresh heartbeats from a live sender, every ``period`` seconds, over a
    network that behaves like ``before`` until ``change_at`` and like ``after`` from then on."""
    before, after = _check_network(before), _check_network(after)
    if not 0 < change_at < duration:
        raise ValueError(f"change_at must lie inside the run (0, {duration}), not {change_at!r}")
    sim = Simulation(seed=seed, trace=False, latency=before.latency, loss=before.loss)
    sim.add_node("p", lambda: HeartbeatNode(period=period, watch=(), send_to=("q",)))
    sim.add_node("q", _ArrivalRecorder)
    sim.at(change_at, lambda: sim.network.configure(latency=after.latency, loss=after.loss))
    sim.run(until=duration)
    return list(sim.node("q", _ArrivalRecorder).arrivals)


def allowed_silences(detector: Detector, arrivals: Sequence[float]) -> list[tuple[float, float]]:
    """Replay heartbeat ``arrivals`` through ``detector``; for each heartbeat after the first,
    ``(arrival time, silence the detector tolerated before it)``.

    The tolerated silence is ``deadline - last heartbeat`` as the detector stood just before the
    heartbeat arrived (``inf`` while it had too little data). A gap between heartbeats at least
    that long is a moment the detector suspected a live sender.
    """
    if not isinstance(detector, Detector):
        raise TypeError(f"allowed_silences needs a Detector object, not {detector!r}")
    out = []
    for t in arrivals:
        if detector.last is not None:
            deadline = detector.deadline()
            out.append((t, math.inf if deadline is None else deadline - detector.last))
        detector.heartbeat(t)
    return out


@dataclass(frozen=True, slots=True)
class AdaptationResult:
    """How one detector setting fared before and after the network changed."""

    detector: str
    false_before: int  # heartbeat gaps at least as long as the tolerated silence, before
    false_after: int  # the same after the change
    tolerated_before: float  # median tolerated silence before the change (s)
    tolerated_after: float  # median tolerated silence in the last half of the run after it (s)
    silences: tuple[tuple[float, float], ...]  # (time, tolerated silence) for every heartbeat


def _median(values: list[float]) -> float:
    if not values:
        return math.nan
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def adaptation(
    detectors: Mapping[str, Callable[[], Detector]],
    arrivals: Sequence[float],
    *,
    change_at: float,
) -> list[AdaptationResult]:
    """Replay the same heartbeat arrivals through each detector setting (see
    :func:`allowed_silences`) and count its false suspicions before and after ``change_at``."""
    factories = _check_factories(detectors)
    if len(arrivals) < 3:
        raise ValueError("adaptation needs a run with at least three heartbeats")
    end = arrivals[-1]
    results = []
    for label, factory in factories.items():
        silences = allowed_silences(factory(), arrivals)
        false_before = false_after = 0
        for previous, (t, allowed) in zip(arrivals, silences, strict=False):
            if t - previous >= allowed:
                if t < change_at:
                    false_before += 1
                else:
                    false_after += 1
        late_start = change_at + (end - change_at) / 2
        results.append(
            AdaptationResult(
                detector=label,
                false_before=false_before,
                false_after=false_after,
                tolerated_before=_median([a for t, a in silences if t < change_at]),
                tolerated_after=_median([a for t, a in silences if t >= late_start]),
                silences=tuple(silences),
            )
        )
    return results


def plot_adaptation(
    results: Sequence[AdaptationResult], arrivals: Sequence[float], *, change_at: float
):
    """Gaps between heartbeats (dots) and each detector's tolerated silence (lines) over time.

    A dot on or above a detector's line is a false suspicion by that detector. Returns the
    matplotlib figure.
    """
    import matplotlib.pyplot as plt

    if not results:
        raise ValueError("no results to plot")
    fig, ax = plt.subplots(figsize=(10, 4.6))
    gaps = [(b, b - a) for a, b in pairwise(arrivals)]
    ax.scatter(
        [t for t, _ in gaps], [g for _, g in gaps], s=4, color="0.6", label="gap between heartbeats"
    )
    top = max(g for _, g in gaps)
    for r in results:
        pts = [(t, a) for t, a in r.silences if math.isfinite(a)]
        top = max(top, *(a for _, a in pts))
        ax.step(
            [t for t, _ in pts],
            [a for _, a in pts],
            where="post",
            linewidth=1.8,
            label=f"{r.detector} (false suspicions: {r.false_before} before, "
            f"{r.false_after} after)",
        )
    ax.axvline(change_at, color="black", linestyle=":", linewidth=1)
    ax.annotate(
        "the network becomes congested",
        (change_at, 0.97),
        xycoords=("data", "axes fraction"),
        xytext=(4, -10),
        textcoords="offset points",
        fontsize=9,
    )
    ax.set_ylim(0, top * 1.08)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("seconds since the previous heartbeat")
    ax.set_title("Tolerated silence: fixed, or estimated from recent heartbeats")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# Fail-over driven by a failure detector.


@dataclass(frozen=True, slots=True)
class Request:
    """The client's ``rid``-th request."""

    rid: int


@dataclass(frozen=True, slots=True)
class Reply:
    """``server`` answered request ``rid``."""

    rid: int
    server: str


@dataclass(frozen=True, slots=True)
class Primary:
    """``server`` is now the primary: send requests there."""

    server: str


class FailoverReplica(HeartbeatNode):
    """A replica of a primary-backup pair that answers requests while it is the primary.

    The initial primary (``primary=True``) sends heartbeats to the backup and watches nobody.
    The backup watches the primary with ``detector`` and sends no heartbeats. When the backup
    starts suspecting the primary it takes over: it serves requests and tells the ``clients``.
    If the primary's heartbeats resume (the suspicion was false), the backup hands the role
    back. Between those two moments both replicas serve: the split brain that epochs and
    fencing prevent in real systems.
    """

    def __init__(
        self,
        *,
        primary: bool,
        partner: str,
        clients: Sequence[str] = ("client",),
        period: float = 1.0,
        detector: Callable[[], Detector] | None = None,
    ) -> None:
        if primary:
            super().__init__(period=period, detector=detector, watch=(), send_to=(partner,))
        else:
            super().__init__(period=period, detector=detector, watch=(partner,), send_to=())
        self.initially_primary = primary
        self.serving = primary
        self.partner = partner
        self.clients = tuple(clients)

    def on_timer(self, name: str) -> None:
        was = set(self.suspected)
        super().on_timer(name)
        if self.partner in self.suspected - was and not self.serving:
            self.serving = True
            self.note("takeover")
            self.broadcast(Primary(self.id), to=self.clients)

    def on_message(self, src: str, msg: object) -> None:
        if isinstance(msg, Request):
            if self.serving:
                self.send(src, Reply(msg.rid, self.id))
            return
        was = self.partner in self.suspected
        super().on_message(src, msg)
        if was and self.partner not in self.suspected and not self.initially_primary:
            self.serving = False  # the primary is alive after all: hand the role back
            self.note("hand back")
            self.broadcast(Primary(self.partner), to=self.clients)


class FailoverClient(Node):
    """Sends a request to the server it believes is primary every ``every`` seconds.

    ``self.sent`` maps request id to ``(send time, server)``; ``self.answered`` maps it to
    ``(reply time, server that replied)``.
    """

    def __init__(self, *, primary: str, every: float = 0.1) -> None:
        super().__init__()
        if not every > 0:
            raise ValueError(f"the request interval must be positive, not {every!r}")
        self.primary = primary
        self.every = every
        self.rid = 0
        self.sent: dict[int, tuple[float, str]] = {}
        self.answered: dict[int, tuple[float, str]] = {}

    def on_start(self) -> None:
        self.set_timer("request", self.every)

    def on_timer(self, name: str) -> None:
        self.rid += 1
        self.sent[self.rid] = (self.now, self.primary)
        self.send(self.primary, Request(self.rid))
        self.set_timer("request", self.every)

    def on_message(self, src: str, msg: object) -> None:
        if isinstance(msg, Primary):
            self.primary = msg.server
        elif isinstance(msg, Reply) and msg.rid not in self.answered:
            self.answered[msg.rid] = (self.now, msg.server)


@dataclass(frozen=True, slots=True)
class FailoverRun:
    """What one fail-over run showed the client."""

    crash_at: float
    outage: float  # from the crash to the first reply by the backup (inf: never)
    false_takeovers: int  # takeovers while the primary was alive
    two_primaries: float  # seconds during which both replicas served, before the crash
    requests: int
    answered: int
    sim: Simulation

    @property
    def false_per_hour(self) -> float:
        return self.false_takeovers / (self.crash_at / 3600.0)


def detector_failover_run(
    detector: Callable[[], Detector],
    *,
    crash_at: float = 600.0,
    after: float = 30.0,
    period: float = 1.0,
    network: str | NetworkCondition = "WAN",
    every: float = 0.1,
    seed: int = 0,
    trace: bool = False,
) -> FailoverRun:
    """Run primary ``p``, backup ``b`` (watching ``p`` with ``detector()``) and a client;
    crash ``p`` at ``crash_at`` and stop ``after`` seconds later."""
    if not callable(detector):
        raise TypeError(f"detector must be a zero-argument factory, not {detector!r}")
    if not crash_at > 0 or not after > 0:
        raise ValueError("crash_at and after must be positive numbers of seconds")
    net = _check_network(network)
    sim = Simulation(seed=seed, trace=trace, latency=net.latency, loss=net.loss)
    sim.add_node("p", lambda: FailoverReplica(primary=True, partner="b", period=period))
    sim.add_node(
        "b",
        lambda: FailoverReplica(primary=False, partner="p", period=period, detector=detector),
    )
    sim.add_client("client", lambda: FailoverClient(primary="p", every=every))
    sim.at(crash_at, sim.crash, "p")
    sim.run(until=crash_at + after)

    backup = sim.node("b", FailoverReplica)
    client = sim.node("client", FailoverClient)
    false_takeovers = 0
    two = 0.0
    since: float | None = None
    for t, _peer, what in backup.log:
        if t > crash_at:
            break
        if what == "suspect":
            false_takeovers += 1
            since = t
        elif since is not None:
            two += t - since
            since = None
    if since is not None:
        two += crash_at - since
    firsts = [t for t, server in client.answered.values() if t > crash_at and server == "b"]
    return FailoverRun(
        crash_at=crash_at,
        outage=(min(firsts) - crash_at) if firsts else math.inf,
        false_takeovers=false_takeovers,
        two_primaries=two,
        requests=len(client.sent),
        answered=len(client.answered),
        sim=sim,
    )


def failover_table(
    detectors: Mapping[str, Callable[[], Detector]], *, trials: int = 4, seed: int = 0, **options
) -> str:
    """Run :func:`detector_failover_run` ``trials`` times per detector setting (seeds ``seed``
    ...) and tabulate the mean outage after a crash, false take-overs per hour, and seconds per
    hour during which two replicas served. ``options`` go to :func:`detector_failover_run`."""
    factories = _check_factories(detectors)
    if not isinstance(trials, int) or isinstance(trials, bool) or trials < 1:
        raise ValueError(f"trials must be a positive int, not {trials!r}")
    width = max(10, *(len(k) for k in factories))
    lines = [f"{'detector':<{width}}{'outage':>9}{'false/h':>10}{'2 primaries s/h':>17}"]
    for label, factory in factories.items():
        runs = [detector_failover_run(factory, seed=seed + i, **options) for i in range(trials)]
        hours = sum(r.crash_at for r in runs) / 3600.0
        outage = sum(r.outage for r in runs) / trials
        false = sum(r.false_takeovers for r in runs) / hours
        two = sum(r.two_primaries for r in runs) / hours
        lines.append(f"{label:<{width}}{outage:>8.2f}s{false:>10.1f}{two:>17.1f}")
    return "\n".join(lines)


def plot_failover(run: FailoverRun, *, before: float = 5.0, after: float = 10.0):
    """Each request around the crash as a dot at its send time: answered by the primary, by
    the backup, or never. Returns the matplotlib figure."""
    import matplotlib.pyplot as plt

    client = run.sim.node("client", FailoverClient)
    lo, hi = run.crash_at - before, run.crash_at + after
    groups: dict[str, list[float]] = {"answered by p": [], "answered by b": [], "unanswered": []}
    for rid, (t, _server) in client.sent.items():
        if not lo <= t <= hi:
            continue
        got = client.answered.get(rid)
        key = "unanswered" if got is None else f"answered by {got[1]}"
        groups[key].append(t)
    fig, ax = plt.subplots(figsize=(10, 2.4))
    styles = {
        "answered by p": ("tab:blue", "o", 1),
        "answered by b": ("tab:orange", "o", 1),
        "unanswered": ("tab:red", "x", 0),
    }
    for key, times in groups.items():
        color, marker, y = styles[key]
        ax.scatter(times, [y] * len(times), color=color, marker=marker, s=14, label=key)
    ax.axvline(run.crash_at, color="black", linestyle=":", linewidth=1)
    ax.annotate("p crashes", (run.crash_at, 0.5), xytext=(4, 0), textcoords="offset points")
    if math.isfinite(run.outage):
        end = run.crash_at + run.outage
        ax.axvline(end, color="tab:orange", linestyle=":", linewidth=1)
        ax.annotate(
            f"b answers: outage {run.outage:.2f} s",
            (end, 0.5),
            xytext=(4, 0),
            textcoords="offset points",
        )
    ax.set_yticks([0, 1], ["lost", "answered"])
    ax.set_ylim(-0.6, 1.6)
    ax.set_xlabel("time the request was sent (s)")
    ax.legend(fontsize=8, loc="upper left", ncol=3)
    ax.set_title("Fail-over seen by the client")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# Queue lengths under a balancing policy.


def supermarket_tail(load: float, i: int, d: int = 2) -> float:
    """Fraction of servers holding at least ``i`` requests in the limit of many servers.

    Mitzenmacher's supermarket model (Poisson arrivals at rate λ·n, exponential service, each
    request joins the shortest of ``d`` random queues): ``s_i = λ^((d^i - 1)/(d - 1))``; with
    ``d = 1`` (random choice, independent M/M/1 queues) ``s_i = λ^i``.
    """
    if not 0 < load < 1:
        raise ValueError(f"load must be between 0 and 1 (exclusive), not {load!r}")
    if not isinstance(i, int) or i < 0:
        raise ValueError(f"i must be a whole number of requests, not {i!r}")
    if not isinstance(d, int) or isinstance(d, bool) or d < 1:
        raise ValueError(f"d must be a positive int, not {d!r}")
    exponent = i if d == 1 else (d**i - 1) / (d - 1)
    return load**exponent


class _Recording(Policy):
    """Wraps a policy and keeps every snapshot of queue lengths it was shown."""

    def __init__(self, inner: Policy) -> None:
        self.inner = inner
        self.name = inner.name
        self.snapshots: list[tuple[int, ...]] = []

    def choose(self, outstanding, rng) -> int:
        self.snapshots.append(tuple(outstanding))
        return self.inner.choose(outstanding, rng)


def queue_tail(
    policy: Any,
    *,
    load: float = 0.9,
    servers: int = 10,
    requests: int = 20_000,
    max_i: int = 10,
    seed: int = 0,
    warmup: float = 0.1,
) -> list[float]:
    """Measured fraction of servers holding at least ``i`` requests, for ``i = 0 .. max_i``.

    Runs :func:`distlib.labs.lab08_resilience.queueing.simulate_queue` and averages the queue
    lengths each arriving request saw (Poisson arrivals see time averages), leaving out the
    warmup.
    """
    rec = _Recording(make_policy(policy))
    simulate_queue(rec, load=load, servers=servers, requests=requests, seed=seed, warmup=warmup)
    snaps = rec.snapshots[int(len(rec.snapshots) * warmup) :]
    counts = [0] * (max_i + 2)  # counts[i]: queues of length i (the last: max_i + 1 or more)
    for snap in snaps:
        for q in snap:
            counts[min(q, max_i + 1)] += 1
    total = len(snaps) * servers
    tail = []
    at_least = total
    for i in range(max_i + 1):
        tail.append(at_least / total)
        at_least -= counts[i]
    return tail


def plot_queue_tail(
    measured: Mapping[str, Sequence[float]], *, load: float, theory: Mapping[str, int] | None = None
):
    """Measured fractions of servers with at least ``i`` requests (markers), one line per
    policy, and the supermarket-model limits (dashed) for the ``d`` given per label in
    ``theory``. Log scale: doubly exponential decay shows as a curve that falls ever faster."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for label, fractions in measured.items():
        xs = [i for i, f in enumerate(fractions) if f > 0]
        (line,) = ax.plot(xs, [fractions[i] for i in xs], marker="o", label=f"{label} (measured)")
        if theory and label in theory:
            d = theory[label]
            ts = [i for i in range(len(fractions)) if supermarket_tail(load, i, d) > 1e-6]
            ax.plot(
                ts,
                [supermarket_tail(load, i, d) for i in ts],
                linestyle="--",
                color=line.get_color(),
                label=f"{label} (n → ∞ limit, d = {d})",
            )
    ax.set_yscale("log")
    ax.set_ylim(1e-5, 1.5)
    ax.set_xlabel("i (requests held by a server)")
    ax.set_ylabel("fraction of servers holding ≥ i")
    ax.set_title(f"Queue lengths at load {load:g}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# Message authentication (Exercise 4): the bank that obeys what a student's accept() accepts.


def bank_using(accept: Callable[..., bool]) -> type:
    """A subclass of :class:`~distlib.protocols.auth.AuthBank` that obeys a message only when
    ``accept(key, me, src, msg, seen)`` says so, with ``seen`` kept per sender in storage."""
    from distlib.protocols.auth import AuthBank

    class StudentBank(AuthBank):
        def on_message(self, src: str, msg: Any) -> None:
            seen = self.storage.setdefault("accepted", {}).setdefault(src, set())
            key = self.keys.get(src)
            if key is not None and accept(key, self.id, src, msg, seen):
                self.on_authentic(src, msg.payload)
            else:
                self.note("rejected", src=src)

    return StudentBank
