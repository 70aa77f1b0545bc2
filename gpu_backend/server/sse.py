"""A streamed answer as server-sent events: each choice's chunks as its tokens come, then `[DONE]`.

With `n` > 1 the choices' chunks interleave, each carrying its choice's `index`, as OpenAI's do.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson

from gpu_backend.engine import RequestOutput
from gpu_backend.engine.async_engine import RequestStream
from gpu_backend.server.errors import OpenAIError
from gpu_backend.server.responses import ResponseBuilder

log = logging.getLogger(__name__)
DONE = b"data: [DONE]\n\n"


async def sse(streams: list[RequestStream], builder: ResponseBuilder, include_usage: bool) -> AsyncIterator[bytes]:
    # Leaving this generator early (client gone: Starlette cancels it) exits the streams' contexts,
    # which aborts their requests and frees their KV blocks.
    async with contextlib.AsyncExitStack() as held:
        for stream in streams:
            await held.enter_async_context(stream)
        next_outputs: dict[asyncio.Future, int] = {}
        try:
            for index in range(len(streams)):
                first = builder.first_chunk(index)
                if first is not None:
                    yield event(first)
            next_outputs.update({asyncio.ensure_future(_next(s)): i for i, s in enumerate(streams)})
            lasts: dict[int, RequestOutput] = {}
            while next_outputs:
                done, _ = await asyncio.wait(next_outputs, return_when=asyncio.FIRST_COMPLETED)
                for future in done:
                    index = next_outputs.pop(future)
                    try:
                        output = future.result()
                    except (ValueError, RuntimeError) as error:
                        yield event(OpenAIError(503, f"generation failed: {error}", type_="server_error").body())
                        return
                    if output is None:
                        continue  # this choice is complete
                    chunk = builder.chunk(output, index)
                    if chunk is not None:
                        yield event(chunk)
                    lasts[index] = output
                    next_outputs[asyncio.ensure_future(_next(streams[index]))] = index
            if include_usage and lasts:
                yield event(builder.usage_chunk(*(lasts[i] for i in sorted(lasts))))
            yield DONE
        finally:
            for future in next_outputs:
                future.cancel()
            if not all(stream.finished for stream in streams):
                log_cancelled(streams[0])


async def _next(stream: RequestStream) -> RequestOutput | None:
    """The stream's next output; None once it has ended."""
    try:
        return await stream.__anext__()
    except StopAsyncIteration:
        return None


def log_cancelled(stream: RequestStream) -> None:
    # One line, no traceback: a client that stops waiting is routine, not an error of ours.
    log.info("request %d: the client went away; its generation is cancelled", stream.seq_id)


def event(payload: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"
