"""The package's layering, read from the source with ``ast`` (nothing is imported).

``../shared/DESIGN.md``: each layer imports only from the layers above it: backend (1),
tensor and primitives (2), autodiff (3), optim (4), ... The tests pin that:

- the import graph of ``src/wonderland`` has no cycle, counting imports made inside
  functions too (a deferred import hides a cycle from Python, not from the design);
- ``backend.py`` imports no other wonderland module and names no ``Tensor``, and nothing
  registers ``Tensor`` into it (a registry keyed by Tensor is the backend knowing it);
- nothing imports from a higher layer (autodiff is not imported by tensor, backend or
  primitives).

The graph's nodes are module names (a package is its ``__init__``). An edge is an
explicit import only: ``from .base import x`` in ``primitives/shape.py`` is an edge to
``primitives.base`` and none to ``primitives/__init__`` (Python imports the parent package
first, but counting that would make every re-exporting ``__init__`` a cycle with its own
children). An import *of* a package (``from ..primitives import x`` where ``x`` is no
submodule, ``import wonderland``) is an edge to its ``__init__``, which depends on the
children it imports. Imports under ``if TYPE_CHECKING:`` count too: a layer that names a
higher layer's type knows it.
"""

from __future__ import annotations

import ast
from collections import deque
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "wonderland"

# DESIGN.md's layers, by module-name prefix (modules not listed are not checked here).
LAYERS = {
    f"{PACKAGE}.array_libraries": 1,  # the backend's glue to libraries other than NumPy
    f"{PACKAGE}.backend": 1,
    f"{PACKAGE}.tensor": 2,
    f"{PACKAGE}.primitives": 2,
    f"{PACKAGE}.transform_inputs": 2,  # the transforms' argument checks: below autodiff
    f"{PACKAGE}.autodiff": 3,
    f"{PACKAGE}.optim": 4,
}


# ----------------------------------------------------------------------- the graph


@cache
def _modules() -> dict[str, tuple[Path, bool]]:
    """Module name -> (path, is a package) for every ``.py`` under ``src/wonderland``."""
    out = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


@cache
def _tree(module: str) -> ast.Module:
    path = _modules()[module][0]
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _resolve(module: str, level: int, name: str | None) -> str:
    """The absolute name that ``from <level dots><name> import ...`` means in ``module``."""
    if level == 0:
        return name or ""
    parts = module.split(".")
    if not _modules()[module][1]:
        parts = parts[:-1]  # a plain module's package
    base = parts[: len(parts) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _targets(module: str, node: ast.AST) -> list[str]:
    """The package modules one import statement (or ``import_module`` call) reaches."""
    modules = _modules()
    found = []
    if isinstance(node, ast.Import):
        found = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = _resolve(module, node.level, node.module)
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            # ``from . import x``: the submodule x when there is one, else the package
            found.append(sub if sub in modules else base)
    elif isinstance(node, ast.Call) and _is_import_module(node):
        # importlib.import_module(".plot", __name__): a deferred import by name
        name = node.args[0].value
        dots = len(name) - len(name.lstrip("."))
        found = [_resolve(module, dots, name[dots:] or None) if dots else name]
    return [t for t in found if t in modules and t != module]


def _is_import_module(node: ast.Call) -> bool:
    f = node.func
    name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
    return (name == "import_module" and bool(node.args)
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str))


@cache
def _edges() -> dict[tuple[str, str], str]:
    """(importer, imported) -> where the first such import is, e.g. ``tensor.py:501``."""
    edges: dict[tuple[str, str], str] = {}
    for module, (path, _) in _modules().items():
        for node in ast.walk(_tree(module)):  # module level and inside functions alike
            for target in _targets(module, node):
                where = f"{path.relative_to(SRC / PACKAGE)}:{node.lineno}"
                edges.setdefault((module, target), where)
    return edges


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in _modules()}
    for a, b in _edges():
        graph[a].add(b)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The shortest cycle through each edge that lies on one, deduplicated, shortest first:
    every cycle shows up through its edges, each told as briefly as it can be (a DFS's
    first witness is often a long detour through the whole package)."""
    found: set[tuple[str, ...]] = set()
    for a in graph:
        for b in graph[a]:
            back = _shortest_path(graph, b, a)
            if back is not None:
                ring = [a, *back[:-1]]
                k = ring.index(min(ring))  # one rotation per cycle
                found.add(tuple(ring[k:] + ring[:k]))
    return [[*ring, ring[0]] for ring in sorted(found, key=lambda r: (len(r), r))]


def _shortest_path(graph: dict[str, set[str]], start: str, goal: str) -> list[str] | None:
    """``[start, ..., goal]`` by breadth-first search, or None."""
    parent: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        u = queue.popleft()
        if u == goal:
            path = [u]
            while parent[path[-1]] is not None:
                path.append(parent[path[-1]])
            return path[::-1]
        for v in sorted(graph[u]):
            if v not in parent:
                parent[v] = u
                queue.append(v)
    return None


def _short(module: str) -> str:
    return module.removeprefix(f"{PACKAGE}.") if module != PACKAGE else f"{PACKAGE}/__init__"


def _chain(cycle: list[str]) -> str:
    """``a -> b -> a``, each arrow with the line that makes it."""
    edges = _edges()
    steps = [_short(cycle[0])]
    for a, b in zip(cycle, cycle[1:]):
        steps.append(f"{_short(b)} [{edges[a, b]}]")
    return " -> ".join(steps)


def _layer(module: str) -> int | None:
    for prefix, layer in LAYERS.items():
        if module == prefix or module.startswith(prefix + "."):
            return layer
    return None


# ----------------------------------------------------------------------- the reader itself


def test_the_reader_sees_known_imports():
    """Guards the tests below against passing because the reader sees nothing (only
    modules that DESIGN.md names are used, so that moving code around keeps it valid)."""
    assert _resolve(f"{PACKAGE}.tensor", 1, "backend") == f"{PACKAGE}.backend"
    assert _resolve(f"{PACKAGE}.autodiff", 1, "reverse") == f"{PACKAGE}.autodiff.reverse"
    assert _resolve(f"{PACKAGE}.autodiff.reverse", 2, None) == PACKAGE
    edges = _edges()
    assert (PACKAGE, f"{PACKAGE}.tensor") in edges  # __init__ re-exports Tensor
    assert sum(b == f"{PACKAGE}.backend" for _, b in edges) >= 3
    assert len(edges) >= 30
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": {"a", "c"}, "c": {"b"}}) == [["a", "b", "a"],
                                                                  ["b", "c", "b"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


# ----------------------------------------------------------------------- the rules


def test_import_graph_has_no_cycle():
    cycles = _cycles(_graph())
    assert not cycles, "import cycles (imports inside functions count):\n" + "\n".join(
        _chain(c) for c in cycles)


@pytest.mark.parametrize("module, allowed", [("backend", {"array_libraries"}),
                                             ("array_libraries", set())])
def test_the_backend_layer_imports_no_other_wonderland_module(module, allowed):
    """Layer 1 is ``backend.py`` and its glue to other array libraries, which knows nothing
    of wonderland at all."""
    imported = sorted(f"{_short(b)} [{w}]" for (a, b), w in _edges().items()
                      if a == f"{PACKAGE}.{module}" and _short(b) not in allowed)
    assert not imported, f"{module}.py imports {', '.join(imported)}"


def test_backend_names_no_tensor():
    """Comments and docstrings may say "Tensor"; the code may not (no name, attribute or
    imported name ``Tensor``)."""
    uses = []
    for node in ast.walk(_tree(f"{PACKAGE}.backend")):
        name = (node.id if isinstance(node, ast.Name) else node.attr
                if isinstance(node, ast.Attribute) else None)
        if isinstance(node, ast.alias):
            name = node.asname or node.name
        if name == "Tensor":
            uses.append(f"backend.py:{node.lineno}" if hasattr(node, "lineno") else name)
    assert not uses, f"backend.py refers to Tensor at {', '.join(uses)}"


def test_nothing_registers_tensor_into_backend():
    """``backend.f(Tensor, ...)``: a registry in the backend keyed by Tensor is the backend
    knowing Tensor at run time (the dependency DESIGN.md forbids, pointed the other way)."""
    calls = []
    for module in _modules():
        for node in ast.walk(_tree(module)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "backend"
                    and any(isinstance(a, ast.Name) and a.id == "Tensor"
                            for a in [*node.args, *(k.value for k in node.keywords)])):
                path = _modules()[module][0].relative_to(SRC / PACKAGE)
                calls.append(f"backend.{node.func.attr}(Tensor, ...) at {path}:{node.lineno}")
    assert not calls, "; ".join(calls)


@pytest.mark.parametrize("lower", [f"{PACKAGE}.tensor", f"{PACKAGE}.backend",
                                   f"{PACKAGE}.primitives"])
def test_autodiff_is_not_imported_by_lower_layers(lower):
    """Layer 3 (autodiff) sits above layer 2 (tensor, primitives) and 1 (backend)."""
    autodiff = f"{PACKAGE}.autodiff"
    bad = sorted(f"{_short(a)} -> {_short(b)} [{w}]" for (a, b), w in _edges().items()
                 if (a == lower or a.startswith(lower + ".")) and b.startswith(autodiff))
    assert not bad, "imports of autodiff from below it:\n" + "\n".join(bad)


def test_no_import_reaches_up_a_layer():
    """An import between layered modules goes to its own layer or a lower-numbered one."""
    bad = sorted(f"{_short(a)} (layer {_layer(a)}) -> {_short(b)} (layer {_layer(b)}) [{w}]"
                 for (a, b), w in _edges().items()
                 if _layer(a) is not None and _layer(b) is not None and _layer(b) > _layer(a))
    assert not bad, "imports from a higher layer:\n" + "\n".join(bad)
