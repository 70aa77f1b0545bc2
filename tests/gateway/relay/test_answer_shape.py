"""Which upstream answers the gateway relays and stores: OpenAI completions and stream chunks only."""

import pytest

from gateway.relay.answer_shape import chunk_problem, completion_problem
from gateway.edge.wire import CHAT, COMPLETION


def chat(message, **choice) -> dict:
    return {"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": message,
                                                                  "finish_reason": "stop", **choice}]}


@pytest.mark.parametrize("answer", [
    chat({"role": "assistant", "content": "hi"}),
    chat({"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function",
                                                                 "function": {"name": "f", "arguments": "{}"}}]}),
    {**chat({"role": "assistant", "content": "hi"}), "usage": {"prompt_tokens": 1}, "new_field": [1, 2]},
])
def test_chat_completions_pass(answer):
    assert completion_problem(answer, CHAT) is None


@pytest.mark.parametrize("answer, why", [
    (chat({"role": "assistant", "content": [{"type": "text", "text": "a list"}]}), "content"),
    (chat("a string"), "message"),
    (chat({"content": "x"}, index="0"), "index"),
    (chat({"content": "x"}, finish_reason=1), "finish_reason"),
    (chat({"content": None, "tool_calls": "f()"}), "tool_calls"),
    ({"choices": []}, "choices"),
    ({"error": {"message": "oops"}}, "choices"),
    ([1, 2], "object"),
    ({**chat({"content": "x"}), "usage": 7}, "usage"),
])
def test_malformed_chat_completions_are_named(answer, why):
    assert why in completion_problem(answer, CHAT)


def test_text_completions_need_string_text():
    good = {"choices": [{"index": 0, "text": "hi", "finish_reason": "stop"}]}
    assert completion_problem(good, COMPLETION) is None
    assert "text" in completion_problem({"choices": [{"index": 0, "text": ["hi"]}]}, COMPLETION)


def test_stream_chunks():
    assert chunk_problem({"choices": [{"index": 0, "delta": {"content": "a"}, "finish_reason": None}]}, CHAT) is None
    assert chunk_problem({"choices": [], "usage": {"total_tokens": 3}}, CHAT) is None  # the usage chunk
    assert chunk_problem({"usage": {"total_tokens": 3}}, CHAT) is None
    assert chunk_problem({"choices": {"index": 0}}, CHAT) is not None
    assert chunk_problem({"choices": [{"index": 0, "finish_reason": "stop"}]}, CHAT) is None
    assert "delta.content" in chunk_problem({"choices": [{"index": 0, "delta": {"content": {"a": 1}}}]}, CHAT)
    assert chunk_problem("data", CHAT) is not None
    assert chunk_problem({"choices": [{"index": 0, "text": "a"}]}, COMPLETION) is None
