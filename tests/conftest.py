"""Shared pytest fixtures: small example nodes and paths to the shared test data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from distlib import Node

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


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
    """The external Jepsen histories: ../shared/linearizability beside the repository, or the
    folder named by LINEARIZABILITY_DATA (for a checkout elsewhere). Missing data fails loudly."""
    here = SHARED / "linearizability"
    if here.is_dir():
        return here
    other = os.environ.get("LINEARIZABILITY_DATA")
    if other and Path(other).is_dir():
        return Path(other)
    raise AssertionError(
        f"the external histories are missing: expected them in {here} "
        "(or a folder named by the LINEARIZABILITY_DATA environment variable)"
    )
