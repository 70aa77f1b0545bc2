"""The two stream translators event by event: the exact order and fields the SDK parsers rely on, for
text, reasoning and parallel tool calls, and for a chat stream that ends without a finish reason."""

from typing import Any

from gateway.protocols.anthropic_request import parse_messages_request
from gateway.protocols.anthropic_stream import MessagesStream
from gateway.protocols.responses_request import parse_responses_request
from gateway.protocols.responses_stream import ResponsesStream


def responses_events(answer: Any) -> list[dict[str, Any]]:
    stream = ResponsesStream(parse_responses_request({"model": "m", "input": "q", "stream": True}))
    return [e for chunk in answer.chunks("m") for e in stream.feed(chunk)] + stream.finish()


def messages_events(answer: Any) -> list[dict[str, Any]]:
    request = parse_messages_request(
        {"model": "m", "max_tokens": 8, "stream": True, "messages": [{"role": "user", "content": "q"}]}
    )
    stream = MessagesStream(request)
    return [e for chunk in answer.chunks("m", piece=100) for e in stream.feed(chunk)] + stream.finish()


def test_responses_text_then_two_calls(chat_answer: Any) -> None:
    answer = chat_answer(
        text="Checking.", tool_calls=[("c1", "a", "{}"), ("c2", "b", "{}")], finish_reason="tool_calls"
    )
    events = responses_events(answer)
    assert [e["type"] for e in events if "delta" not in e["type"]] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.output_item.added",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    deltas = [e for e in events if e["type"] == "response.output_text.delta"]
    assert all(set(e) >= {"item_id", "output_index", "content_index", "delta", "sequence_number"} for e in deltas)
    final = events[-1]["response"]
    assert [item["type"] for item in final["output"]] == ["message", "function_call", "function_call"]
    assert [item.get("call_id") for item in final["output"]] == [None, "c1", "c2"]
    assert final["usage"]["total_tokens"] == 18 and final["status"] == "completed"
    assert [e["sequence_number"] for e in events] == list(range(len(events)))


def test_responses_stream_cut_without_finish_reason_still_closes(chat_answer: Any) -> None:
    stream = ResponsesStream(parse_responses_request({"model": "m", "input": "q"}))
    events = stream.feed(chat_answer(text="partial").chunks("m")[1]) + stream.finish()
    assert events[-1]["type"] == "response.completed"
    assert events[-1]["response"]["output"][0]["content"][0]["text"] == "par"
    empty = ResponsesStream(parse_responses_request({"model": "m", "input": "q"})).finish()
    assert [e["type"] for e in empty] == ["response.created", "response.in_progress", "response.completed"]


def test_messages_thinking_text_and_tool_blocks(chat_answer: Any) -> None:
    answer = chat_answer(
        reasoning="hmm", text="Let me look.", tool_calls=[("toolu_1", "lookup", '{"q": 1}')], finish_reason="tool_calls"
    )
    events = messages_events(answer)
    assert [(e["type"], e.get("index")) for e in events] == [
        ("message_start", None),
        ("ping", None),
        ("content_block_start", 0),
        ("content_block_delta", 0),
        ("content_block_stop", 0),
        ("content_block_start", 1),
        ("content_block_delta", 1),
        ("content_block_stop", 1),
        ("content_block_start", 2),
        ("content_block_delta", 2),
        ("content_block_stop", 2),
        ("message_delta", None),
        ("message_stop", None),
    ]
    assert [events[i]["delta"]["type"] for i in (3, 6, 9)] == ["thinking_delta", "text_delta", "input_json_delta"]
    assert events[8]["content_block"] == {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {}}
    assert events[-2]["delta"]["stop_reason"] == "tool_use"
    assert events[-2]["usage"] == {"input_tokens": 11, "output_tokens": 7}
