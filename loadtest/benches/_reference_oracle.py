"""A stand-in for the strong model when none is reachable: it answers with the stored reference.

An OpenAI-compatible chat endpoint on loopback whose answer to a known question is its reference
answer (to an unknown one, "I don't know."), after a simulated latency of a hosted large model:
`first_token_s + per_token_s x answer tokens`. Usage counts are estimates (4 characters per
token). Served by uvicorn in a thread of the bench process.
"""

import asyncio
import itertools
import math
import socket
import threading
import time

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

MODEL = "reference-oracle"


class ReferenceOracle:
    def __init__(self, answers: dict[str, str], first_token_s: float, per_token_s: float) -> None:
        self.answers = answers
        self.first_token_s, self.per_token_s = first_token_s, per_token_s
        self._ids = itertools.count(1)
        app = Starlette(routes=[Route("/v1/chat/completions", self._chat, methods=["POST"]),
                                Route("/v1/models", self._models), Route("/healthz", self._models)])
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> "ReferenceOracle":
        self._thread.start()
        while not self._server.started:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    async def _models(self, request: Request) -> Response:
        return Response(orjson.dumps({"object": "list", "data": [{"id": MODEL, "object": "model"}]}),
                        media_type="application/json")

    async def _chat(self, request: Request) -> Response:
        body = orjson.loads(await request.body())
        question = body["messages"][-1]["content"]
        text = self.answers.get(question, "I don't know.")
        prompt_chars = sum(len(str(m.get("content", ""))) for m in body["messages"])
        completion_tokens = math.ceil(len(text) / 4)
        await asyncio.sleep(self.first_token_s + self.per_token_s * completion_tokens)
        usage = {"prompt_tokens": math.ceil(prompt_chars / 4), "completion_tokens": completion_tokens}
        usage["total_tokens"] = usage["prompt_tokens"] + completion_tokens
        answer = {"id": f"chatcmpl-oracle{next(self._ids)}", "object": "chat.completion", "created": int(time.time()),
                  "model": MODEL, "usage": usage,
                  "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]}
        return Response(orjson.dumps(answer), media_type="application/json")
