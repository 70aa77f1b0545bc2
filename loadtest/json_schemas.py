"""Random JSON schemas of the shapes clients send as `response_format` (nested objects, enums,
arrays, required and optional fields), seeded: the grammar bench and the structured-output tests
draw from the same families."""

import random
from typing import Any

_WORDS = ("name", "city", "age", "score", "tags", "kind", "id", "items", "owner", "level", "note", "color")
_ENUMS = (["red", "green", "blue"], ["low", "high"], ["yes", "no", "maybe"], ["a", "b", "c", "d"])


def random_schema(rng: random.Random, depth: int = 2) -> dict[str, Any]:
    """An object schema; `depth` bounds how deep objects and arrays nest."""
    names = rng.sample(_WORDS, rng.randint(1, 4))
    properties = {name: _value(rng, depth - 1) for name in names}
    required = [n for n in names if rng.random() < 0.7] or names[:1]
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def _value(rng: random.Random, depth: int) -> dict[str, Any]:
    kinds = ["string", "integer", "number", "boolean", "enum"] + (["object", "array"] if depth > 0 else [])
    kind = rng.choice(kinds)
    if kind == "enum":
        return {"type": "string", "enum": rng.choice(_ENUMS)}
    if kind == "object":
        return random_schema(rng, depth)
    if kind == "array":
        return {"type": "array", "items": _value(rng, depth - 1), "maxItems": rng.randint(1, 3)}
    if kind == "string":
        return {"type": "string", "maxLength": rng.randint(3, 12)}
    return {"type": kind}


def schemas(count: int, seed: int = 0, depth: int = 2) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [random_schema(rng, depth) for _ in range(count)]
