"""A queueing model that runs load-balancing policies against Poisson traffic.

The model: requests arrive as a Poisson process; a dispatcher sends each one, the moment it
arrives, to one of ``servers`` identical servers chosen by a policy from
:mod:`distlib.protocols.balance`, which sees how many requests each server holds (queued plus in
service). Each server serves its queue first come, first served, one request at a time, with
exponentially distributed service times (an M/M/1 queue per server). ``load`` is the
utilisation ρ = arrival rate × mean service time / servers, so ``load=0.9`` keeps every server
busy 90% of the time on average, whatever the policy.

A request's latency is the time from its arrival to the end of its service (waiting plus
service). :func:`simulate_queue` reports its mean and percentiles; :func:`compare` sweeps
policies and loads; :func:`table` and :func:`plot` show the result.

Randomness comes from three seeded streams, one for inter-arrival times, one for service times
and one for the policy's choices. So for a given seed every policy faces exactly the same
requests (same arrival instants, same amounts of work): differences between policies are the
policies', not luck's. The first ``warmup`` fraction of requests is left out of the statistics,
since the system starts empty.

This is a model of the dispatching decision alone: no network delay, no stale load information,
no failures (see :mod:`distlib.protocols.detectors` for noticing a dead server).
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from distlib.protocols.balance import POLICIES, Policy, make_policy

__all__ = ["QueueResult", "compare", "percentile", "plot", "simulate_queue", "table", "traffic"]

PolicySpec = str | Policy | Callable[[Sequence[int], Any], int]


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, interpolating linearly between ranks.

    Sorts a copy unless ``values`` is already sorted. For ``n`` values the p-th percentile sits
    at rank ``(n - 1) * p / 100`` (the same convention as numpy's default).
    """
    if not 0 <= q <= 100:
        raise ValueError(f"a percentile must be between 0 and 100, not {q}")
    if len(values) == 0:
        raise ValueError("cannot take a percentile of no values")
    data = (
        values
        if all(values[i] <= values[i + 1] for i in range(len(values) - 1))
        else sorted(values)
    )
    rank = (len(data) - 1) * q / 100.0
    lo = math.floor(rank)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (rank - lo)


@dataclass(frozen=True, slots=True)
class QueueResult:
    """Latency statistics of one run of the model (times in units of the mean service time
    when ``service_mean`` is 1)."""

    policy: str
    load: float
    servers: int
    requests: int  # requests measured (after the warmup)
    mean: float
    p50: float
    p90: float
    p99: float
    max: float
    per_server: tuple[int, ...]  # measured requests each server handled
    latencies: tuple[float, ...]  # every measured latency, in arrival order

    def row(self) -> dict[str, Any]:
        """The headline numbers as a dict (for a table or a DataFrame)."""
        return {
            "policy": self.policy,
            "load": self.load,
            "mean": self.mean,
            "p50": self.p50,
            "p90": self.p90,
            "p99": self.p99,
        }


def _check_number(value: Any, what: str, low: float, high: float) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
        raise TypeError(f"{what} must be a number, not {value!r}")
    if not low < value < high:
        raise ValueError(f"{what} must be between {low} and {high} (exclusive), not {value}")
    return float(value)


def traffic(
    *, load: float, servers: int, requests: int, service_mean: float = 1.0, seed: int = 0
) -> list[tuple[float, float]]:
    """The requests of a run: ``(arrival time, service time)`` pairs, in arrival order.

    Arrivals are a Poisson process of rate ``load * servers / service_mean`` (exponential gaps);
    service times are exponential with mean ``service_mean``. Two separate seeded streams draw
    them, and neither depends on the policy: every policy run with this seed gets this list.
    """
    load = _check_number(load, "load", 0.0, 1.0)
    service_mean = _check_number(service_mean, "service_mean", 0.0, math.inf)
    if not isinstance(servers, int) or isinstance(servers, bool) or servers < 1:
        raise ValueError(f"servers must be a positive int, not {servers!r}")
    if not isinstance(requests, int) or isinstance(requests, bool) or requests < 10:
        raise ValueError(f"requests must be an int of at least 10, not {requests!r}")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, not {seed!r}")
    rate = load * servers / service_mean
    arrival_rng = random.Random(f"{seed}/queueing/arrivals")
    service_rng = random.Random(f"{seed}/queueing/service")
    out = []
    t = 0.0
    for _ in range(requests):
        t += arrival_rng.expovariate(rate)
        out.append((t, service_rng.expovariate(1.0 / service_mean)))
    return out


def simulate_queue(
    policy: PolicySpec,
    *,
    load: float = 0.9,
    servers: int = 10,
    requests: int = 20_000,
    service_mean: float = 1.0,
    warmup: float = 0.1,
    seed: int = 0,
) -> QueueResult:
    """Run ``requests`` Poisson arrivals through ``servers`` FIFO servers dispatched by ``policy``.

    ``policy`` is a name from :data:`distlib.protocols.balance.POLICIES`, a
    :class:`~distlib.protocols.balance.Policy`, or a function ``f(outstanding, rng) -> index``.
    ``load`` must be below 1: at or above it the queues grow without bound. Same arguments, same
    result.
    """
    pol = make_policy(policy)
    if not isinstance(warmup, int | float) or isinstance(warmup, bool) or not 0 <= warmup < 1:
        raise ValueError(f"warmup is the fraction of requests left out, in [0, 1), not {warmup!r}")
    work = traffic(
        load=load, servers=servers, requests=requests, service_mean=service_mean, seed=seed
    )
    load = float(load)
    # Each server serves its queue in order, one request at a time, so the model needs no event
    # queue: a request starts when it arrives or when its server finishes the request before
    # it, whichever is later, and leaves ``service`` later. What a policy sees at an arrival,
    # the requests each server holds, is the requests sent to it minus those that left by
    # then: their departures wait in a heap, earliest first.
    free_at = [0.0] * servers  # when each server finishes the last request sent to it
    outstanding = [0] * servers
    departures: list[tuple[float, int]] = []  # (time a request leaves, its server)
    policy_rng = random.Random(f"{seed}/queueing/policy")
    latency = [0.0] * requests
    served_by = [0] * requests
    for i, (arrival, service) in enumerate(work):
        while departures and departures[0][0] <= arrival:
            outstanding[heapq.heappop(departures)[1]] -= 1
        # The policy sees a snapshot, so a policy that writes into it cannot corrupt the model.
        server = pol.choose(tuple(outstanding), policy_rng)
        if not isinstance(server, int) or not 0 <= server < servers:
            raise ValueError(f"policy {pol.name!r} chose server {server!r} of {servers}")
        outstanding[server] += 1
        served_by[i] = server
        done = max(arrival, free_at[server]) + service
        free_at[server] = done
        heapq.heappush(departures, (done, server))
        latency[i] = done - arrival

    first = int(requests * warmup)
    measured = latency[first:]
    ordered = sorted(measured)
    per_server = [0] * servers
    for s in served_by[first:]:
        per_server[s] += 1
    return QueueResult(
        policy=pol.name,
        load=load,
        servers=servers,
        requests=len(measured),
        mean=math.fsum(measured) / len(measured),
        p50=percentile(ordered, 50),
        p90=percentile(ordered, 90),
        p99=percentile(ordered, 99),
        max=ordered[-1],
        per_server=tuple(per_server),
        latencies=tuple(measured),
    )


def compare(
    policies: Iterable[PolicySpec] | None = None,
    loads: Iterable[float] = (0.5, 0.7, 0.8, 0.9, 0.95),
    **options: Any,
) -> list[QueueResult]:
    """Run every policy at every load (same seed, so the same requests); options go to
    :func:`simulate_queue`. Policies given by name get a fresh object for every run."""
    chosen = list(POLICIES) if policies is None else list(policies)
    results = []
    for load in loads:
        for spec in chosen:
            results.append(simulate_queue(spec, load=load, **options))
    return results


def table(results: Iterable[QueueResult], metrics: Sequence[str] = ("p50", "p99")) -> str:
    """A plain-text table: one row per load, one column per policy and metric."""
    results = list(results)
    if not results:
        raise ValueError("no results to tabulate")
    names = list(dict.fromkeys(r.policy for r in results))
    loads = sorted({r.load for r in results})
    by = {(r.policy, r.load): r for r in results}
    heads = [f"{n} {m}" for n in names for m in metrics]
    widths = [max(8, len(h)) for h in heads]
    lines = ["load  " + "  ".join(h.rjust(w) for h, w in zip(heads, widths, strict=True))]
    for load in loads:
        cells = []
        for (n, m), w in zip(((n, m) for n in names for m in metrics), widths, strict=True):
            r = by.get((n, load))
            cells.append(("-" if r is None else f"{getattr(r, m):.2f}").rjust(w))
        lines.append(f"{load:4.2f}  " + "  ".join(cells))
    return "\n".join(lines)


def plot(results: Iterable[QueueResult], *, metrics: Sequence[str] = ("p50", "p99"), ax=None):
    """Latency percentiles against load, one line per policy and one panel per metric.

    Returns the matplotlib figure. ``ax`` may be a sequence of axes, one per metric.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    def _minor(v: float, _pos: int) -> str:
        lead = round(v / 10 ** math.floor(math.log10(v))) if v > 0 else 0
        return f"{v:g}" if lead in (2, 5) else ""

    plain = FuncFormatter(lambda v, _pos: f"{v:g}")  # 6 rather than 6×10⁰ on a log axis
    results = list(results)
    if not results:
        raise ValueError("no results to plot")
    if ax is None:
        fig, grid = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.8), squeeze=False)
        axes = list(grid[0])
    else:
        axes = list(ax) if isinstance(ax, Sequence) else [ax]
        fig = axes[0].figure
    names = list(dict.fromkeys(r.policy for r in results))
    for axis, metric in zip(axes, metrics, strict=False):
        for name in names:
            rs = sorted((r for r in results if r.policy == name), key=lambda r: r.load)
            axis.plot(
                [r.load for r in rs], [getattr(r, metric) for r in rs], marker="o", label=name
            )
        axis.set_xlabel("load (utilisation of each server)")
        axis.set_ylabel(f"{metric} latency (× mean service time)")
        axis.set_yscale("log")
        axis.yaxis.set_major_formatter(plain)
        axis.yaxis.set_minor_formatter(FuncFormatter(_minor))
        axis.set_title(f"{metric} latency")
        axis.grid(True, which="both", alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    return fig
