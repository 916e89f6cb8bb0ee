"""distlib.compute inside a real Jupyter kernel, as a student's notebook uses it.

A kernel's __main__ has no file, so functions defined in cells can only reach spawn and
forkserver workers by value; progress=True must pick the widget; and no cell may write to stderr
(nbgrader scores such a cell 0). One kernel runs all cells (a few seconds).
"""

from __future__ import annotations

import os

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CELLS = [
    f"import sys\nsys.path.insert(0, {ROOT!r})\nfrom distlib import compute",
    """\
def cube(x):
    return x ** 3

class Tag:
    def __init__(self, value):
        self.value = value

def tag(x):
    if x == 7:
        raise KeyError(x)
    return Tag(x)
""",
    """\
for method in compute.START_METHODS:
    assert compute.map(cube, range(6), workers=2, start_method=method, progress=True) == [
        x ** 3 for x in range(6)
    ], method
""",
    """\
tags = compute.map(tag, range(5), workers=2, start_method="spawn")
assert all(type(t) is Tag for t in tags), [type(t) for t in tags]
""",
    """\
try:
    compute.map(tag, range(10), workers=2, start_method="forkserver")
except compute.TaskError as error:
    print(error)
""",
]


@pytest.mark.slow
def test_notebook_cells_run_on_every_start_method_without_stderr():
    """Cell-defined functions and classes work under each start method in a real kernel, the
    progress widget is displayed, errors quote the cell's line, and stderr stays empty."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    outputs = [output for cell in notebook.cells for output in cell.outputs]
    stderr = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, f"cells wrote to stderr: {stderr}"
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, f"a cell raised: {[(e.ename, e.evalue) for e in errors]}"
    widgets = [
        o
        for o in outputs
        if o.output_type == "display_data" and "application/vnd.jupyter.widget-view+json" in o.data
    ]
    assert len(widgets) == 3, f"expected a progress widget per start method, got {len(widgets)}"
    printed = "".join(o.text for o in outputs if o.output_type == "stream")
    assert "tag() failed on item 7" in printed and "raise KeyError(x)" in printed, printed
