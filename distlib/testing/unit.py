"""Driving one node by hand, one message at a time, without a runtime.

A unit test (or a graded cell) builds a node, starts it, feeds it messages and looks at the
actions it recorded. :func:`boot` builds and starts a node; :func:`sent` keeps the messages among
its actions; :func:`settle` plays the runtime's part for a node's messages to itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from distlib.node import Action, Node, Send

__all__ = ["boot", "sent", "settle"]

NodeFactory = Callable[[], Node] | type[Node]


def boot(
    factory: NodeFactory, name: str, *, peers: Sequence[str], storage: dict | None = None
) -> Node:
    """A node from ``factory``, attached as ``name`` with ``peers`` and ``storage`` (a new dict by
    default; pass an old one to play a restart) and started, for feeding it one message at a
    time. Its start-up actions are still pending: ``node.take_actions()`` returns them."""
    node = factory()
    node.attach(id=name, peers=tuple(peers), storage={} if storage is None else storage)
    node.on_start()
    return node


def sent(actions: Iterable[Any]) -> list[tuple[str, Any]]:
    """The (destination, message) pairs among a node's recorded actions."""
    return [(a.dst, a.msg) for a in actions if isinstance(a, Send)]


def settle(node: Node) -> list[Action]:
    """Take ``node``'s recorded actions and deliver its messages to itself, in order, as a runtime
    would (each delivery may record more); return every other action, in the order recorded."""
    out: list[Action] = []
    pending = node.take_actions()
    while pending:
        act = pending.pop(0)
        if isinstance(act, Send) and act.dst == node.id:
            node.on_message(node.id, act.msg)
            pending += node.take_actions()
        else:
            out.append(act)
    return out
