"""The `model` an answer names: the routed model, not the upstream model name behind it.

Two entries under `models:` may serve one upstream model (`serves:`), e.g. `smollm2-135m` and
`smollm2-135m-ic`. The upstream names its own model in every answer, so a request routed to the
alias came back naming the model the client asked for, as if nothing had been routed. The label
renames the upstream's name to the routed model's in the JSON body or, chunk by chunk, in the
SSE stream. Inside a JSON string a quote is always escaped, so the bytes `"model":"NAME"` can only
be the key itself, never text of the answer.
"""

import re

import orjson

from gateway.relay.scrub import split_held

_MAX_SPACES = 1  # orjson and json.dumps write `"model":"x"` or `"model": "x"`


class ModelLabel:
    def __init__(self, upstream_model: str, routed_model: str) -> None:
        served = re.escape(orjson.dumps(upstream_model))
        self._pattern = re.compile(rb'"model":( ?)' + served)
        self._replacement = b'"model":\\1' + orjson.dumps(routed_model).replace(b"\\", b"\\\\")
        # Bytes at the end of a chunk that may be the start of a match still arriving.
        self._hold = len(b'"model":') + _MAX_SPACES + len(orjson.dumps(upstream_model)) - 1
        self._pending = b""

    def whole(self, body: bytes) -> bytes:
        return self._pattern.sub(self._replacement, body)

    def feed(self, chunk: bytes) -> bytes:
        """The relabelled bytes that are safe to send now. A match never spans a line break, so an SSE
        stream, whose events end with a blank line, is passed on without delay."""
        ready, self._pending = split_held(self._pattern.sub(self._replacement, self._pending + chunk), self._hold)
        return ready

    def flush(self) -> bytes:
        rest, self._pending = self._pending, b""
        return rest
