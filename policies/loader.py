"""Read a policy document: YAML text -> validated PolicySet, or PolicyError listing every problem.

Inheritance is field by field: built-in defaults <- the `defaults:` section <- the category,
nested sections (guards, adaptive, ...) included, so a category that sets `guards: {numbers: false}`
keeps the other guards from `defaults:`.
"""

import dataclasses
import os
import re
from typing import Any

import yaml

from policies.errors import PolicyError, PolicyIssue
from policies.rules import check_policy_set
from policies.schema import (
    CATEGORY_NAME_PATTERN,
    CATEGORY_ONLY_FIELDS,
    CategoryPolicy,
    ClassifierSettings,
    LoadSettings,
    PolicySet,
    SLOClass,
)
from policies.validation import FieldReader, Overrides

TOP_LEVEL = ("classifier", "load", "slo_classes", "defaults", "categories")
MAX_DEPTH = 64  # a policy needs about 4 levels
_CATEGORY_ONLY = {name: f"'{name}' belongs to a category, not to defaults" for name in CATEGORY_ONLY_FIELDS}
_SLO_CLASS_NAMED_BY_KEY = {"name": "an SLO class is named by its key under slo_classes"}


def load_policy_file(path: str | os.PathLike[str]) -> PolicySet:
    source = os.fspath(path)
    try:
        with open(source, encoding="utf-8") as f:
            text = f.read()
    except OSError as error:
        raise PolicyError(
            [PolicyIssue(source, None, None, "", f"cannot read the policy file: {error.strerror}")]
        ) from None
    return parse_policy_text(text, source=source)


def parse_policy_text(text: str, source: str = "<admin>") -> PolicySet:
    reader = FieldReader(source)
    root = compose_document(text, source)
    if root is None:
        raise PolicyError([PolicyIssue(source, 1, 1, "", "the policy is empty; it needs at least a 'categories' list")])
    policy_set = _read_document(reader, root, source)
    if reader.issues or policy_set is None:
        raise PolicyError(sorted(reader.issues, key=lambda issue: (issue.line or 0, issue.column or 0)))
    return policy_set


def compose_document(text: str, source: str) -> yaml.Node | None:
    """The YAML node tree, or PolicyError at the line of the problem: bad syntax, a character YAML
    refuses, or nesting deeper than MAX_DEPTH (checked on the event stream first, because the
    composer recurses once per level and would otherwise die of RecursionError)."""
    try:
        depth = 0
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
                    raise PolicyError([PolicyIssue(source, line, column, "", f"nested deeper than {MAX_DEPTH} levels")])
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise PolicyError([PolicyIssue(source, line, column, "", f"invalid YAML: {error.problem or error}")]) from None
    except yaml.reader.ReaderError as error:  # a control character; text is str, so .character is its code point
        line = text.count("\n", 0, error.position) + 1
        column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        raise PolicyError(
            [PolicyIssue(source, line, column, "", f"invalid YAML: character U+{error.character:04X} is not allowed")]
        ) from None


def _read_document(reader: FieldReader, root: yaml.Node, source: str) -> PolicySet | None:
    items = reader.mapping_items(root, "")
    if items is None:
        return None
    sections, section_keys = {}, {}
    for key, key_node, value_node in items:
        if key not in TOP_LEVEL:
            reader.issue(key_node, key, f"unknown section '{key}'", allowed=", ".join(TOP_LEVEL))
        else:
            sections[key], section_keys[key] = value_node, key_node
    classifier = (
        reader.read(ClassifierSettings, sections["classifier"], "classifier")
        if "classifier" in sections
        else Overrides()
    )
    load = reader.read(LoadSettings, sections["load"], "load") if "load" in sections else Overrides()
    slo_classes = _read_slo_classes(reader, sections["slo_classes"]) if "slo_classes" in sections else ()
    defaults = (
        reader.read(CategoryPolicy, sections["defaults"], "defaults", excluded=_CATEGORY_ONLY)
        if "defaults" in sections
        else Overrides()
    )
    if "categories" not in sections:
        reader.issue(root, "categories", "missing the 'categories' list")
        return None
    categories = _read_categories(reader, sections["categories"])
    if categories is None:
        return None

    defaults_policy = _merge(CategoryPolicy(name="defaults"), defaults)
    resolved = [_resolve_category(defaults_policy, overrides) for overrides in categories]
    policy_set = PolicySet(
        categories=tuple(resolved),
        defaults=defaults_policy,
        classifier=_merge(ClassifierSettings(), classifier),
        load=_merge(LoadSettings(), load),
        slo_classes=slo_classes,
        source=source,
    )
    check_policy_set(reader, policy_set, defaults, categories, load, section_keys["categories"])
    return policy_set


def _read_slo_classes(reader: FieldReader, node: yaml.Node) -> tuple[SLOClass, ...]:
    """`slo_classes: {NAME: {ttft_ms, tpot_ms, deadline_ms}}`, each objective optional."""
    classes = []
    for name, key_node, value_node in reader.mapping_items(node, "slo_classes") or ():
        path = f"slo_classes.{name}"
        if not re.fullmatch(CATEGORY_NAME_PATTERN, name):
            reader.issue(
                key_node,
                path,
                f"{name!r} is not a valid SLO class name",
                allowed=f"names matching {CATEGORY_NAME_PATTERN}",
            )
            continue
        objectives = reader.read(SLOClass, value_node, path, excluded=_SLO_CLASS_NAMED_BY_KEY)
        classes.append(_merge(SLOClass(name=name), objectives))
    return tuple(classes)


def _read_categories(reader: FieldReader, node: yaml.Node) -> list[Overrides] | None:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        reader.issue(node, "categories", "expected a non-empty list of categories")
        return None
    out = []
    for i, item in enumerate(node.value):
        name_path = _category_path(item, i)
        overrides = reader.read(CategoryPolicy, item, name_path)
        if "name" not in overrides.values:
            if isinstance(item, yaml.MappingNode) and not overrides.rejects("name"):
                reader.issue(item, name_path, "a category needs a 'name'")
            continue
        out.append(overrides)
    return out


def _category_path(node: yaml.Node, index: int) -> str:
    """`categories.NAME` when the name is readable, else `categories[INDEX]`: paths stay recognisable."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == "name" and isinstance(value_node, yaml.ScalarNode) and value_node.value:
                return f"categories.{value_node.value}"
    return f"categories[{index}]"


def _resolve_category(defaults_policy: CategoryPolicy, overrides: Overrides) -> CategoryPolicy:
    category = _merge(dataclasses.replace(defaults_policy, name=overrides.values["name"]), overrides)
    # Personal data is never pooled across tenants. An explicit `scope: shared` next to
    # `personal: true` is reported by the rules; an inherited one is overridden here.
    if category.personal and category.scope == "shared" and not overrides.sets("scope"):
        category = dataclasses.replace(category, scope="private")
    return category


def _merge(base: Any, overrides: Overrides) -> Any:
    changes = {}
    for name, value in overrides.values.items():
        current = getattr(base, name)
        changes[name] = _merge(current, value) if isinstance(value, Overrides) else value
    return dataclasses.replace(base, **changes)
