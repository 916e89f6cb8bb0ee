"""The simulated runtime: a seeded network on simpy driving :class:`distlib.node.Node` objects."""

from distlib.sim.network import Constant, Exponential, Latency, Link, Network, Uniform
from distlib.sim.simulation import NodeError, Simulation, SimulationError

__all__ = [
    "Constant",
    "Exponential",
    "Latency",
    "Link",
    "Network",
    "NodeError",
    "Simulation",
    "SimulationError",
    "Uniform",
]
