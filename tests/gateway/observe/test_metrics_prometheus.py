"""/metrics, read back with prometheus_client's own text-format parser, matches the traffic sent."""

import httpx
import pytest
import yaml
from gateway_setup import gateway_yaml
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import build_app
from gateway.config import parse_config

QUESTION = "How do I reverse a list in Python?"


def scrape(url: str) -> dict[str, list]:
    response = httpx.get(f"{url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {family.name: family.samples for family in text_string_to_metric_families(response.text)}


def total(samples: list, name: str, **labels: str) -> float:
    return sum(s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def ask(url: str, content: str, model: str = "echo-1", **body) -> httpx.Response:
    return httpx.post(f"{url}/v1/chat/completions", timeout=30,
                      json={"model": model, "messages": [{"role": "user", "content": content}], **body})


def test_metrics_follow_the_traffic(cached_gateway):
    url = cached_gateway()
    first = ask(url, QUESTION)
    assert first.headers["x-semgate-cache"] == "miss"
    category = first.headers["x-semgate-category"]
    assert ask(url, QUESTION).headers["x-semgate-cache"] == "hit"
    assert ask(url, "What is the capital of Peru?", semgate={"no_cache": True}).headers["x-semgate-cache"] == "bypass"
    assert ask(url, "hi", model="nope").status_code == 404
    m = scrape(url)

    requests = m["semgate_requests"]
    assert {o: total(requests, "semgate_requests_total", outcome=o) for o in ("hit", "miss", "bypass", "error")} == {
        "hit": 1, "miss": 1, "bypass": 1, "error": 1}
    assert total(requests, "semgate_requests_total", category=category, tenant="default", model="echo-1") == 2
    usage = first.json()["usage"]
    saved = m["semgate_tokens_saved"]
    assert total(saved, "semgate_tokens_saved_total", kind="completion") == usage["completion_tokens"]
    assert total(saved, "semgate_tokens_saved_total", kind="prompt") == usage["prompt_tokens"]

    assert total(m["semgate_cache_lookup_seconds"], "semgate_cache_lookup_seconds_count") == 3
    assert total(m["semgate_cache_lookup_seconds"], "semgate_cache_lookup_seconds_bucket", le="+Inf") == 3
    upstream = m["semgate_upstream_request_seconds"]
    assert total(upstream, "semgate_upstream_request_seconds_count", upstream="echo") == 2
    batches = total(m["semgate_embedding_batch_size"], "semgate_embedding_batch_size_count")
    assert batches >= 1
    assert total(m["semgate_embedding_batch_size"], "semgate_embedding_batch_size_sum") >= batches
    assert total(m["semgate_embedding_batch_seconds"], "semgate_embedding_batch_seconds_count") == batches

    assert total(m["semgate_cache_entries"], "semgate_cache_entries") == 2  # the miss and the no-cache answer
    assert total(m["semgate_cache_indexed_entries"], "semgate_cache_indexed_entries") == 2
    with open("config/policies.yaml") as f:
        configured = {c["name"]: c["similarity_threshold"] for c in yaml.safe_load(f)["categories"]}
    thresholds = {s.labels["category"]: s.value for s in m["semgate_cache_similarity_threshold"]}
    assert thresholds == pytest.approx(configured)  # idle upstream: the configured values
    assert total(m["semgate_policy_version"], "semgate_policy_version") == 1

    assert total(m["semgate_upstream_healthy"], "semgate_upstream_healthy", upstream="echo") == 1
    assert total(m["semgate_upstream_server_healthy"], "semgate_upstream_server_healthy", upstream="echo") == 1
    assert total(m["semgate_upstream_in_flight"], "semgate_upstream_in_flight", upstream="echo") == 0
    assert total(m["semgate_upstream_requests"], "semgate_upstream_requests_total", upstream="echo") == 2
    assert total(m["process_resident_memory_bytes"], "process_resident_memory_bytes") > 0


def test_each_gateway_has_its_own_registry(serve, echo, gateway):
    other = serve(build_app(parse_config(gateway_yaml(echo.url), "other.yaml"))).url
    ask(gateway, "hello")
    ask(gateway, "hello again")
    assert total(scrape(gateway)["semgate_requests"], "semgate_requests_total", outcome="bypass") == 2
    assert total(scrape(other).get("semgate_requests", []), "semgate_requests_total") == 0
    assert total(scrape(other)["semgate_cache_enabled"], "semgate_cache_enabled") == 0


@pytest.mark.parametrize("public", [False, True])
def test_with_an_admin_token_metrics_take_it_unless_public(serve, monkeypatch, public):
    monkeypatch.setenv("SEMGATE_ADMIN_TOKEN", "admin-token-for-metrics")
    config = parse_config(f"""
backend: {{enabled: false}}
cache: {{enabled: false}}
admin: {{public_metrics: {str(public).lower()}}}
upstreams: [{{name: none, base_url: "http://127.0.0.1:9/v1", models: [m]}}]
""", "metrics.yaml")
    url = serve(build_app(config)).url
    anonymous = httpx.get(f"{url}/metrics")
    with_token = httpx.get(f"{url}/metrics", headers={"authorization": "Bearer admin-token-for-metrics"})
    assert with_token.status_code == 200 and "semgate_requests_total" in with_token.text
    if public:
        assert anonymous.status_code == 200
    else:
        assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "missing_admin_token"
        assert "semgate_" not in anonymous.text


def test_the_shipped_config_says_what_metrics_ask_for():
    """Its comment once said /metrics needs no token, while it answers 401 once a token is set (above)."""
    text = open("config/gateway.yaml").read()
    comment = " ".join(line.lstrip("# ") for line in text[:text.index("\nadmin:")].splitlines()[-6:])
    assert "needs no token" not in comment
    assert "/metrics answers 401 without it" in comment and "`public_metrics: true`" in comment
    assert parse_config(text, "config/gateway.yaml").admin.public_metrics is False
