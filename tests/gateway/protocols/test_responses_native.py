"""The hop to a `responses: native` upstream: the chat body written as a Responses request reads back as
the same chat body, and a Responses answer (whole, or its events) reads back as the chat answer it was
made from, tool calls, reasoning, usage and cut answers included."""

from typing import Any

import orjson

from gateway.edge.wire import CHAT
from gateway.protocols.responses_native import NativeResponsesCall, chat_from_response, responses_body
from gateway.protocols.responses_output import response_from_chat
from gateway.protocols.responses_request import parse_responses_request
from gateway.protocols.responses_stream import ResponsesStream, sse_event
from gateway.relay.recorder import StreamRecorder

TOOL = {"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}
REQUEST: dict[str, Any] = {
    "model": "m",
    "instructions": "Be brief.",
    "input": [
        {"role": "user", "content": "Weather in Oslo?"},
        {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": '{"city": "Oslo"}'},
        {"type": "function_call_output", "call_id": "c1", "output": "4 C, rain"},
        {"role": "user", "content": "And should I take an umbrella?"},
    ],
    "tools": [TOOL],
    "tool_choice": {"type": "function", "name": "get_weather"},
    "parallel_tool_calls": False,
    "text": {"format": {"type": "json_schema", "name": "Answer", "schema": {"type": "object"}, "strict": True}},
    "max_output_tokens": 50,
    "temperature": 0.2,
    "top_p": 0.9,
    "user": "u1",
}


def test_the_chat_body_written_as_a_responses_request_reads_back_the_same() -> None:
    chat = parse_responses_request(REQUEST).chat
    native = responses_body(chat)
    assert native["store"] is False and "previous_response_id" not in native
    assert parse_responses_request(native).chat == chat


def test_a_whole_responses_answer_reads_back_as_its_chat_answer(chat_answer: Any) -> None:
    request = parse_responses_request(REQUEST)
    for answer in (
        chat_answer(text="Yes, take one.", reasoning="Rain means umbrella."),
        chat_answer(tool_calls=[("c2", "get_weather", '{"city": "Bergen"}')], finish_reason="tool_calls"),
        chat_answer(text="Yes, take", finish_reason="length"),
    ):
        completion = answer.completion("m")
        native = chat_from_response(response_from_chat(completion, request))
        assert native["choices"] == completion["choices"] and native["usage"] == completion["usage"]
        response = response_from_chat(completion, request)
        assert orjson.loads(NativeResponsesCall(request.chat).whole(orjson.dumps(response))) == chat_from_response(
            response
        )


def test_a_streamed_responses_answer_reads_back_as_the_chat_stream(chat_answer: Any) -> None:
    request = parse_responses_request({**REQUEST, "stream": True})
    answer = chat_answer(text="Take one.", reasoning="It rains.", tool_calls=[("c3", "get_weather", '{"c": 1}')])
    answer.finish_reason = "tool_calls"
    stream = ResponsesStream(request)
    events = [e for chunk in answer.chunks("m") for e in stream.feed(chunk)] + stream.finish()
    wire = b"".join(sse_event(e) for e in events)
    call, recorder = NativeResponsesCall(request.chat), StreamRecorder(CHAT)
    for i in range(0, len(wire), 50):  # arbitrary network pieces
        recorder.feed(call.feed(wire[i : i + 50]))
    recorder.feed(call.finish())
    rebuilt = recorder.completion()
    assert rebuilt is not None
    assert rebuilt["choices"] == answer.completion("m")["choices"] and rebuilt["usage"] == answer.usage()


def test_a_stream_that_stops_before_the_response_finished_never_completes(chat_answer: Any) -> None:
    request = parse_responses_request({**REQUEST, "stream": True})
    stream = ResponsesStream(request)
    events = [e for chunk in chat_answer(text="Take one.").chunks("m") for e in stream.feed(chunk)]
    call, recorder = NativeResponsesCall(request.chat), StreamRecorder(CHAT)
    recorder.feed(call.feed(b"".join(sse_event(e) for e in events)))
    assert call.finish() == b""  # no response.completed: no [DONE]
    assert recorder.completion() is None
