"""Field-level validation of one YAML mapping against a schema dataclass, keeping where each value sits.

The one schema reader of semgate's YAML: the policy file (policies/loader.py) and gateway.yaml
(gateway/config/reader.py) are both read through FieldReader.

Works on composed YAML nodes (not on loaded dicts) so every problem can name its line and column,
duplicate keys are caught instead of silently keeping the last, and the accepted values are read
from the dataclass fields themselves.
"""

import dataclasses
import difflib
import math
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from policies.constraints import Matches, OneOf, Range
from policies.errors import PolicyIssue

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"

# Rules and examples are matched case-insensitively; validation compiles patterns the same way.
PATTERN_FLAGS = re.IGNORECASE


@dataclass
class Overrides:
    """The fields one mapping sets: values (nested Overrides for sub-sections) and the node of each."""

    values: dict[str, Any] = field(default_factory=dict)
    nodes: dict[str, yaml.Node] = field(default_factory=dict)
    node: yaml.Node | None = None
    rejected: set[str] = field(default_factory=set)  # fields present but invalid (already reported)

    def node_of(self, dotted: str) -> yaml.Node | None:
        head, _, rest = dotted.partition(".")
        if not rest:
            return self.nodes.get(head)
        sub = self.values.get(head)
        return sub.node_of(rest) if isinstance(sub, Overrides) else None

    def sets(self, dotted: str) -> bool:
        return self.node_of(dotted) is not None

    def rejects(self, dotted: str) -> bool:
        head, _, rest = dotted.partition(".")
        if not rest:
            return head in self.rejected
        sub = self.values.get(head)
        return head in self.rejected or (isinstance(sub, Overrides) and sub.rejects(rest))


class FieldReader:
    """Collects issues while reading mappings; one instance per document."""

    def __init__(self, source: str):
        self.source = source
        self.issues: list[PolicyIssue] = []
        self._constructor = SafeConstructor()

    def issue(self, node: yaml.Node | None, path: str, message: str, allowed: str | None = None) -> None:
        mark = node.start_mark if node is not None else None
        self.issues.append(
            PolicyIssue(
                source=self.source,
                line=mark.line + 1 if mark else None,
                column=mark.column + 1 if mark else None,
                path=path,
                message=message,
                allowed=allowed,
            )
        )

    def mapping_items(self, node: yaml.Node, path: str) -> list[tuple[str, yaml.Node, yaml.Node]] | None:
        """(key, key node, value node) of a mapping, with merge keys resolved and duplicate keys reported."""
        if not isinstance(node, yaml.MappingNode):
            self.issue(node, path, f"expected a mapping, got {_describe(node)}")
            return None
        try:
            self._constructor.flatten_mapping(node)
        except ConstructorError as error:
            self.issue(node, path, f"bad merge key: {error.problem}")
            return None
        items: list[tuple[str, yaml.Node, yaml.Node]] = []
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag == _STR):
                self.issue(key_node, path, f"keys must be field names, got {_describe(key_node)}")
                continue
            key = key_node.value
            if key in seen:
                self.issue(key_node, join_path(path, key), f"duplicate key (first set on line {seen[key]})")
                continue
            seen[key] = key_node.start_mark.line + 1
            items.append((key, key_node, value_node))
        return items

    def read(self, cls: type, node: yaml.Node, path: str, excluded: dict[str, str] | None = None) -> Overrides:
        """Validate the fields of `cls` that `node` sets. `excluded` maps a field name to why it is not allowed here."""
        out = Overrides(node=node)
        items = self.mapping_items(node, path)
        if items is None:
            return out
        excluded = excluded or {}
        fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in excluded}
        hints = typing.get_type_hints(cls)
        for key, key_node, value_node in items:
            field_path = join_path(path, key)
            if key in excluded:
                self.issue(key_node, field_path, excluded[key])
                out.rejected.add(key)
                continue
            if key not in fields:
                close = difflib.get_close_matches(key, list(fields), n=1) or [f for f in fields if f.startswith(key)]
                hint = f"; did you mean '{close[0]}'?" if close else ""
                self.issue(key_node, field_path, f"unknown field '{key}'{hint}", allowed=", ".join(fields))
                out.rejected.add(key)
                continue
            ok, value = self._read_value(hints[key], fields[key], value_node, field_path)
            if ok:
                out.values[key] = value
                out.nodes[key] = value_node
            else:
                out.rejected.add(key)
        return out

    def _read_value(self, kind: Any, spec: dataclasses.Field, node: yaml.Node, path: str) -> tuple[bool, Any]:
        optional = _optional_of(kind)
        if optional is not None:
            if isinstance(node, yaml.ScalarNode) and node.tag == _NULL:
                return True, None
            kind = optional
        or_null = " or null" if optional is not None else ""
        if isinstance(kind, type) and dataclasses.is_dataclass(kind):
            sub = self.read(kind, node, path)
            return isinstance(node, yaml.MappingNode), sub
        check = spec.metadata.get("check")
        expects = spec.metadata.get("expects")
        if kind is bool:
            return self._scalar(node, path, (_BOOL,), expects or "true or false")
        if kind is int:
            ok, value = self._scalar(node, path, (_INT,), (expects or "an integer") + or_null)
            return (self._in_range(value, check, node, path), value) if ok else (False, None)
        if kind is float:
            ok, value = self._scalar(node, path, (_INT, _FLOAT), (expects or "a number") + or_null)
            return (self._in_range(float(value), check, node, path), float(value)) if ok else (False, None)
        if kind is str:
            ok, value = self._scalar(node, path, (_STR,), (expects or "a string") + or_null)
            if ok and isinstance(check, OneOf) and value not in check.values:
                self.issue(node, path, f"{value!r} is not allowed", allowed=check.describe())
                return False, None
            if ok and isinstance(check, Matches) and not check.admits(value):
                self.issue(node, path, f"{value!r} is not {check.what}", allowed=check.describe())
                return False, None
            return ok, value
        if typing.get_origin(kind) is tuple:
            item_kind = typing.get_args(kind)[0]
            if isinstance(item_kind, type) and dataclasses.is_dataclass(item_kind):
                return self._records(item_kind, node, path)
            return self._strings(node, path, compile_each=spec.name in ("patterns", "requires_patterns"))
        if typing.get_origin(kind) is dict:
            if not isinstance(node, yaml.MappingNode):
                self.issue(node, path, f"expected a mapping, got {_describe(node)}")
                return False, None
            return True, self._constructor.construct_object(node, deep=True)
        raise TypeError(f"no reader for field type {kind!r} ({path})")

    def _records(self, kind: type, node: yaml.Node, path: str) -> tuple[bool, tuple[Overrides, ...]]:
        """A list of mappings, each read against `kind`."""
        if not isinstance(node, yaml.SequenceNode):
            self.issue(node, path, f"expected a list, got {_describe(node)}")
            return False, ()
        records = tuple(self.read(kind, item, f"{path}[{i}]") for i, item in enumerate(node.value))
        return all(isinstance(item, yaml.MappingNode) for item in node.value), records

    def _scalar(self, node: yaml.Node, path: str, tags: tuple[str, ...], expected: str) -> tuple[bool, Any]:
        if not isinstance(node, yaml.ScalarNode) or node.tag not in tags:
            self.issue(node, path, f"expected {expected}, got {_describe(node)}")
            return False, None
        return True, self._constructor.construct_object(node)

    def _in_range(self, value: float, check: Range | None, node: yaml.Node, path: str) -> bool:
        if not math.isfinite(value):  # .nan would pass every comparison-based check unnoticed
            self.issue(node, path, f"{value:g} is not a finite number", allowed=check.describe() if check else None)
            return False
        if check is not None and not check.admits(value):
            self.issue(node, path, f"{value:g} is out of range", allowed=check.describe())
            return False
        return True

    def _strings(self, node: yaml.Node, path: str, compile_each: bool) -> tuple[bool, tuple[str, ...]]:
        if not isinstance(node, yaml.SequenceNode):
            self.issue(node, path, f"expected a list of strings, got {_describe(node)}")
            return False, ()
        values, ok = [], True
        for i, item in enumerate(node.value):
            item_path = f"{path}[{i}]"
            if not (isinstance(item, yaml.ScalarNode) and item.tag == _STR and item.value.strip()):
                self.issue(item, item_path, f"expected a non-empty string, got {_describe(item)}")
                ok = False
                continue
            if compile_each:
                try:
                    re.compile(item.value, PATTERN_FLAGS)
                except re.error as error:
                    self.issue(item, item_path, f"regular expression does not compile: {error}")
                    ok = False
                    continue
            values.append(item.value)
        return ok, tuple(values)


def _optional_of(kind: Any) -> Any:
    """X for a field typed `X | None`, else None."""
    args = typing.get_args(kind)
    if typing.get_origin(kind) in (types.UnionType, typing.Union) and len(args) == 2 and type(None) in args:
        return next(arg for arg in args if arg is not type(None))
    return None


def join_path(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    kind = {_STR: "string", _INT: "integer", _FLOAT: "number", _BOOL: "boolean", _NULL: "null"}.get(node.tag, node.tag)
    return "null" if kind == "null" else f"{kind} {node.value!r}"
