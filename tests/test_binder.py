"""Binder's configuration agrees with the package: pinned versions within pyproject's ranges."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

from distlib.course.start import STUDENT_DISABLED

ROOT = Path(__file__).resolve().parents[1]


def pins() -> dict[str, str]:
    out = {}
    for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"binder/requirements.txt must pin exact versions: {line!r}"
            out[name.lower()] = version
    return out


def declared() -> list[Requirement]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"]) + list(meta["optional-dependencies"]["scale"])
    return [Requirement(r) for r in reqs]


def test_every_runtime_dependency_is_pinned_within_its_range():
    """Each runtime (and Dask) dependency of pyproject is pinned, inside the allowed range."""
    pinned = pins()
    for req in declared():
        name = req.name.lower()
        assert name in pinned, f"binder/requirements.txt does not pin {name}"
        assert req.specifier.contains(pinned[name]), (
            f"binder pins {name}=={pinned[name]}, outside pyproject's range {req.specifier}"
        )


def test_runtime_is_new_enough_for_nbgrader():
    """runtime.txt asks for Python 3.11 or newer (nbgrader 0.9.6 cannot install on 3.10)."""
    text = (ROOT / "binder" / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-3\.(\d+)", text)
    assert match and int(match.group(1)) >= 11, f"binder/runtime.txt says {text!r}"


def test_postbuild_installs_the_course_and_locks_instructor_tools():
    """postBuild stops on errors, installs the package and disables nbgrader's instructor tools
    and JupyterLab's news pop-up, the same plugins as a local student's JupyterLab."""
    script = (ROOT / "binder" / "postBuild").read_text()
    assert "set -e" in script
    assert "pip install --no-deps -e ." in script
    for plugin in STUDENT_DISABLED:  # what `distcourse start` switches off, Binder does too
        assert plugin in script, f"postBuild does not disable {plugin}"
    assert "labextension lock" in script and "labextension disable" in script
