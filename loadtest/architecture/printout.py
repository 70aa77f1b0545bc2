"""The architecture report as text, one section per figure of issue #25."""

from __future__ import annotations

from typing import TYPE_CHECKING

from loadtest.architecture.source_lines import LONG_LINE

if TYPE_CHECKING:
    from loadtest.architecture_metrics import Report


def report_text(report: Report) -> str:
    out = [f"# architecture metrics of {report.tree}", "", "## lines of code (non-blank, non-comment, .py)"]
    out += [f"  {p.package:<12} {p.code_lines:>7} in {p.files} files" for p in report.lines]
    out += [f"  lines over {LONG_LINE} characters (gateway, gpu_backend, policies): {report.long_line_share:.1%}", ""]
    out += ["## `is None` feature branches", f"  definition: {report.none_definition}"]
    out += [
        f"  {scope:<40} {count:>4} feature branches ({report.none_tests[scope]} `is None` branch tests in all)"
        for scope, count in report.none_branches.items()
    ]
    out += ["  most per file: " + ", ".join(f"{path} {n}" for path, n in report.none_top_files), ""]
    out.append("## import cycles (strongly connected components of more than one node)")
    for cycles in report.cycles:
        out.append(
            f"  {cycles.graph} graph: {len(cycles.with_deferred)} with function-level imports, "
            f"{len(cycles.module_level_only)} from module-level imports alone"
        )
        out += [f"    - {' <-> '.join(component)}" for component in cycles.with_deferred]
        out += [f"    closed by a function-level import: {edge}" for edge in cycles.closing_imports]
    top = report.top_level
    out += ["", f"## gateway/ top level: {len(top.modules)} modules, {len(top.packages)} packages"]
    out += [f"  modules: {' '.join(top.modules)}", f"  packages: {' '.join(top.packages)}", ""]
    if report.lint is not None:
        lint = report.lint
        out.append("## ruff / mypy (this checkout's pyproject)")
        out += [
            f"  {package:<12} ruff check {lint.ruff_check[package]:>4}, files ruff format would change "
            f"{lint.ruff_format[package]:>4}, mypy errors {lint.mypy[package]:>4}"
            for package in lint.ruff_check
        ]
        out += [f"  mypy said: {lint.mypy_note}", ""]
    for path in report.requests:
        out.append(
            f"## request path: {path.name} (x-semgate-cache: {path.cache_header}"
            f"{f', x-semgate-match: {path.match_header}' if path.match_header else ''}"
            f"{f', x-semgate-model: {path.routed_to}' if path.routed_to else ''})"
        )
        out.append(
            f"  {len(path.modules)} modules, {path.calls_between_modules} calls between modules, "
            f"{path.returns} of them returns to a module already left"
        )
        out.append("  modules in order of first entry: " + " > ".join(m.removeprefix("gateway.") for m in path.modules))
        out.append("  most returned to: " + ", ".join(f"{m.removeprefix('gateway.')} {n}" for m, n in
                                                      list(path.returned_to.items())[:8]))  # fmt: skip
        out += [f"  on worker threads: {' '.join(m.removeprefix('gateway.') for m in path.worker_modules)}", ""]
    return "\n".join(out)
