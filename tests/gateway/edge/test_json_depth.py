"""JSON nesting depth, counted on the bytes: brackets inside strings (escaped quotes too) are text."""

import orjson
from hypothesis import given
from hypothesis import strategies as st

from gateway.edge.json_depth import deeper_than, json_depth


def depth_of(value) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    return 0


json_values = st.recursive(st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(alphabet='[]{}"\\ab\n'),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                                        max_size=3), max_leaves=30)


@given(json_values)
def test_depth_matches_the_parsed_structure(value):
    raw = orjson.dumps(value)
    assert json_depth(raw) == depth_of(value)


def test_examples():
    assert json_depth(b"1") == 0 and json_depth(b"[]") == 1 and json_depth(b'{"a": [[{}]]}') == 4
    assert json_depth(b'{"a": "[[[[\\"[[["}') == 1
    assert deeper_than(b"[" * 300 + b"]" * 300, 64) and not deeper_than(b"[" * 64 + b"]" * 64, 64)
