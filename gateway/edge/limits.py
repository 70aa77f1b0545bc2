"""What one request may be (gateway.yaml `limits:`): past each, an OpenAI-shaped 413 (431 for headers)
before any work. The head and the client's timeouts are enforced in gateway/edge/http_limits.py, the
body in the edge's parsing, the answer's size by the relay."""

from dataclasses import dataclass

from policies.constraints import POSITIVE, checked

_COUNT = POSITIVE  # every limit is a positive count or duration: 0 would refuse every request


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = checked(1 << 20, _COUNT)
    max_messages: int = checked(1024, _COUNT)
    max_message_chars: int = checked(256_000, _COUNT, "one message's text (or one prompt) in characters")
    max_header_bytes: int = checked(16 << 10, _COUNT, "request line and headers together")
    max_header_count: int = checked(100, _COUNT)
    # A client has this long to send its request head (from its first byte, or from connecting), and
    # then this long for the body: past either, a 408 and the connection is closed.
    header_timeout_s: float = checked(10.0, _COUNT)
    body_timeout_s: float = checked(30.0, _COUNT)
    # The most bytes of one upstream answer the gateway relays: past it, a stream ends with an error
    # event and a non-streamed answer is a 502; either way nothing is stored.
    max_answer_bytes: int = checked(4 << 20, _COUNT)
