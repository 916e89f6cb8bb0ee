"""Tests for distlib.node: handlers record actions and never perform them."""

from __future__ import annotations

import pytest

from distlib.node import CancelTimer, Node, Note, Send, SetTimer


class Greeter(Node):
    def on_start(self) -> None:
        self.broadcast("hello")
        self.set_timer("again", 1.5)
        self.note("started", peers=len(self.peers))

    def on_message(self, src, msg) -> None:
        self.storage["last"] = (src, msg)
        self.send(src, ("ack", msg))
        self.cancel_timer("again")


def test_handlers_record_actions_in_order():
    """A handler's actions come back from take_actions() in the order they were recorded."""
    node = Greeter().attach(id="a", peers=("b", "c"))
    node.on_start()
    assert node.take_actions() == [
        Send("b", "hello"),
        Send("c", "hello"),
        SetTimer("again", 1.5),
        Note("started", {"peers": 2}),
    ]
    assert node.take_actions() == [], "take_actions() must clear what it returned"


def test_message_handler_can_be_driven_by_hand():
    """A node can be unit-tested one message at a time, with storage visible afterwards."""
    node = Greeter().attach(id="a", peers=("b",))
    node.on_message("b", "hi")
    assert node.take_actions() == [Send("b", ("ack", "hi")), CancelTimer("again")]
    assert node.storage["last"] == ("b", "hi")


def test_broadcast_skips_self_and_honours_to():
    """broadcast() never sends to the node itself and can target a subset."""
    node = Greeter().attach(id="a", peers=("b", "c", "d"))
    node.broadcast("x", to=["a", "c"])
    assert node.take_actions() == [Send("c", "x")]


def test_unattached_node_explains_itself():
    """Using a node before it is attached names the fix instead of an AttributeError."""
    with pytest.raises(RuntimeError, match="not attached"):
        _ = Greeter().id


@pytest.mark.parametrize("bad", [3, None, ("t",)])
def test_timer_name_must_be_a_string(bad):
    """A timer name that is not a string is rejected with a clear TypeError."""
    node = Greeter().attach(id="a")
    with pytest.raises(TypeError, match="timer name must be a string"):
        node.set_timer(bad, 1.0)
    with pytest.raises(TypeError, match="timer name must be a string"):
        node.cancel_timer(bad)


def test_negative_timer_delay_is_rejected():
    """A timer with a negative delay is rejected, naming the timer."""
    node = Greeter().attach(id="a")
    with pytest.raises(ValueError, match="'t' has a negative delay"):
        node.set_timer("t", -0.5)


def test_send_needs_a_node_name():
    """send() to something that is not a node name is a TypeError naming the sender."""
    node = Greeter().attach(id="a")
    with pytest.raises(TypeError, match="a: send"):
        node.send(7, "x")


def test_context_fields_are_injected():
    """now, rng and storage come from the attached context, not from globals."""
    import random

    store: dict = {}
    node = Greeter().attach(id="n", peers=["m"], now=4.5, rng=random.Random(7), storage=store)
    assert node.now == 4.5
    assert node.peers == ("m",)
    assert node.rng.random() == random.Random(7).random()
    node.storage["x"] = 1
    assert store == {"x": 1}
