"""Progress display for long map calls: a notebook widget, a text bar, or a callback.

Graded notebook cells are scored 0 if anything reaches stderr, so the default is no display at
all, and ``progress=True`` writes to stderr only when stderr is a terminal. In a notebook kernel
it shows an ipywidgets bar (imported only then), or a text bar on stdout if ipywidgets is
missing. The progress unit is the item; it advances when a chunk comes back.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TextIO


class _Silent:
    def update(self, n: int) -> None:
        pass

    def close(self, ok: bool = True) -> None:
        pass


class _Callback:
    def __init__(self, fn: Callable[[int, int], Any], total: int) -> None:
        self.fn = fn
        self.total = total
        self.done = 0
        fn(0, total)

    def update(self, n: int) -> None:
        self.done += n
        self.fn(self.done, self.total)

    def close(self, ok: bool = True) -> None:
        pass


class TextBar:
    """``label [#########-----------]  45%  450/1000`` rewritten in place with a carriage return.

    It is redrawn only when the whole percentage changes, so thousands of small chunks do not
    flood the output.
    """

    width = 30

    def __init__(self, total: int, label: str, stream: TextIO) -> None:
        self.total = total
        self.label = label
        self.stream = stream
        self.done = 0
        self._shown = -1
        self._draw()

    def _draw(self, end: str = "") -> None:
        frac = self.done / self.total if self.total else 1.0
        percent = int(frac * 100)
        if percent == self._shown and not end:
            return
        self._shown = percent
        filled = round(frac * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {percent:3d}%  {self.done}/{self.total}{end}")
        self.stream.flush()

    def update(self, n: int) -> None:
        self.done += n
        self._draw()

    def close(self, ok: bool = True) -> None:
        self._draw(end="\n" if ok else "  (stopped)\n")


class WidgetBar:
    """An ipywidgets ``IntProgress`` with a label, displayed in the notebook output."""

    def __init__(self, total: int, label: str) -> None:
        import ipywidgets
        from IPython.display import display

        self.total = total
        self.bar = ipywidgets.IntProgress(value=0, min=0, max=max(total, 1), description="")
        self.text = ipywidgets.Label(value=f"0/{total}")
        display(ipywidgets.HBox([ipywidgets.Label(value=label), self.bar, self.text]))

        self.done = 0
        self._step = max(1, total // 100)  # each change is a message to the frontend: ~100 max

    def update(self, n: int) -> None:
        self.done += n
        if self.done - self.bar.value >= self._step or self.done >= self.total:
            self.bar.value = self.done
            self.text.value = f"{self.done}/{self.total}"

    def close(self, ok: bool = True) -> None:
        self.bar.value = self.done
        self.text.value = f"{self.done}/{self.total}"
        self.bar.bar_style = "success" if ok else "danger"


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


def make_progress(progress: Any, *, total: int, label: str = "") -> Any:
    """Build the progress display for one call; it has ``update(n_items)`` and ``close(ok)``.

    ``progress`` is one of:

    - ``False`` or ``None`` (the default of every call): nothing is displayed;
    - ``True``: a widget in a notebook kernel; a text bar on stderr when stderr is a terminal;
      nothing otherwise (a script piped to a file, a test runner, nbgrader's stderr check);
    - ``"widget"``: an ipywidgets bar, or a text bar on stdout if ipywidgets is not installed;
    - ``"text"``: a text bar on stdout (safe in graded cells: never stderr);
    - a function ``progress(done, total)`` called with item counts as chunks finish.
    """
    if progress is None or progress is False:
        return _Silent()
    if callable(progress):
        return _Callback(progress, total)
    if progress is True:
        if in_notebook():
            return _widget_or_text(total, label)
        if _stderr_is_terminal():
            return TextBar(total, label, sys.stderr)
        return _Silent()
    if progress == "widget":
        return _widget_or_text(total, label)
    if progress == "text":
        return TextBar(total, label, sys.stdout)
    raise ValueError(
        f"progress must be False, True, 'widget', 'text' or a function (done, total), "
        f"not {progress!r}"
    )


def _widget_or_text(total: int, label: str) -> Any:
    try:
        return WidgetBar(total, label)
    except ImportError:
        return TextBar(total, label, sys.stdout)
