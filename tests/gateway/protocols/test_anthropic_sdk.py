"""The Messages adapter through the real anthropic SDK: `messages.create` plain and streamed, the SDK's
own stream accumulator, `count_tokens`, errors in Anthropic's shape, and the SDK's x-api-key header."""

import json
from collections.abc import Callable
from typing import Any

import anthropic
import httpx2  # the anthropic SDK speaks httpx2, not httpx
import pytest
from pydantic import BaseModel
from tokenizers import Tokenizer

from gateway.cache.bundled_model import bundled_model_dir
from gateway.protocols.anthropic_request import parse_messages_request
from gateway.protocols.anthropic_response import count_tokens, message_from_chat
from gateway.protocols.anthropic_stream import MessagesStream, sse_event
from gateway.protocols.errors import ProtocolError
from gateway.protocols.tenant_key import api_key_from_headers


class City(BaseModel):
    name: str
    population: int


TOOL: Any = {
    "name": "get_weather",
    "description": "Weather now",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def prompt_token_counter() -> Callable[[dict[str, Any]], int]:
    """A real counter: MiniLM's tokenizer over the prompt's text and tool schemas."""
    tokenizer = Tokenizer.from_file(str(bundled_model_dir() / "tokenizer.json"))

    def count(chat: dict[str, Any]) -> int:
        texts = [m["content"] or "" for m in chat["messages"]] + [json.dumps(t) for t in chat.get("tools", [])]
        return sum(len(tokenizer.encode(text, add_special_tokens=False).ids) for text in texts)

    return count


def sdk_client(answer_for: Callable[[dict[str, Any]], Any], seen: list[dict[str, Any]]) -> anthropic.Anthropic:
    counter = prompt_token_counter()

    def handle(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        try:
            seen.append({"api_key": api_key_from_headers(request.headers)})
            if request.url.path == "/v1/messages/count_tokens":
                return httpx2.Response(200, json=count_tokens(body, counter))
            parsed = parse_messages_request(body)
            if parsed.chat["model"] != "claude-local":
                raise ProtocolError(404, f"model: {parsed.chat['model']}")
        except ProtocolError as error:
            return httpx2.Response(error.status, json=error.anthropic_body())
        seen.append(parsed.chat)
        answer = answer_for(parsed.chat)
        if not parsed.stream:
            return httpx2.Response(200, json=message_from_chat(answer.completion("claude-local"), parsed))
        stream = MessagesStream(parsed)
        events = [e for chunk in answer.chunks("claude-local") for e in stream.feed(chunk)] + stream.finish()
        return httpx2.Response(
            200, content=b"".join(sse_event(e) for e in events), headers={"content-type": "text/event-stream"}
        )

    http = httpx2.Client(transport=httpx2.MockTransport(handle))
    return anthropic.Anthropic(base_url="http://semgate.test", api_key="sk-tenant-a", http_client=http, max_retries=0)


def test_plain_message(chat_answer: Any) -> None:
    seen: list[dict[str, Any]] = []
    client = sdk_client(lambda chat: chat_answer(text="Paris."), seen)
    # SDK 2.x no longer offers sampling parameters as arguments; older SDKs and raw HTTP clients still send them.
    message = client.messages.create(
        model="claude-local",
        max_tokens=64,
        system="Be terse.",
        messages=[{"role": "user", "content": "Capital of France?"}],
        stop_sequences=["\n\n"],
        extra_body={"temperature": 0.2, "top_k": 5},
    )
    assert message.content[0].type == "text" and message.content[0].text == "Paris."
    assert message.stop_reason == "end_turn" and message.id.startswith("msg_")
    assert (message.usage.input_tokens, message.usage.output_tokens) == (11, 7)
    assert seen[0] == {"api_key": "sk-tenant-a"}
    assert seen[1] == {
        "model": "claude-local",
        "max_tokens": 64,
        "stop": ["\n\n"],
        "temperature": 0.2,
        "top_k": 5,
        "messages": [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Capital of France?"}],
    }


def test_streamed_message_through_the_sdk_accumulator(chat_answer: Any) -> None:
    text = "Paris has been the capital since 508."
    client = sdk_client(lambda chat: chat_answer(text=text, reasoning="Think of France."), [])
    with client.messages.stream(
        model="claude-local", max_tokens=64, messages=[{"role": "user", "content": "Capital?"}]
    ) as stream:
        streamed = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert streamed == text
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == "Think of France."  # type: ignore[union-attr]
    assert final.content[1].text == text  # type: ignore[union-attr]
    assert final.stop_reason == "end_turn"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (11, 7)


def test_create_stream_true_event_order(chat_answer: Any) -> None:
    client = sdk_client(lambda chat: chat_answer(text="abcdefg", finish_reason="length"), [])
    events = list(
        client.messages.create(
            model="claude-local", max_tokens=2, stream=True, messages=[{"role": "user", "content": "q"}]
        )
    )
    types = [e.type for e in events]
    assert types[:3] == ["message_start", "content_block_start", "content_block_delta"]
    assert types[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert events[-2].delta.stop_reason == "max_tokens"  # type: ignore[union-attr]


def test_tool_use_plain_and_streamed_and_tool_results_sent_back(chat_answer: Any) -> None:
    calls = [("toolu_1", "get_weather", '{"city": "Paris"}')]
    seen: list[dict[str, Any]] = []
    client = sdk_client(lambda chat: chat_answer(tool_calls=calls, finish_reason="tool_calls"), seen)
    question: Any = [{"role": "user", "content": "Weather in Paris?"}]
    message = client.messages.create(
        model="claude-local",
        max_tokens=64,
        tools=[TOOL],
        messages=question,
        tool_choice={"type": "any", "disable_parallel_tool_use": True},
    )
    assert message.stop_reason == "tool_use"
    block = message.content[0]
    assert block.type == "tool_use" and (block.id, block.name, block.input) == (
        "toolu_1",
        "get_weather",
        {"city": "Paris"},
    )
    assert seen[1]["tools"][0]["function"]["parameters"] == TOOL["input_schema"]
    assert seen[1]["tool_choice"] == "required" and seen[1]["parallel_tool_calls"] is False
    with client.messages.stream(model="claude-local", max_tokens=64, tools=[TOOL], messages=question) as stream:
        final = stream.get_final_message()
    assert final.content[0].input == {"city": "Paris"}  # type: ignore[union-attr]
    follow_up: Any = [
        *question,
        {"role": "assistant", "content": [b.model_dump() for b in message.content]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"},
                {"type": "text", "text": "And now?"},
            ],
        },
    ]
    client.messages.create(model="claude-local", max_tokens=64, tools=[TOOL], messages=follow_up)
    assert [m["role"] for m in seen[-1]["messages"]] == ["user", "assistant", "tool", "user"]
    assert seen[-1]["messages"][2] == {"role": "tool", "tool_call_id": "toolu_1", "content": "18C"}


def test_parse_with_a_pydantic_output_format(chat_answer: Any) -> None:
    seen: list[dict[str, Any]] = []
    client = sdk_client(lambda chat: chat_answer(text='{"name": "Paris", "population": 2100000}'), seen)
    parsed = client.messages.parse(
        model="claude-local",
        max_tokens=64,
        output_format=City,
        messages=[{"role": "user", "content": "Largest French city?"}],
    )
    assert parsed.parsed_output == City(name="Paris", population=2100000)
    assert seen[1]["response_format"]["json_schema"]["schema"]["properties"].keys() == {"name", "population"}


def test_count_tokens_counts_the_prompt(chat_answer: Any) -> None:
    client = sdk_client(lambda chat: chat_answer(text="x"), [])
    question: Any = [{"role": "user", "content": "What is the weather in Paris today?"}]
    bare = client.messages.count_tokens(model="claude-local", messages=question).input_tokens
    with_tools = client.messages.count_tokens(model="claude-local", messages=question, tools=[TOOL]).input_tokens
    assert bare == prompt_token_counter()({"messages": [{"content": "What is the weather in Paris today?"}]}) > 0
    assert with_tools > bare


def test_errors_reach_the_sdk_as_its_typed_exceptions(chat_answer: Any) -> None:
    client = sdk_client(lambda chat: chat_answer(text="x"), [])
    with pytest.raises(anthropic.BadRequestError) as bad:
        client.messages.create(
            model="claude-local",
            max_tokens=8,
            messages=[{"role": "user", "content": "q"}],
            extra_body={"frobnicate": True},
        )
    assert bad.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    assert "frobnicate" in bad.value.body["error"]["message"]  # type: ignore[index]
    with pytest.raises(anthropic.NotFoundError) as missing:
        client.messages.create(model="nope", max_tokens=8, messages=[{"role": "user", "content": "q"}])
    assert missing.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
