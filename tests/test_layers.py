"""Who imports or includes whom (issue 12): no cycle in the package's
imports (function-local ones included; `if TYPE_CHECKING:` blocks, which
never run, excepted), none in the C sources' includes, and the public
header includes no private file."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "pytlscheck"
CSRC = ROOT / "csrc"

pytestmark = pytest.mark.skipif(not CSRC.is_dir(), reason="source tree only")


def _cycle(graph):
    """A cycle of the graph as a list of nodes, or None."""
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def _is_type_checking(node):
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or \
        (isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def python_imports():
    graph = {}
    modules = {p.stem for p in PKG.glob("*.py")}
    for path in PKG.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                and _is_type_checking(node) for n in ast.walk(node)}
        deps = set()
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    deps.add(node.module.split(".")[0])
                else:
                    deps.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and \
                    node.module.startswith("pytlscheck."):
                deps.add(node.module.split(".")[1])
        graph[path.stem] = {d for d in deps if d in modules and d != path.stem}
    return graph


def c_includes():
    graph, by_name = {}, {}
    files = [p for p in CSRC.rglob("*.[ch]") if "build" not in p.parts]
    for p in files:
        by_name.setdefault(p.name, p)
    for p in files:
        deps = set()
        for inc in re.findall(r'^#include "([^"]+)"', p.read_text(encoding="utf-8"), re.M):
            target = (p.parent / inc).resolve()
            if not target.exists():
                target = by_name.get(Path(inc).name)
            if target is not None:
                deps.add(str(Path(target).resolve().relative_to(CSRC)))
        graph[str(p.resolve().relative_to(CSRC))] = deps
    return graph


def test_python_imports_have_no_cycle():
    graph = python_imports()
    assert {"report", "certificate", "_text", "_html", "errors"} <= set(graph)
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))
    # the model renders through the views; the views never import the model
    for view in ("_text", "_html"):
        assert not graph[view] & {"report", "certificate", "api", "many"}, graph[view]


def test_the_cycle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_c_includes_have_no_cycle():
    graph = c_includes()
    assert "include/tlscheck.h" in graph
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_public_header_includes_no_private_file():
    graph = c_includes()
    assert graph["include/tlscheck.h"] <= {"include/tc_kinds.h"}, graph["include/tlscheck.h"]
    assert not any(d.startswith("core/") for d in graph["include/tc_kinds.h"])
