"""An OpenAI-compatible upstream that misbehaves on purpose, for tests and the soak bench.

What it does depends on the model asked for:

    flood-1      answers without end, as fast as it can (a stream of chunks, or a body that never closes)
    trickle-1    answers without end, one piece every `trickle_s` (each within any read timeout)
    malformed-1  answers 200 with something that is not an OpenAI answer, in turns: a list as
                 `message.content`, JSON cut off, an SSE stream to a request that did not ask
                 for one, a stream event that is not JSON; and an answer quoting back the API
                 key it was sent
    slow-1       answers properly after `slow_s`, and counts the requests whose client went away first

    python -m loadtest.hostile_upstream --port 8002
"""

import argparse
import asyncio
import itertools
import time
from dataclasses import dataclass

import anyio
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

MODELS = ("flood-1", "trickle-1", "malformed-1", "slow-1")
MALFORMED = ("list_content", "truncated_json", "sse_to_plain", "quote_key")
MALFORMED_STREAM = ("list_content", "not_json", "quote_key")
_FLOOD_TEXT = "flood " * 170  # about 1 KB of content per chunk


@dataclass
class HostileStats:
    requests: int = 0
    gone: int = 0  # slow-1 requests whose client (the gateway) went away before the answer
    answered: int = 0  # slow-1 requests answered in full


class HostileUpstream:
    def __init__(self, trickle_s: float = 0.2, slow_s: float = 5.0) -> None:
        self.trickle_s, self.slow_s = trickle_s, slow_s
        self.stats = HostileStats()
        self._turns = itertools.count()
        self.app = Starlette(routes=[
            Route("/v1/chat/completions", self.completions, methods=["POST"]),
            Route("/v1/completions", self.completions, methods=["POST"]),
            Route("/v1/models", self.models, methods=["GET"]),
            Route("/healthz", self.health, methods=["GET"]),
            Route("/_hostile/stats", self.stats_route, methods=["GET"]),
        ])

    async def models(self, request: Request) -> Response:
        return _json({"object": "list", "data": [{"id": m, "object": "model", "owned_by": "hostile"} for m in MODELS]})

    async def health(self, request: Request) -> Response:
        return _json({"status": "ok"})

    async def stats_route(self, request: Request) -> Response:
        return _json(self.stats.__dict__)

    async def completions(self, request: Request) -> Response:
        self.stats.requests += 1
        body = orjson.loads(await request.body())
        chat, stream, model = request.url.path.endswith("chat/completions"), bool(body.get("stream")), body["model"]
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        if model == "flood-1":
            pieces = _forever(lambda: _chunk(chat, _FLOOD_TEXT), 0.0) if stream else _endless_body(0.0)
            return StreamingResponse(pieces, media_type="text/event-stream" if stream else "application/json")
        if model == "trickle-1":
            pieces = _forever(lambda: _chunk(chat, "drip"), self.trickle_s) if stream else _endless_body(self.trickle_s)
            return StreamingResponse(pieces, media_type="text/event-stream" if stream else "application/json")
        if model == "malformed-1":
            return self._malformed(chat, stream, key)
        if await _client_left_within(request, self.slow_s):
            self.stats.gone += 1
            return Response(status_code=499)
        self.stats.answered += 1
        if stream:
            return Response(_chunk(chat, "slow answer", finish="stop") + b"data: [DONE]\n\n",
                            media_type="text/event-stream")
        return _json(_completion(chat, "slow answer"))

    def _malformed(self, chat: bool, stream: bool, key: str) -> Response:
        turn = next(self._turns)
        if stream:
            kind = MALFORMED_STREAM[turn % len(MALFORMED_STREAM)]
            first = _chunk(chat, "fine so far")
            bad = {"list_content": _chunk(chat, [{"type": "text", "text": "a list"}]), "not_json": b"data: {\"choi\n\n",
                   "quote_key": _chunk(chat, f"your key is {key}", finish="stop") + b"data: [DONE]\n\n"}[kind]
            return Response(first + bad, media_type="text/event-stream")
        kind = MALFORMED[turn % len(MALFORMED)]
        if kind == "list_content":
            return _json(_completion(chat, [{"type": "text", "text": "a list"}]))
        if kind == "truncated_json":
            return Response(orjson.dumps(_completion(chat, "cut off"))[:40], media_type="application/json")
        if kind == "sse_to_plain":
            return Response(_chunk(chat, "a stream") + b"data: [DONE]\n\n", media_type="text/event-stream")
        return _json(_completion(chat, f"your key is {key}"))


async def _client_left_within(request: Request, seconds: float) -> bool:
    """Wait `seconds`; True as soon as the client goes away instead."""
    with anyio.move_on_after(seconds):
        while (await request.receive())["type"] != "http.disconnect":
            pass
        return True
    return False


async def _forever(make_chunk, every_s: float):
    while True:
        yield make_chunk()
        await asyncio.sleep(every_s)


async def _endless_body(every_s: float):
    yield b'{"choices": [{"index": 0, "message": {"role": "assistant", "content": "'
    while True:
        yield b"x" * (1 if every_s else 16384)
        await asyncio.sleep(every_s)


def _completion(chat: bool, content) -> dict:
    choice = ({"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"} if chat
              else {"index": 0, "text": content, "finish_reason": "stop"})
    return {"id": "hostile-1", "object": "chat.completion" if chat else "text_completion", "created": int(time.time()),
            "model": "hostile", "choices": [choice]}


def _chunk(chat: bool, content, finish: str | None = None) -> bytes:
    choice = ({"index": 0, "delta": {"content": content}, "finish_reason": finish} if chat
              else {"index": 0, "text": content, "finish_reason": finish})
    return b"data: " + orjson.dumps({"id": "hostile-1", "object": "chat.completion.chunk", "model": "hostile",
                                      "choices": [choice]}) + b"\n\n"


def _json(obj: dict) -> Response:
    return Response(orjson.dumps(obj), media_type="application/json")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8002)
    parser.add_argument("--trickle-s", type=float, default=0.2)
    parser.add_argument("--slow-s", type=float, default=5.0)
    args = parser.parse_args(argv)
    uvicorn.run(HostileUpstream(args.trickle_s, args.slow_s).app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
