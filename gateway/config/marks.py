"""Where a field of a YAML document is, for errors an operator can jump to.

A rule across fields names a path (`base_urls[1]`) relative to the mapping it checks; this finds
that path in the mapping's node tree. A field that is missing is reported where its mapping is.
"""

import re

import yaml

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


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
