"""What every lab notebook shares: the setup cell and the list of labs.

The setup cell is the first code cell of every lab. It imports :func:`distlib.lab_setup`, which
exists only in this course's library: if Python finds PyPI's unrelated packaging library that is
also called ``distlib`` (or no ``distlib`` at all), the cell says so in one sentence with the fix,
instead of failing later with an AttributeError deep in the lab.
"""

from __future__ import annotations

__all__ = ["SHADOW_MESSAGE", "setup_cell"]

SHADOW_MESSAGE = (
    "Python cannot find this course's 'distlib' library (it is not installed, or PyPI's "
    "unrelated packaging library of the same name shadows it): in a terminal in the course "
    "folder run  python -m pip install -e .  and then restart the kernel."
)


def setup_cell(lab: str) -> str:
    """The source of the first code cell of ``lab``."""
    return (
        "# Setup: check that Python finds this course's library, then prepare the lab.\n"
        "try:\n"
        "    from distlib import lab_setup\n"
        "except ImportError:\n"
        f"    raise ImportError({SHADOW_MESSAGE!r}) from None\n"
        f"lab_setup({lab!r})"
    )
