"""The documentation site builds with no warning (Sphinx, warnings as errors) from the
repository's own texts, every link inside it leads to a page and an anchor that exist, and it
shows the labs as students get them: no solution, no hidden test."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key == "href" and value and tag == "a":
                self.hrefs.append(value)
            if key == "id" and value:
                self.ids.add(value)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-b",
            "html",
            "-q",
            "-W",
            "--keep-going",
            str(ROOT / "docs"),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, "the site has warnings or errors:\n" + run.stderr[-3000:]
    return out


def parse(page: Path) -> _Links:
    links = _Links()
    links.feed(page.read_text(encoding="utf-8"))
    return links


def test_every_internal_link_leads_to_a_page_and_anchor_that_exist(site):
    """Each relative link of every page names a file of the site, and its #anchor (if any) an
    element of that file."""
    pages = {p: parse(p) for p in site.rglob("*.html")}
    broken = []
    for page, links in pages.items():
        for href in links.hrefs:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith(("mailto:", "javascript:")):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if not target.exists():
                broken.append(f"{page.relative_to(site)}: {href} (no such file)")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else parse(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{page.relative_to(site)}: {href} (no such anchor)")
    assert not broken, f"{len(broken)} broken links:\n" + "\n".join(broken[:20])


def test_the_site_has_the_syllabus_guide_glossary_api_and_every_lab(site):
    """The pages a reader looks for are there: one per lab, the course texts, the API."""
    generated = site / "_generated"
    labs = sorted(p.name for p in (ROOT / "labs").iterdir() if p.is_dir())
    for lab in labs:
        assert (generated / "labs" / f"{lab}.html").is_file(), f"no page for {lab}"
    for page in ("syllabus", "glossary", "instructors", "changelog"):
        assert (generated / "course" / f"{page}.html").is_file(), f"no {page} page"
    api = (generated / "api" / "distlib.explore.html").read_text(encoding="utf-8")
    assert "Explorer" in api and "search" in api, "the API reference lacks the explorer"


def test_the_lab_pages_hold_no_solution_and_no_hidden_test(site):
    """What the site shows of a lab is the student copy: no solution markers, no hidden
    tests, no model answer."""
    for page in (site / "_generated" / "labs").glob("lab*.html"):
        text = page.read_text(encoding="utf-8")
        for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "A model answer"):
            assert marker not in text, f"{page.name} shows {marker!r}"
        assert re.search(r"NotImplementedError|YOUR ANSWER HERE|YOUR CODE HERE", text), (
            f"{page.name} should show the exercises as students get them"
        )
