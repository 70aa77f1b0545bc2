"""The `models:` and `incontext:` sections of gateway.yaml."""

import pytest

from gateway.config import ConfigError, load_config, parse_config


def test_the_shipped_config_has_a_strong_and_a_small_model_on_the_bundled_backend():
    config = load_config("config/gateway.yaml")
    tiers = {m.tier: m for m in config.models}
    assert set(tiers) == {"strong", "small"}
    served = {u.models[0] for u in config.upstreams if u.name == "bundled"}
    assert {m.upstream_model for m in config.models} == served
    assert tiers["small"].cost_per_1k_tokens < tiers["strong"].cost_per_1k_tokens


@pytest.mark.parametrize("text, field, problem", [
    ("models: [{name: a}]", "models[0].tier", "required"),
    ("models: [{name: a, tier: huge}]", "models[0].tier", "strong, small"),
    ("models: [{name: a, tier: small}, {name: a, tier: strong}]", "models[1].name", "duplicate"),
    ("models: [{name: a, tier: small, cost_per_1k_tokens: -1}]", "models[0].cost_per_1k_tokens", ">= 0"),
    ("models: [{name: a, tier: small, capacity: 0}]", "models[0].capacity", ">= 1"),
    ("models: [{name: a, tier: small, params: [1]}]", "models[0].params", "mapping"),
    ("incontext: {min_similarity: 2}", "incontext.min_similarity", "from 0 to 1"),
    ("incontext: {router: {load_weight: -1}}", "incontext.router.load_weight", ">= 0"),
    ("incontext: {examples: 3}", "incontext.examples", "unknown field"),
])
def test_config_errors_name_the_field(text, field, problem):
    with pytest.raises(ConfigError) as err:
        parse_config(text, "my.yaml")
    assert err.value.field_path == field and problem in err.value.problem
