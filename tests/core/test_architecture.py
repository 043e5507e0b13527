"""The house rules of shared/docs/style.md, checked: imports only point down (no circle), every
module imports on its own, no function-level ``from core`` import without a written reason, no
file over 400 lines, core/ never imports the app, and each public name of core/ is defined once.

Run alone: ``python -m pytest tests/core/test_architecture.py -q``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CODE_DIRS = ("core", "explorer", "pages")
MAX_LINES = 400
LAZY_MARK = "# lazy:"  # a function-level core import must say why, on its line


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


CORE_MODULES = {_module_name(p): p for p in sorted((REPO / "core").rglob("*.py"))}


def _module_level_imports(path: Path) -> set[str]:
    """The core modules ``path`` imports at module level (not inside functions or classes)."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("core"):
            found.add(node.module)
            for alias in node.names:  # `from core.evaluate import judges` imports a module
                sub = f"{node.module}.{alias.name}"
                if sub in CORE_MODULES:
                    found.add(sub)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("core")}
    return {m for m in found if m in CORE_MODULES and m != "core"}


def import_graph() -> dict[str, set[str]]:
    """{core module: the core modules it imports at module level}."""
    return {name: _module_level_imports(path) for name, path in CORE_MODULES.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as [a, b, ..., a], or None (depth-first search, three colours)."""
    colour = dict.fromkeys(graph, 0)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if colour.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if colour.get(nxt) == 0 and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        colour[node] = 2
        return None

    for node in sorted(graph):
        if colour[node] == 0 and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_planted_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_core_has_no_import_circle():
    graph = import_graph()
    assert len(graph) > 30  # the scan sees the whole library
    assert "core.models" in graph["core.weights"]  # and sees real edges
    cycle = find_cycle(graph)
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_the_registry_imports_the_families_and_is_never_imported_back():
    graph = import_graph()
    assert {"core.gan", "core.pixelcnn.model"} <= graph["core.models"]
    for family in ("core.gan", "core.pixelcnn.model", "core.pixelcnn.trainer"):
        assert "core.models" not in graph[family], family


def test_every_core_module_imports_on_its_own():
    """Each module imported first, with no other core module loaded (torch stays loaded, so
    this costs one interpreter): an import circle that depends on import order fails here."""
    script = (
        "import importlib, sys, torch\n"
        f"names = {sorted(CORE_MODULES)!r}\n"
        "for name in names:\n"
        "    for loaded in [m for m in sys.modules if m == 'core' or m.startswith('core.')]:\n"
        "        del sys.modules[loaded]\n"
        "    importlib.import_module(name)\n"
        "print('imported', len(names))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == f"imported {len(CORE_MODULES)}"


def _function_level_core_imports(path: Path) -> list[tuple[int, str]]:
    lines = path.read_text().splitlines()
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for inner in ast.walk(node):
            names = []
            if isinstance(inner, ast.ImportFrom) and (inner.module or "").startswith("core"):
                names = [inner.module]
            elif isinstance(inner, ast.Import):
                names = [a.name for a in inner.names if a.name.startswith("core")]
            if names and LAZY_MARK not in lines[inner.lineno - 1]:
                found.append((inner.lineno, lines[inner.lineno - 1].strip()))
    return found


def test_no_function_level_core_import_without_a_reason():
    offenders = {
        str(path.relative_to(REPO)): hits
        for folder in CODE_DIRS
        for path in sorted((REPO / folder).rglob("*.py"))
        if (hits := _function_level_core_imports(path))
    }
    assert not offenders, f"add '{LAZY_MARK} <why>' or import at the top: {offenders}"


@pytest.mark.parametrize("folder", [*CODE_DIRS, "benchmarks", "tests"])
def test_no_file_over_400_lines(folder):
    long = {
        str(p.relative_to(REPO)): n
        for p in sorted((REPO / folder).rglob("*.py"))
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"split these by concept (style.md): {long}"


def test_core_never_imports_the_app():
    for name, path in CORE_MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            modules = []
            if isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            elif isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            for module in modules:
                root = module.split(".")[0]
                assert root not in ("streamlit", "gradio", "explorer", "pages"), (name, module)


def test_each_public_name_of_core_is_defined_once():
    """A public class, function or constant lives in one module; the others import it."""
    homes: dict[str, list[str]] = defaultdict(list)
    for name, path in CORE_MODULES.items():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                defined = [node.name]
            elif isinstance(node, ast.Assign):
                defined = [t.id for t in node.targets if isinstance(t, ast.Name)]
            else:
                continue
            for symbol in defined:
                if not symbol.startswith("_") and symbol not in ("main", "build_parser"):
                    homes[symbol].append(name)
    twice = {symbol: where for symbol, where in homes.items() if len(where) > 1}
    assert not twice, twice
