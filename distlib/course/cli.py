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

__all__ = ["COMMANDS", "COMMAND_MODULES", "build_parser", "main"]

# Modules that contribute subcommands, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "distlib.course.start",
    "distlib.course.commands",
    "distlib.course.publish",
    "distlib.check.cli",
)

#: Which module registers each subcommand: a command line that names one imports only that
#: module (``distcourse lincheck FILE`` needs neither nbgrader's helpers nor the course tools).
COMMANDS: dict[str, str] = {
    "start": "distlib.course.start",
    "release": "distlib.course.commands",
    "collect": "distlib.course.commands",
    "grade": "distlib.course.commands",
    "feedback": "distlib.course.commands",
    "validate": "distlib.course.commands",
    "publish": "distlib.course.publish",
    "lincheck": "distlib.check.cli",
}


def build_parser(modules: tuple[str, ...] | None = None) -> argparse.ArgumentParser:
    """The parser with the subcommands of ``modules`` (default: every module)."""
    parser = argparse.ArgumentParser(
        prog="distcourse",
        description="Release, collect, grade and hand back the course's labs (over nbgrader), "
        "and check histories for linearizability.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES if modules is None else modules:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    module = COMMANDS.get(words[0]) if words else None
    parser = build_parser(None if module is None or module not in COMMAND_MODULES else (module,))
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
