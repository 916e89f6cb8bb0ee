"""Shared pytest fixtures: small example nodes and the path to the test data."""

from __future__ import annotations

from pathlib import Path

import pytest

from distlib import Node

ROOT = Path(__file__).resolve().parents[1]
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
