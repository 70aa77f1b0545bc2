"""Every admin operation in one table: method, path, inputs, answers and handler.

The routes are mounted from this table and validate with its schemas, and the OpenAPI
document is generated from it, so the two cannot disagree.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from gateway.admin import config_view, entries_api, invalidation, schemas, stats_api
from gateway.admin.call import Call
from gateway.admin.policies_api import PolicyAdmin

Handler = Callable[[Call], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # under /admin/v1, with {name} for path parameters
    operation_id: str
    summary: str
    handler: Handler
    tag: str
    answer: dict[str, Any]  # schema of the 200 answer
    query: dict[str, dict[str, Any]] = field(default_factory=dict)
    required_query: tuple[str, ...] = ()
    path_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    errors: dict[int, str] = field(default_factory=dict)  # beyond 400/401/403, which every operation has


_NO_CACHE = {409: "The cache is off in the config, or still starting"}
_MISSING = {404: "No entry with this id", **_NO_CACHE}

_OBJECT_FIGURES = ("by_category", "by_tenant", "by_model", "by_route", "timeline", "effective", "entries", "memory")
STATS = {
    "type": "object",
    "description": "Totals since start (hits, stale, misses, bypasses, store_skipped, "
    "errors: they add up to requests; "
    "hit_rate, tokens_saved, lookup/upstream latency percentiles of recent requests) with the same "
    "figures by_category, by_tenant, by_model and by_route (chat, completion, embeddings, ...); "
    "the timeline of requests and hits per category (every "
    "bucket of the last ten minutes, quiet ones with no categories); "
    "effective thresholds and TTLs per category; entries; memory; embedder; top_entries.",
    "properties": {
        **schemas.TALLY["properties"],
        **{k: {"type": "object"} for k in (*_OBJECT_FIGURES, "embedder")},
        "top_entries": {"type": "array", "items": {"type": "object"}},
        "uptime_s": {"type": "number"},
        "cache_enabled": {"type": "boolean"},
        "policy_version": {"type": ["integer", "null"]},
    },
}
UPSTREAMS = {
    "type": "object",
    "properties": {
        "data": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "health": {"type": "string", "enum": ["idle", "ok", "degraded", "down"]},
                    "in_flight": {"type": "integer"},
                    "recent": {
                        "type": "object",
                        "description": "window_s, count, p50_ms, "
                        "p99_ms, error_rate, throttle_rate over the last minute",
                    },
                    "models": {"type": "array", "items": {"type": "string"}},
                    "circuit": {
                        "type": "object",
                        "description": "The circuit breaker: state (closed, open, half_open), "
                        "consecutive_failures, opened (times), rejected (requests failed fast), throttled (429s), "
                        "retry_in_s (until an open circuit lets a probe through)",
                        "properties": {
                            "state": {"type": "string", "enum": ["closed", "open", "half_open"]},
                            **{
                                k: {"type": "integer"}
                                for k in ("consecutive_failures", "opened", "rejected", "throttled")
                            },
                            "retry_in_s": {"type": "number"},
                        },
                    },
                },
            },
        }
    },
}
CONFIG = {
    "type": "object",
    "description": "The configuration in force; secrets are never shown, only the names "
    "of the environment variables that hold them and whether each is set.",
}


def operations() -> list[Operation]:
    policies = PolicyAdmin()
    entry_id = {"entry_id": schemas.ENTRY_ID}
    return [
        Operation("GET", "/stats", "getStats", "Cache and traffic statistics", stats_api.stats, "stats", STATS),
        Operation(
            "GET",
            "/entries",
            "listEntries",
            "List entries, newest first, with filters and paging",
            entries_api.list_entries,
            "entries",
            schemas.ENTRY_PAGE,
            query=schemas.LIST_QUERY,
            errors=_NO_CACHE,
        ),
        Operation(
            "GET",
            "/entries/search",
            "searchEntries",
            "Entries most similar in meaning to a text",
            entries_api.search_entries,
            "entries",
            schemas.SEARCH_RESULT,
            query=schemas.SEARCH_QUERY,
            required_query=("q",),
            errors=_NO_CACHE,
        ),
        Operation(
            "GET",
            "/entries/{entry_id}",
            "getEntry",
            "One entry with its request and response",
            entries_api.get_entry,
            "entries",
            schemas.ENTRY_DETAIL,
            path_params=entry_id,
            errors=_MISSING,
        ),
        Operation(
            "DELETE",
            "/entries/{entry_id}",
            "deleteEntry",
            "Delete one entry",
            entries_api.delete_entry,
            "entries",
            {"type": "object", "properties": {"id": {"type": "string"}, "deleted": {"type": "boolean"}}},
            path_params=entry_id,
            errors=_MISSING,
        ),
        Operation(
            "POST",
            "/invalidate",
            "invalidate",
            "Delete (or with dry_run count) the entries matching selectors",
            invalidation.invalidate,
            "entries",
            schemas.INVALIDATION,
            body=schemas.INVALIDATE_BODY,
            errors=_NO_CACHE,
        ),
        Operation(
            "POST",
            "/flush",
            "flush",
            "Delete every entry",
            invalidation.flush,
            "entries",
            {"type": "object", "properties": {"deleted": {"type": "integer"}}},
            body=schemas.FLUSH_BODY,
            errors=_NO_CACHE,
        ),
        Operation(
            "GET",
            "/policies",
            "getPolicy",
            "The policy in force: YAML text and version",
            policies.get,
            "policies",
            schemas.POLICY_DOCUMENT,
            errors=_NO_CACHE,
        ),
        Operation(
            "POST",
            "/policies/validate",
            "validatePolicy",
            "Check a candidate policy; changes nothing",
            policies.validate,
            "policies",
            schemas.POLICY_CHECK,
            body=schemas.VALIDATE_BODY,
        ),
        Operation(
            "PUT",
            "/policies",
            "replacePolicy",
            "Replace the policy in force (hot reload)",
            policies.replace,
            "policies",
            schemas.POLICY_APPLIED,
            body=schemas.POLICY_BODY,
            errors={
                **_NO_CACHE,
                409: "base_version is not the version in force, or the cache is unavailable",
                422: "The policy did not validate; error.issues lists every problem with its line",
            },
        ),
        Operation(
            "GET",
            "/upstreams",
            "listUpstreams",
            "Upstream health, load, latency and error rates",
            stats_api.upstreams,
            "upstreams",
            UPSTREAMS,
        ),
        Operation(
            "GET",
            "/config",
            "getConfig",
            "The configuration in force, secrets redacted",
            config_view.config,
            "config",
            CONFIG,
        ),
    ]
