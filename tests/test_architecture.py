"""The package's import graph: no cycle among its modules, and the bottom rooms (the registry
of requirements, how a failure names one, the verdict model) import nothing above them.
Every import statement counts, at any depth (one inside a function too)."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sca_conformance"

# A bottom room and the only modules of the package it may import.
BOTTOM = {
    "requirements": set(),
    "failures": {"requirements"},
    "verdict": {"failures", "requirements"},
}


def modules(package: Path) -> dict[str, Path]:
    """Every module of the package by its dotted name (a subpackage by its __init__)."""
    found = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (the package's own root is no room)."""
    found = modules(package)

    def module_of(name: str) -> str | None:
        while name and name not in found:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in found.items():
        here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = here[: len(here) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets.add(base)
                targets.update(f"{base}.{alias.name}" for alias in node.names)
        imported = {module_of(target) for target in targets
                    if target.split(".")[0] == package.name}
        graph[name] = {m for m in imported if m is not None and m not in (name, package.name)}
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of the graph (its modules, the first repeated last), or none."""
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as error:
        return list(error.args[1])
    return []


def test_no_import_cycle_among_the_package_modules() -> None:
    found = cycle(import_graph(PACKAGE))
    assert not found, "import cycle: " + " -> ".join(found)


@pytest.mark.parametrize("room", sorted(BOTTOM))
def test_a_bottom_room_imports_nothing_above_it(room: str) -> None:
    graph = import_graph(PACKAGE)
    imported = {name.removeprefix(f"{PACKAGE.name}.") for name in graph[f"{PACKAGE.name}.{room}"]}
    assert imported <= BOTTOM[room], f"{room} imports {sorted(imported - BOTTOM[room])}"


def test_only_the_plugin_imports_the_plugin() -> None:
    """The plugin sits on top: the flows, the checks and what a run publishes work without
    pytest's hooks (the CLI, the kill matrix and the report builder import them alone)."""
    plugin = f"{PACKAGE.name}.plugin"
    upward = sorted(f"{name} -> {target}" for name, targets in import_graph(PACKAGE).items()
                    for target in targets if not name.startswith(plugin)
                    and (target == plugin or target.startswith(f"{plugin}.")))
    assert not upward, upward


def test_the_graph_sees_every_import_at_any_depth(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from . import leaf\n")
    (package / "sub" / "leaf.py").write_text(
        "def late():\n    from ..top import thing\n    return thing\n")
    (package / "top.py").write_text("import pkg.sub.leaf\nthing = 1\n")
    (package / "alone.py").write_text("import os\nfrom pkg import top\n")
    graph = import_graph(package)
    assert graph == {"pkg": set(), "pkg.sub": {"pkg.sub.leaf"}, "pkg.sub.leaf": {"pkg.top"},
                     "pkg.top": {"pkg.sub.leaf"}, "pkg.alone": {"pkg.top"}}
    assert set(cycle(graph)) == {"pkg.sub.leaf", "pkg.top"}
    del graph["pkg.top"]
    assert cycle(graph) == []
