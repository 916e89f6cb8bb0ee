"""One module per lab, named after the lab's folder: everything that lab alone uses.

``lab01_models`` ... ``lab08_resilience`` hold each lab's runners, lab-only models and set-ups;
a lab's notebook imports from its own module and from the public library, nothing else. The
library below (nodes, runtimes, protocols, checkers, views, compute, harnesses) knows nothing of
labs: ``tests/test_layers.py`` checks that no module there imports one of these.
"""

__all__ = [
    "lab01_models",
    "lab02_compute",
    "lab03_consistency",
    "lab04_storage",
    "lab05_transactions",
    "lab06_paxos",
    "lab07_raft",
    "lab08_resilience",
]
