"""Finding what a person should look at in a submission: code that patches the library.

A graded cell imports its helpers itself, so rebinding a name in the notebook changes nothing it
checks. What a notebook *can* still do is change the library those helpers come from
(``distlib.testing.grading.own_answer = ...``) or Python's builtins. Such code is rare in honest
work and easy to spot, so grading does not guess at intent: it lists every such line as a flag
for the instructor, beside the score.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

__all__ = ["Flag", "flags"]

_WATCHED_ROOTS = ("distlib", "builtins")


@dataclass(frozen=True)
class Flag:
    """One suspicious line: where it is and what it does."""

    cell: int  # the cell's position in the notebook, counted from 1
    grade_id: str | None
    line: int
    what: str

    def __str__(self) -> str:
        name = f" ({self.grade_id})" if self.grade_id else ""
        return f"cell {self.cell}{name} line {self.line}: {self.what}"


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return src if isinstance(src, str) else "".join(src)


def _python(source: str) -> str:
    """The cell without IPython's magics and shell escapes (which are not Python)."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )


def _watched(module: str) -> bool:
    return any(module == root or module.startswith(root + ".") for root in _WATCHED_ROOTS)


def _imports(trees: list[ast.AST]) -> dict[str, str]:
    """Names bound to the library, its members or builtins anywhere in the notebook -> what."""
    names: dict[str, str] = {"__builtins__": "builtins"}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if _watched(alias.name):
                        if alias.asname:
                            names[alias.asname] = alias.name
                        else:
                            root = alias.name.split(".")[0]
                            names[root] = root
            elif isinstance(node, ast.ImportFrom) and node.module and _watched(node.module):
                for alias in node.names:
                    names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _dotted(node: ast.AST) -> tuple[str, list[str]] | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return node.id, list(reversed(parts))
    return None


def _targets(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.Assign):
        found: list[ast.AST] = []
        for target in node.targets:
            unpacked = isinstance(target, ast.Tuple | ast.List)
            found += list(ast.walk(target)) if unpacked else [target]
        return found
    if isinstance(node, ast.AugAssign | ast.AnnAssign):
        return [node.target]
    if isinstance(node, ast.Delete):
        return list(node.targets)
    return []


def flags(nb: dict) -> list[Flag]:
    """Lines in the cells a student may edit that change the library's modules, its classes or
    functions, or Python's builtins (assignment, ``del``, ``setattr``/``delattr``, or a write
    to ``sys.modules``)."""
    trees: list[tuple[int, dict, ast.Module]] = []
    for index, cell in enumerate(nb.get("cells", []), 1):
        if cell.get("cell_type") != "code":
            continue
        try:
            tree = ast.parse(_python(_source(cell)))
        except SyntaxError:
            continue
        trees.append((index, cell, tree))
    watched = _imports([tree for _, _, tree in trees])
    found: list[Flag] = []
    for index, cell, tree in trees:
        meta = cell.get("metadata", {}).get("nbgrader") or {}
        if meta.get("locked") and not meta.get("solution"):
            continue  # restored from the source at grading: not the student's code
        gid = meta.get("grade_id")
        for node in ast.walk(tree):
            if not isinstance(node, ast.stmt | ast.expr):
                continue  # what is flagged is a statement or a call, which have line numbers
            for target in _targets(node):
                if isinstance(target, ast.Subscript):
                    base = _dotted(target.value)
                    if base == ("sys", ["modules"]):
                        found.append(Flag(index, gid, node.lineno, "writes to sys.modules"))
                    continue
                if not isinstance(target, ast.Attribute):
                    continue
                dotted = _dotted(target)
                if dotted and dotted[0] in watched:
                    what = ".".join([watched[dotted[0]], *dotted[1]])
                    verb = "deletes" if isinstance(node, ast.Delete) else "assigns to"
                    found.append(Flag(index, gid, node.lineno, f"{verb} {what}"))
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("setattr", "delattr")
                and node.args
            ):
                dotted = _dotted(node.args[0])
                if dotted and dotted[0] in watched:
                    what = ".".join([watched[dotted[0]], *dotted[1]])
                    found.append(Flag(index, gid, node.lineno, f"calls {node.func.id} on {what}"))
    return sorted(found, key=lambda f: (f.cell, f.line))
