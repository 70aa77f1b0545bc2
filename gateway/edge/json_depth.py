"""How deeply a JSON document nests, measured on its bytes in linear time.

A body nested a few hundred levels deep parses (orjson allows 1,024 levels) but cannot be
written again (orjson stops at 255), and anything that walks it recursively may hit Python's
recursion limit: such a body must be refused where it arrives, before anything else touches
it. Walking the parsed object would cost Python work per container (a 1 MiB body of empty
arrays holds 300,000 of them); this counts brackets with numpy instead, so a hostile body costs
milliseconds, never a stall of the event loop.
"""

import re

import numpy as np

# A backslash and the character it escapes: removed first so an escaped quote never ends a string.
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_QUOTE = ord('"')
_STEP = np.zeros(256, dtype=np.int8)  # +1 for a bracket that opens, -1 for one that closes
_STEP[[ord("["), ord("{")]], _STEP[[ord("]"), ord("}")]] = 1, -1


def deeper_than(raw: bytes, limit: int) -> bool:
    """Whether valid JSON `raw` nests more than `limit` levels; free for bodies with fewer brackets."""
    return raw.count(b"[") + raw.count(b"{") > limit and json_depth(raw) > limit


def json_depth(raw: bytes) -> int:
    """Nesting depth of the containers in `raw`, which must be valid JSON (parse it first):
    0 for a scalar, 1 for `[]` or `{}`, 2 for `[[]]`, and so on."""
    data = np.frombuffer(_ESCAPE.sub(b"", raw), dtype=np.uint8)
    # In valid JSON every unescaped quote opens or closes a string: brackets after an odd
    # number of them are text, not structure.
    outside = (np.cumsum(data == _QUOTE) & 1) == 0
    steps = _STEP[data]
    steps[~outside] = 0
    return int(np.cumsum(steps, dtype=np.int32).max(initial=0))
