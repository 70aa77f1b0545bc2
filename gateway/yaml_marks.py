"""Where a field of a YAML document is: line and column, for errors an operator can jump to.

The policy loader reads YAML nodes and reports file, line and column (policies/errors.py); gateway.yaml
is read as plain data, so its errors name a field path (`upstreams[0].timeouts.read_s`) and this finds
that path in the document's node tree. A field that is missing is reported where its mapping is.
"""

import re

import yaml

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def compose(text: str) -> yaml.Node | None:
    """The node tree of `text` (already known to parse: the caller loaded it first)."""
    return yaml.compose(text, Loader=yaml.SafeLoader)


def mark_of(root: yaml.Node | None, path: str) -> tuple[int, int] | None:
    """(line, column), both from 1, of `path` in the tree, or of its nearest ancestor that is there."""
    if root is None:
        return None
    node = root
    for key, index in _PART.findall(path):
        child = _child(node, key, int(index) if index else None)
        if child is None:
            break
        node = child
    return node.start_mark.line + 1, node.start_mark.column + 1


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
