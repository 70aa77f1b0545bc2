"""Check a JSON value against a JSON Schema, the subset the admin API's schemas use.

The same schema dicts go into the OpenAPI document, so what the document promises is what
the routes enforce. Supported keywords: type, properties, required, additionalProperties
(false), enum, minimum, maximum, minLength, maxLength, items. A keyword outside this set
is refused when the schema is loaded, not silently ignored.
"""

from typing import Any

SUPPORTED = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "enum",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "items",
        "description",
        "default",
        "examples",
        "format",
    }
)
_TYPES: dict[str, type | tuple[type, ...]] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "integer": int,
    "number": (int, float),
    "null": type(None),
}


class SchemaViolation(ValueError):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path, self.message = path, message


def check_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Refuse keywords this validator does not enforce; returns the schema."""
    unknown = set(schema) - SUPPORTED
    if unknown:
        raise ValueError(f"unsupported JSON Schema keywords {sorted(unknown)}")
    for sub in schema.get("properties", {}).values():
        check_schema(sub)
    if "items" in schema:
        check_schema(schema["items"])
    return schema


def validate(value: Any, schema: dict[str, Any], path: str = "") -> None:
    """Raise SchemaViolation naming the first field that does not fit."""
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(_is(value, k) for k in kinds):
            raise SchemaViolation(path, f"expected {' or '.join(kinds)}, got {_describe(value)}")
    if "enum" in schema and value not in schema["enum"]:
        raise SchemaViolation(path, f"must be one of {', '.join(map(repr, schema['enum']))}")
    if _is(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            raise SchemaViolation(path, f"must be >= {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            raise SchemaViolation(path, f"must be <= {schema['maximum']}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            raise SchemaViolation(path, f"must have at least {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            raise SchemaViolation(path, f"must have at most {schema['maxLength']} characters")
    if isinstance(value, dict):
        for name in schema.get("required", ()):
            if name not in value:
                raise SchemaViolation(_join(path, name), "is required")
        properties = schema.get("properties", {})
        for name, item in value.items():
            if name in properties:
                validate(item, properties[name], _join(path, name))
            elif schema.get("additionalProperties") is False:
                allowed = ", ".join(properties) or "none"
                raise SchemaViolation(_join(path, name), f"unknown field (allowed: {allowed})")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            validate(item, schema["items"], f"{path}[{i}]")


def coerce_query(raw: str, schema: dict[str, Any]) -> Any:
    """A query-string value as the type its schema names ("10" -> 10, "true" -> True)."""
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
    except ValueError:
        return raw  # left as a string: validate() then says which type was expected
    if kind == "boolean" and raw.lower() in ("true", "1", "false", "0"):
        return raw.lower() in ("true", "1")
    return raw


def _is(value: Any, kind: str) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    if kind == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES[kind])


def _describe(value: Any) -> str:
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _is(value, name):
            return f"{name} {value!r}" if name in ("integer", "number", "boolean") else name
    return type(value).__name__


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
