"""Rules across fields and categories, checked after inheritance has been resolved."""

from typing import Any

import yaml

from policies.schema import DEFAULT_CATEGORY, CategoryPolicy, PolicySet
from policies.validation import FieldReader, Overrides

# (bound, the threshold it lowers): a bound above its threshold would raise the threshold under load.
_BOUNDS = (
    ("adaptive.min_similarity", "similarity_threshold"),
    ("adaptive.min_verifier", "verifier_threshold"),
)


def check_policy_set(
    reader: FieldReader,
    policy_set: PolicySet,
    defaults: Overrides,
    categories: list[Overrides],
    load: Overrides,
    categories_key: yaml.Node,
) -> None:
    _check_names(reader, categories, categories_key)
    _check_personal_scope(reader, defaults, "defaults")
    _check_bounds(reader, policy_set.defaults, defaults, None, "defaults")
    known = set(policy_set.names)
    slo_classes = {c.name for c in policy_set.slo_classes}
    _check_incontext(reader, policy_set.defaults.incontext.categories, defaults, known, "defaults")
    _check_slo_class(reader, defaults, slo_classes, "defaults")
    for category, overrides in zip(policy_set.categories, categories, strict=True):
        path = f"categories.{category.name}"
        _check_personal_scope(reader, overrides, path)
        _check_bounds(reader, category, overrides, defaults, path)
        _check_incontext(reader, category.incontext.categories, overrides, known, path)
        _check_slo_class(reader, overrides, slo_classes, path)
        rejected = any(overrides.rejects(f) for f in ("examples", "keywords", "patterns"))
        chosen_by = category.examples or category.keywords or category.patterns
        if category.name != DEFAULT_CATEGORY and not rejected and not chosen_by:
            reader.issue(
                overrides.node,
                path,
                "this category can never be chosen: give it examples, keywords or patterns",
            )
    settings = policy_set.load
    if settings.low_mark >= settings.high_mark and not (load.rejects("low_mark") or load.rejects("high_mark")):
        node = load.node_of("low_mark") or load.node_of("high_mark") or load.node
        reader.issue(
            node,
            "load.low_mark",
            f"low_mark {settings.low_mark:g} must be below high_mark {settings.high_mark:g} "
            "(the gap is the hysteresis)",
        )


def _check_names(reader: FieldReader, categories: list[Overrides], categories_key: yaml.Node) -> None:
    first_line: dict[str, int] = {}
    for overrides in categories:
        name, node = overrides.values["name"], overrides.nodes["name"]
        if name in first_line:
            message = f"duplicate category name (first defined on line {first_line[name]})"
            reader.issue(node, f"categories.{name}.name", message)
        else:
            first_line[name] = node.start_mark.line + 1
    if DEFAULT_CATEGORY not in first_line:
        reader.issue(
            categories_key,
            "categories",
            f"no category named '{DEFAULT_CATEGORY}': every policy needs one for the queries no other category claims",
        )


def _check_personal_scope(reader: FieldReader, overrides: Overrides, path: str) -> None:
    if overrides.values.get("personal") is True and overrides.values.get("scope") == "shared":
        reader.issue(
            overrides.node_of("scope"),
            f"{path}.scope",
            "a personal category is always private; 'shared' would pool personal data across tenants",
            allowed="private",
        )


def _check_bounds(
    reader: FieldReader, policy: CategoryPolicy, own: Overrides, defaults: Overrides | None, path: str
) -> None:
    for bound, threshold in _BOUNDS:
        if defaults is not None and not (own.sets(bound) or own.sets(threshold)):
            continue  # both inherited: reported once, on defaults
        if own.rejects(bound) or own.rejects(threshold):
            continue  # already reported
        bound_value, threshold_value = _get(policy, bound), _get(policy, threshold)
        if bound_value <= threshold_value:
            continue
        node = own.node_of(bound) or own.node_of(threshold) or own.node
        reader.issue(
            node,
            f"{path}.{bound}",
            f"{bound_value:g} ({_origin(own, defaults, bound)}) is above {threshold} {threshold_value:g} "
            f"({_origin(own, defaults, threshold)}); under load the threshold only moves down to this bound",
            allowed=f"a number from 0 to {threshold_value:g}",
        )


def _check_incontext(reader: FieldReader, names: tuple[str, ...], own: Overrides, known: set[str], path: str) -> None:
    node = own.node_of("incontext.categories")
    if not isinstance(node, yaml.SequenceNode):
        return  # inherited (checked where it is set) or already reported
    for i, name in enumerate(names):
        if name not in known:
            reader.issue(
                node.value[i],
                f"{path}.incontext.categories[{i}]",
                f"unknown category '{name}'",
                allowed=", ".join(sorted(known)),
            )


def _check_slo_class(reader: FieldReader, own: Overrides, known: set[str], path: str) -> None:
    name = own.values.get("slo_class")
    if name is None or name in known:
        return  # not set here (an inherited name is checked where it is set), null (no SLO), or defined
    reader.issue(
        own.node_of("slo_class"),
        f"{path}.slo_class",
        f"unknown slo_class '{name}'",
        allowed=", ".join(sorted(known)) if known else "null, or a class defined under slo_classes (none are)",
    )


def _get(policy: CategoryPolicy, dotted: str) -> float:
    value: Any = policy
    for part in dotted.split("."):
        value = getattr(value, part)
    return float(value)


def _origin(own: Overrides, defaults: Overrides | None, dotted: str) -> str:
    own_node = own.node_of(dotted)
    if own_node is not None:
        return f"set on line {own_node.start_mark.line + 1}"
    defaults_node = defaults.node_of(dotted) if defaults is not None else None
    if defaults_node is not None:
        return f"from defaults, line {defaults_node.start_mark.line + 1}"
    return "built-in default"
