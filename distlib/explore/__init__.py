"""Every interleaving: an exhaustive explorer over the same :class:`~distlib.node.Node` classes
the simulation runs.

>>> explorer = Explorer({"n0": P0, "n1": P1, "n2": Acceptor}, drops=1, duplicates=1,
...                     properties=[agreement()])
>>> result = explorer.search()                 # breadth-first: a shortest counterexample
>>> print(result)                              # verdict, states, depth, time, the steps
>>> result.replay().diagram()                  # the counterexample as a space-time diagram
>>> result.widget()                            # walk the states by hand, in the notebook

A state is every node's fields and storage, the messages in flight (a multiset), the armed
timers, which nodes are up and the fault budget spent; a step delivers, drops or duplicates a
message, fires a timer, crashes or restarts a node. Properties are invariants checked in every
state (:func:`agreement`, :func:`atomicity`, :func:`raft_safety`, :func:`linearizable`, or your
own) and goals that
must be reachable (:func:`chosen`, :func:`leader_elected`, ...). See :class:`Explorer`.

This is model checking in the manner of DSLabs' search tests, stateright and TLC, over Python
objects: the state space of a real protocol is finite only with bounds (message faults, crashes,
timer firings, depth), and the explorer reports whether it exhausted the space within them.
"""

from distlib.explore._explorer import Explorer, Property, Result, View
from distlib.explore._replay import Replay, replay
from distlib.explore._state import ExploreError, State, Step, canonical
from distlib.explore._widget import ExplorerSession, explore_widget
from distlib.explore.properties import (
    agreement,
    atomicity,
    chosen,
    decided,
    goal,
    invariant,
    leader_elected,
    linearizable,
    raft_safety,
)

__all__ = [
    "ExploreError",
    "Explorer",
    "ExplorerSession",
    "Property",
    "Replay",
    "Result",
    "State",
    "Step",
    "View",
    "agreement",
    "atomicity",
    "canonical",
    "chosen",
    "decided",
    "explore_widget",
    "goal",
    "invariant",
    "leader_elected",
    "linearizable",
    "raft_safety",
    "replay",
]
