"""No import cycles in ``src/``: every runtime import, module level or inside a function, read
with ``ast``. Imports under ``if TYPE_CHECKING:`` are left out (they never run)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"


def module_names() -> dict[str, Path]:
    found = {}
    for path in (SRC / "pictograph").rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def runtime_imports(tree: ast.Module, module: str, is_package: bool, known: set[str]) -> set[str]:
    """Modules named by the imports that run (skipping ``if TYPE_CHECKING:`` bodies)."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".")
                keep = len(package) - node.level + (1 if is_package else 0)
                base = ".".join([*package[:keep], *([base] if base else [])])
            submodules = {f"{base}.{alias.name}" for alias in node.names}
            names.update(submodules)
            if not submodules <= known:  # ``from package import submodule`` needs no __init__
                names.add(base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return names


def import_graph() -> dict[str, set[str]]:
    modules = module_names()
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        wanted = runtime_imports(tree, name, path.name == "__init__.py", set(modules))
        graph[name] = {target for target in wanted if target in modules} - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_the_graph_sees_the_imports_it_should() -> None:
    graph = import_graph()
    assert "pictograph._upload.engine" in graph["pictograph.resources.images"]
    assert "pictograph.protocol" in graph["pictograph.server.service.batch_uploads"]


def test_src_has_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_a_cycle_is_found_when_there_is_one() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_images_resource_does_not_load_the_workflows() -> None:
    """The upload engine is internal (``pictograph._upload``); ``client.images`` reaches it
    without importing ``pictograph.workflows``, the public doors built on the client."""
    graph = import_graph()
    reached: set[str] = set()
    todo = ["pictograph.resources.images"]
    while todo:
        module = todo.pop()
        if module not in reached:
            reached.add(module)
            todo.extend(graph[module])
    assert not {m for m in reached if m.startswith("pictograph.workflows")}


@pytest.mark.parametrize(
    "module",
    sorted(
        m for m in module_names() if m.startswith(("pictograph._upload", "pictograph.resources"))
    ),
)
def test_a_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    """The graph above leaves out the package ``__init__`` an import runs first; a module
    imported before anything else shows a cycle through one."""
    run = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
