"""Tool calls over real HTTP with the real SmolLM2 model and the official `openai` SDK: forced calls
valid for their schemas, streamed as OpenAI's tool-call deltas; `auto` and `none`; bad tools refused."""

import json
from typing import Literal

import jsonschema
import openai
import pytest
from loopback import ServerThread
from pydantic import BaseModel

from gpu_backend.build import build_from_loaded
from gpu_backend.engine import AsyncEngine, EngineConfig
from gpu_backend.server import BackendService, build_app

MODEL = "smollm2-135m"
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"},
                                                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                   "required": ["city", "unit"]}}}
TIME = {"type": "function", "function": {
    "name": "get_time", "description": "The local time in a time zone",
    "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]}}}
TOOLS = [WEATHER, TIME]
SCHEMAS = {t["function"]["name"]: t["function"]["parameters"] for t in TOOLS}
QUESTION = [{"role": "user", "content": "What is the weather in Paris?"}]


class GetWeather(BaseModel):
    city: str
    unit: Literal["celsius", "fahrenheit"]


@pytest.fixture(scope="module")
def served(smollm2):
    engine = build_from_loaded(smollm2, EngineConfig(kv_budget_bytes=64 << 20))
    service = BackendService(AsyncEngine(engine), smollm2.tokenizer, smollm2.chat_template, (MODEL,))
    with ServerThread(build_app(service)) as server:
        yield openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused"), engine


def assert_valid_calls(calls):
    for call in calls:
        assert call.id.startswith("call_") and call.type == "function"
        jsonschema.validate(json.loads(call.function.arguments), SCHEMAS[call.function.name])


def streamed_calls(chunks):
    """The calls a stream's deltas add up to, checking each call's first delta names it."""
    calls: dict[int, dict] = {}
    for chunk in chunks:
        for delta in chunk.choices[0].delta.tool_calls or () if chunk.choices else ():
            if delta.index not in calls:
                assert delta.id.startswith("call_") and delta.type == "function" and delta.function.name
                calls[delta.index] = {"name": delta.function.name, "arguments": delta.function.arguments or ""}
            else:
                assert delta.id is None and not delta.function.name
                calls[delta.index]["arguments"] += delta.function.arguments or ""
    return [calls[i] for i in sorted(calls)]


@pytest.mark.parametrize("parallel", [False, True])
def test_a_required_call_is_valid_for_its_schema_streamed_or_not(served, parallel):
    client, _ = served
    ask = dict(model=MODEL, messages=QUESTION, tools=TOOLS, tool_choice="required", parallel_tool_calls=parallel,
               temperature=0, max_tokens=80)
    choice = client.chat.completions.create(**ask).choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    calls = choice.message.tool_calls
    assert len(calls) == 1 or parallel
    assert_valid_calls(calls)
    chunks = list(client.chat.completions.create(**ask, stream=True))
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    assert streamed_calls(chunks) == [{"name": c.function.name, "arguments": c.function.arguments} for c in calls]
    assert all(not c.choices[0].delta.content for c in chunks)


def test_a_named_function_is_the_one_called_and_the_sdk_parses_its_arguments(served):
    client, _ = served
    completion = client.chat.completions.parse(
        model=MODEL, messages=QUESTION, tools=[openai.pydantic_function_tool(GetWeather)],
        tool_choice={"type": "function", "function": {"name": "GetWeather"}}, temperature=0, max_tokens=40)
    [call] = completion.choices[0].message.tool_calls
    assert call.function.name == "GetWeather" and isinstance(call.function.parsed_arguments, GetWeather)
    named = client.chat.completions.create(model=MODEL, messages=QUESTION, tools=TOOLS, temperature=0, max_tokens=40,
                                           tool_choice={"type": "function", "function": {"name": "get_time"}})
    [call] = named.choices[0].message.tool_calls
    assert call.function.name == "get_time"
    assert_valid_calls([call])


def test_a_conversation_with_a_tool_result_is_answered_in_text(served):
    client, _ = served
    first = client.chat.completions.create(model=MODEL, messages=QUESTION, tools=TOOLS, tool_choice="required",
                                           parallel_tool_calls=False, temperature=0, max_tokens=40).choices[0].message
    messages = [*QUESTION, first.model_dump(exclude_none=True),
                {"role": "tool", "tool_call_id": first.tool_calls[0].id, "content": '{"temperature": 18, "sky": "sunny"}'}]
    answer = client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS, tool_choice="none",
                                            temperature=0, max_tokens=30).choices[0]
    assert answer.message.tool_calls is None and answer.finish_reason == "stop"
    assert "sunny" in answer.message.content  # read from the tool's result (greedy: always the same answer)


def test_auto_answers_in_text_or_in_valid_calls(served):
    client, _ = served
    for stream in (False, True):
        response = client.chat.completions.create(model=MODEL, messages=QUESTION, tools=TOOLS, temperature=0,
                                                  max_tokens=60, stream=stream)
        if stream:
            chunks = list(response)
            calls, finish = streamed_calls(chunks), chunks[-1].choices[0].finish_reason
            text = "".join(c.choices[0].delta.content or "" for c in chunks)
        else:
            message, finish = response.choices[0].message, response.choices[0].finish_reason
            calls = [{"name": c.function.name, "arguments": c.function.arguments} for c in message.tool_calls or ()]
            text = message.content or ""
        if calls:
            assert finish == "tool_calls" and not text
            for call in calls:
                jsonschema.validate(json.loads(call["arguments"]), SCHEMAS[call["name"]])
        else:
            assert finish in ("stop", "length") and text


def test_bad_tools_are_a_400_and_reach_no_engine(served):
    client, engine = served
    before = engine.stats.prompt_tokens
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model=MODEL, messages=QUESTION, tools=TOOLS, max_tokens=5,
                                       tool_choice={"type": "function", "function": {"name": "delete_files"}})
    assert bad.value.body["param"] == "tool_choice" and "delete_files" in bad.value.body["message"]
    broken = {"type": "function", "function": {"name": "f", "parameters": {"type": "object",
                                                                             "properties": {"x": {"type": 5}}}}}
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model=MODEL, messages=QUESTION, tools=[broken], max_tokens=5)
    assert bad.value.body["param"] == "tools[0].function.parameters"
    assert engine.stats.prompt_tokens == before
