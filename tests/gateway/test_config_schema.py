"""gateway.yaml is read by the policies' schema reader: every error says file:line:column, field, problem."""

import pytest

from gateway.config import ConfigError, parse_config


def _error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        parse_config(text, "gw.yaml")
    return err.value


def test_a_bad_nested_field_is_reported_at_its_line_and_column():
    error = _error("upstreams:\n  - name: a\n    base_url: http://x\n    circuit_breaker:\n      cooldown_s: -1\n")
    assert (error.field_path, error.line, error.column) == ("upstreams[0].circuit_breaker.cooldown_s", 5, 19)
    assert str(error) == (
        "gw.yaml:5:19: upstreams[0].circuit_breaker.cooldown_s: -1 is out of range (allowed: a number > 0)"
    )


def test_an_unknown_field_suggests_the_one_meant_and_lists_the_allowed():
    error = _error("listen: 127.0.0.1:8080\ncache:\n  enabled: true\n  top_kk: 3\n")
    assert (error.field_path, error.line, error.column) == ("cache.top_kk", 4, 3)
    assert "unknown field 'top_kk'; did you mean 'top_k'?" in error.problem
    assert "allowed: enabled, store, " in error.problem


def test_a_value_of_the_wrong_type_names_what_was_expected_and_what_was_given():
    error = _error("limits:\n  max_messages: lots\n")
    assert (error.field_path, error.line, error.column) == ("limits.max_messages", 2, 17)
    assert error.problem == "expected an integer, got string 'lots'"
    quoted = _error('backend:\n  enabled: "yes"\n')  # a quoted "yes" is a string, not a boolean
    assert (quoted.field_path, quoted.problem) == ("backend.enabled", "expected true or false, got string 'yes'")


def test_every_problem_is_reported_at_once_in_file_order():
    error = _error("upstreams:\n  - {name: a, base_url: 'http://x', retries: -1}\nlimits: {max_messages: 0}\nlisen: x\n")
    assert [(issue.line, issue.path) for issue in error.issues] == [
        (2, "upstreams[0].retries"),
        (3, "limits.max_messages"),
        (4, "lisen"),
    ]
    assert str(error).count("\n") == 2


def test_a_key_set_twice_is_an_error_instead_of_keeping_the_last():
    error = _error("limits:\n  max_messages: 10\n  max_messages: 20\n")
    assert (error.field_path, error.line) == ("limits.max_messages", 3)
    assert "duplicate key (first set on line 2)" in error.problem


def test_broken_yaml_is_reported_where_it_breaks():
    error = _error("listen: 127.0.0.1:8080\nupstreams: [{name: a\n")
    assert error.line == 3 and "invalid YAML" in error.problem


def test_a_wrong_key_digest_is_not_echoed_back():
    """An operator who pasted the key itself where its SHA-256 belongs must not see it in logs."""
    error = _error("tenants: [{name: t, api_key_sha256: sk-live-abcdef}]\n")
    assert error.field_path == "tenants[0].api_key_sha256" and "sk-live-abcdef" not in str(error)


def test_settings_not_in_the_file_take_the_dataclass_defaults():
    config = parse_config("upstreams: [{name: a, base_url: 'http://x/v1/', timeouts: {read_s: 5}}]\n")
    upstream = config.upstreams[0]
    assert (upstream.timeouts.read_s, upstream.timeouts.connect_s, upstream.timeouts.total_s) == (5.0, 2.0, 600.0)
    assert upstream.urls == ("http://x/v1",) and (upstream.retries, upstream.capacity) == (1, 32)
    assert (config.limits.max_messages, config.cache.top_k, config.incontext.router.load_weight) == (1024, 8, 0.5)
