"""The stream scrubber removes known secrets from relayed bytes, wherever chunks split them,
and holds nothing back from an SSE stream whose chunks end at line breaks."""

from hypothesis import given
from hypothesis import strategies as st

from gateway.relay.scrub import REDACTED, StreamScrubber

KEY = "sk-upstream-7f3a9c1e"


def relay(scrubber: StreamScrubber, chunks: list[bytes]) -> bytes:
    return b"".join(scrubber.feed(c) for c in chunks) + scrubber.flush()


def test_a_key_split_at_every_position_never_passes():
    event = f'data: {{"error": {{"message": "bad key {KEY} sent"}}}}\n\n'.encode()
    for cut in range(1, len(event)):
        out = relay(StreamScrubber([KEY]), [event[:cut], event[cut:]])
        assert out == event.replace(KEY.encode(), REDACTED), cut


def test_sse_chunks_pass_at_once():
    scrubber = StreamScrubber([KEY])
    for chunk in (b'data: {"a": 1}\n\n', b": keep-alive\r\n\r\n", b"data: [DONE]\n\n"):
        assert scrubber.feed(chunk) == chunk
    assert scrubber.flush() == b""


def test_without_secrets_bytes_pass_untouched():
    scrubber = StreamScrubber(["", "\n"])
    assert not scrubber.active and scrubber.feed(b"partial line") == b"partial line"


@given(st.lists(st.binary(max_size=40), max_size=8), st.lists(st.integers(0, 400), max_size=6))
def test_any_split_of_any_stream_is_the_whole_stream_scrubbed(pieces, cuts):
    stream = KEY.encode().join(pieces)
    bounds = sorted({min(c, len(stream)) for c in cuts})
    chunks = [stream[a:b] for a, b in zip([0, *bounds], [*bounds, len(stream)])]
    out = relay(StreamScrubber([KEY]), chunks)
    assert KEY.encode() not in out
    assert out == StreamScrubber([KEY])._scrub(stream)
