"""Progress of long work, one helper for the whole library: map calls, sweeps, searches.

Bars are `tqdm <https://tqdm.github.io>`_'s, the ones Jupyter users know: a widget in a notebook
(``tqdm.notebook``), a text bar in a terminal. Graded notebook cells lose their points if
anything reaches stderr, so the default everywhere is no display at all, and ``progress=True``
writes to stderr only when stderr is a terminal.

``progress`` is one of:

- ``False`` or ``None`` (the default of every call): nothing is displayed;
- ``True``: a widget in a notebook kernel; a text bar on stderr when stderr is a terminal;
  nothing otherwise (a script piped to a file, a test runner, nbgrader's stderr check);
- ``"widget"``: a notebook widget, or a text bar on stdout where widgets cannot be shown;
- ``"text"``: a text bar on stdout (safe in graded cells: never stderr);
- a function, called with the counts as work finishes: ``progress(done, total)``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

__all__ = ["Progress", "in_notebook", "make_progress"]


class Progress:
    """What every display offers: ``update(n)`` (n more units done), ``note(text)`` (a short
    status after the counts), ``write(text)`` (a line of output that does not break the bar)
    and ``close(ok)``."""

    def update(self, n: int) -> None:
        pass

    def write(self, text: str, *, error: bool = False) -> None:
        """Print ``text`` (on stderr if ``error``), above the bar if one is drawn."""
        print(text, file=sys.stderr if error else sys.stdout, flush=True)

    def note(self, text: str) -> None:
        pass

    def close(self, ok: bool = True) -> None:
        pass


class _Callback(Progress):
    def __init__(self, fn: Callable[[int, int | None], Any], total: int | None) -> None:
        self.fn = fn
        self.total = total
        self.done = 0
        fn(0, total)

    def update(self, n: int) -> None:
        self.done += n
        self.fn(self.done, self.total)


class _Bar(Progress):
    """A tqdm bar (text or notebook widget)."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar

    def update(self, n: int) -> None:
        self.bar.update(n)

    def note(self, text: str) -> None:
        self.bar.set_postfix_str(text, refresh=False)

    def write(self, text: str, *, error: bool = False) -> None:
        self.bar.write(text, file=sys.stderr if error else sys.stdout)

    def close(self, ok: bool = True) -> None:
        if not ok:
            self.bar.set_postfix_str("stopped", refresh=False)
        self.bar.close()


def in_notebook() -> bool:
    """True inside a Jupyter kernel (an IPython shell with a kernel), without importing IPython."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def make_progress(
    progress: Any, *, total: int | None, label: str = "", unit: str = "it"
) -> Progress:
    """The display of one piece of work of ``total`` units (None: not known in advance), for
    ``progress`` as described in the module documentation."""
    if progress is None or progress is False:
        return Progress()
    if callable(progress):
        return _Callback(progress, total)
    if progress is True:
        if in_notebook():
            return _widget(total, label, unit)
        if _stderr_is_terminal():
            return _text(total, label, unit, sys.stderr)
        return Progress()
    if progress == "widget":
        return _widget(total, label, unit)
    if progress == "text":
        return _text(total, label, unit, sys.stdout)
    raise ValueError(
        f"progress must be False, True, 'widget', 'text' or a function (done, total), "
        f"not {progress!r}"
    )


def _text(total: int | None, label: str, unit: str, stream: Any) -> Progress:
    from tqdm import tqdm

    # mininterval: redraw at most a few times a second, so thousands of small updates do not
    # flood a log; ascii: plain characters, readable in any terminal or file.
    return _Bar(
        tqdm(total=total, desc=label or None, unit=unit, file=stream, ascii=True, mininterval=0.25)
    )


def _widget(total: int | None, label: str, unit: str) -> Progress:
    try:
        import ipywidgets  # noqa: F401 - tqdm.notebook needs it
        from tqdm.notebook import tqdm as notebook_tqdm
    except ImportError:
        return _text(total, label, unit, sys.stdout)
    if not in_notebook():  # no frontend to draw a widget in: a text bar on stdout
        return _text(total, label, unit, sys.stdout)
    return _Bar(notebook_tqdm(total=total, desc=label or None, unit=unit))
