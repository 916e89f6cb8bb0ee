"""Lab 2's experiments: the article's Pool script run for real, word counts, task granularity,
scaled speedup, and a map/reduce over simulated machines.

Five groups of runners, one module each, adding to :mod:`distlib.compute` what the lab needs
beyond it (the notebook imports them all from here):

* **Scripts**, ``scripts`` (:func:`article_script`, :func:`run_script`). The article's
  ``multiprocessing.Pool`` example only behaves as a real program does when it *is* a program: a
  file that the spawn and forkserver start methods import again in every worker.
  :func:`run_script` runs such a file in a fresh interpreter with a time limit and kills its whole
  process group on expiry, so a script that hangs (an unguarded pool under spawn keeps replacing
  workers that die on start) costs seconds and leaves no process behind.
* **Word count**, ``wordcount`` (:func:`synthetic_corpus`, :func:`words`, :func:`line_counts`,
  :func:`traffic`). A seeded English-like text, a tokenizer, the per-line mapper, and the number
  of pickled bytes that travel back with and without combining each chunk where it was computed.
* **Granularity**, ``granularity`` (:func:`measure_granularity`, :func:`calibrate`,
  :func:`plot_granularity`). Wall time of ``Pool.map`` against chunk size beside a plain loop, and
  a :class:`~distlib.compute.CostModel` fitted to those measurements.
* **Scaled speedup**, ``scaling`` (:func:`measure_scaled_speedup`, :class:`ScaledSpeedup`,
  :func:`plot_laws`). Gustafson's view: the work grows with the workers; measured and set beside
  Amdahl's fixed-size speedup.
* **A map/reduce across simulated machines**, ``mapreduce`` (:func:`simulate_sum`,
  :func:`distributed_speedups`, :func:`predicted_makespan`, :func:`plot_distributed`). A
  coordinator node sends each of N worker nodes a part of the numbers, each worker sums its part
  and replies, and the coordinator adds the partial sums. Nodes are pure
  :class:`~distlib.node.Node` automata: computing and sending take simulated time (timers), so the
  run shows when per-message costs and latency swamp the computation.

Timings from the first four groups are wall-clock and noisy; nothing here asserts on them. The
simulated runs are deterministic: same arguments, same numbers. Plots import matplotlib lazily.
"""

from distlib.labs.lab02_compute.granularity import (
    Granularity,
    calibrate,
    measure_granularity,
    plot_granularity,
)
from distlib.labs.lab02_compute.mapreduce import (
    DistributedSum,
    Part,
    PartialSum,
    SumCoordinator,
    SumWorker,
    distributed_speedups,
    plot_distributed,
    predicted_makespan,
    simulate_sum,
)
from distlib.labs.lab02_compute.scaling import ScaledSpeedup, measure_scaled_speedup, plot_laws
from distlib.labs.lab02_compute.scripts import ARTICLE_SCRIPT, ScriptRun, article_script, run_script
from distlib.labs.lab02_compute.wordcount import (
    Traffic,
    line_counts,
    synthetic_corpus,
    traffic,
    words,
)

__all__ = [
    "ARTICLE_SCRIPT",
    "DistributedSum",
    "Granularity",
    "Part",
    "PartialSum",
    "ScaledSpeedup",
    "ScriptRun",
    "SumCoordinator",
    "SumWorker",
    "Traffic",
    "article_script",
    "calibrate",
    "distributed_speedups",
    "line_counts",
    "measure_granularity",
    "measure_scaled_speedup",
    "plot_distributed",
    "plot_granularity",
    "plot_laws",
    "predicted_makespan",
    "run_script",
    "simulate_sum",
    "synthetic_corpus",
    "traffic",
    "words",
]
