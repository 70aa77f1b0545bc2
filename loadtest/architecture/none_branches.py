"""`is None` feature branches: where code asks whether an optional part is there.

Counted with `ast`. A feature branch is a comparison `X is None` or `X is not None` that is the test of an
`if`/`elif`, a conditional expression or a `while` (alone, negated, or one operand of `and`/`or`), where X
names an optional part: an attribute of `self` (`self.prefix_cache`, `self._kvshare.pool`), unless the class
annotates that attribute as an optional scalar (`float | None`, ...); or a parameter of the enclosing function
annotated as an optional non-scalar (`cache: CacheService | None`). Optional scalars (a timeout, a name) are
values, not parts, and do not count as feature branches; neither do locals. Every `is None` test of a branch,
whatever it tests, is also counted, as an upper bound.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

DEFINITION = " ".join((__doc__ or "").split("\n\n")[1].split())
SCALARS = {"str", "int", "float", "bool", "bytes", "complex", "Path", "datetime", "timedelta", "Decimal"}


@dataclass
class NoneBranch:
    path: str  # relative to the tree
    line: int
    subject: str  # what is tested, as written
    is_part: bool  # a feature branch (see the module's docstring); False: any other `is None` test


def _annotation_names(annotation: ast.expr | None) -> set[str]:
    if annotation is None:
        return set()
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):  # a quoted annotation
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return set()
    return {n.id for n in ast.walk(annotation) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(annotation) if isinstance(n, ast.Attribute)
    }


def _is_optional(annotation: ast.expr | None) -> bool:
    if annotation is None:
        return False
    text = ast.unparse(annotation)
    return "None" in text or "Optional" in text


def _is_scalar_optional(annotation: ast.expr | None) -> bool:
    names = _annotation_names(annotation) - {"None", "Optional"}
    return _is_optional(annotation) and bool(names) and names <= SCALARS


def _class_scalar_fields(cls: ast.ClassDef) -> set[str]:
    """Attributes the class annotates as optional scalars, in its body or as `self.x: T` in a method."""
    fields: set[str] = set()
    for node in ast.walk(cls):
        if isinstance(node, ast.AnnAssign) and _is_scalar_optional(node.annotation):
            target = node.target
            if isinstance(target, ast.Name):
                fields.add(target.id)
            elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
                fields.add(target.attr)
    return fields


def _compares(test: ast.expr) -> list[ast.Compare]:
    if isinstance(test, ast.BoolOp):
        return [c for value in test.values for c in _compares(value)]
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _compares(test.operand)
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Is | ast.IsNot)
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
    ):
        return [test]
    return []


def _self_attribute(node: ast.expr) -> str | None:
    """The first attribute after `self` in `self.a` or `self.a.b`, else None."""
    while isinstance(node, ast.Attribute):
        if isinstance(node.value, ast.Name) and node.value.id == "self":
            return node.attr
        node = node.value
    return None


class _Finder(ast.NodeVisitor):
    def __init__(self, path: str) -> None:
        self.path = path
        self.found: list[NoneBranch] = []
        self.scalar_fields: list[set[str]] = [set()]
        self.part_params: list[set[str]] = [set()]

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.scalar_fields.append(_class_scalar_fields(node))
        self.generic_visit(node)
        self.scalar_fields.pop()

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        parts = {a.arg for a in args if _is_optional(a.annotation) and not _is_scalar_optional(a.annotation)}
        self.part_params.append(parts)
        self.generic_visit(node)
        self.part_params.pop()

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function

    def _visit_branch(self, node: ast.If | ast.IfExp | ast.While) -> None:
        for compare in _compares(node.test):
            subject = compare.left
            attribute = _self_attribute(subject)
            is_part = (attribute is not None and attribute not in self.scalar_fields[-1]) or (
                isinstance(subject, ast.Name) and subject.id in self.part_params[-1]
            )
            self.found.append(NoneBranch(self.path, compare.lineno, ast.unparse(subject), is_part))
        self.generic_visit(node)

    visit_If = _visit_branch
    visit_IfExp = _visit_branch
    visit_While = _visit_branch


def branches_in_source(source: str, path: str) -> list[NoneBranch]:
    finder = _Finder(path)
    finder.visit(ast.parse(source))
    return finder.found


def branches_in_tree(tree: Path, folder: str) -> list[NoneBranch]:
    found: list[NoneBranch] = []
    for file in sorted((tree / folder).rglob("*.py")):
        if "__pycache__" not in file.parts:
            relative = str(file.relative_to(tree))
            found += branches_in_source(file.read_text(encoding="utf-8", errors="replace"), relative)
    return found
