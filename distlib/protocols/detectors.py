"""Failure detectors: deciding, from heartbeats alone, that a process has probably crashed.

In an asynchronous system a crashed process and a slow one look the same from outside, so every
detector trades *detection time* (how long after a crash it starts suspecting) against
*accuracy* (how often it suspects a process that is alive). Chen, Toueg and Aguilera ("On the
Quality of Service of Failure Detectors", 2002) name these the detection time T_D and the mistake
rate λ_M. This module has two detectors, both fed by heartbeat arrival times:

* :class:`FixedTimeout`: suspect when no heartbeat has arrived for ``timeout`` seconds. Simple,
  but the right timeout depends on the network, which the detector never looks at.
* :class:`PhiAccrual`: the φ accrual detector of Hayashibara, Défago, Yared and Katayama ("The φ
  Accrual Failure Detector", SRDS 2004). It keeps a sliding window of recent inter-arrival
  times and outputs a *suspicion level* ``φ = -log10(P_later(t_now - t_last))``, where
  ``P_later(t)`` is the probability that the next heartbeat comes more than ``t`` after the last
  one. The application picks a threshold Φ: φ ≥ 1 means "this late happens 10% of the time", φ
  ≥ 8 means "one time in 10^8". The detector adapts to the network it observes.

As in the paper, ``P_later`` comes from a *normal approximation*: the inter-arrival times are
assumed normally distributed, with the mean and standard deviation of the window. Heartbeat
intervals are not really normal (a lost heartbeat doubles one; delays have a long tail), which
is why a floor on the standard deviation matters; :func:`phi` is the formula on its own, small
enough to write in an exercise.

:class:`HeartbeatNode` runs either detector inside a simulation: it sends a numbered
:class:`Heartbeat` every ``period`` to the peers it is watched by, and watches the peers it is
told to with one detector each, noting ``suspect`` and ``trust`` in the trace. Rather than
polling, it sets one timer per watched peer at the exact moment the detector would start
suspecting if nothing else arrived (:meth:`Detector.deadline`). Measuring the trade-off over a
lossy, jittery network is :mod:`distlib.labs.lab08_resilience.detection`'s job.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from statistics import NormalDist

from distlib.node import Node

__all__ = [
    "ArrivalWindow",
    "Detector",
    "FixedTimeout",
    "Heartbeat",
    "HeartbeatNode",
    "PhiAccrual",
    "elapsed_for_phi",
    "p_later",
    "phi",
]

_STANDARD_NORMAL = NormalDist()


# --------------------------------------------------------------------------------------------
# The φ formula.


def p_later(elapsed: float, mean: float, std: float) -> float:
    """Probability that a normal N(mean, std²) inter-arrival time exceeds ``elapsed``.

    ``1 - F(elapsed)``, computed as ``erfc(...) / 2`` so that it stays accurate far in the tail.
    """
    if not std > 0:
        raise ValueError(f"the standard deviation must be positive, not {std!r}")
    return 0.5 * math.erfc((elapsed - mean) / (std * math.sqrt(2.0)))


def phi(elapsed: float, mean: float, std: float) -> float:
    """The suspicion level φ after ``elapsed`` seconds without a heartbeat.

    ``φ = -log10(P_later(elapsed))`` with inter-arrival times approximated by a normal
    distribution of the given mean and standard deviation (Hayashibara et al. 2004, §IV, the
    calculation of φ). φ is 0.30 when ``elapsed`` equals the mean (P_later = 1/2), grows without
    bound as the silence lasts, and is ``inf`` once P_later underflows to 0 (about 38 standard
    deviations late).
    """
    if elapsed < 0:
        raise ValueError(f"elapsed time since the last heartbeat cannot be negative ({elapsed})")
    p = p_later(elapsed, mean, std)
    if p <= 0.0:
        return math.inf
    return max(0.0, -math.log10(p))  # max() turns the -0.0 of log10(1) into 0.0


def elapsed_for_phi(threshold: float, mean: float, std: float) -> float:
    """How long after a heartbeat φ reaches ``threshold``: the inverse of :func:`phi`.

    φ(t) = Φ  ⇔  P_later(t) = 10^-Φ  ⇔  t = mean + std · z, with z the standard normal
    quantile that leaves 10^-Φ above it. Never negative.
    """
    if not threshold > 0:
        raise ValueError(f"a φ threshold must be positive, not {threshold!r}")
    if not std > 0:
        raise ValueError(f"the standard deviation must be positive, not {std!r}")
    tail = 10.0 ** (-threshold)
    if tail <= 5e-324:
        return math.inf
    z = -_STANDARD_NORMAL.inv_cdf(tail)
    return max(0.0, mean + std * z)


# --------------------------------------------------------------------------------------------
# Detectors: one object per monitored process, fed with heartbeat arrival times.


class ArrivalWindow:
    """The last ``size`` inter-arrival times, with their mean and standard deviation."""

    def __init__(self, size: int = 100) -> None:
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ValueError(f"a window holds a positive whole number of samples, not {size!r}")
        self.intervals: deque[float] = deque(maxlen=size)

    def add(self, interval: float) -> None:
        if not interval >= 0:
            raise ValueError(f"an inter-arrival time cannot be negative ({interval})")
        self.intervals.append(float(interval))

    def __len__(self) -> int:
        return len(self.intervals)

    @property
    def mean(self) -> float:
        if not self.intervals:
            raise ValueError("the window is empty: no inter-arrival time observed yet")
        return math.fsum(self.intervals) / len(self.intervals)

    @property
    def std(self) -> float:
        """Population standard deviation of the window (0 with fewer than two samples)."""
        n = len(self.intervals)
        if n < 2:
            return 0.0
        m = self.mean
        return math.sqrt(math.fsum((x - m) ** 2 for x in self.intervals) / n)


class Detector:
    """A failure detector for one monitored process.

    Call :meth:`heartbeat` with each arrival time; ask :meth:`suspects` (or :meth:`deadline`,
    the time it will start suspecting if no heartbeat arrives). Before the first heartbeat a
    detector suspects nothing: monitoring starts with the first sign of life.
    """

    def __init__(self) -> None:
        self.last: float | None = None

    def heartbeat(self, now: float) -> None:
        """Record a heartbeat arriving at time ``now``."""
        if self.last is not None and now < self.last:
            raise ValueError(f"heartbeat at t={now} is earlier than the previous one ({self.last})")
        self.last = float(now)

    def deadline(self) -> float | None:  # pragma: no cover - abstract
        """When suspicion starts if no further heartbeat arrives (None: not monitoring yet)."""
        raise NotImplementedError

    def level(self, now: float) -> float:  # pragma: no cover - abstract
        """How suspicious the detector is at time ``now`` (its own scale)."""
        raise NotImplementedError

    def suspects(self, now: float) -> bool:
        """Whether the monitored process is suspected at time ``now``."""
        deadline = self.deadline()
        return deadline is not None and now >= deadline


class FixedTimeout(Detector):
    """Suspect once ``timeout`` seconds pass without a heartbeat. ``level`` is that silence."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        if not isinstance(timeout, int | float) or isinstance(timeout, bool) or not timeout > 0:
            raise ValueError(f"a timeout must be a positive number of seconds, not {timeout!r}")
        self.timeout = float(timeout)

    def deadline(self) -> float | None:
        return None if self.last is None else self.last + self.timeout

    def level(self, now: float) -> float:
        return 0.0 if self.last is None else max(0.0, now - self.last)

    def __repr__(self) -> str:
        return f"FixedTimeout({self.timeout:g})"


class PhiAccrual(Detector):
    """The φ accrual detector: suspect once φ reaches ``threshold``. ``level`` is φ.

    * ``window``: how many recent inter-arrival times estimate the distribution;
    * ``min_std``: a floor on the standard deviation, in seconds (default: a tenth of the mean
      interval). Without it a perfectly regular stream would give σ = 0 and φ would jump from 0
      to infinity the instant a heartbeat is late;
    * ``expected_interval``: the heartbeat period, if known. Until the window holds two samples,
      the detector assumes intervals of this mean with σ = a quarter of it; without it, it
      suspects nothing until two intervals have been seen;
    * ``margin``: seconds added to the estimated mean, a tolerated pause. Not in the paper: a
      practical addition for networks that lose heartbeats. A lost heartbeat doubles one interval,
      which a normal distribution fitted to a window without recent losses considers nearly
      impossible, so without a margin a single loss can trigger suspicion at any threshold.
    """

    def __init__(
        self,
        threshold: float = 8.0,
        *,
        window: int = 100,
        min_std: float | None = None,
        expected_interval: float | None = None,
        margin: float = 0.0,
    ) -> None:
        super().__init__()
        if not isinstance(threshold, int | float) or isinstance(threshold, bool) or threshold <= 0:
            raise ValueError(f"a φ threshold must be a positive number, not {threshold!r}")
        if min_std is not None and not min_std > 0:
            raise ValueError(f"min_std must be a positive number of seconds, not {min_std!r}")
        if expected_interval is not None and not expected_interval > 0:
            raise ValueError(f"expected_interval must be positive, not {expected_interval!r}")
        if not isinstance(margin, int | float) or isinstance(margin, bool) or not margin >= 0:
            raise ValueError(f"margin must be zero or a positive number of seconds, not {margin!r}")
        self.threshold = float(threshold)
        self.margin = float(margin)
        self.window = ArrivalWindow(window)
        self.min_std = min_std
        self.expected_interval = expected_interval

    def heartbeat(self, now: float) -> None:
        if self.last is not None and now >= self.last:
            self.window.add(now - self.last)  # Hayashibara et al. 2004 §IV: sampling window
        super().heartbeat(now)

    def estimate(self) -> tuple[float, float] | None:
        """The (mean, standard deviation) used for φ now, or None if there is too little data."""
        if len(self.window) >= 2:
            mean = self.window.mean
            std = self.window.std
        elif self.expected_interval is not None:
            mean = self.expected_interval
            std = self.expected_interval / 4
        else:
            return None
        floor = self.min_std if self.min_std is not None else mean / 10
        return mean + self.margin, max(std, floor, 1e-9)

    def level(self, now: float) -> float:
        est = self.estimate()
        if self.last is None or est is None:
            return 0.0
        return phi(max(0.0, now - self.last), *est)

    def deadline(self) -> float | None:
        est = self.estimate()
        if self.last is None or est is None:
            return None
        return self.last + elapsed_for_phi(self.threshold, *est)

    def suspects(self, now: float) -> bool:
        return self.level(now) >= self.threshold

    def __repr__(self) -> str:
        return f"PhiAccrual({self.threshold:g}, window={self.window.intervals.maxlen})"


# --------------------------------------------------------------------------------------------
# A node that sends heartbeats and watches its peers.


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """ "I am alive": the ``seq``-th heartbeat of its sender."""

    seq: int


class HeartbeatNode(Node):
    """Sends a :class:`Heartbeat` every ``period`` and watches peers with a detector each.

    * ``detector``: a zero-argument factory (``lambda: PhiAccrual(8, expected_interval=1.0)``);
      one detector per watched peer. Default: ``FixedTimeout(3 * period)``.
    * ``watch``: the peers this node monitors (default: all of them);
    * ``send_to``: the peers this node sends heartbeats to (default: all of them).

    Heartbeats carry a sequence number: a duplicate or an overtaken older heartbeat is ignored,
    so it cannot make a stale process look freshly alive. ``self.suspected`` holds the peers
    suspected now; ``self.log`` lists ``(time, peer, "suspect" | "trust")`` changes in order.
    """

    def __init__(
        self,
        *,
        period: float = 1.0,
        detector: Callable[[], Detector] | None = None,
        watch: Iterable[str] | None = None,
        send_to: Iterable[str] | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(period, int | float) or isinstance(period, bool) or not period > 0:
            raise ValueError(f"a heartbeat period must be a positive number, not {period!r}")
        self.period = float(period)
        self.make_detector = detector or (lambda: FixedTimeout(3 * self.period))
        self._watch = None if watch is None else tuple(watch)
        self._send_to = None if send_to is None else tuple(send_to)
        self.detectors: dict[str, Detector] = {}
        self.highest: dict[str, int] = {}
        self.suspected: set[str] = set()
        self.log: list[tuple[float, str, str]] = []
        self.seq = 0

    def on_start(self) -> None:
        watch = self.peers if self._watch is None else self._watch
        self.detectors = {p: self.make_detector() for p in watch}
        for p, det in self.detectors.items():
            if not isinstance(det, Detector):
                raise TypeError(f"{self.id}: the detector factory returned {det!r} for {p}")
        self.on_timer("beat")

    def on_timer(self, name: str) -> None:
        if name == "beat":
            self.seq += 1
            self.broadcast(Heartbeat(self.seq), to=self._send_to)
            self.set_timer("beat", self.period)
        elif name.startswith("suspect:"):
            # The deadline passed with no heartbeat since it was set: start suspecting.
            peer = name.removeprefix("suspect:")
            if peer not in self.suspected:
                self.suspected.add(peer)
                self.log.append((self.now, peer, "suspect"))
                self.note("suspect", peer=peer, level=self.detectors[peer].level(self.now))

    def on_message(self, src: str, msg: object) -> None:
        if not isinstance(msg, Heartbeat) or src not in self.detectors:
            return
        if msg.seq <= self.highest.get(src, 0):
            return  # a duplicate, or overtaken by a newer heartbeat
        self.highest[src] = msg.seq
        det = self.detectors[src]
        det.heartbeat(self.now)
        if src in self.suspected:
            self.suspected.discard(src)
            self.log.append((self.now, src, "trust"))
            self.note("trust", peer=src)
        deadline = det.deadline()
        if deadline is None or math.isinf(deadline):
            self.cancel_timer(f"suspect:{src}")
        else:
            self.set_timer(f"suspect:{src}", max(0.0, deadline - self.now))
