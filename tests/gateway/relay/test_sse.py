from hypothesis import given
from hypothesis import strategies as st

import pytest

from gateway.relay.sse import EventTooLarge, SSEParser
from gateway.relay.recorder import StreamRecorder
from gateway.edge.wire import CHAT


def parse_all(chunks: list[bytes]) -> list[str]:
    parser = SSEParser()
    return [e.data for chunk in chunks for e in parser.feed(chunk)]


def test_events_split_anywhere_and_any_line_ending():
    stream = b'data: {"a": 1}\r\n\r\n: comment\n\ndata: line1\ndata: line2\n\nevent: x\rdata: [DONE]\r\r'
    for cut in range(len(stream)):
        assert parse_all([stream[:cut], stream[cut:]]) == ['{"a": 1}', "line1\nline2", "[DONE]"]


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",))), min_size=1, max_size=5),
       st.sampled_from([b"\n", b"\r\n", b"\r"]), st.integers(min_value=1, max_value=7))
def test_roundtrip_property(payloads, newline, step):
    stream = b"".join(b"data: " + p.encode() + newline + newline for p in payloads)
    chunks = [stream[i:i + step] for i in range(0, len(stream), step)]
    # The format eats one space after "data:", the one written before the payload: a payload's
    # own leading space survives.
    assert parse_all(chunks) == payloads


def test_a_line_that_never_ends_is_refused_at_the_limit_and_let_go():
    parser = SSEParser(max_event_bytes=1000)
    assert list(parser.feed(b"data: " + b"x" * 500)) == []
    with pytest.raises(EventTooLarge):
        for _ in range(10):
            list(parser.feed(b"x" * 100))  # no line break ever
    assert parser._buffer == b"" and parser._long_line == []  # nothing kept
    assert [e.data for e in parser.feed(b"\n\ndata: ok\n\n")] == ["ok"]  # and it can go on


def test_an_event_of_many_short_lines_counts_as_one():
    parser = SSEParser(max_event_bytes=1000)
    with pytest.raises(EventTooLarge):
        list(parser.feed(b"data: 0123456789\n" * 100))


def test_the_recorder_gives_up_on_an_oversized_event_and_stores_nothing():
    recorder = StreamRecorder(CHAT)
    recorder._parser = SSEParser(max_event_bytes=200)
    head = b'data: {"id":"c","choices":[{"index":0,"delta":{"content":"'
    recorder.feed(head)
    recorder.feed(b"y" * 300)
    recorder.feed(b'"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')
    assert recorder.broken and recorder.completion() is None
