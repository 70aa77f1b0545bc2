"""GET config is read-only and never shows a secret; no admin answer ever does."""

import hashlib

import httpx
from admin_keys import SECRETS

from gateway.admin.config_view import REDACTED, redacted_config, scrub_secrets
from gateway.config import parse_config


def test_config_names_the_variables_and_hides_their_values(gateway_cached):
    config = gateway_cached.ok("GET", "/config")
    [upstream] = config["upstreams"]
    assert (upstream["api_key_env"], upstream["api_key_set"]) == ("SEMGATE_TEST_UPSTREAM_KEY", True)
    assert [(t["name"], t["api_key_env"], t["api_key_set"]) for t in config["tenants"]] == [
        ("acme", "SEMGATE_TEST_ACME_KEY", True), ("globex", "SEMGATE_TEST_GLOBEX_KEY", True)]
    assert config["admin"] == {"token_env": "SEMGATE_TEST_ADMIN_TOKEN", "token_set": True, "public_metrics": False}
    assert config["cache"]["enabled"] is True and config["listen"] == "127.0.0.1:8080"
    for method in ("PUT", "POST", "DELETE"):
        assert gateway_cached.admin(method, "/config").status_code == 405  # read-only


def test_no_admin_answer_contains_a_secret(gateway_cached):
    g = gateway_cached
    g.ask("How do I reverse a list in Python?")
    g.ask("How do I reverse a list in Python?")
    [entry] = g.ok("GET", "/entries")["data"]
    policy = g.ok("GET", "/policies")["yaml"]
    answers = [
        g.admin("GET", "/stats"), g.admin("GET", "/entries"), g.admin("GET", "/entries/search", params={"q": "list"}),
        g.admin("GET", f"/entries/{entry['id']}"), g.admin("GET", "/upstreams"), g.admin("GET", "/config"),
        g.admin("GET", "/policies"), g.admin("POST", "/policies/validate", json={"yaml": policy}),
        g.admin("PUT", "/policies", json={"yaml": policy}), g.admin("PUT", "/policies", json={"yaml": "x: ["}),
        g.admin("POST", "/invalidate", json={"tenant": "acme", "dry_run": True}),
        g.admin("GET", "/stats", token="wrong"), g.admin("GET", "/stats", token=SECRETS[1]),
        httpx.get(f"{g.url}/admin/v1/openapi.json"), httpx.get(f"{g.url}/dashboard"),
        httpx.get(f"{g.url}/metrics", headers={"authorization": f"Bearer {SECRETS[0]}"}), httpx.get(f"{g.url}/metrics"),
    ]
    assert [a.status_code for a in answers] == [200] * 9 + [422, 200, 401, 403, 200, 200, 200, 401]
    for answer in answers:
        seen = answer.text + "".join(f"{k}: {v}\n" for k, v in answer.headers.items())
        for secret in SECRETS:
            assert secret not in seen, f"{answer.request.url} leaks a secret"
            assert hashlib.sha256(secret.encode()).hexdigest() not in seen


def test_digests_url_credentials_and_secret_arguments_are_redacted():
    digest = hashlib.sha256(b"k").hexdigest()
    config = parse_config(f"""
backend: {{enabled: true, extra_args: ["--api-key", "s3cret", "--token=s3cret2", "--threads", "4"]}}
upstreams:
  - {{name: hosted, base_url: "https://user:pa55@api.example.com/v1", models: [m]}}
tenants:
  - {{name: acme, api_key_sha256: {digest}}}
""")
    shown = redacted_config(config)
    text = repr(shown)
    for secret in ("s3cret", "pa55", digest, "user:"):
        assert secret not in text
    assert shown["upstreams"][0]["base_url"] == f"https://{REDACTED}@api.example.com/v1"
    assert shown["upstreams"][0]["base_urls"] == []
    assert shown["backend"]["extra_args"] == ["--api-key", REDACTED, f"--token={REDACTED}", "--threads", "4"]
    assert shown["tenants"][0]["api_key_sha256"] == REDACTED
    assert shown["admin"]["token_set"] is False


def test_secret_looking_fields_and_urls_anywhere_are_redacted():
    shown = scrub_secrets({"store": {"url": "redis://:hunter2@cache:6379/0", "password": "hunter2", "password_env": "X",
                              "nested": [{"client_secret": "abc"}]}})
    assert "hunter2" not in repr(shown) and "abc" not in repr(shown)
    assert shown["store"]["url"] == f"redis://{REDACTED}@cache:6379/0"
