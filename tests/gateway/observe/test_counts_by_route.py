"""Requests counted by the route they came through (chat, completion, embeddings): the admin stats and
/metrics agree with the traffic sent, hits, misses and tokens saved included."""

import httpx
from prometheus_client.parser import text_string_to_metric_families

TOKEN = "route-counts-admin-token"
QUESTION = "How do I reverse a list in Python?"


def post(url: str, path: str, body: dict) -> httpx.Response:
    response = httpx.post(f"{url}/v1/{path}", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return response


def test_admin_stats_and_metrics_count_each_route(cached_gateway, monkeypatch):
    monkeypatch.setenv("ROUTE_COUNTS_ADMIN_TOKEN", TOKEN)
    url = cached_gateway("admin: {token_env: ROUTE_COUNTS_ADMIN_TOKEN, public_metrics: true}")
    chat = {"model": "echo-1", "messages": [{"role": "user", "content": QUESTION}]}
    first = post(url, "chat/completions", chat)
    assert post(url, "chat/completions", chat).headers["x-semgate-cache"] == "hit"
    post(url, "completions", {"model": "echo-1", "prompt": "say hello"})
    embedding = {"model": "all-minilm-l6-v2", "input": ["a cached sentence", "another one"]}
    tokens = post(url, "embeddings", embedding).json()["usage"]["prompt_tokens"]
    assert post(url, "embeddings", embedding).headers["x-semgate-cache"] == "hit"
    assert httpx.post(f"{url}/v1/embeddings", json={"model": "all-minilm-l6-v2", "input": []}).status_code == 400

    stats = httpx.get(f"{url}/admin/v1/stats", headers={"authorization": f"Bearer {TOKEN}"}).json()["by_route"]
    assert set(stats) == {"chat", "completion", "embeddings"}
    assert (stats["chat"]["hits"], stats["chat"]["misses"]) == (1, 1)
    assert stats["chat"]["tokens_saved"]["total"] == first.json()["usage"]["total_tokens"]
    assert (stats["embeddings"]["hits"], stats["embeddings"]["misses"], stats["embeddings"]["errors"]) == (1, 1, 1)
    assert stats["embeddings"]["tokens_saved"] == {"prompt": tokens, "completion": 0, "total": tokens}
    assert stats["completion"]["requests"] == 1

    scraped = httpx.get(f"{url}/metrics").text
    samples = [s for f in text_string_to_metric_families(scraped) for s in f.samples]

    def count(name: str, **labels: str) -> float:
        return sum(s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))

    assert count("semgate_route_requests_total", route="embeddings", outcome="hit") == 1
    assert count("semgate_route_requests_total", route="embeddings", outcome="error") == 1
    assert count("semgate_route_requests_total", route="chat") == 2
    assert count("semgate_route_tokens_saved_total", route="embeddings", kind="prompt") == tokens
    assert count("semgate_route_tokens_saved_total", route="chat", kind="completion") == (
        first.json()["usage"]["completion_tokens"])
