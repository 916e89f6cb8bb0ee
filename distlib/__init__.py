"""distlib: the library behind the distributed-systems course.

Not to be confused with PyPI's unrelated packaging library of the same import name. Every lab's
first cell calls :func:`lab_setup`, which exists only here: if Python finds the other ``distlib``,
that cell says so in one sentence with the fix.

The public names below are the whole API the labs use; submodules documented in the course
(``distlib.sim``, ``distlib.trace``, ``distlib.views``, ``distlib.protocols``, ``distlib.check``,
``distlib.compute``, ``distlib.testing``) hold the rest. Plotting and widget libraries are imported
only when a picture is asked for, so ``import distlib`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from distlib.client import Client, Workload
from distlib.history import History, Operation
from distlib.node import Node
from distlib.trace import Event, Trace

if TYPE_CHECKING:
    from distlib.sim import (
        Constant,
        Exponential,
        NodeError,
        Simulation,
        SimulationError,
        Uniform,
    )

#: Names imported on first use (PEP 562), so that a tool that needs no simulation (``distcourse
#: lincheck``, grading) does not load simpy: name -> the module that defines it.
_LAZY = dict.fromkeys(
    ("Constant", "Exponential", "NodeError", "Simulation", "SimulationError", "Uniform"),
    "distlib.sim",
)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'distlib' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups are plain attribute reads
    return value


__version__ = "0.1.0"

#: Marker that tells this library apart from PyPI's packaging ``distlib`` (see :func:`lab_setup`).
COURSE_LIBRARY = "distsys-course"

__all__ = [
    "COURSE_LIBRARY",
    "Client",
    "Constant",
    "Event",
    "Exponential",
    "History",
    "Node",
    "NodeError",
    "Operation",
    "Simulation",
    "SimulationError",
    "Trace",
    "Uniform",
    "Workload",
    "__version__",
    "lab_setup",
]


def lab_setup(lab: str | None = None, *, quiet: bool = False) -> None:
    """Check the environment a lab needs and print a one-line status (unless ``quiet``).

    Called by the first cell of every lab. It checks the Python version, that this ``distlib`` is
    the course's (not a shadowing copy), and makes matplotlib draw inline without warnings.
    """
    import sys
    import warnings

    if sys.version_info < (3, 11):  # noqa: UP036 - the kernel may not be the installing Python
        raise RuntimeError(
            f"This course needs Python 3.11 or newer; this kernel runs {sys.version.split()[0]}."
        )
    # Warnings that are not the student's fault must not reach stderr in graded cells.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
    warnings.filterwarnings("ignore", message=".*Matplotlib.*")
    # No path in the message: it would show the grading machine's folders in students' feedback.
    status = f"distlib {__version__} ready" + (f" for {lab}" if lab else "")
    if not quiet:
        print(status)
