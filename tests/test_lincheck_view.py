"""Tests for distlib.views.lincheck: timelines of checked histories."""

from __future__ import annotations

import subprocess
import sys

import matplotlib
import pytest

from distlib.check.linearizability import check_linearizable, check_sequential
from distlib.check.models import Register
from distlib.history import History, Operation
from distlib.views.lincheck import timeline

matplotlib.use("Agg")


def stale_history() -> History:
    rows = [
        ("a", "write", 0, 0.0, 1.0, None, "ok"),
        ("b", "read", None, 2.0, 4.0, 3, "ok"),
        ("c", "write", 4, 3.0, 5.0, None, "ok"),
        ("a", "write", 7, 6.0, None, None, "unknown"),
        ("c", "write", 8, 6.0, 7.0, None, "fail"),
    ]
    return History([Operation(i, *row) for i, row in enumerate(rows)])


def bars(fig):
    ax = fig.axes[0]
    return [p for p in ax.patches if p.get_width() > 0]


def test_one_row_per_client_and_a_bar_per_operation():
    """Each client gets a row and each operation a bar, labelled with what it did."""
    import matplotlib.pyplot as plt

    h = stale_history()
    fig = timeline(h)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    assert len(bars(fig)) == 5
    texts = {t.get_text() for t in ax.texts}
    assert "read() → 3" in texts and "write(8) → fail" in texts and "write(7) → ?" in texts
    plt.close(fig)


def test_illegal_result_highlights_the_culprit():
    """The operation that cannot be placed is red; the legal start is numbered."""
    import matplotlib.pyplot as plt

    h = stale_history()
    result = check_linearizable(h, Register(initial=0))
    assert result.culprit is h[1]
    fig = timeline(h, result)
    ax = fig.axes[0]
    red = [p for p in bars(fig) if p.get_facecolor()[:3] == matplotlib.colors.to_rgb("#d62728")]
    assert len(red) == 1, "exactly one bar should be highlighted"
    assert red[0].get_x() == 2.0, "the highlighted bar is the stale read"
    numbers = {t.get_text() for t in ax.texts if t.get_text().isdigit()}
    assert numbers == {str(i) for i in range(1, len(result.prefix) + 1)}
    assert ax.get_title() == "not linearizable"
    plt.close(fig)


def test_legal_result_numbers_the_order():
    """A legal order is drawn as numbered points where operations take effect."""
    import matplotlib.pyplot as plt

    h = stale_history()
    h.ops[1].output = 4
    result = check_sequential(h, Register(initial=0))
    assert result.ok
    fig = timeline(h, result, title="fine")
    ax = fig.axes[0]
    numbers = sorted(int(t.get_text()) for t in ax.texts if t.get_text().isdigit())
    assert numbers == list(range(1, len(result.order) + 1))
    assert ax.get_title() == "fine"
    plt.close(fig)


def test_crop_and_pick_clients():
    """since/until crop the axis and drop rows with nothing in view; clients picks rows."""
    import matplotlib.pyplot as plt

    h = stale_history()
    fig = timeline(h, since=5.5, until=8.0)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "c"]
    assert ax.get_xlim()[0] < 5.5 < ax.get_xlim()[1]
    plt.close(fig)
    fig = timeline(h, clients=["c", "b"], labels=False)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["c", "b"]
    assert not fig.axes[0].texts
    plt.close(fig)


def test_draws_into_given_axes():
    """An axes passed in is drawn on, and its figure returned."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert timeline(stale_history(), ax=ax) is fig
    plt.close(fig)


def test_refuses_empty_drawings():
    """An empty history or a window with nothing in it is a clear error."""
    with pytest.raises(ValueError, match="no operations"):
        timeline(History())
    with pytest.raises(ValueError, match="none of the clients"):
        timeline(stale_history(), clients=["z"])


def test_matplotlib_is_imported_lazily():
    """Importing the checker and the view does not import matplotlib."""
    code = (
        "import sys, distlib.check, distlib.views.lincheck; sys.exit('matplotlib' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, f"matplotlib was imported eagerly: {done.stderr}"
