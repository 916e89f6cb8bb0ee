"""Harnesses that tests and graded notebook cells use to judge protocol implementations."""
