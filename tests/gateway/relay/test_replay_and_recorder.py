"""A cached answer replayed as SSE and recorded back is the same answer; broken streams never complete."""

import orjson
from hypothesis import given
from hypothesis import strategies as st

from gateway.relay.cached_answer import fresh_completion, sse_chunks
from gateway.relay.recorder import StreamRecorder
from gateway.edge.wire import CHAT, COMPLETION


def chat_completion(text: str, finish: str = "stop") -> dict:
    return {"id": "x", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}}


@given(st.text(), st.integers(min_value=1, max_value=9))
def test_chat_replay_roundtrip(text, words_per_chunk):
    recorder = StreamRecorder(CHAT)
    for chunk in sse_chunks(chat_completion(text), CHAT, "m2", include_usage=True, words_per_chunk=words_per_chunk):
        recorder.feed(chunk)
    out = recorder.completion()
    assert out["choices"][0]["message"]["content"] == text
    assert out["usage"]["completion_tokens"] == 4
    assert out["model"] == "m2"


def test_reasoning_survives_recording_and_a_streamed_replay():
    """A reasoning model's thinking (`reasoning_content`) is kept when its stream is stored and replayed."""
    cached = chat_completion("Paris.")
    cached["choices"][0]["message"]["reasoning_content"] = "The user asks for a capital."
    recorder = StreamRecorder(CHAT)
    for chunk in sse_chunks(cached, CHAT, "m", include_usage=True, words_per_chunk=2):
        recorder.feed(chunk)
    message = recorder.completion()["choices"][0]["message"]
    assert message["reasoning_content"] == "The user asks for a capital." and message["content"] == "Paris."


@given(st.text(min_size=1), st.integers(min_value=1, max_value=5))
def test_text_completion_replay_roundtrip(text, step):
    cached = {"object": "text_completion", "choices": [{"index": 0, "text": text, "finish_reason": "stop"}]}
    recorder = StreamRecorder(COMPLETION)
    stream = b"".join(sse_chunks(cached, COMPLETION, "m", include_usage=False, words_per_chunk=step))
    for i in range(0, len(stream), 7):  # arbitrary network chunking
        recorder.feed(stream[i:i + 7])
    assert recorder.completion()["choices"][0]["text"] == text


def test_replay_chunks_are_openai_shaped():
    chunks = list(sse_chunks(chat_completion("one two three"), CHAT, "m", include_usage=False, words_per_chunk=1))
    assert chunks[-1] == b"data: [DONE]\n\n"
    bodies = [orjson.loads(c[6:]) for c in chunks[:-1]]
    assert all(b["object"] == "chat.completion.chunk" and b["id"] == bodies[0]["id"] for b in bodies)
    assert [b["choices"][0]["delta"].get("content") for b in bodies] == ["", "one", " two", " three", None]
    assert bodies[-1]["choices"][0]["finish_reason"] == "stop"


def test_fresh_completion_gets_new_identity():
    cached = chat_completion("hi")
    out = fresh_completion(cached, CHAT, "asked-model")
    assert out["id"] != cached["id"] and out["model"] == "asked-model"
    assert out["choices"] == cached["choices"]


def feed_all(recorder: StreamRecorder, events: list[bytes]) -> StreamRecorder:
    for event in events:
        recorder.feed(event)
    return recorder


def test_incomplete_streams_never_complete():
    good = list(sse_chunks(chat_completion("a b c"), CHAT, "m", include_usage=False, words_per_chunk=1))
    assert feed_all(StreamRecorder(CHAT), good).complete
    assert not feed_all(StreamRecorder(CHAT), good[:-1]).complete  # no [DONE]
    assert not feed_all(StreamRecorder(CHAT), good[:3] + [good[-1]]).complete  # no finish_reason
    error = b'data: {"error": {"message": "broke off", "type": "server_error", "param": null, "code": null}}\n\n'
    assert not feed_all(StreamRecorder(CHAT), good[:3] + [error, good[-1]]).complete
    assert not feed_all(StreamRecorder(CHAT), [b"data: {not json\n\n", *good]).complete


def test_tool_call_deltas_are_merged():
    events = [
        b'data: {"id":"c","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_","arguments":""}}]}}]}\n\n',
        b'data: {"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"weather","arguments":"{\\"city\\":"}}]}}]}\n\n',
        b'data: {"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\\"Paris\\"}"}}]},"finish_reason":"tool_calls"}]}\n\n',
        b"data: [DONE]\n\n",
    ]
    out = feed_all(StreamRecorder(CHAT), events).completion()
    call = out["choices"][0]["message"]["tool_calls"][0]
    assert call["id"] == "call_1" and call["function"] == {"name": "get_weather", "arguments": '{"city":"Paris"}'}
    assert out["choices"][0]["finish_reason"] == "tool_calls"
