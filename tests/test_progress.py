"""distlib.progress, the one progress helper: tqdm bars where a person watches (a terminal's
stderr, a notebook), nothing where output is judged (a graded cell's stderr, a pipe)."""

from __future__ import annotations

import pytest

import distlib.progress as progress
from distlib.progress import make_progress


def test_on_a_terminal_true_draws_a_tqdm_bar_on_stderr_and_lines_above_it(monkeypatch, capsys):
    """progress=True on a terminal: a tqdm bar with the label and counts on stderr; write()
    prints a line on stdout without breaking the bar."""
    monkeypatch.setattr(progress, "_stderr_is_terminal", lambda: True)
    bar = make_progress(True, total=3, label="grading lab01", unit="submission")
    bar.write("[1/3] alice: 10 / 10")
    bar.update(3)
    bar.close()
    out, err = capsys.readouterr()
    assert "[1/3] alice: 10 / 10" in out
    assert "grading lab01" in err and "3/3" in err and "submission" in err


def test_off_a_terminal_true_is_silent_but_lines_still_print(capsys):
    """Under a test runner or nbgrader (no terminal, no notebook) nothing but the lines."""
    bar = make_progress(True, total=2, label="x")
    bar.update(2)
    bar.write("done")
    bar.close()
    assert capsys.readouterr() == ("done\n", "")


def test_text_goes_to_stdout_and_a_function_gets_the_counts(capsys):
    """progress="text" never writes to stderr; a function is called with (done, total)."""
    bar = make_progress("text", total=4, label="map")
    bar.update(4)
    bar.close()
    out, err = capsys.readouterr()
    assert "map" in out and "4/4" in out and err == ""
    seen = []
    bar = make_progress(lambda done, total: seen.append((done, total)), total=4)
    bar.update(1)
    bar.update(3)
    assert seen == [(0, 4), (1, 4), (4, 4)]


def test_a_bad_progress_value_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="'widget', 'text' or a function"):
        make_progress("loud", total=1)
