"""The architecture counters on a tiny synthetic tree: each figure of issue #25 is what the tree holds."""

from pathlib import Path

import pytest

from loadtest.architecture import import_graph
from loadtest.architecture.none_branches import branches_in_tree
from loadtest.architecture.request_path import check_outcome, summarise
from loadtest.architecture.source_lines import code_lines, gateway_top_level, package_lines
from loadtest.architecture_metrics import main

ENGINE = '''"""An engine with an optional part."""


class Engine:
    timeout: float | None = None

    def __init__(self, kvshare: "KVShare | None", name: str | None) -> None:
        self.kvshare = kvshare
        if kvshare is not None:  # a feature branch: a parameter naming an optional part
            kvshare.attach(self)
        if name is None:  # an optional scalar: a value, not a part
            name = "engine"
        self.name = name

    def step(self) -> int:
        if self.timeout is None:  # an optional scalar field
            return 0
        return 1 if self.kvshare is None else self.run()  # a feature branch on self

    def run(self) -> int:
        from gpu_backend.kvshare import hook  # a function-level import that closes a cycle

        return hook.run(self)
'''
HOOK = """from gpu_backend.engine import Engine


def run(engine: Engine) -> int:
    found = engine.kvshare is None  # not a branch's test
    return int(found)
"""


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def tree(tmp_path: Path) -> Path:
    write(tmp_path, {
        "gpu_backend/__init__.py": "",
        "gpu_backend/engine.py": ENGINE,
        "gpu_backend/kvshare/__init__.py": "",
        "gpu_backend/kvshare/hook.py": HOOK,
        "gateway/__init__.py": "",
        "gateway/app.py": "from gateway.edge import proxy\n\n\n# a comment\n\nAPP = proxy\n",
        "gateway/edge/__init__.py": "",
        "gateway/edge/proxy.py": "from ..app import APP\n",
        "policies/__init__.py": "",
    })  # fmt: skip
    return tmp_path


def test_only_optional_parts_tested_in_a_branch_count_as_feature_branches(tmp_path):
    found = branches_in_tree(tree(tmp_path), "gpu_backend")
    assert sorted((b.line, b.subject) for b in found if b.is_part) == [(9, "kvshare"), (18, "self.kvshare")]
    assert sorted(b.subject for b in found if not b.is_part) == ["name", "self.timeout"]


def test_a_function_level_import_closing_a_cycle_is_found_and_named(tmp_path):
    root = tree(tmp_path)
    graph = import_graph.build_graph(root)
    with_deferred = import_graph.strongly_connected(graph.successors(include_deferred=True))
    assert ["gpu_backend.engine", "gpu_backend.kvshare.hook"] in with_deferred
    assert ["gpu_backend.engine", "gpu_backend.kvshare.hook"] not in import_graph.strongly_connected(
        graph.successors(include_deferred=False)
    )
    closing = import_graph.closing_edges(graph, ["gpu_backend.engine", "gpu_backend.kvshare.hook"])
    assert [(e.source, e.target, e.line) for e in closing] == [("gpu_backend.engine", "gpu_backend.kvshare.hook", 21)]


def test_a_relative_import_back_to_the_importer_is_a_module_level_cycle(tmp_path):
    graph = import_graph.build_graph(tree(tmp_path))
    assert ["gateway.app", "gateway.edge.proxy"] in import_graph.strongly_connected(graph.successors(False))
    packages = import_graph.package_graph(graph, tmp_path)
    assert ["gateway.app", "gateway.edge"] in import_graph.strongly_connected(packages.successors(False))


def test_lines_of_code_leave_out_blank_and_comment_lines(tmp_path):
    root = tree(tmp_path)
    assert code_lines("x = 1\n\n# note\n'''doc\nstring'''\n") == 3
    assert package_lines(root, "gateway").code_lines == 3  # app.py 2 lines, proxy.py 1
    top = gateway_top_level(root)
    assert (top.modules, top.packages) == (["__init__.py", "app.py"], ["edge"])


def test_returns_count_calls_into_a_module_already_left():
    raw = {"cache_header": "hit", "match_header": "exact", "worker_modules": [],
           "runs": ["gateway.proxy", "gateway.cache", "gateway.proxy", "gateway.wire", "gateway.cache"]}  # fmt: skip
    path = summarise("exact_hit", raw)
    assert path.modules == ["gateway.proxy", "gateway.cache", "gateway.wire"]
    assert (path.calls_between_modules, path.returns) == (4, 2)
    assert path.returned_to == {"gateway.proxy": 1, "gateway.cache": 1}


def test_the_command_prints_every_section_without_lint_or_requests(tmp_path, capsys):
    main(["--tree", str(tree(tmp_path)), "--no-lint", "--no-requests"])
    out = capsys.readouterr().out
    assert "gpu_backend engine+server" in out
    assert "closed by a function-level import: gpu_backend.engine -> gpu_backend.kvshare.hook (line 21)" in out
    assert "gateway/ top level: 2 modules, 1 packages" in out


def test_a_left_out_module_joins_the_calls_around_it():
    raw = {"cache_header": "hit", "match_header": "semantic", "worker_modules": [],
           "runs": ["gateway.proxy", "gateway.guards", "gateway.proxy", "gateway.cache"]}  # fmt: skip
    path = summarise("semantic_hit", raw, frozenset({"gateway.guards"}))
    assert path.modules == ["gateway.proxy", "gateway.cache"]
    assert path.returns == 0
    assert summarise("semantic_hit", raw).returns == 1


def test_a_path_that_was_not_answered_as_named_is_refused():
    raw = {"cache_header": "hit", "match_header": "exact", "worker_modules": [], "runs": ["gateway.proxy"]}
    check_outcome(summarise("exact_hit", raw))
    with pytest.raises(RuntimeError, match="semantic_hit was answered x-semgate-cache: hit exact"):
        check_outcome(summarise("semantic_hit", raw))
    with pytest.raises(RuntimeError, match="not routed"):
        check_outcome(summarise("routed_miss", {**raw, "cache_header": "miss", "match_header": ""}))
