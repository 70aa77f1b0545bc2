"""OpenAI request parsing: what is accepted, what becomes of it, and the errors for the rest."""

import json

import pytest

from gpu_backend.model import SamplingDefaults
from gpu_backend.server.protocol import OpenAIError, parse_chat_request, parse_completion_request

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def test_chat_defaults_and_sampling_fields():
    request = parse_chat_request({**CHAT, "temperature": 0, "top_p": 0.5, "top_k": 20, "seed": 3, "stop": "END",
                                  "max_completion_tokens": 7, "stream": True,
                                  "stream_options": {"include_usage": True}}, cache_salt="acme")
    params = request.params
    assert (params.temperature, params.top_p, params.top_k, params.seed) == (0, 0.5, 20, 3)
    assert params.stop == ("END",) and params.max_tokens == 7 and params.cache_salt == "acme"
    assert request.stream and request.include_usage
    assert parse_chat_request(CHAT).params.max_tokens is None  # chat: the engine's default bound applies
    assert parse_chat_request({**CHAT, "response_format": {"type": "text"}}).messages  # plain text is what it does


def test_the_model_defaults_fill_in_only_the_sampling_fields_a_request_leaves_out():
    model = SamplingDefaults(temperature=0.0, top_p=0.9, top_k=40, source="model")
    assert parse_chat_request(CHAT).params.temperature == 1.0  # OpenAI's default without model defaults
    params = parse_chat_request(CHAT, defaults=model).params
    assert (params.temperature, params.top_p, params.top_k) == (0.0, 0.9, 40) and params.greedy
    params = parse_chat_request({**CHAT, "temperature": 1, "top_p": 1, "top_k": 0}, defaults=model).params
    assert (params.temperature, params.top_p, params.top_k) == (1.0, 1.0, 0) and not params.greedy
    params = parse_completion_request({"model": "m", "prompt": "Hi", "temperature": 0.5}, defaults=model).params
    assert (params.temperature, params.top_p, params.top_k) == (0.5, 0.9, 40)


def test_response_format_becomes_the_grammar_to_decode_under():
    assert parse_chat_request({**CHAT, "response_format": {"type": "text"}}).grammar is None
    assert parse_chat_request({**CHAT, "response_format": {"type": "json_object"}}).grammar.kind == "json_object"
    schema = {"type": "object", "properties": {"b": {"type": "string"}, "a": {"type": "integer"}}}
    grammar = parse_chat_request({**CHAT, "response_format": {
        "type": "json_schema", "json_schema": {"name": "thing", "schema": schema, "strict": True}}}).grammar
    assert (grammar.kind, grammar.strict) == ("json_schema", True)
    assert list(json.loads(grammar.schema)["properties"]) == ["b", "a"]  # the order answers follow
    loose = parse_completion_request({"model": "m", "prompt": "Hi", "response_format": {
        "type": "json_schema", "json_schema": {"name": "thing", "schema": schema}}}).grammar
    assert not loose.strict


def test_logprobs_as_chat_and_completions_ask_for_them():
    assert parse_chat_request(CHAT).params.logprobs is None
    assert parse_chat_request({**CHAT, "logprobs": False, "top_logprobs": None}).params.logprobs is None
    assert parse_chat_request({**CHAT, "logprobs": True}).params.logprobs == 0
    assert parse_chat_request({**CHAT, "logprobs": True, "top_logprobs": 5}).params.logprobs == 5
    assert parse_completion_request({"model": "m", "prompt": "Hi", "logprobs": 3}).params.logprobs == 3
    with pytest.raises(OpenAIError) as error:
        parse_completion_request({"model": "m", "prompt": "Hi", "logprobs": 30})
    assert error.value.param == "logprobs"


def test_text_parts_and_developer_role_are_read():
    request = parse_chat_request({"model": "m", "messages": [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Hello "}, {"type": "text", "text": "there"}]},
    ]})
    assert request.messages == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}]


def test_completion_prompts_as_text_or_token_ids():
    assert parse_completion_request({"model": "m", "prompt": "Hi"}).params.max_tokens == 16
    assert parse_completion_request({"model": "m", "prompt": [1, 2, 3]}).prompt == [1, 2, 3]
    assert parse_completion_request({"model": "m", "prompt": ["Hi"]}).prompt == "Hi"


def test_top_p_zero_is_accepted_as_openai_accepts_it():
    params = parse_chat_request({**CHAT, "temperature": 0.7, "top_p": 0}).params
    assert params.top_p == 0 and params.greedy  # only the most likely token can be drawn


@pytest.mark.parametrize("body, param", [
    ({**CHAT, "n": 0}, "n"),
    ({**CHAT, "n": 17}, "n"),
    ({**CHAT, "top_logprobs": 3}, "top_logprobs"),  # without logprobs: true
    ({**CHAT, "logprobs": True, "top_logprobs": 21}, "top_logprobs"),
    ({**CHAT, "logprobs": 2}, "logprobs"),
    ({**CHAT, "presence_penalty": 0.5}, "presence_penalty"),
    ({**CHAT, "temperature": -1}, "temperature"),
    ({**CHAT, "top_p": 1.5}, "top_p"),
    ({**CHAT, "max_tokens": 0}, "max_tokens"),
    ({**CHAT, "stop": [""]}, "stop"),
    ({**CHAT, "seed": "x"}, "seed"),
    ({**CHAT, "response_format": {"type": "yaml"}}, "response_format"),
    ({**CHAT, "response_format": {"type": "json_schema", "json_schema": {"schema": {}}}},
     "response_format.json_schema"),
    ({**CHAT, "response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": []}}},
     "response_format.json_schema"),
    ({**CHAT, "response_format": {"type": "json_schema", "json_schema": {"name": "a", "strict": "yes"}}},
     "response_format.json_schema"),
    ({"model": "m", "messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
    ({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, "messages[0].content"),
    ({"messages": [{"role": "user", "content": "x"}]}, "model"),
])
def test_bad_chat_requests_name_the_offending_parameter(body, param):
    with pytest.raises(OpenAIError) as error:
        parse_chat_request(body)
    assert error.value.status == 400 and error.value.param == param
    assert set(error.value.body()["error"]) == {"message", "type", "param", "code"}


def test_bad_completion_prompts():
    for prompt in (None, "", [], [1, "2"], ["a", "b"]):
        with pytest.raises(OpenAIError) as error:
            parse_completion_request({"model": "m", "prompt": prompt})
        assert error.value.param == "prompt"


def test_chunk_marks_are_read_and_bad_shapes_are_400():
    turns = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}] * 2
    body = {"model": "m", "messages": [*turns, {"role": "user", "content": "hi"}],
            "semgate_examples": {"ids": ["x", "y"], "messages": [0, 4], "chunks": [[0, 2], [2, 4]]}}
    assert parse_chat_request(body).chunks == [(0, 2), (2, 4)]
    assert parse_chat_request({**body, "semgate_examples": {"ids": []}}).chunks == []
    assert parse_chat_request(CHAT).chunks == []
    for bad in ["x", {"chunks": "x"}, {"chunks": [[0]]}, {"chunks": [[2, 1]]}, {"chunks": [[0, 6]]},
                {"chunks": [[0, 2], [1, 3]]}, {"chunks": [[0, True]]}, {"chunks": [[0, 1]] * 300}]:
        with pytest.raises(OpenAIError) as error:
            parse_chat_request({**body, "semgate_examples": bad})
        assert error.value.status == 400 and error.value.param.startswith("semgate_examples")
    completion = {"model": "m", "prompt": "Alpha beta. Q", "semgate_examples": {"chunks": [[0, 11]]}}
    assert parse_completion_request(completion).chunks == [(0, 11)]
    with pytest.raises(OpenAIError):
        parse_completion_request({**completion, "semgate_examples": {"chunks": [[0, 40]]}})
    with pytest.raises(OpenAIError):
        parse_completion_request({**completion, "prompt": [1, 2, 3], "semgate_examples": {"chunks": [[0, 2]]}})
