"""`tools`, `tool_choice` and `parallel_tool_calls` as requests send them: what they become, and a
400 naming the parameter for what a tool-calling client gets wrong."""

import json

import pytest

from gpu_backend.server.protocol import OpenAIError, parse_chat_request, parse_completion_request

WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
TIME = {"type": "function", "function": {"name": "get_time"}}
CHAT = {"model": "m", "messages": [{"role": "user", "content": "Weather in Oslo?"}], "tools": [WEATHER, TIME]}


def test_auto_is_the_default_and_leaves_the_answer_free():
    request = parse_chat_request(CHAT)
    assert request.tools.choice == "auto" and request.tools.parallel and request.grammar is None
    assert [t.name for t in request.tools.tools] == ["get_weather", "get_time"]
    assert request.tools.tools[1].parameters == {"type": "object", "properties": {}}
    assert parse_chat_request({**CHAT, "tool_choice": "none"}).grammar is None
    assert parse_chat_request({**CHAT, "tools": [], "tool_choice": "none"}).tools is None


def test_a_forced_call_is_decoded_under_the_offered_functions_schemas():
    required = parse_chat_request({**CHAT, "tool_choice": "required"})
    schema = json.loads(required.grammar.schema)
    assert schema["type"] == "array"  # parallel calls allowed: one or more
    assert [c["properties"]["name"]["const"] for c in schema["items"]["anyOf"]] == ["get_weather", "get_time"]
    one = parse_chat_request({**CHAT, "tool_choice": "required", "parallel_tool_calls": False})
    assert "anyOf" in json.loads(one.grammar.schema)
    named = parse_chat_request({**CHAT, "tool_choice": {"type": "function", "function": {"name": "get_weather"}}})
    schema = json.loads(named.grammar.schema)
    assert schema["properties"]["name"] == {"const": "get_weather"} and not named.tools.parallel  # one call


def test_earlier_calls_and_tool_results_are_kept():
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}
    request = parse_chat_request({**CHAT, "messages": [
        *CHAT["messages"], {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": "12 C"}]})
    assert request.messages[1] == {"role": "assistant", "content": "", "tool_calls": [call]}
    assert request.messages[2] == {"role": "tool", "content": "12 C", "tool_call_id": "call_1"}


@pytest.mark.parametrize("change, param", [
    ({"tools": {"get_weather": WEATHER}}, "tools"),
    ({"tools": [{"type": "retrieval"}]}, "tools[0]"),
    ({"tools": [{"type": "function", "function": {"name": "get weather"}}]}, "tools[0].function.name"),
    ({"tools": [WEATHER, WEATHER]}, "tools"),
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "string"}}}]},
     "tools[0].function.parameters"),
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "required": 3}}}]},
     "tools[0].function.parameters"),
    ({"tools": [{"type": "function", "function": {"name": "f", "strict": "yes"}}]}, "tools[0].function.strict"),
    ({"tool_choice": {"type": "function", "function": {"name": "delete_everything"}}}, "tool_choice"),
    ({"tool_choice": "always"}, "tool_choice"),
    ({"tools": None, "tool_choice": "required"}, "tool_choice"),
    ({"parallel_tool_calls": "yes"}, "parallel_tool_calls"),
    ({"tool_choice": "required", "response_format": {"type": "json_object"}}, "response_format"),
    ({"messages": [{"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function",
                                                                         "function": {"name": "f"}}]}]},
     "messages[0].tool_calls[0]"),
    ({"messages": [{"role": "tool", "content": "x", "tool_call_id": 7}]}, "messages[0].tool_call_id"),
])
def test_bad_tool_requests_name_the_offending_parameter(change, param):
    with pytest.raises(OpenAIError) as error:
        parse_chat_request({**CHAT, **change})
    assert error.value.status == 400 and error.value.param == param


def test_text_completions_take_no_tools():
    with pytest.raises(OpenAIError) as error:
        parse_completion_request({"model": "m", "prompt": "hi", "tools": [WEATHER]})
    assert error.value.param == "tools"
