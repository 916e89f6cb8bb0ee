"""Guards for graded cells: only the student's own code can earn points.

An exercise class often subclasses one of the library's reference implementations, to inherit
the plumbing around the methods the student writes (storage helpers, message dispatch, timers).
Without a guard, ``class MyParticipant(Participant): pass`` inherits the reference answer and
passes every test. :func:`own_answer` closes both ways in:

1. **Inheritance.** Each graded method must be defined by the student's class (or by a base class
   the student wrote), not inherited from ``distlib``, and not an alias of the library's function
   (``handle_prepare = Participant.handle_prepare``).
2. **Delegation.** From then on, the library's implementations of those methods refuse to run
   for instances of the student's class, so ``super().handle_prepare(...)`` or
   ``Participant.handle_prepare(self, ...)`` raises :class:`ReferenceAnswerUsed` instead of
   supplying the answer. Library classes (reference nodes that run beside the student's in a
   simulation, broken variants for demonstrations) are not affected, nor are other student
   classes that were not named.

A graded cell imports the guard itself and calls it before its checks::

    from distlib.testing.grading import own_answer
    own_answer(MyParticipant, Participant, "handle_prepare", "commit")

:func:`own_function` is the same check for an exercise written as a plain function.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

__all__ = ["ReferenceAnswerUsed", "own_answer", "own_function"]

_LIBRARY = "distlib"

# (library class, method name) -> the student classes whose instances it refuses.
_REFUSED: dict[tuple[type, str], set[type]] = {}


class ReferenceAnswerUsed(AssertionError):
    """A graded method ran the library's reference answer instead of the student's code."""


def _from_library(obj: Any) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return module == _LIBRARY or module.startswith(_LIBRARY + ".")


def _plain(fn: Any) -> Any:
    """The function behind a staticmethod, classmethod or guard wrapper."""
    if isinstance(fn, staticmethod | classmethod):
        fn = fn.__func__
    return getattr(fn, "__distlib_original__", fn)


def _defining_class(cls: type, method: str) -> type | None:
    for klass in cls.__mro__:
        if method in klass.__dict__:
            return klass
    return None


def _check_defined(cls: type, reference: type, method: str) -> None:
    owner = _defining_class(cls, method)
    if owner is None or _from_library(owner):
        where = f"inherits it from {owner.__name__}" if owner is not None else "has none"
        raise AssertionError(
            f"{cls.__name__} does not define {method} ({where}): write {method} in your class; "
            f"the library's {reference.__name__}.{method} is the reference answer, not yours"
        )
    fn = _plain(owner.__dict__[method])
    if _from_library(fn):
        raise AssertionError(
            f"{cls.__name__}.{method} is the library's {fn.__qualname__}: write the method "
            "yourself instead of borrowing the reference answer"
        )
    if not callable(fn):
        raise AssertionError(f"{cls.__name__}.{method} must be a method (a def), not {fn!r}")


def _guard(owner: type, method: str) -> None:
    """Make ``owner.method`` (a library function) refuse instances of registered classes."""
    key = (owner, method)
    if key in _REFUSED:
        return
    original = owner.__dict__[method]
    if not callable(original) or isinstance(original, staticmethod | classmethod):
        return
    _REFUSED[key] = set()

    @functools.wraps(original)
    def guarded(self, *args, **kwargs):
        refused = _REFUSED.get(key, ())
        if refused and isinstance(self, tuple(refused)):
            raise ReferenceAnswerUsed(
                f"{type(self).__name__}.{method} ran the library's {owner.__name__}.{method} "
                "(through super() or a direct call), which is the reference answer: write the "
                "rule yourself"
            )
        return original(self, *args, **kwargs)

    guarded.__distlib_original__ = original  # type: ignore[attr-defined]
    setattr(owner, method, guarded)


def own_answer(cls: Any, reference: type, *methods: str) -> None:
    """Check that ``cls`` answers ``methods`` with its own code, and keep it that way.

    ``cls`` must be a class derived from ``reference`` (a library class). Raises AssertionError
    with a sentence saying what to change when a method is missing or borrowed; TypeError or
    ValueError for a wrong call. After it returns, the library's implementations of ``methods``
    raise :class:`ReferenceAnswerUsed` when called on an instance of ``cls``.
    """
    if not methods:
        raise ValueError("name at least one graded method")
    if not isinstance(reference, type) or not _from_library(reference):
        raise TypeError(f"the reference must be a class of the library, not {reference!r}")
    if not isinstance(cls, type):
        raise AssertionError(
            f"expected a class derived from {reference.__name__}, got {cls!r}: define it with "
            f"class ...({reference.__name__}):"
        )
    if not issubclass(cls, reference):
        raise AssertionError(f"{cls.__name__} must be derived from {reference.__name__}")
    if _from_library(cls):
        raise AssertionError(
            f"{cls.__name__} is the library's class, not yours: define your own class derived "
            f"from {reference.__name__}"
        )
    for method in methods:
        if not hasattr(reference, method):
            raise ValueError(f"{reference.__name__} has no method {method!r}")
        _check_defined(cls, reference, method)
    for method in methods:
        for klass in reference.__mro__:
            if _from_library(klass) and method in klass.__dict__:
                _guard(klass, method)
                _REFUSED[(klass, method)].add(cls)


def own_function(fn: Any, name: str | None = None) -> Callable[..., Any]:
    """Check that ``fn`` is a function the student wrote (not one of the library's); return it."""
    label = name or getattr(fn, "__name__", repr(fn))
    if not callable(fn):
        raise AssertionError(f"{label} must be a function (a def), not {fn!r}")
    if _from_library(_plain(fn)):
        raise AssertionError(
            f"{label} is the library's {getattr(fn, '__qualname__', label)}: write the function "
            "yourself"
        )
    return fn
