"""Sphinx configuration of the course's documentation site.

Built with warnings as errors (``sphinx-build -W``; tests/test_docs.py does it): the pages are
made at build time from what the repository already holds, never edited twice:

* the syllabus, glossary, instructor's guide and changelog from ``course/*.md`` (links to lab
  notebooks become links to the labs' pages);
* each lab's walkthrough from the student copy ``labs/<lab>/<lab>.ipynb`` (its text and code,
  never solutions or hidden tests: the student copy holds none);
* the API reference of every public module of ``distlib`` from its docstrings.
"""

from __future__ import annotations

import json
import pkgutil
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

import distlib  # noqa: E402

project = "Distributed systems, hands on"
author = "The distsys-course maintainers"
release = distlib.__version__
extensions = ["myst_parser", "sphinx.ext.autodoc"]
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_title = project
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the signatures say enough; the types live in the code
suppress_warnings = ["myst.header", "misc.highlighting_failure"]

GENERATED = DOCS / "_generated"
COURSE_PAGES = {
    "README.md": "syllabus",
    "glossary.md": "glossary",
    "instructors.md": "instructors",
    "CHANGELOG.md": "changelog",
}


def _course_page(text: str) -> str:
    """A course/*.md file as a page of the site: lab notebooks and sibling files linked as
    the site's pages, the repository's README as the project's home page."""
    text = re.sub(r"\]\(\.\./labs/([\w-]+)/[\w-]+\.ipynb\)", r"](../labs/\1.md)", text)
    for name, page in COURSE_PAGES.items():
        text = text.replace(f"]({name})", f"]({page}.md)").replace(f"]({name}#", f"]({page}.md#")
    return text.replace("](../README.md)", "](../../index.md)")


def _lab_page(notebook: Path) -> str:
    """A lab's student copy as a page: its text, and its code as code blocks."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    parts = []
    for cell in cells:
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            parts.append(source)
        elif cell["cell_type"] == "code" and source.strip():
            parts.append("```python\n" + source.rstrip() + "\n```")
    return "\n\n".join(parts) + "\n"


def _public_modules() -> list[str]:
    names = ["distlib"]
    for info in pkgutil.walk_packages(distlib.__path__, "distlib."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def generate(app=None) -> None:
    """Write the generated pages into docs/_generated (not committed)."""
    for sub in ("course", "labs", "api"):
        (GENERATED / sub).mkdir(parents=True, exist_ok=True)
    for name, page in COURSE_PAGES.items():
        text = (ROOT / "course" / name).read_text(encoding="utf-8")
        (GENERATED / "course" / f"{page}.md").write_text(_course_page(text), encoding="utf-8")
    labs = sorted(p for p in (ROOT / "labs").iterdir() if p.is_dir())
    for lab in labs:
        page = _lab_page(lab / f"{lab.name}.ipynb")
        (GENERATED / "labs" / f"{lab.name}.md").write_text(page, encoding="utf-8")
    lab_toc = "\n".join(lab.name for lab in labs)
    (GENERATED / "labs" / "index.md").write_text(
        "# The labs\n\nEach lab's walkthrough as students get it (no solutions).\n\n"
        f"```{{toctree}}\n:maxdepth: 1\n\n{lab_toc}\n```\n",
        encoding="utf-8",
    )
    modules = _public_modules()
    for name in modules:
        title = f"``{name}``"
        # The top-level package re-exports names documented in their own modules: listed
        # there, indexed here only once.
        extra = "   :no-index:\n" if name == "distlib" else ""
        (GENERATED / "api" / f"{name}.rst").write_text(
            f"{title}\n{'=' * len(title)}\n\n.. automodule:: {name}\n   :members:\n{extra}",
            encoding="utf-8",
        )
    (GENERATED / "api" / "index.rst").write_text(
        "API reference\n=============\n\nEvery public module of ``distlib``, from its "
        "docstrings.\n\n.. toctree::\n   :maxdepth: 1\n\n"
        + "".join(f"   {name}\n" for name in modules),
        encoding="utf-8",
    )


def setup(app):
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True}
