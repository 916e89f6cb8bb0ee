"""Pool-based distributed computation: map/reduce over serial, process-pool and Dask backends.

One call, three places to run it::

    from distlib import compute

    compute.map(lambda x: x + 1, range(10))                           # local processes
    compute.map_reduce(len, operator.add, words, backend="serial")   # in this process
    compute.map(f, items, backend="dask", address="tcp://host:8786")  # a Dask cluster

A :class:`Pool` keeps its workers between calls (use it to time things). Items are cut into
chunks (about 4 per worker, or ``chunksize=``); every backend runs the same chunks with the same
code, so results, their order and the reported failing item are the same everywhere. Functions
defined in a notebook work under every start method (they travel with cloudpickle). Progress is
off by default, because a graded cell must never write to stderr; ``progress=True`` shows a
widget in a notebook and a text bar on stderr only when stderr is a terminal (see
:meth:`Pool.map`).

Measuring: :func:`measure_speedup` times a job on 1..N workers and fits Amdahl's serial fraction
(:class:`SpeedupReport`, :func:`amdahl_speedup`, :func:`gustafson_speedup`); :class:`CostModel`
predicts the time of a map for a chunk size without running it (for exercises graded exactly).

This package leaves the scheduling of a real cluster to Dask; it only cuts, ships and reassembles.
"""

from __future__ import annotations

from distlib.compute._cost import ChunkRun, CostModel
from distlib.compute._pool import (
    BACKENDS,
    Pool,
    TaskError,
    default_chunksize,
    map,
    map_reduce,
)
from distlib.compute._process import START_METHODS, WorkerLost
from distlib.compute._speedup import (
    SpeedupReport,
    amdahl_speedup,
    fit_serial_fraction,
    gustafson_speedup,
    measure_speedup,
    plot_speedup,
)

__all__ = [
    "BACKENDS",
    "START_METHODS",
    "ChunkRun",
    "CostModel",
    "Pool",
    "SpeedupReport",
    "TaskError",
    "WorkerLost",
    "amdahl_speedup",
    "default_chunksize",
    "fit_serial_fraction",
    "gustafson_speedup",
    "map",
    "map_reduce",
    "measure_speedup",
    "plot_speedup",
]
