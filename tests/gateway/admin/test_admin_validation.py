"""The small JSON Schema validator the admin routes and the OpenAPI document share."""

import pytest

from gateway.admin.validation import SchemaViolation, check_schema, coerce_query, validate

SCHEMA = check_schema({
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 5},
        "count": {"type": "integer", "minimum": 1, "maximum": 10},
        "share": {"type": "number", "minimum": 0, "maximum": 1},
        "mode": {"type": "string", "enum": ["a", "b"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "note": {"type": ["string", "null"]},
    },
})


@pytest.mark.parametrize(("value", "path", "message"), [
    ([], "", "expected object, got array"),
    ({}, "name", "is required"),
    ({"name": ""}, "name", "at least 1"),
    ({"name": "toolong"}, "name", "at most 5"),
    ({"name": "x", "count": True}, "count", "expected integer, got boolean"),
    ({"name": "x", "count": 1.5}, "count", "expected integer"),
    ({"name": "x", "count": 11}, "count", "<= 10"),
    ({"name": "x", "share": "half"}, "share", "expected number"),
    ({"name": "x", "mode": "c"}, "mode", "one of 'a', 'b'"),
    ({"name": "x", "tags": ["ok", 3]}, "tags[1]", "expected string"),
    ({"name": "x", "extra": 1}, "extra", "unknown field"),
])
def test_violations_name_the_field(value, path, message):
    with pytest.raises(SchemaViolation) as caught:
        validate(value, SCHEMA)
    assert caught.value.path == path
    assert message in caught.value.message


def test_valid_values_pass():
    validate({"name": "x", "count": 10, "share": 0, "mode": "b", "tags": [], "note": None}, SCHEMA)
    validate({"name": "x", "count": 2.0}, SCHEMA)  # JSON has one number type


def test_unsupported_keywords_are_refused_at_load():
    with pytest.raises(ValueError, match="pattern"):
        check_schema({"type": "string", "pattern": "^a"})


def test_query_strings_become_the_schema_types():
    assert coerce_query("10", {"type": "integer"}) == 10
    assert coerce_query("0.5", {"type": "number"}) == 0.5
    assert coerce_query("true", {"type": "boolean"}) is True
    assert coerce_query("ten", {"type": "integer"}) == "ten"  # left for validate() to refuse
