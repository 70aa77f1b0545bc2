"""Properties of the SSE parser and the stream recorder over arbitrary input.

Upstream bytes arrive cut at arbitrary places; the events must not depend on where. And an
upstream that sends garbage must not break the relay: the parser never raises, and the
recorder only ever ends up with a complete, well-formed answer or none.
"""

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.relay.sse import SSEParser, encode
from gateway.relay.recorder import StreamRecorder
from gateway.edge.wire import CHAT, COMPLETION

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
line_text = st.text(alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=30)
newline = st.sampled_from([b"\n", b"\r\n", b"\r"])


@st.composite
def sse_streams(draw) -> tuple[bytes, list[tuple[str, str]]]:
    """A valid stream with comments, event names and multi-line data, and the events it holds."""
    out, expected = b"", []
    for _ in range(draw(st.integers(1, 6))):
        nl = draw(newline)
        if draw(st.booleans()):
            out += b":" + draw(line_text).encode() + nl
        name = draw(st.one_of(st.none(), st.from_regex(r"[a-z]{1,8}", fullmatch=True)))
        if name:
            out += b"event: " + name.encode() + nl
        lines = draw(st.lists(line_text.filter(lambda t: not t.startswith(" ")), min_size=1, max_size=3))
        out += b"".join(b"data: " + line.encode() + nl for line in lines) + nl
        expected.append((name or "message", "\n".join(lines)))
    return out, expected


def cut(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)])]


def parse(chunks: list[bytes]) -> list[tuple[str, str]]:
    parser = SSEParser()
    return [(e.event, e.data) for chunk in chunks for e in parser.feed(chunk)]


@PROPERTY_SETTINGS
@given(sse_streams(), st.lists(st.integers(0, 2000), max_size=12))
def test_any_chunking_of_a_valid_stream_gives_the_same_events(stream, cuts):
    data, expected = stream
    assert parse([data]) == expected
    assert parse(cut(data, cuts)) == expected
    assert parse([data[i:i + 1] for i in range(len(data))]) == expected


@PROPERTY_SETTINGS
@given(st.lists(st.binary(max_size=200), max_size=8))
def test_garbage_never_makes_the_parser_raise(chunks):
    events = parse(chunks)
    assert all(isinstance(data, str) and isinstance(name, str) for name, data in events)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40), st.floats(allow_nan=False, allow_infinity=False),
              st.text(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(["choices", "delta", "content", "text", "index", "role",
                                                             "finish_reason", "usage", "tool_calls", "function",
                                                             "name", "arguments", "id", "error"]), inner, max_size=4)),
    max_leaves=20)


@PROPERTY_SETTINGS
@given(st.sampled_from([CHAT, COMPLETION]), st.lists(json_values, max_size=6), st.booleans(), st.booleans())
def test_the_recorder_turns_any_chunks_into_a_wellformed_answer_or_none(kind, chunks, finish, done):
    recorder = StreamRecorder(kind)
    for chunk in chunks:
        recorder.feed(encode(chunk) if isinstance(chunk, dict) else b"data: " + orjson.dumps(chunk) + b"\n\n")
    if finish:
        choice = {"index": 0, "delta": {"content": "x"}} if kind == CHAT else {"index": 0, "text": "x"}
        recorder.feed(encode({"choices": [{**choice, "finish_reason": "stop"}]}))
    if done:
        recorder.feed(b"data: [DONE]\n\n")
    answer = recorder.completion()
    assert (answer is not None) == recorder.complete
    if answer is None:
        return
    assert done
    orjson.dumps(answer)  # storable as JSON
    for choice in answer["choices"]:
        assert isinstance(choice["index"], int) and isinstance(choice["finish_reason"], str)
        text = choice["message"]["content"] if kind == CHAT else choice["text"]
        assert text is None or isinstance(text, str)
    assert isinstance(answer.get("usage", {}), dict)


def test_a_chunk_whose_content_is_not_text_leaves_the_answer_unstored():
    recorder = StreamRecorder(CHAT)
    recorder.feed(encode({"choices": [{"index": 0, "delta": {"content": {"text": "x"}}, "finish_reason": "stop"}]}))
    recorder.feed(b"data: [DONE]\n\n")
    assert recorder.completion() is None


@PROPERTY_SETTINGS
@given(st.lists(st.tuples(line_text, st.booleans()), min_size=1, max_size=8), st.lists(st.integers(0, 8), max_size=4))
def test_whole_events_per_piece_read_as_the_line_parser_reads_them(events, groups):
    """An upstream that writes whole `data: ...` events per piece (the relay's fast path) gives the same
    events as the same bytes read one byte at a time, including pieces the fast path leaves to the line parser
    (an event name, a comment, a value without the space)."""
    pieces = [
        (b"event: x\n" if odd else b"") + b"data: " + text.encode() + b"\n\n" if not text.startswith(":") else b":c\n\n"
        for text, odd in events
    ]
    joined = [b"".join(pieces[a:b]) for a, b in zip([0, *sorted(groups)], [*sorted(groups), len(pieces)]) if a < b]
    whole = b"".join(pieces)
    assert parse(joined) == parse([whole[i : i + 1] for i in range(len(whole))])
