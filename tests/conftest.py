"""Shared pytest fixtures (small example nodes, the path to the test data) and the two runs.

``python -m pytest`` is the quick run: the library's tests and one lab through the whole grading
pipeline. ``python -m pytest --full`` adds the tests marked ``full``: every other lab through the
pipeline with its plausible wrong answers, the sandbox under attack, the student edition and
Binder, a real browser. CI runs both.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from distlib import Node

ROOT = Path(__file__).resolve().parents[1]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--full",
        action="store_true",
        help="also run the tests marked 'full' (every lab's grading pipeline, the sandbox under "
        "attack, the student edition, the browser): what CI runs",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--full"):
        return
    quick = [item for item in items if item.get_closest_marker("full") is None]
    left_out = [item for item in items if item.get_closest_marker("full") is not None]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = quick


def pytest_report_header(config: pytest.Config) -> str:
    if config.getoption("--full"):
        return "the full run: every test, every lab's grading pipeline included"
    return "the quick run: tests marked 'full' are left out (python -m pytest --full runs them)"


DATA = ROOT / "tests" / "data"


class Echo(Node):
    """Replies to ("ping", n) with ("pong", n); pings its peers on a timer when ``chatty``."""

    def __init__(self, *, chatty: bool = False, period: float = 0.1) -> None:
        super().__init__()
        self.chatty = chatty
        self.period = period
        self.pongs: list[tuple[str, int]] = []
        self.sent = 0

    def on_start(self) -> None:
        self.storage["boots"] = self.storage.get("boots", 0) + 1
        if self.chatty:
            self.set_timer("tick", self.period)

    def on_timer(self, name: str) -> None:
        self.sent += 1
        self.broadcast(("ping", self.sent))
        self.set_timer("tick", self.period)

    def on_message(self, src: str, msg: tuple) -> None:
        if msg[0] == "ping":
            self.send(src, ("pong", msg[1]))
        else:
            self.pongs.append((src, msg[1]))


@pytest.fixture
def echo():
    return Echo


def linearizability_data() -> Path:
    """The external Jepsen, Porcupine and Knossos histories, kept in the repository under
    tests/data/linearizability (see its README for sources and licences)."""
    here = DATA / "linearizability"
    if not here.is_dir():
        raise AssertionError(f"the external histories are missing: expected them in {here}")
    return here
