"""The Responses adapter through the real openai SDK: its client sends the request, the adapter turns it
into a chat body, a deterministic chat answer comes back through the adapter, and the SDK's own parsers
(plain, stream accumulator, structured-output parse) read it."""

import json
from collections.abc import Callable
from typing import Any

import httpx2  # openai 3.x sends its requests through httpx2
import openai
import pytest
from pydantic import BaseModel

from gateway.protocols.errors import ProtocolError
from gateway.protocols.responses_output import response_from_chat
from gateway.protocols.responses_request import parse_responses_request
from gateway.protocols.responses_stream import ResponsesStream, sse_event


class City(BaseModel):
    name: str
    population: int


def sdk_client(answer_for: Callable[[dict[str, Any]], Any], seen: list[dict[str, Any]]) -> openai.OpenAI:
    """An SDK client whose HTTP goes through the adapter to `answer_for(chat_body)`."""

    def handle(request: httpx2.Request) -> httpx2.Response:
        try:
            parsed = parse_responses_request(json.loads(request.content))
        except ProtocolError as error:
            return httpx2.Response(error.status, json=error.openai_body())
        seen.append(parsed.chat)
        answer = answer_for(parsed.chat)
        if not parsed.stream:
            return httpx2.Response(200, json=response_from_chat(answer.completion(parsed.chat["model"]), parsed))
        stream = ResponsesStream(parsed)
        events = [e for chunk in answer.chunks(parsed.chat["model"]) for e in stream.feed(chunk)] + stream.finish()
        return httpx2.Response(
            200, content=b"".join(sse_event(e) for e in events), headers={"content-type": "text/event-stream"}
        )

    http = httpx2.Client(transport=httpx2.MockTransport(handle))
    return openai.OpenAI(base_url="http://semgate.test/v1", api_key="sk-test", http_client=http, max_retries=0)


def test_plain_response_text_and_usage(chat_answer: Any) -> None:
    seen: list[dict[str, Any]] = []
    client = sdk_client(lambda chat: chat_answer(text="Paris is the capital."), seen)
    response = client.responses.create(model="m", input="Capital of France?", instructions="Be brief.")
    assert response.output_text == "Paris is the capital."
    assert response.status == "completed" and response.id.startswith("resp_")
    assert response.usage is not None and response.usage.total_tokens == 18
    assert seen[0]["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of France?"},
    ]


def test_streamed_response_through_the_sdk_accumulator(chat_answer: Any) -> None:
    text = "Paris has been France's capital for centuries."
    client = sdk_client(lambda chat: chat_answer(text=text, reasoning="The user asks about France."), [])
    deltas = []
    with client.responses.stream(model="m", input="Capital of France?") as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
        final = stream.get_final_response()
    assert "".join(deltas) == text and final.output_text == text
    assert [item.type for item in final.output] == ["reasoning", "message"]
    reasoning = final.output[0]
    assert reasoning.type == "reasoning" and reasoning.content is not None
    assert reasoning.content[0].text == "The user asks about France."
    assert final.usage is not None and final.usage.output_tokens == 7


def test_create_stream_true_yields_completed_with_usage(chat_answer: Any) -> None:
    client = sdk_client(lambda chat: chat_answer(text="short answer"), [])
    events = list(client.responses.create(model="m", input="q", stream=True))
    types = [e.type for e in events]
    assert types[:2] == ["response.created", "response.in_progress"] and types[-1] == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    completed = events[-1].response  # type: ignore[union-attr]
    assert completed.output_text == "short answer"
    assert completed.usage is not None and completed.usage.input_tokens == 11


def test_parse_with_pydantic_model_plain_and_streamed(chat_answer: Any) -> None:
    seen: list[dict[str, Any]] = []
    client = sdk_client(lambda chat: chat_answer(text='{"name": "Paris", "population": 2100000}'), seen)
    parsed = client.responses.parse(model="m", input="Largest French city?", text_format=City)
    assert parsed.output_parsed == City(name="Paris", population=2100000)
    assert seen[0]["response_format"]["type"] == "json_schema"
    assert seen[0]["response_format"]["json_schema"]["name"] == "City"
    with client.responses.stream(model="m", input="Largest French city?", text_format=City) as stream:
        final = stream.get_final_response()
    assert final.output_parsed == City(name="Paris", population=2100000)


def test_function_calls_plain_and_streamed(chat_answer: Any) -> None:
    calls = [("call_1", "get_weather", '{"city": "Paris"}'), ("call_2", "get_time", '{"tz": "CET"}')]
    seen: list[dict[str, Any]] = []
    client = sdk_client(lambda chat: chat_answer(tool_calls=calls, finish_reason="tool_calls"), seen)
    tools: Any = [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}, "strict": False}]
    plain = client.responses.create(model="m", input="Weather?", tools=tools)
    assert [(o.call_id, o.name, o.arguments) for o in plain.output] == calls  # type: ignore[union-attr]
    assert seen[0]["tools"] == [
        {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}, "strict": False}}
    ]
    with client.responses.stream(model="m", input="Weather?", tools=tools) as stream:
        final = stream.get_final_response()
    assert [(o.call_id, o.name, o.arguments) for o in final.output] == calls  # type: ignore[union-attr]


def test_length_stop_is_incomplete_with_reason(chat_answer: Any) -> None:
    client = sdk_client(lambda chat: chat_answer(text="cut sh", finish_reason="length"), [])
    response = client.responses.create(model="m", input="q", max_output_tokens=2)
    assert response.status == "incomplete"
    assert response.incomplete_details is not None and response.incomplete_details.reason == "max_output_tokens"
    events = list(client.responses.create(model="m", input="q", max_output_tokens=2, stream=True))
    assert events[-1].type == "response.incomplete"


def test_unknown_field_is_a_400_the_sdk_raises(chat_answer: Any) -> None:
    client = sdk_client(lambda chat: chat_answer(text="x"), [])
    with pytest.raises(openai.BadRequestError) as raised:
        client.responses.create(model="m", input="q", extra_body={"frobnicate": 1})
    assert raised.value.param == "frobnicate" and raised.value.code == "unknown_parameter"
