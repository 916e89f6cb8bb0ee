"""The import graph of distlib follows its layers: nothing imports upward, and nothing imports in a
circle.

The layers, bottom up (DESIGN.md, "Layout"): the core (nodes, traces, histories, the client base
class, the size of a quorum); the runtimes, which drive nodes and know no protocol; the
protocols, which know nodes and not the runtimes; the checkers; the views; compute, which stands
alone; the explorer (a second runtime, which explores every interleaving); the harnesses that
graded cells and tests call; one module per lab; the course tooling; and the package's public
face, ``distlib/__init__.py``. Every import counts, including one inside
a function.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Each layer: the module prefixes in it, and the layers it may import (besides itself).
LAYERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "core": (
        (
            "distlib.node",
            "distlib.trace",
            "distlib.history",
            "distlib.client",
            "distlib.quorum",
            "distlib.disk",
        ),
        (),
    ),
    "runtimes": (("distlib.sim",), ("core",)),
    "protocols": (("distlib.protocols",), ("core",)),
    "checkers": (("distlib.check",), ("core",)),
    "views": (("distlib.views",), ("core", "checkers")),
    # Progress bars (tqdm) for long work, below everything that shows progress.
    "progress": (("distlib.progress",), ()),
    "compute": (("distlib.compute",), ("progress",)),
    "explorer": (("distlib.explore",), ("core", "checkers", "views", "progress")),
    "harnesses": (
        ("distlib.testing",),
        ("core", "runtimes", "protocols", "checkers", "views", "compute", "explorer", "progress"),
    ),
    "labs": (
        ("distlib.labs",),
        (
            "core",
            "runtimes",
            "protocols",
            "checkers",
            "views",
            "compute",
            "explorer",
            "harnesses",
            "progress",
            "public",
        ),
    ),
    "course": (
        ("distlib.course",),
        (
            "core",
            "runtimes",
            "protocols",
            "checkers",
            "views",
            "compute",
            "harnesses",
            "progress",
            "public",
        ),
    ),
    "public": (("distlib",), ("core", "runtimes")),
}


def modules(root: Path) -> dict[str, Path]:
    """Every module of the distlib package under ``root``, by dotted name."""
    found = {}
    for path in sorted((root / "distlib").rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    """Which distlib modules each distlib module imports (at any depth in its code)."""
    mods = modules(root)

    def known(name: str) -> str:
        while name not in mods and "." in name:
            name = name.rpartition(".")[0]
        return name

    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {known(a.name) for a in node.names if a.name.startswith("distlib")}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package
                    for _ in range(node.level - 1):
                        up = up.rpartition(".")[0]
                    base = f"{up}.{base}" if base else up
                if base == "distlib" or base.startswith("distlib."):
                    for alias in node.names:
                        full = f"{base}.{alias.name}"
                        targets.add(full if full in mods else known(base))
        graph[name] = targets - {name}
    return graph


def layer_of(module: str) -> str:
    best = ""
    for layer, (prefixes, _) in LAYERS.items():
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
                best, found = prefix, layer
    if not best:
        raise AssertionError(f"{module} belongs to no layer: add it to LAYERS in test_layers.py")
    return found


def upward_imports(graph: Mapping[str, Iterable[str]]) -> list[str]:
    wrong = []
    for module, targets in sorted(graph.items()):
        mine = layer_of(module)
        allowed = {mine, *LAYERS[mine][1]}
        for target in sorted(targets):
            theirs = layer_of(target)
            if theirs not in allowed:
                wrong.append(f"{module} ({mine}) imports {target} ({theirs})")
    return wrong


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The import cycles of ``graph`` (each once, as a path that returns to its start)."""
    found, state = [], {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = "open"
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                found.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return found


def test_nothing_imports_upward():
    """Each module imports only its own layer and the layers below it that it may use: runtimes
    import no protocol, protocols no runtime, the library no lab and no course tooling."""
    wrong = upward_imports(import_graph(ROOT))
    assert not wrong, "imports against the layer order:\n" + "\n".join(wrong)


def test_no_import_cycles():
    """No module imports itself through others, at module level or inside a function."""
    found = cycles(import_graph(ROOT))
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_every_lab_has_its_module():
    """Each lab folder has one module (or package) in distlib/labs named after it."""
    labs = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
    mods = modules(ROOT)
    missing = [lab for lab in labs if f"distlib.labs.{lab.replace('-', '_')}" not in mods]
    assert not missing, f"labs without a module in distlib/labs: {missing}"


def test_the_checks_fail_on_an_upward_import_and_a_cycle(tmp_path):
    """A protocol importing the simulation, and two modules importing each other, are caught."""
    pkg = tmp_path / "distlib"
    (pkg / "protocols").mkdir(parents=True)
    (pkg / "sim").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "node.py").write_text("")
    (pkg / "protocols" / "__init__.py").write_text("")
    (pkg / "protocols" / "bad.py").write_text(
        "def f():\n    from distlib.sim.simulation import Simulation\n"
    )
    (pkg / "sim" / "__init__.py").write_text("from .simulation import Simulation\n")
    (pkg / "sim" / "simulation.py").write_text("from distlib.sim.network import x\n")
    (pkg / "sim" / "network.py").write_text("from distlib.sim import simulation\n")
    graph = import_graph(tmp_path)
    assert upward_imports(graph) == [
        "distlib.protocols.bad (protocols) imports distlib.sim.simulation (runtimes)"
    ]
    assert cycles(graph) == [
        ["distlib.sim.simulation", "distlib.sim.network", "distlib.sim.simulation"]
    ]
