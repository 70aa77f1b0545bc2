"""YAML text -> a configuration dataclass, through the policies' schema reader (policies/validation.py).

The dataclasses are the schema: each field's type, default and constraint (policies/constraints.py)
say what gateway.yaml accepts, so adding a setting is adding a field. A field without a default is
required. A section with rules across its fields has a `problems()` method yielding
(field path relative to the section, what is wrong); each is reported at that field's line, or where
its mapping starts when the field is missing.

Every problem is reported, each as `file:line:column: field: problem (allowed: ...)`, the shape of a
policy error (policies/errors.py), so an operator reads one format for both files.
"""

import dataclasses
import re
import typing
from collections.abc import Sequence
from typing import Any, TypeVar

import yaml

from policies.errors import PolicyError, PolicyIssue
from policies.loader import compose_document
from policies.validation import FieldReader, Overrides, join_path

_T = TypeVar("_T")
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class ConfigError(ValueError):
    """`issues`, ordered by place in the file; the first one's parts are kept as attributes."""

    def __init__(self, issues: Sequence[PolicyIssue]) -> None:
        self.issues = sorted(issues, key=lambda issue: (issue.line or 0, issue.column or 0))
        first = self.issues[0]
        self.source, self.field_path = first.source, first.path
        self.line, self.column = first.line, first.column
        self.problem = first.message + (f" (allowed: {first.allowed})" if first.allowed else "")
        super().__init__("\n".join(str(issue) for issue in self.issues))

    @classmethod
    def at(cls, source: str, field_path: str, problem: str) -> "ConfigError":
        """One problem with no place in a file (a command-line setting, a rule across sections)."""
        return cls([PolicyIssue(source, None, None, field_path, problem)])


def read_document(cls: type[_T], text: str, source: str, excluded: dict[str, str]) -> _T:
    """The document as `cls`, or ConfigError listing every problem. An empty document is all defaults.
    `excluded` maps a field that is not read from the file to why."""
    try:
        root = compose_document(text, source)
    except PolicyError as error:  # YAML syntax: the same message and place the policy file gets
        raise ConfigError(error.errors) from None
    if root is None:
        return cls()
    reader = FieldReader(source)
    value = _build(reader, cls, reader.read(cls, root, "", excluded=excluded), "")
    if reader.issues or value is None:
        raise ConfigError(reader.issues)
    return value


def _build(reader: FieldReader, cls: type[_T], overrides: Overrides, path: str) -> _T | None:
    """`cls` from the fields the mapping sets (defaults for the rest); None where a problem was reported."""
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    complete = not overrides.rejected and isinstance(overrides.node, yaml.MappingNode)
    for name, value in overrides.values.items():
        where = join_path(path, name)
        if isinstance(value, Overrides):
            value = _build(reader, hints[name], value, where)
            complete = complete and value is not None
        elif isinstance(value, tuple) and any(isinstance(item, Overrides) for item in value):
            item_kind = typing.get_args(hints[name])[0]
            value = tuple(_build(reader, item_kind, item, f"{where}[{i}]") for i, item in enumerate(value))
            complete = complete and all(item is not None for item in value)
        values[name] = value
    for spec in dataclasses.fields(cls):  # type: ignore[arg-type]  # cls is a dataclass by contract
        missing = spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING
        if missing and spec.init and spec.name not in values and spec.name not in overrides.rejected:
            reader.issue(overrides.node, join_path(path, spec.name), "required")
            complete = False
    if not complete:
        return None
    instance = cls(**values)
    for field_path, problem in getattr(instance, "problems", tuple)():
        where = join_path(path, field_path) if field_path else path
        reader.issue(node_at(overrides.node, field_path), where, problem)
    return instance


def node_at(root: yaml.Node | None, path: str) -> yaml.Node | None:
    """The node of `path` under `root`, or of its nearest ancestor that is there."""
    node = root
    for key, index in _PART.findall(path):
        child = _child(node, key, int(index) if index else None) if node is not None else None
        if child is None:
            break
        node = child
    return node


def _child(node: yaml.Node, key: str, index: int | None) -> yaml.Node | None:
    if index is not None:
        if isinstance(node, yaml.SequenceNode) and index < len(node.value):
            return node.value[index]
        return None
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return value_node
    return None
