"""The static import graph among first-party modules, and its cycles (Tarjan's strongly connected components).

Edges come from `ast`: `import a.b` and `from a import b` (relative ones resolved), to the module itself when
it is one, else to the package. An import inside a function is a *deferred* edge, kept apart from the
module-level ones (which include those under `if`/`try` at module level); imports under `if TYPE_CHECKING:` run
never and are left out. Importing `a.b.c` also runs the `__init__` of `a` and `a.b`; those implicit edges are
not added to the module graph, so a cycle reported there is one the code wrote. The package graph folds each
module into the package that holds it (`gpu_backend/engine/engine.py` into `gpu_backend.engine`; a module right
under gateway/, gpu_backend/ or policies/ stays itself): a cycle there is
two packages that need each other, which is how `engine.py`'s deferred `kvshare` import closes a loop (kvshare's
modules import `gpu_backend.engine.*`, whose `__init__` imports `engine.py`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from loadtest.architecture.source_lines import PACKAGES


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    deferred: bool  # written inside a function
    line: int
    via: str = ""  # in the package graph: the module import that makes this edge


@dataclass
class ImportGraph:
    modules: set[str] = field(default_factory=set)
    edges: list[Edge] = field(default_factory=list)

    def successors(self, include_deferred: bool) -> dict[str, set[str]]:
        graph: dict[str, set[str]] = {m: set() for m in self.modules}
        for edge in self.edges:
            if include_deferred or not edge.deferred:
                graph[edge.source].add(edge.target)
        return graph


def module_name(tree: Path, path: Path) -> str:
    parts = list(path.relative_to(tree).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:  # relative: drop one part per level past the module's own package
        package = module.split(".") if is_package else module.split(".")[:-1]
        keep = len(package) - (node.level - 1)
        base = ".".join([*package[:keep], *([base] if base else [])])
    return [f"{base}.{alias.name}" for alias in node.names] + [base]


def _imports(tree_ast: ast.Module) -> list[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Each import statement with whether it sits inside a function."""
    found: list[tuple[ast.Import | ast.ImportFrom, bool]] = []

    def walk(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for orelse in child.orelse:
                    walk(orelse, in_function)
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                found.append((child, in_function))
            walk(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda))

    walk(tree_ast, False)
    return found


def build_graph(tree: Path, packages: tuple[str, ...] = PACKAGES) -> ImportGraph:
    graph = ImportGraph()
    files: dict[str, Path] = {}
    for package in packages:
        for path in (tree / package).rglob("*.py"):
            if "__pycache__" not in path.parts:
                files[module_name(tree, path)] = path
    graph.modules = set(files)
    for module, path in sorted(files.items()):
        parsed = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        is_package = path.name == "__init__.py"
        for node, deferred in _imports(parsed):
            candidates = _imported(node, module, is_package)
            # `from a import b`: b is a module when a.b is one; otherwise the edge goes to a.
            target = next((c for c in candidates if c in graph.modules), None)
            if target is None and isinstance(node, ast.Import):
                target = next((p for p in _parents(candidates[0]) if p in graph.modules), None)
            if target is not None and target != module:
                graph.edges.append(Edge(module, target, deferred, node.lineno))
    return graph


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]


def package_of(module: str, packages: set[str]) -> str:
    """The package holding a module; a module right under a root package (`gateway.app`) stands for itself."""
    parent = module.rsplit(".", 1)[0]
    return module if module in packages or "." not in parent else parent


def package_graph(graph: ImportGraph, tree: Path) -> ImportGraph:
    packages = {m for m in graph.modules if (tree / m.replace(".", "/") / "__init__.py").exists()}
    folded = ImportGraph(modules={package_of(m, packages) for m in graph.modules})
    for edge in graph.edges:
        source, target = package_of(edge.source, packages), package_of(edge.target, packages)
        if source != target:
            folded.edges.append(Edge(source, target, edge.deferred, edge.line, f"{edge.source} -> {edge.target}"))
    return folded


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative): the components with more than one module, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [(root, sorted(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, pending = work[-1]
            if pending:
                nxt = pending.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(graph[nxt])))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return sorted(components)


def closing_edges(graph: ImportGraph, component: list[str]) -> list[Edge]:
    """The deferred (function-level) imports inside a cycle: what hides it from reading the modules' heads."""
    members = set(component)
    return [e for e in graph.edges if e.deferred and e.source in members and e.target in members]
