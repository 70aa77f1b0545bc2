"""Architecture metrics of a source tree, for issue #25's before/after (docs/benchmarks.md, "architecture").

    python -m loadtest.architecture_metrics --tree PATH [--json] [--no-lint] [--no-requests]

Lines of code, `is None` feature branches, import cycles, gateway/'s top level, ruff/mypy counts judged by
this checkout's pyproject (or --config), long lines, and the modules a hit and a miss pass through.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from loadtest.architecture import import_graph, none_branches
from loadtest.architecture.lint_counts import LintCounts, lint_counts
from loadtest.architecture.printout import report_text
from loadtest.architecture.request_path import RequestPath, trace_request_paths
from loadtest.architecture.source_lines import PACKAGES, PackageLines, TopLevel, all_lines, gateway_top_level

ENGINE = ("gpu_backend/engine/", "gpu_backend/server/")


@dataclass
class Cycles:
    graph: str  # "module" or "package"
    with_deferred: list[list[str]]  # strongly connected components, function-level imports included
    module_level_only: list[list[str]]
    closing_imports: list[str]  # function-level imports inside a cycle, "source -> target (line)"


@dataclass
class Report:
    tree: str
    lines: list[PackageLines]
    long_line_share: float  # of the physical lines of gateway/, gpu_backend/, policies/
    none_definition: str
    none_branches: dict[str, int]  # feature branches per package and per scope
    none_tests: dict[str, int]  # every `is None` test of a branch, same keys
    none_top_files: list[tuple[str, int]]
    cycles: list[Cycles]
    top_level: TopLevel
    lint: LintCounts | None
    requests: list[RequestPath]


def _cycles(tree: Path) -> list[Cycles]:
    modules = import_graph.build_graph(tree)
    found = []
    for name, graph in (("module", modules), ("package", import_graph.package_graph(modules, tree))):
        both = import_graph.strongly_connected(graph.successors(include_deferred=True))
        closing = [
            f"{edge.via or f'{edge.source} -> {edge.target}'} (line {edge.line})"
            for component in both
            for edge in import_graph.closing_edges(graph, component)
        ]
        found.append(Cycles(name, both, import_graph.strongly_connected(graph.successors(False)), closing))
    return found


def _none_counts(
    tree: Path, requests: list[RequestPath]
) -> tuple[dict[str, int], dict[str, int], list[tuple[str, int]]]:
    found = [b for package in PACKAGES for b in none_branches.branches_in_tree(tree, package)]
    modules = {m.replace(".", "/") for r in requests for m in r.modules}
    on_path = {f"{m}.py" for m in modules} | {f"{m}/__init__.py" for m in modules}
    scopes: dict[str, Callable[[str], bool]] = {
        **{package: _under((f"{package}/",)) for package in PACKAGES},
        "gpu_backend engine+server": _under(ENGINE),
        "gateway request path (traced modules)": on_path.__contains__,
    }
    parts = {name: sum(1 for b in found if b.is_part and test(b.path)) for name, test in scopes.items()}
    tests = {name: sum(1 for b in found if test(b.path)) for name, test in scopes.items()}
    top = Counter(b.path for b in found if b.is_part).most_common(8)
    return parts, tests, top


def _under(prefixes: tuple[str, ...]) -> Callable[[str], bool]:
    return lambda path: path.startswith(prefixes)


def measure(tree: Path, config: Path, lint: bool, requests: bool, leave_out: frozenset[str] = frozenset()) -> Report:
    lines = all_lines(tree)
    source = [p for p in lines if p.package in PACKAGES]
    traced = trace_request_paths(tree, leave_out) if requests else []
    parts, tests, top = _none_counts(tree, traced)
    return Report(
        str(tree),
        lines,
        sum(p.long_lines for p in source) / max(sum(p.physical_lines for p in source), 1),
        none_branches.DEFINITION,
        parts,
        tests,
        top,
        _cycles(tree),
        gateway_top_level(tree),
        lint_counts(tree, config) if lint else None,
        traced,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", type=Path, required=True, help="a checkout holding gateway/, gpu_backend/, policies/")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--config",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "pyproject.toml",
        help="the pyproject whose ruff and mypy settings judge the tree (default: this checkout's)",
    )
    parser.add_argument("--no-lint", action="store_true", help="skip ruff and mypy (mypy takes minutes)")
    parser.add_argument("--no-requests", action="store_true", help="skip tracing requests through the gateway")
    parser.add_argument("--leave-out", default="", help="comma-separated gateway modules to take out of the traces")
    args = parser.parse_args(argv)
    leave_out = frozenset(m.strip() for m in args.leave_out.split(",") if m.strip())
    report = measure(args.tree.resolve(), args.config.resolve(), not args.no_lint, not args.no_requests, leave_out)
    print(json.dumps(asdict(report), indent=2) if args.json else report_text(report))


if __name__ == "__main__":
    main()
