"""JSON Schemas of the admin API: request bodies and query parameters the routes validate
with, and the shapes of their answers. The OpenAPI document is built from these same dicts.
"""

from typing import Any

from gateway.admin.validation import check_schema
from gateway.edge.errors import error_schema

Schema = dict[str, Any]


def _s(schema: Schema) -> Schema:
    return check_schema(schema)


TENANT = _s({"type": "string", "minLength": 1, "maxLength": 200, "description": "Tenant name"})
CATEGORY = _s({"type": "string", "minLength": 1, "maxLength": 200, "description": "Policy category name"})
MODEL = _s({"type": "string", "minLength": 1, "maxLength": 200, "description": "Model the client asked for"})
ENTRY_ID = _s({"type": "string", "minLength": 1, "maxLength": 64, "description": "Cache entry id"})
LIMIT = _s({"type": "integer", "minimum": 1, "maximum": 500, "default": 50, "description": "Page size"})
# Bounded: the store takes 64-bit integers, and no page lies past a billion entries.
OFFSET = _s(
    {
        "type": "integer",
        "minimum": 0,
        "maximum": 1_000_000_000,
        "default": 0,
        "description": "Entries to skip; pass the previous page's next_offset",
    }
)
QUERY_TEXT = _s({"type": "string", "minLength": 1, "maxLength": 8000})
SIMILARITY = _s({"type": "number", "minimum": -1, "maximum": 1})
POLICY_YAML = _s(
    {"type": "string", "minLength": 1, "maxLength": 1_000_000, "description": "The whole policy document (YAML)"}
)

ENTRY_FILTERS: dict[str, Schema] = {"tenant": TENANT, "category": CATEGORY, "model": MODEL}

LIST_QUERY: dict[str, Schema] = {
    **ENTRY_FILTERS,
    "contains": _s(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": 500,
            "description": "Only entries whose question contains this text (case-insensitive)",
        }
    ),
    "limit": LIMIT,
    "offset": OFFSET,
}

SEARCH_QUERY: dict[str, Schema] = {
    "q": _s({**QUERY_TEXT, "description": "Text to embed; entries are ranked by cosine similarity to it"}),
    "tenant": _s({**TENANT, "description": "Search this tenant's namespace and the shared one"}),
    "category": CATEGORY,
    "k": _s({"type": "integer", "minimum": 1, "maximum": 200, "default": 10, "description": "Results to return"}),
}

INVALIDATE_BODY = _s(
    {
        "type": "object",
        "additionalProperties": False,
        "description": "Deletes the entries matching every given selector (at least one is needed; "
        "flush deletes everything). With dry_run nothing is deleted.",
        "properties": {
            "tenant": TENANT,
            "category": CATEGORY,
            "model": MODEL,
            "older_than_s": _s(
                {"type": "number", "minimum": 0, "description": "Entries created at least this long ago"}
            ),
            "similar_to": _s({**QUERY_TEXT, "description": "Entries whose question is similar to this text"}),
            "min_similarity": _s({**SIMILARITY, "default": 0.85, "description": "Cosine floor for similar_to"}),
            "dry_run": _s({"type": "boolean", "default": False, "description": "Count and list, delete nothing"}),
        },
    }
)

FLUSH_BODY = _s(
    {
        "type": "object",
        "additionalProperties": False,
        "required": ["confirm"],
        "properties": {
            "confirm": _s(
                {"type": "string", "enum": ["flush"], "description": 'Must be the word "flush": deletes every entry'}
            )
        },
    }
)

POLICY_BODY = _s(
    {
        "type": "object",
        "additionalProperties": False,
        "required": ["yaml"],
        "properties": {
            "yaml": POLICY_YAML,
            "base_version": _s(
                {
                    "type": "integer",
                    "minimum": 1,
                    "description": "Refuse (409) unless this is still the version in force",
                }
            ),
        },
    }
)

VALIDATE_BODY = _s(
    {
        "type": "object",
        "additionalProperties": False,
        "required": ["yaml"],
        "properties": {"yaml": POLICY_YAML},
    }
)

# Answers. Objects here are documentation: the handlers build them.
ERROR = error_schema(
    issues={
        "type": "array",
        "items": {"$ref": "#/components/schemas/PolicyIssue"},
        "description": "Only on a rejected policy: every problem with its line",
    }
)
POLICY_ISSUE = {
    "type": "object",
    "properties": {
        "source": {"type": "string"},
        "line": {"type": ["integer", "null"]},
        "column": {"type": ["integer", "null"]},
        "path": {"type": "string"},
        "message": {"type": "string"},
        "allowed": {"type": ["string", "null"]},
    },
}
LATENCY = {
    "type": "object",
    "properties": {k: {"type": ["number", "null"]} for k in ("p50_ms", "p90_ms", "p99_ms")}
    | {"count": {"type": "integer"}},
}
TALLY: Schema = {
    "type": "object",
    "properties": {
        **{
            k: {"type": "integer"}
            for k in ("requests", "hits", "stale", "misses", "bypasses", "store_skipped", "errors")
        },
        "hit_rate": {"type": "number", "description": "hits / requests"},
        "tokens_saved": {
            "type": "object",
            "properties": {k: {"type": "integer"} for k in ("prompt", "completion", "total")},
        },
        "lookup_latency": LATENCY,
        "upstream_latency": LATENCY,
    },
}
ENTRY_SUMMARY: Schema = {
    "type": "object",
    "properties": {
        **{
            k: {"type": "string"}
            for k in (
                "id",
                "tenant",
                "namespace",
                "category",
                "model",
                "producer_model",
                "query_text",
                "answer_preview",
            )
        },
        **{k: {"type": "number"} for k in ("created_at", "expires_at", "utility")},
        "last_hit_at": {"type": ["number", "null"]},
        "hit_count": {"type": "integer"},
        "expired": {"type": "boolean"},
        "similarity": {"type": "number", "description": "Only in search results"},
    },
}
ENTRY_PAGE = {
    "type": "object",
    "properties": {
        "data": {"type": "array", "items": ENTRY_SUMMARY},
        "total": {"type": "integer"},
        "offset": {"type": "integer"},
        "limit": {"type": "integer"},
        "next_offset": {"type": ["integer", "null"]},
    },
}
SEARCH_RESULT = {
    "type": "object",
    "properties": {"data": {"type": "array", "items": ENTRY_SUMMARY}, "query": {"type": "string"}},
}
ENTRY_DETAIL = {
    "type": "object",
    "properties": {**ENTRY_SUMMARY["properties"], "request": {"type": "object"}, "response": {"type": "object"}},
}
INVALIDATION = {
    "type": "object",
    "properties": {
        "matched": {"type": "integer"},
        "deleted": {"type": "integer"},
        "dry_run": {"type": "boolean"},
        "ids": {"type": "array", "items": {"type": "string"}},
        "ids_truncated": {"type": "boolean", "description": "ids lists the first 1000 matches"},
    },
}
POLICY_DOCUMENT = {
    "type": "object",
    "properties": {
        "version": {"type": "integer"},
        "source": {"type": "string"},
        "yaml": {"type": ["string", "null"]},
        "categories": {"type": "array", "items": {"type": "string"}},
    },
}
POLICY_CHECK = {
    "type": "object",
    "properties": {
        "valid": {"type": "boolean"},
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/PolicyIssue"}},
        "categories": {"type": "array", "items": {"type": "string"}},
    },
}
POLICY_APPLIED = {"type": "object", "properties": {"accepted": {"type": "boolean"}, "version": {"type": "integer"}}}
