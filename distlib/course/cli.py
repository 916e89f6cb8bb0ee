"""The ``distcourse`` command line.

Each subcommand lives in its own module, which provides ``register(subparsers)``: it adds its
parser and sets ``func`` to a callable taking the parsed arguments and returning an exit code.
Heavy imports (nbgrader, matplotlib) happen inside those callables, so ``distcourse --help``
stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["COMMAND_MODULES", "build_parser", "main"]

# Modules that contribute subcommands, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "distlib.course.start",
    "distlib.course.commands",
    "distlib.course.publish",
    "distlib.check.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="distcourse",
        description="Release, collect, grade and hand back the course's labs (over nbgrader), "
        "and check histories for linearizability.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("distcourse: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
