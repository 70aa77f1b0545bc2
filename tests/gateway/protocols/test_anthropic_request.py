"""The Messages request -> canonical chat body: each answer-changing field reaches the body (so the cache
key), stop reasons map back, the tenant key comes from either header, and refusals name the field."""

from typing import Any

import pytest

from gateway.protocols.anthropic_request import ANSWER_CHANGING_FIELDS, parse_messages_request
from gateway.protocols.anthropic_response import message_from_chat
from gateway.protocols.errors import ProtocolError, from_openai_body
from gateway.protocols.tenant_key import api_key_from_headers

BASE: dict[str, Any] = {"model": "m", "max_tokens": 64, "messages": [{"role": "user", "content": "Capital of France?"}]}
TOOL = {"name": "lookup", "input_schema": {"type": "object"}}
VARIANTS: dict[str, tuple[Any, Any]] = {
    "model": ("m", "m2"),
    "system": ("Answer in English.", [{"type": "text", "text": "Answer in French."}]),
    "messages": (BASE["messages"], [{"role": "user", "content": [{"type": "text", "text": "Capital of Spain?"}]}]),
    "max_tokens": (64, 65),
    "stop_sequences": (["\n"], ["END"]),
    "temperature": (0.0, 1.0),
    "top_p": (0.5, 0.9),
    "top_k": (1, 40),
    "tools": ([TOOL], [{**TOOL, "name": "search"}]),
    "tool_choice": ({"type": "auto"}, {"type": "any"}),
    "output_config": (
        {"format": {"type": "json_schema", "schema": {"type": "object"}}},
        {"format": {"type": "json_schema", "schema": {"type": "array"}}},
    ),
}


@pytest.mark.parametrize("name", ANSWER_CHANGING_FIELDS)
def test_each_answer_changing_field_changes_the_canonical_body(name: str) -> None:
    first, second = VARIANTS[name]
    assert parse_messages_request({**BASE, name: first}).chat != parse_messages_request({**BASE, name: second}).chat


def test_ignored_fields_leave_the_body_alone() -> None:
    plain = parse_messages_request(BASE).chat
    assert (
        parse_messages_request({**BASE, "cache_control": {"type": "ephemeral"}, "thinking": {"type": "disabled"}}).chat
        == plain
    )
    assert parse_messages_request({**BASE, "metadata": {"user_id": "u1"}}).chat == {**plain, "user": "u1"}


@pytest.mark.parametrize(
    ("choice", "reason", "sequence"),
    [
        ({"finish_reason": "stop"}, "end_turn", None),
        ({"finish_reason": "stop", "stop_reason": "END"}, "stop_sequence", "END"),
        ({"finish_reason": "stop", "matched_stop": "END"}, "stop_sequence", "END"),
        ({"finish_reason": "stop", "stop_reason": 2}, "end_turn", None),  # vLLM: a stop token id, not a sequence
        ({"finish_reason": "length"}, "max_tokens", None),
        ({"finish_reason": "tool_calls"}, "tool_use", None),
        ({"finish_reason": "content_filter"}, "refusal", None),
    ],
)
def test_stop_reasons(choice: dict[str, Any], reason: str, sequence: str | None) -> None:
    request = parse_messages_request({**BASE, "stop_sequences": ["END"]})
    completion = {"model": "m", "choices": [{"index": 0, "message": {"content": "Paris"}, **choice}]}
    message = message_from_chat(completion, request)
    assert (message["stop_reason"], message["stop_sequence"]) == (reason, sequence)


def test_tool_result_errors_stay_visible_to_the_model() -> None:
    messages = [
        *BASE["messages"],
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "lookup", "input": {}}]},
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "t1",
                    "is_error": True,
                    "content": [{"type": "text", "text": "timeout"}],
                }
            ],
        },
    ]
    chat = parse_messages_request({**BASE, "messages": messages}).chat
    assert chat["messages"][-1] == {"role": "tool", "tool_call_id": "t1", "content": "Error: timeout"}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({k: v for k, v in BASE.items() if k != "max_tokens"}, "max_tokens"),
        ({**BASE, "model": None}, "model"),
        ({**BASE, "frobnicate": 1}, "frobnicate"),
        ({**BASE, "thinking": {"type": "enabled", "budget_tokens": 1024}}, "thinking"),
        ({**BASE, "temperature": 1.5}, "temperature"),
        (
            {**BASE, "messages": [{"role": "user", "content": [{"type": "image", "source": {}}]}]},
            "messages.0.content.0.type",
        ),
        ({**BASE, "messages": [{"role": "system", "content": "x"}]}, "messages.0.role"),
        ({**BASE, "tools": [{"type": "web_search_20250305", "name": "web_search"}]}, "tools.0.type"),
        ({**BASE, "tools": [{"name": "lookup"}]}, "tools.0.input_schema"),
        ({**BASE, "output_config": {"effort": "high"}}, "output_config.effort"),
    ],
)
def test_bad_or_unsupported_fields_are_400s_in_anthropics_shape(body: dict[str, Any], param: str) -> None:
    with pytest.raises(ProtocolError) as raised:
        parse_messages_request(body)
    assert raised.value.status == 400 and raised.value.param == param
    body_out = raised.value.anthropic_body()
    assert body_out["type"] == "error" and body_out["error"]["type"] == "invalid_request_error"


def test_upstream_errors_keep_status_and_message_in_anthropics_shape() -> None:
    error = from_openai_body(429, {"error": {"message": "slow down", "type": "rate_limit_error"}})
    assert error.anthropic_body() == {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}
    assert from_openai_body(503, "<html>").anthropic_body()["error"]["type"] == "api_error"


@pytest.mark.parametrize(
    ("headers", "key"),
    [
        ({"Authorization": "Bearer sk-a"}, "sk-a"),
        ({"x-api-key": "sk-a"}, "sk-a"),
        ({"X-Api-Key": "sk-a", "authorization": "Bearer sk-a"}, "sk-a"),
        ({"authorization": "Basic abc"}, None),
        ({}, None),
    ],
)
def test_api_key_from_either_header(headers: dict[str, str], key: str | None) -> None:
    assert api_key_from_headers(headers) == key


def test_two_different_keys_are_refused() -> None:
    with pytest.raises(ProtocolError) as raised:
        api_key_from_headers({"authorization": "Bearer sk-a", "x-api-key": "sk-b"})
    assert raised.value.status == 401
    assert raised.value.anthropic_body()["error"]["type"] == "authentication_error"
