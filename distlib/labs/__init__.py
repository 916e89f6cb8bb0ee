"""One module per lab, named after the lab's folder: everything that lab alone uses.

``lab01_models`` ... ``lab08_resilience`` hold each lab's runners, lab-only models and set-ups;
a lab's notebook imports from its own module and from the public library, nothing else. The
library below (nodes, runtimes, protocols, checkers, views, compute, harnesses) knows nothing of
labs: ``tests/test_layers.py`` checks that no module there imports one of these.
"""
