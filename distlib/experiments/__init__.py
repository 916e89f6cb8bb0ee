"""Ready-made experiments the labs run: a system built on Simulation, a workload, a measurement.

Each module builds systems out of :mod:`distlib.protocols` nodes, runs them under stated faults
and returns plain results (and the simulation, for its trace and pictures).
"""
