"""``distcourse lincheck``: check a recorded history file from the command line.

Reads a history in one of the formats of :mod:`distlib.check.formats`, checks it with the model
its source uses, prints the verdict (and, for an illegal history, the explanation) and exits
with 0 (linearizable), 1 (not linearizable) or 2 (unknown, or the file could not be read).
The ``distcourse`` entry point (:mod:`distlib.course.cli`) calls :func:`register`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["EXIT_ILLEGAL", "EXIT_LEGAL", "EXIT_UNKNOWN", "register", "run"]

EXIT_LEGAL = 0
EXIT_ILLEGAL = 1
EXIT_UNKNOWN = 2

_SUFFIXES = {".log": "jepsen-etcd", ".txt": "porcupine-kv", ".edn": "knossos-edn"}
_FORMATS = ("jepsen-etcd", "porcupine-kv", "knossos-edn")


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add the ``lincheck`` command to a ``distcourse`` sub-parser collection."""
    parser = subparsers.add_parser(
        "lincheck",
        help="check a recorded history for linearizability",
        description="Check a history file for linearizability (or sequential consistency). "
        "Exit status: 0 linearizable, 1 not linearizable, 2 unknown or unreadable.",
    )
    parser.add_argument("file", metavar="FILE", help="the history file")
    parser.add_argument(
        "--format",
        choices=_FORMATS,
        default=None,
        help="the file's format (default: from the suffix: .log jepsen-etcd, "
        ".txt porcupine-kv, .edn knossos-edn)",
    )
    parser.add_argument(
        "--max-steps",
        type=int,
        default=10_000_000,
        metavar="N",
        help="give up (verdict unknown) after N model steps (default: 10,000,000)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="give up (verdict unknown) after this many seconds",
    )
    parser.add_argument(
        "--sequential",
        action="store_true",
        help="check sequential consistency instead (per-client order, not real time)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="print only the verdict, not the explanation"
    )
    parser.set_defaults(func=run)
    return parser


def _fail(message: str) -> int:
    print(f"distcourse lincheck: {message}", file=sys.stderr)
    return EXIT_UNKNOWN


def run(args: argparse.Namespace) -> int:
    """Check ``args.file``; print the verdict; return the exit status."""
    from distlib.check.formats import HistoryFormatError, load
    from distlib.check.linearizability import check_linearizable, check_sequential

    path = Path(args.file)
    fmt = args.format or _SUFFIXES.get(path.suffix)
    if fmt is None:
        return _fail(f"cannot tell the format of {path} from its suffix; give --format")
    if not path.is_file():
        return _fail(f"no such file: {path}")
    if args.max_steps is not None and args.max_steps < 0:
        return _fail(f"--max-steps must not be negative, not {args.max_steps}")
    if args.timeout is not None and args.timeout <= 0:
        return _fail(f"--timeout must be positive, not {args.timeout}")
    try:
        loaded = load(path, fmt)
    except (HistoryFormatError, OSError) as e:
        return _fail(str(e).replace("\n", " "))
    check = check_sequential if args.sequential else check_linearizable
    try:
        result = check(loaded.history, loaded.model, max_steps=args.max_steps, timeout=args.timeout)
    except (ValueError, TypeError) as e:
        return _fail(f"{path}: {e}")
    if args.quiet:
        print(result.verdict)
    else:
        print(f"{path}: {len(loaded.history)} operations, {fmt}, {loaded.model!r}")
        print(result.explanation)
    if not result.decided:
        return EXIT_UNKNOWN
    return EXIT_LEGAL if result.ok else EXIT_ILLEGAL
