"""gateway.yaml for scaling out: several base URLs per upstream, and the Redis store."""

import pytest

from gateway.config import ConfigError, parse_config

BASE = "backend: {enabled: false}\n"


def test_an_upstream_lists_several_servers_with_health_and_affinity_settings():
    config = parse_config(BASE + """
upstreams:
  - name: llama
    base_urls: [http://10.0.0.5:8000/v1/, http://10.0.0.6:30000/v1]
    models: [llama]
    health: {path: health, interval_s: 2}
    affinity_prefix_chars: 0
  - {name: one, base_url: http://10.0.0.7:8000/v1}
""")
    llama, one = config.upstreams
    assert llama.urls == ("http://10.0.0.5:8000/v1", "http://10.0.0.6:30000/v1")
    assert (llama.health_path, llama.health_interval_s, llama.affinity_prefix_chars) == ("/health", 2.0, 0)
    assert one.urls == ("http://10.0.0.7:8000/v1",) and one.health_path == "/models"
    assert one.affinity_prefix_chars == 512


@pytest.mark.parametrize(("upstream", "field", "problem"), [
    ("{name: x}", "upstreams[0].base_url", "exactly one of base_url or base_urls"),
    ("{name: x, base_url: 'http://a/v1', base_urls: ['http://b/v1']}", "upstreams[0].base_url", "exactly one"),
    ("{name: x, base_urls: []}", "upstreams[0].base_urls", "at least one URL"),
    ("{name: x, base_urls: ['http://a/v1', 'ftp://b']}", "upstreams[0].base_urls[1]", "http:// or https://"),
    ("{name: x, base_url: 'http://a/v1', affinity_prefix_chars: -1}", "upstreams[0].affinity_prefix_chars", ">= 0"),
    ("{name: x, base_url: 'http://a/v1', health: {interval_s: 0}}", "upstreams[0].health.interval_s", "> 0"),
])
def test_a_bad_upstream_list_names_the_field(upstream, field, problem):
    with pytest.raises(ConfigError) as error:
        parse_config(BASE + f"upstreams: [{upstream}]\n")
    assert error.value.field_path == field and problem in error.value.problem


def test_the_store_is_sqlite_by_default_and_redis_by_url():
    assert parse_config(BASE).cache.store_kind == "sqlite"
    cache = parse_config(BASE + "cache: {store: 'redis://10.0.0.9:6379/0', redis: {prefix: team-a, stream_maxlen: 500}}\n").cache
    assert cache.store_kind == "redis" and cache.store_path == "redis://10.0.0.9:6379/0"
    assert (cache.redis.prefix, cache.redis.stream_maxlen, cache.redis.local_entries) == ("team-a", 500, 10_000)
    with pytest.raises(ConfigError) as error:
        parse_config(BASE + "cache: {redis: {stream_maxlen: 0}}\n")
    assert error.value.field_path == "cache.redis.stream_maxlen"
