"""Checkers that judge runs: invariants of protocols and consistency of histories."""
