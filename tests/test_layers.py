"""The package's layers (docs/architecture.md): no upward import, no circle, no huge module.

Imports inside functions count: a deferred import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "logloss"
MAX_LINES = 600  # outside _kernels/, where numba's typing forces some long modules

# Bottom to top; a module's layer is that of the longest prefix listed.
LAYERS = [
    ("foundation", ["_validation", "_array", "_buffers", "_stable", "_version"]),
    ("kernels", ["_kernels"]),
    ("losses", ["losses", "activations", "grad", "metrics"]),
    ("objectives", ["objectives"]),
    ("solvers", ["solvers"]),
    ("models", ["models"]),
    ("integrations", ["dask", "model_file", "torch", "stats"]),
    ("interfaces", ["tables", "plot", "report", "tutorial", "cli"]),
]
RANK = {prefix: rank for rank, (_, prefixes) in enumerate(LAYERS) for prefix in prefixes}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported(path: Path, known: dict[str, Path]) -> set[str]:
    """The logloss modules that `path` imports, at any depth of its code."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target not in (name, "logloss"):
                found.add(target)
    return found


def rank_of(module: str) -> int | None:
    parts = module.split(".")[1:]  # drop "logloss"
    return RANK.get(parts[0]) if parts else None


def graph() -> dict[str, set[str]]:
    known = modules()
    return {m: imported(p, known) for m, p in known.items()}


def test_every_module_has_a_layer():
    unplaced = [m for m in modules() if m != "logloss" and rank_of(m) is None]
    assert not unplaced, f"modules outside every layer of docs/architecture.md: {unplaced}"


def test_no_module_imports_a_layer_above_it():
    upward = [
        f"{m} ({LAYERS[rank_of(m)][0]}) imports {t} ({LAYERS[rank_of(t)][0]})"
        for m, targets in graph().items()
        if rank_of(m) is not None
        for t in sorted(targets)
        if rank_of(t) is not None and rank_of(t) > rank_of(m)
    ]
    assert not upward, "\n".join(upward)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_cycle_finder_finds_a_planted_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circle():
    assert _cycles(graph()) == []


@pytest.mark.parametrize("module", sorted(modules()))
def test_module_size(module):
    path = modules()[module]
    if "_kernels" in path.parts:
        return
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(SRC)} has {lines} lines"
