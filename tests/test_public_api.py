"""The public surface is declared and pinned: every public module of distlib has ``__all__``, each
listed name exists, and the lists match tests/data/public_api.json; a lab notebook never imports
one name that means two things.

Changing a public name is a decision: update the snapshot in the same commit (the course's
notebooks, the instructor's guide and CHANGELOG.md say what moved). To regenerate it:
``PYTHONPATH=. python tests/test_public_api.py``.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import pkgutil
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT / "tests" / "data" / "public_api.json"


def public_modules() -> list[str]:
    import distlib

    names = ["distlib"]
    for info in pkgutil.walk_packages(distlib.__path__, "distlib."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def surface() -> dict[str, list[str]]:
    return {name: sorted(importlib.import_module(name).__all__) for name in public_modules()}


@pytest.mark.parametrize("module", public_modules())
def test_module_declares_and_keeps_its_public_names(module):
    """The module has __all__, every name in it exists, and the list is the pinned one."""
    mod = importlib.import_module(module)
    assert hasattr(mod, "__all__"), f"{module} declares no __all__"
    missing = [
        name
        for name in mod.__all__
        if not hasattr(mod, name) and importlib.util.find_spec(f"{module}.{name}") is None
    ]
    assert not missing, f"{module}.__all__ lists missing names: {missing}"
    pinned = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert module in pinned, f"{module} is new: add it to {SNAPSHOT.name}"
    assert sorted(mod.__all__) == pinned[module], (
        f"{module}'s public names changed: added {sorted(set(mod.__all__) - set(pinned[module]))}, "
        f"removed {sorted(set(pinned[module]) - set(mod.__all__))}; update {SNAPSHOT.name} "
        "if that was meant"
    )


def test_the_snapshot_names_no_module_that_is_gone():
    """Every module the snapshot pins still exists."""
    gone = set(json.loads(SNAPSHOT.read_text(encoding="utf-8"))) - set(public_modules())
    assert not gone, f"pinned modules that no longer exist: {sorted(gone)}"


IMPORT = re.compile(r"^\s*from (distlib[\w.]*) import \(?([\w\s,]+)\)?", re.M)


@pytest.mark.parametrize("lab", sorted(p.name for p in (ROOT / "solutions").iterdir()))
def test_a_notebook_never_imports_one_name_with_two_meanings(lab):
    """Within one lab, each name imported from distlib is one object (no `simulate` that is an
    availability model in one cell and a queue in another)."""
    (path,) = (ROOT / "solutions" / lab).glob("*.ipynb")
    seen: dict[str, tuple[str, object]] = {}
    clashes = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        for module, names in IMPORT.findall(source):
            mod = importlib.import_module(module)
            for name in (n.strip() for n in names.replace("\n", ",").split(",")):
                if not name or name == "as" or not hasattr(mod, name):
                    continue
                obj = getattr(mod, name)
                if name in seen and seen[name][1] is not obj:
                    clashes.append(f"{name}: {seen[name][0]} and {module}")
                seen.setdefault(name, (module, obj))
    assert not clashes, f"{lab} imports names with two meanings: {clashes}"


def _distlib_imports(source: str) -> list[tuple[str, str]]:
    """(module, name) for every ``from distlib... import name`` in a code cell."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return []  # a cell a student must complete; the pipeline tests run those
    return [
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("distlib")
        for alias in node.names
    ]


@pytest.mark.parametrize("lab", sorted(p.name for p in (ROOT / "solutions").iterdir()))
def test_every_name_a_notebook_imports_from_distlib_exists_and_is_public(lab):
    """A notebook imports only names its modules declare in __all__ (or submodules): a name
    moved elsewhere fails here, in the quick run, and not only when the lab is graded."""
    (path,) = (ROOT / "solutions" / lab).glob("*.ipynb")
    missing = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        for module, name in _distlib_imports("".join(cell["source"])):
            mod = importlib.import_module(module)
            if name in getattr(mod, "__all__", ()):
                continue
            package = hasattr(mod, "__path__")
            if not package or importlib.util.find_spec(f"{module}.{name}") is None:
                missing.append(f"{module}.{name}")
    assert not missing, f"{lab} imports names that are not public or do not exist: {missing}"


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    SNAPSHOT.write_text(json.dumps(surface(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {SNAPSHOT}")
