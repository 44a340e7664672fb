"""No module of the package imports another in a circle (at import time, lazily inside a
function, or under TYPE_CHECKING: grimp sees every import statement)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping, Set

import pytest

Graph = Mapping[str, Set[str]]  # module -> the modules it imports directly

# grimp's parser leaves native worker threads behind, and a process with threads should not
# fork (the sandbox tests fork; Python 3.12 warns): the graph is built in a child process
BUILD = """
import json, grimp
graph = grimp.build_graph("creditmgmt", cache_dir=None)
print(json.dumps({m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}))
"""


def circles(graph: Graph, package: str) -> list[list[str]]:
    """The strongly connected components of more than one module inside `package`."""
    modules = sorted(m for m in graph if m == package or m.startswith(package + "."))
    inside = set(modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's algorithm
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph[module] & inside):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in modules:
        if module not in index:
            visit(module)
    return found


@pytest.fixture(scope="module")
def graph() -> Graph:
    built = subprocess.run(
        [sys.executable, "-c", BUILD], capture_output=True, text=True, check=True, timeout=300
    )
    return {module: set(imported) for module, imported in json.loads(built.stdout).items()}


@pytest.mark.parametrize("package", ["creditmgmt"])
def test_no_import_circles(graph: Graph, package: str) -> None:
    assert circles(graph, package) == []


def test_the_search_finds_a_circle() -> None:
    graph = {"p": set(), "p.a": {"p.b"}, "p.b": {"p.a"}, "p.c": {"p.a"}}
    assert circles(graph, "p") == [["p.a", "p.b"]]


def test_the_graph_holds_the_imports_of_the_package(graph: Graph) -> None:
    # the child's graph is the real one (an empty graph would have no circles either)
    assert len([m for m in graph if m.startswith("creditmgmt.policies.")]) > 20
    assert "creditmgmt.domain.money" in graph["creditmgmt.domain"]
