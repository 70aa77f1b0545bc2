"""Two gateway replicas on one real redis-server, through HTTP: what clients of either replica see.

The replicas are shared by the module (see conftest.py), so each test asks its own questions;
the last test takes Redis down and brings back an empty one.
"""

import httpx
from redis import Redis

NO_STORE = {"cache-control": "no-store"}  # polling must not store answers of its own


def ask(url: str, content: str, headers: dict | None = None) -> httpx.Response:
    body = {"model": "echo-1", "messages": [{"role": "user", "content": content}]}
    response = httpx.post(f"{url}/v1/chat/completions", json=body, headers=headers or {}, timeout=30)
    assert response.status_code == 200, response.text
    return response


def hit(url: str, content: str) -> httpx.Response | None:
    response = ask(url, content, NO_STORE)
    return response if response.headers["x-semgate-cache"] == "hit" else None


def test_an_answer_stored_through_one_replica_is_a_hit_through_the_other(cluster, wait_until):
    asked_upstream = cluster.echo.stats.requests
    stored = ask(cluster.a, "How can I reverse a list in Python?")
    assert stored.headers["x-semgate-cache"] == "miss"
    exact = ask(cluster.b, "How can I reverse a list in Python?")
    assert exact.headers["x-semgate-cache"] == "hit"  # the exact tier reads Redis directly
    # A paraphrase needs b's own HNSW mirror, fed by the change stream.
    semantic, delay_s = wait_until(lambda: hit(cluster.b, "how do I reverse a python list"), timeout_s=5)
    print(f"cross-replica semantic hit after {delay_s * 1000:.1f} ms (poll included)")
    assert semantic.json()["choices"][0]["message"]["content"] == "Echo: How can I reverse a list in Python?"
    assert 0.7 < float(semantic.headers["x-semgate-similarity"]) < 1.0
    assert semantic.headers["x-semgate-entry"] == exact.headers["x-semgate-entry"]
    assert cluster.echo.stats.requests - asked_upstream >= 1


def test_ttl_expiry_happens_in_redis_for_every_replica(cluster, wait_until):
    stored = ask(cluster.a, "How do I sort a dictionary by value in Python?", {"x-semgate-ttl": "1"})
    assert stored.headers["x-semgate-cache"] == "miss"
    first = wait_until(lambda: hit(cluster.b, "how can I sort a python dictionary by value"), timeout_s=5)[0]
    entry_key = f"{{semgate}}:e:{first.headers['x-semgate-entry']}"
    redis = Redis.from_url(cluster.redis.url)
    try:
        assert redis.ttl(entry_key) in (0, 1)  # the entry carries its TTL in Redis itself
        wait_until(lambda: not redis.exists(entry_key), timeout_s=5)
    finally:
        redis.close()
    assert hit(cluster.b, "how can I sort a python dictionary by value") is None
    assert hit(cluster.a, "How do I sort a dictionary by value in Python?") is None


def test_a_restarted_replica_catches_up_on_what_was_stored_while_it_was_down(cluster, wait_until):
    ask(cluster.a, "How do I read a file line by line in Python?")
    wait_until(lambda: hit(cluster.b, "how can i read a file line by line in python"), timeout_s=5)
    cluster.stop_replica(cluster.b)
    ask(cluster.a, "How do I merge two dictionaries in Python?")  # written while b is down
    cluster.b = cluster.start_replica()
    assert hit(cluster.b, "how can I merge two python dictionaries") is not None  # its mirror was rebuilt from Redis
    assert hit(cluster.b, "how can i read a file line by line in python") is not None


def test_replicas_survive_redis_going_down_and_resync_when_it_returns(cluster, health, wait_until):
    a, b = cluster.a, cluster.b
    ask(a, "How do I remove duplicates from a list in Python?")
    wait_until(lambda: hit(b, "how can I remove duplicates from a python list"), timeout_s=5)
    assert health(a)["store"] == health(b)["store"] == "ok"

    cluster.redis.kill()
    assert hit(b, "how can I remove duplicates from a python list") is not None  # b's mirror and in-memory entries
    assert hit(a, "How do I remove duplicates from a list in Python?") is not None
    for url in (a, b):
        assert health(url)["status"] == "degraded"
        assert health(url)["store"] == "degraded (read-only, redis unreachable)"
    miss = ask(a, "What is the capital of Australia?")  # still answered upstream, just not stored
    assert miss.headers["x-semgate-cache"] == "store-skipped"
    assert miss.json()["choices"][0]["message"]["content"] == "Echo: What is the capital of Australia?"
    assert hit(a, "What is the capital of Australia?") is None

    cluster.redis.restart()  # same port, no persistence: an empty Redis comes back
    for url in (a, b):
        wait_until(lambda url=url: health(url)["store"] == "ok", timeout_s=10)
    assert ask(b, "How do I convert a string to an integer in JavaScript?").headers["x-semgate-cache"] == "miss"
    wait_until(lambda: hit(a, "how can I convert a string to an integer in javascript"), timeout_s=5)
