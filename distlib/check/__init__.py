"""Checkers that judge runs: invariants of protocols and consistency of histories.

History checkers: :func:`check_linearizable` and :func:`check_sequential` decide whether a
:class:`~distlib.history.History` fits a sequential model (:mod:`distlib.check.models`:
:class:`Register`, :class:`CasRegister`, :class:`KeyValue`, :class:`MultiRegister`, or your own
:class:`Model`); :func:`load_history` reads the files of Jepsen, Porcupine and Knossos
(:mod:`distlib.check.formats`). Drawing a checked history is
:func:`distlib.views.lincheck.timeline`'s job.
"""

from distlib.check.formats import HistoryFormatError
from distlib.check.formats import load as load_history
from distlib.check.linearizability import CheckResult, check_linearizable, check_sequential
from distlib.check.models import CasRegister, KeyValue, Model, MultiRegister, Register

__all__ = [
    "CasRegister",
    "CheckResult",
    "HistoryFormatError",
    "KeyValue",
    "Model",
    "MultiRegister",
    "Register",
    "check_linearizable",
    "check_sequential",
    "load_history",
]
