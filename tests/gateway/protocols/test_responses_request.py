"""The Responses request -> canonical chat body: each answer-changing field reaches the body (so the cache
key), input items map onto chat messages, and what cannot be honoured is refused by name."""

from typing import Any

import pytest

from gateway.protocols.errors import ProtocolError
from gateway.protocols.responses_request import ANSWER_CHANGING_FIELDS, IGNORED_FIELDS, parse_responses_request

BASE: dict[str, Any] = {"model": "m", "input": "What is the capital of France?"}
EARLIER: list[dict[str, Any]] = [
    {"type": "message", "role": "user", "content": "Hi, I'm Ana."},
    {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hello Ana!"}]},
]
OTHER_EARLIER: list[dict[str, Any]] = [{"type": "message", "role": "user", "content": "Hi, I'm Bo."}]
TOOL = {"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {}}}
# For each answer-changing field: two values that must give different chat bodies.
VARIANTS: dict[str, tuple[Any, Any]] = {
    "model": ("m", "m2"),
    "input": ("What is the capital of France?", "What is the capital of Spain?"),
    "instructions": ("Answer in English.", "Answer in French."),
    "tools": ([TOOL], [{**TOOL, "name": "search"}]),
    "tool_choice": ("auto", "required"),
    "parallel_tool_calls": (True, False),
    "text": ({"format": {"type": "text"}}, {"format": {"type": "json_object"}}),
    "max_output_tokens": (16, 64),
    "temperature": (0.0, 1.0),
    "top_p": (0.5, 1.0),
}


def chat(body: dict[str, Any], earlier: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return parse_responses_request(body, earlier).chat


@pytest.mark.parametrize("name", [n for n in ANSWER_CHANGING_FIELDS if n != "previous_response_id"])
def test_each_answer_changing_field_changes_the_canonical_body(name: str) -> None:
    first, second = VARIANTS[name]
    assert chat({**BASE, name: first}) != chat({**BASE, name: second})


def test_previous_response_id_changes_the_body_through_its_conversation() -> None:
    body = {**BASE, "previous_response_id": "resp_1"}
    assert chat(body, EARLIER) != chat(body, OTHER_EARLIER) != chat(BASE)
    assert chat(body, EARLIER)["messages"][:2] == [
        {"role": "user", "content": "Hi, I'm Ana."},
        {"role": "assistant", "content": "Hello Ana!"},
    ]


def test_fields_that_leave_the_answer_alone_do_not_change_the_body() -> None:
    plain = chat(BASE)
    assert chat({**BASE, "store": False, "metadata": {"run": "7"}, "truncation": "disabled"}) == plain
    assert set(IGNORED_FIELDS) & set(ANSWER_CHANGING_FIELDS) == set()


def test_null_fields_read_as_not_given() -> None:
    assert chat({**BASE, "reasoning": None, "instructions": None, "tools": None}) == chat(BASE)


def test_mapping_of_tools_format_and_limits() -> None:
    schema = {"type": "json_schema", "name": "City", "schema": {"type": "object"}, "strict": True}
    body = chat(
        {
            **BASE,
            "tools": [TOOL],
            "tool_choice": {"type": "function", "name": "lookup"},
            "text": {"format": schema},
            "max_output_tokens": 32,
            "user": "u1",
        }
    )
    assert body["tools"] == [{"type": "function", "function": {"name": "lookup", "parameters": TOOL["parameters"]}}]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "lookup"}}
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "City", "schema": {"type": "object"}, "strict": True},
    }
    assert body["max_tokens"] == 32 and body["user"] == "u1" and "stream" not in body


def test_function_call_items_become_one_assistant_turn_and_tool_messages() -> None:
    items = [
        {"role": "user", "content": [{"type": "input_text", "text": "Weather in Paris and Rome?"}]},
        {"type": "function_call", "call_id": "c1", "name": "weather", "arguments": '{"city":"Paris"}'},
        {"type": "function_call", "call_id": "c2", "name": "weather", "arguments": '{"city":"Rome"}'},
        {"type": "function_call_output", "call_id": "c1", "output": "18C"},
        {"type": "function_call_output", "call_id": "c2", "output": [{"type": "input_text", "text": "21C"}]},
        {"type": "reasoning", "id": "rs_1", "summary": []},
    ]
    messages = chat({**BASE, "input": items, "instructions": "sys"})["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool", "tool"]
    assert [c["id"] for c in messages[2]["tool_calls"]] == ["c1", "c2"] and messages[2]["content"] is None
    assert messages[3] == {"role": "tool", "tool_call_id": "c1", "content": "18C"}
    assert messages[4]["content"] == "21C"


def test_stream_asks_the_upstream_for_usage() -> None:
    parsed = parse_responses_request({**BASE, "stream": True})
    assert parsed.stream and parsed.chat["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({**BASE, "frobnicate": 1}, "frobnicate"),
        ({**BASE, "reasoning": {"effort": "high"}}, "reasoning"),
        ({"input": "q"}, "model"),
        ({**BASE, "input": []}, "input"),
        (
            {**BASE, "input": [{"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}]},
            "input[0].content[0].type",
        ),
        ({**BASE, "input": [{"type": "item_reference", "id": "x"}]}, "input[0].type"),
        ({**BASE, "tools": [{"type": "web_search"}]}, "tools[0].type"),
        ({**BASE, "text": {"format": {"type": "yaml"}}}, "text.format.type"),
        ({**BASE, "text": {"verbosity": "low"}}, "text.verbosity"),
        ({**BASE, "temperature": 3}, "temperature"),
        ({**BASE, "max_output_tokens": 0}, "max_output_tokens"),
        ({**BASE, "truncation": "auto"}, "truncation"),
        ({**BASE, "metadata": {"n": 1}}, "metadata"),
    ],
)
def test_bad_or_unsupported_fields_are_400s_naming_the_parameter(body: dict[str, Any], param: str) -> None:
    with pytest.raises(ProtocolError) as raised:
        parse_responses_request(body)
    assert raised.value.status == 400 and raised.value.param == param
    assert raised.value.openai_body()["error"]["param"] == param


def test_a_body_that_is_not_an_object_is_a_400() -> None:
    with pytest.raises(ProtocolError) as raised:
        parse_responses_request(["not", "an", "object"])
    assert raised.value.status == 400
