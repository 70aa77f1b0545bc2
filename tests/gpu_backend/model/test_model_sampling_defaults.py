"""Sampling for requests that leave it out: the model's recommendation, else the OpenAI defaults."""

import pytest

from gpu_backend.model.sampling_defaults import SamplingDefaults, from_generation_config, from_gguf_metadata

OPENAI = SamplingDefaults()


def test_the_packaged_smollm2_decodes_greedily_when_a_request_says_nothing(smollm2):
    # Its file carries no general.sampling keys; sampled it rambles (see loader.PACKAGED_SAMPLING).
    assert smollm2.sampling_defaults.temperature == 0
    assert "greedy" in smollm2.sampling_defaults.describe()


def test_gguf_sampling_keys_replace_only_what_they_name():
    defaults = from_gguf_metadata({"general.sampling.temp": 0.6, "general.sampling.top_k": 20}, OPENAI)
    assert (defaults.temperature, defaults.top_p, defaults.top_k) == (0.6, 1.0, 20)
    assert defaults.source == "the GGUF file's general.sampling"
    assert from_gguf_metadata({"general.name": "x"}, OPENAI) is OPENAI


def test_generation_config_values_are_read_and_junk_is_ignored():
    defaults = from_generation_config({"temperature": 0.7, "top_p": 0.8, "top_k": True, "eos_token_id": 2}, OPENAI)
    assert (defaults.temperature, defaults.top_p, defaults.top_k) == (0.7, 0.8, 0)
    assert from_generation_config({"temperature": float("nan"), "top_p": "0.9"}, OPENAI) is OPENAI


@pytest.mark.parametrize(("settings", "message"), [
    ({"temperature": 3.0}, "temperature must lie in [0, 2]"),
    ({"top_p": 0.0}, "top_p must lie in (0, 1]"),
])
def test_out_of_range_values_name_where_they_came_from(settings, message):
    with pytest.raises(ValueError, match=r"^generation_config.json: default ") as error:
        from_generation_config(settings, OPENAI)
    assert message in str(error.value)


def test_the_command_line_overrides_the_model_and_nothing_given_changes_nothing():
    greedy = SamplingDefaults(temperature=0.0, source="packaged")
    assert greedy.overridden("command line") is greedy
    sampled = greedy.overridden("command line", temperature=0.2, top_p=0.9)
    assert (sampled.temperature, sampled.top_p, sampled.source) == (0.2, 0.9, "command line")
    assert sampled.describe() == "temperature 0.2, top_p 0.9 (command line)"
