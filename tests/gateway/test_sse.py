from hypothesis import given
from hypothesis import strategies as st

from gateway.sse import SSEParser


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
