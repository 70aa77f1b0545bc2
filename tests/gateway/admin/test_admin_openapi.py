"""The OpenAPI document says what the routes really accept: same paths, same methods, and
bodies and query parameters are checked against the very schemas it publishes."""

import httpx
from admin_keys import ADMIN_TOKEN
from starlette.routing import Route

from gateway.admin.validation import SchemaViolation, validate
from gateway.app import build_app
from gateway.config import parse_config


def document(gateway) -> dict:
    return httpx.get(f"{gateway.url}/admin/v1/openapi.json").json()


def test_document_lists_exactly_the_mounted_admin_routes(gateway_plain):
    doc = document(gateway_plain)
    assert doc["openapi"] == "3.1.0"
    assert doc["components"]["securitySchemes"]["adminToken"]["scheme"] == "bearer"
    app = build_app(parse_config("backend: {enabled: false}\ncache: {enabled: false}\n"))
    mounted = {(path, method.lower()) for r in app.routes if isinstance(r, Route) and r.path.startswith("/admin/v1/")
               and not r.path.endswith("openapi.json") for path in [r.path] for method in r.methods - {"HEAD"}}
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert documented == mounted
    for path, ops in doc["paths"].items():
        for op in ops.values():
            assert {"200", "400", "401", "403"} <= set(op["responses"]), path
            for name in (p["name"] for p in op.get("parameters", []) if p["in"] == "path"):
                assert "{" + name + "}" in path


def test_bodies_the_document_rejects_are_rejected_and_those_it_accepts_pass(gateway_cached):
    doc = document(gateway_cached)
    def body_schema(path: str) -> dict:
        return doc["paths"][f"/admin/v1{path}"]["post"]["requestBody"]["content"]["application/json"]["schema"]

    flush_schema, invalidate_schema = body_schema("/flush"), body_schema("/invalidate")
    cases = [
        ("/flush", {}, flush_schema, "confirm"),
        ("/flush", {"confirm": "yes"}, flush_schema, "confirm"),
        ("/invalidate", {"tenant": "acme", "dry_run": "no"}, invalidate_schema, "dry_run"),
        ("/invalidate", {"tenant": "acme", "everything": True}, invalidate_schema, "everything"),
        ("/invalidate", {"similar_to": "x", "min_similarity": 2}, invalidate_schema, "min_similarity"),
        ("/invalidate", {"older_than_s": -1}, invalidate_schema, "older_than_s"),
    ]
    for path, body, schema, field in cases:
        try:
            validate(body, schema)
            raise AssertionError(f"the document accepts {body}")
        except SchemaViolation as exc:
            assert exc.path == field
        response = gateway_cached.admin("POST", path, json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]["param"] == field
    accepted = {"tenant": "acme", "older_than_s": 0, "dry_run": True}
    validate(accepted, invalidate_schema)
    assert gateway_cached.ok("POST", "/invalidate", json=accepted)["dry_run"] is True


def test_query_parameters_follow_the_documented_schemas(gateway_cached):
    doc = document(gateway_cached)
    params = {p["name"]: p for p in doc["paths"]["/admin/v1/entries"]["get"]["parameters"]}
    assert params["limit"]["schema"]["maximum"] == 500
    for query, param in (({"limit": 0}, "limit"), ({"limit": 501}, "limit"), ({"limit": "ten"}, "limit"),
                         ({"offset": -1}, "offset"), ({"colour": "red"}, "colour")):
        response = gateway_cached.admin("GET", "/entries", params=query)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["param"] == param
    search = {p["name"]: p for p in doc["paths"]["/admin/v1/entries/search"]["get"]["parameters"]}
    assert search["q"]["required"] is True
    assert gateway_cached.admin("GET", "/entries/search").json()["error"]["param"] == "q"
    assert gateway_cached.ok("GET", "/entries", params={"limit": 500, "offset": 0})["limit"] == 500


def test_malformed_json_body_is_a_400(gateway_plain):
    response = httpx.post(f"{gateway_plain.url}/admin/v1/policies/validate", content=b"{not json",
                          headers={"authorization": f"Bearer {ADMIN_TOKEN}", "content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"
