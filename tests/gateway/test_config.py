import re

import pytest

from gateway.app import build_app
from gateway.config import ConfigError, load_config, parse_config


def test_shipped_config_is_valid_and_includes_the_bundled_backend():
    config = load_config("config/gateway.yaml")
    assert (config.host, config.port) == ("127.0.0.1", 8080)
    assert [u.name for u in config.upstreams] == ["bundled"]
    assert config.upstreams[0].models == ("smollm2-135m",)
    assert config.upstreams[0].semgate_headers  # semgate's own backend hears each request's SLO and tenant


def test_only_the_bundled_upstream_or_an_opted_in_one_gets_semgate_headers():
    config = parse_config("upstreams:\n  - {name: hosted, base_url: 'https://api.example.com/v1'}\n"
                          "  - {name: ours, base_url: 'http://10.0.0.2:8001/v1', semgate_headers: true}", "x.yaml")
    assert {u.name: u.semgate_headers for u in config.upstreams} == {"hosted": False, "ours": True, "bundled": True}


@pytest.mark.parametrize("text, field, problem", [
    ("listen: 8080", "listen", "HOST:PORT"),
    ("listen: 127.0.0.1:99999", "listen", "1..65535"),
    ("lisen: 127.0.0.1:80", "lisen", "unknown field"),
    ("upstreams: [{name: a}]", "upstreams[0].base_url", "required"),
    ("upstreams: [{name: a, base_url: ftp://x}]", "upstreams[0].base_url", "http://"),
    ("upstreams: [{name: a, base_url: 'http://x', timeouts: {read_s: -1}}]", "upstreams[0].timeouts.read_s", "> 0"),
    ("upstreams: [{name: a, base_url: 'http://x'}, {name: a, base_url: 'http://y'}]", "upstreams[1].name", "duplicate"),
    ("upstreams: [{name: a, base_url: 'http://x', semgate_headers: 'yes'}]", "upstreams[0].semgate_headers",
     "true or false"),
    ("tenants: [{name: t}]", "tenants[0]", "exactly one"),
    ("tenants: [{name: t, api_key_sha256: abc}]", "tenants[0].api_key_sha256", "64 hex"),
    ("limits: {max_body_bytes: 0}", "limits.max_body_bytes", "> 0"),
    ("backend: {enabled: maybe}", "backend.enabled", "true or false"),
    ("upstreams: [{name: a, base_url: 'http://x', embeddings: 1}]", "upstreams[0].embeddings", "true or false"),
    ("embeddings: {max_inputs: 0}", "embeddings.max_inputs", ">= 1"),
    ("embeddings: {model: 3}", "embeddings.model", "a model name"),
    ("embeddings: {dims: 3}", "embeddings.dims", "unknown field"),
])
def test_config_errors_name_file_field_and_problem(text, field, problem):
    with pytest.raises(ConfigError) as err:
        parse_config(text, "my.yaml")
    assert err.value.source == "my.yaml"
    assert err.value.field_path == field
    assert problem in err.value.problem
    assert re.match(rf"my\.yaml:\d+:\d+: {re.escape(field)}: ", str(err.value))  # the policies' shape


def test_non_loopback_without_keys_refuses_to_start():
    with pytest.raises(ConfigError, match="not loopback"):
        build_app(parse_config("listen: 0.0.0.0:8080", "x.yaml"))


def test_non_loopback_with_keys_starts(monkeypatch):
    monkeypatch.setenv("K", "secret")
    build_app(parse_config("listen: 0.0.0.0:8080\ntenants: [{name: a, api_key_env: K}]", "x.yaml"))


def test_a_config_error_says_where_in_the_file_the_field_is():
    text = "listen: 127.0.0.1:8080\nupstreams:\n  - name: a\n    base_url: http://x\n    timeouts: {read_s: -1}\n"
    with pytest.raises(ConfigError) as err:
        parse_config(text, "my.yaml")
    assert (err.value.line, err.value.column) == (5, 24)
    assert str(err.value) == "my.yaml:5:24: upstreams[0].timeouts.read_s: -1 is out of range (allowed: a number > 0)"
    with pytest.raises(ConfigError) as err:  # a missing field: where its mapping starts
        parse_config("upstreams:\n  - {name: a}\n", "my.yaml")
    assert (err.value.field_path, err.value.line, err.value.column) == ("upstreams[0].base_url", 2, 5)


def test_embeddings_settings_are_read_and_default_to_the_local_minilm():
    assert parse_config("").embeddings.model == "all-minilm-l6-v2"
    config = parse_config("embeddings: {model: '', max_tokens: 512}\n"
                          "upstreams: [{name: v, base_url: 'http://x', models: [e5], embeddings: true}]")
    assert (config.embeddings.model, config.embeddings.max_tokens) == ("", 512)
    assert {u.name: u.embeddings for u in config.upstreams} == {"v": True, "bundled": False}
