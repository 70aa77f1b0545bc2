"""A deterministic OpenAI-compatible upstream for tests and benchmarks on loopback.

Its answer is a pure function of the request ("Echo: " + the last user text, one
"token" per word), so tests can tell exactly which request an answer came from.
Latency per token and faults are set at run time through `POST /_echo/control`,
which is how fault tests make it fail, stall or cut a stream off halfway.

    python -m loadtest.echo_upstream --port 8001 --token-delay-ms 5
"""

import argparse
import asyncio
import hashlib
import itertools
import time
from dataclasses import asdict, dataclass, field

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from gateway.protocols.responses_output import response_from_chat
from gateway.protocols.responses_request import parse_responses_request
from gateway.protocols.responses_stream import ResponsesStream, sse_event

FAULTS = ("none", "500", "429", "503", "cut", "stall", "drop")


@dataclass
class EchoSettings:
    models: tuple[str, ...] = ("echo-1",)
    token_delay_s: float = 0.0
    first_token_delay_s: float = 0.0
    # Applied to the next `fault_count` requests (-1: until changed).
    fault: str = "none"
    fault_count: int = -1
    # Sent as Retry-After with the 429 and 503 faults when > 0.
    retry_after_s: float = 0.0


@dataclass
class EchoStats:
    requests: int = 0
    by_path: dict[str, int] = field(default_factory=dict)
    cancelled: int = 0


def answer_words(body: dict) -> list[str]:
    if "messages" in body:
        users = [m for m in body["messages"] if m.get("role") == "user"]
        content = users[-1].get("content", "") if users else ""
        if isinstance(content, list):
            # Only text parts carry text; other part types may hold anything (the gateway passes them on).
            content = " ".join(
                p["text"]
                for p in content
                if isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
            )
        text = str(content)
    else:
        prompt = body.get("prompt", "")
        text = prompt if isinstance(prompt, str) else " ".join(map(str, prompt))
    return ["Echo:", *text.split()]


def echo_vector(text: str, dim: int = 8) -> list[float]:
    raw = [b / 255 - 0.5 for b in hashlib.sha256(text.encode()).digest()[:dim]]
    norm = sum(x * x for x in raw) ** 0.5 or 1.0
    return [x / norm for x in raw]


class EchoUpstream:
    def __init__(self, settings: EchoSettings | None = None) -> None:
        self.settings = settings or EchoSettings()
        self.stats = EchoStats()
        self.last_body: dict | None = None
        self.last_headers: dict[str, str] | None = None
        self._ids = itertools.count(1)
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self.completions, methods=["POST"]),
                Route("/v1/completions", self.completions, methods=["POST"]),
                Route("/v1/responses", self.responses, methods=["POST"]),
                Route("/v1/models", self.models, methods=["GET"]),
                Route("/v1/embeddings", self.embeddings, methods=["POST"]),
                Route("/healthz", self.health, methods=["GET"]),
                Route("/_echo/control", self.control, methods=["POST"]),
                Route("/_echo/stats", self.stats_route, methods=["GET"]),
            ]
        )

    def _take_fault(self) -> str:
        s = self.settings
        if s.fault == "none" or s.fault_count == 0:
            return "none"
        if s.fault_count > 0:
            s.fault_count -= 1
        return s.fault

    async def control(self, request: Request) -> Response:
        update = orjson.loads(await request.body())
        for key, value in update.items():
            if not hasattr(self.settings, key):
                return _error(400, f"unknown setting {key!r}")
            if key == "fault" and value not in FAULTS:
                return _error(400, f"fault must be one of {FAULTS}")
            setattr(self.settings, key, tuple(value) if key == "models" else value)
        return _json(asdict(self.settings))

    async def stats_route(self, request: Request) -> Response:
        return _json(asdict(self.stats))

    async def health(self, request: Request) -> Response:
        return _json({"status": "ok"})

    async def models(self, request: Request) -> Response:
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "echo"} for m in self.settings.models]
        return _json({"object": "list", "data": data})

    async def embeddings(self, request: Request) -> Response:
        """A deterministic embedding per text (from its SHA-256): the same text, the same vector."""
        self.stats.requests += 1
        self.stats.by_path[request.url.path] = self.stats.by_path.get(request.url.path, 0) + 1
        body = orjson.loads(await request.body())
        if self._take_fault() in ("500", "429", "503"):
            return _error(500, "injected upstream fault on /v1/embeddings")
        texts = [body["input"]] if isinstance(body.get("input"), str) else list(body.get("input") or [])
        await asyncio.sleep(self.settings.first_token_delay_s)
        data = [{"object": "embedding", "index": i, "embedding": echo_vector(str(text))} for i, text in enumerate(texts)]
        tokens = sum(len(str(text).split()) for text in texts)
        return _json({"object": "list", "data": data, "model": body.get("model"),
                      "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    async def _received(self, request: Request) -> dict:
        self.stats.requests += 1
        self.stats.by_path[request.url.path] = self.stats.by_path.get(request.url.path, 0) + 1
        body = orjson.loads(await request.body())
        self.last_body = body  # what the gateway sent (tests look at injected examples)
        self.last_headers = dict(request.headers)  # ... and which headers (SLO and tenant hints)
        return body

    async def responses(self, request: Request) -> Response:
        """The Responses API served natively, as an upstream that speaks it would: the chat answer for
        the same conversation, written by the gateway's own Responses adapter."""
        body = await self._received(request)
        parsed = parse_responses_request(body, [] if body.get("previous_response_id") else None)
        if parsed.chat["model"] not in self.settings.models:
            return _error(404, f"The model `{parsed.chat['model']}` does not exist", code="model_not_found")
        words = answer_words(parsed.chat)
        schema = _json_schema(parsed.chat)
        if schema is not None:
            words = [orjson.dumps(_schema_instance(schema, " ".join(words))).decode()]
        limit = parsed.chat.get("max_tokens") or 64
        answer = {"role": "assistant", "content": " ".join(words[:limit])}
        usage = {"prompt_tokens": _prompt_tokens(parsed.chat), "completion_tokens": len(words[:limit])}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        finish = "stop" if len(words) <= limit else "length"
        head = {"id": f"chatcmpl-echo{next(self._ids)}", "created": int(time.time()), "model": parsed.chat["model"]}
        if not parsed.stream:
            choice = {"index": 0, "message": answer, "finish_reason": finish}
            return _json(response_from_chat({**head, "choices": [choice], "usage": usage}, parsed))
        stream = ResponsesStream(parsed)
        chunks = [{**head, "choices": [{"index": 0, "delta": answer, "finish_reason": finish}], "usage": usage}]
        events = [e for chunk in chunks for e in stream.feed(chunk)] + stream.finish()
        return Response(b"".join(sse_event(e) for e in events), media_type="text/event-stream")

    async def completions(self, request: Request) -> Response:
        body = await self._received(request)
        fault = self._take_fault()
        if fault in ("500", "429", "503"):
            error = _error(int(fault), f"injected upstream fault {fault}")
            if fault != "500" and self.settings.retry_after_s > 0:
                error.headers["retry-after"] = f"{self.settings.retry_after_s:g}"
            return error
        if fault == "drop":
            raise ConnectionResetError("injected connection drop")
        if body.get("model") not in self.settings.models:
            return _error(404, f"The model `{body.get('model')}` does not exist", code="model_not_found")
        chat = request.url.path.endswith("chat/completions")
        words = answer_words(body)
        schema = _json_schema(body)
        if schema is not None:  # structured output: the echo as JSON of the asked shape, one "token"
            words = [orjson.dumps(_schema_instance(schema, " ".join(words))).decode()]
        max_tokens = body.get("max_tokens") or body.get("max_completion_tokens") or 64
        finish = "stop" if len(words) <= max_tokens else "length"
        words = words[:max_tokens]
        meta = {
            "id": f"{'chatcmpl' if chat else 'cmpl'}-echo{next(self._ids)}",
            "created": int(time.time()),
            "model": body["model"],
            "object": "chat.completion" if chat else "text_completion",
        }
        usage = {"prompt_tokens": _prompt_tokens(body), "completion_tokens": len(words)}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            stream = self._stream(meta, chat, words, finish, usage if include_usage else None, fault)
            return StreamingResponse(stream, media_type="text/event-stream")
        if fault == "stall":
            await asyncio.sleep(3600)
        await asyncio.sleep(self.settings.first_token_delay_s + self.settings.token_delay_s * len(words))
        text = " ".join(words)
        if chat:
            choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}
        else:
            choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": finish}
        return _json({**meta, "choices": [choice], "usage": usage})

    async def _stream(self, meta, chat, words, finish, usage, fault):
        chunk_meta = {**meta, "object": "chat.completion.chunk" if chat else "text_completion"}
        try:
            await asyncio.sleep(self.settings.first_token_delay_s)
            if chat:
                yield _sse(
                    {
                        **chunk_meta,
                        "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
                    }
                )
            for i, word in enumerate(words):
                if fault == "cut" and i == len(words) // 2:
                    # A pause first, as when a connection breaks while an answer streams: cut in the same
                    # instant, the reader's HTTP client may see the break before the bytes sent ahead of it.
                    await asyncio.sleep(0.2)
                    raise ConnectionResetError("injected stream cut")
                if fault == "stall" and i == len(words) // 2:
                    await asyncio.sleep(3600)
                piece = word if i == 0 else " " + word
                delta = {"delta": {"content": piece}} if chat else {"text": piece, "logprobs": None}
                yield _sse({**chunk_meta, "choices": [{"index": 0, **delta, "finish_reason": None}]})
                await asyncio.sleep(self.settings.token_delay_s)
            last = {"delta": {}} if chat else {"text": "", "logprobs": None}
            yield _sse({**chunk_meta, "choices": [{"index": 0, **last, "finish_reason": finish}]})
            if usage is not None:
                yield _sse({**chunk_meta, "choices": [], "usage": usage})
            yield b"data: [DONE]\n\n"
        except asyncio.CancelledError:
            self.stats.cancelled += 1
            raise


def _json_schema(body: dict) -> dict | None:
    """The schema a chat request's response_format asks for (json_object: any object), else None."""
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_object":
        return {"type": "object", "properties": {"echo": {"type": "string"}}}
    if fmt.get("type") == "json_schema":
        return (fmt.get("json_schema") or {}).get("schema") or {"type": "object"}
    return None


def _schema_instance(schema: dict, text: str) -> object:
    """A value of `schema` made from the echo `text`: strings are the text, numbers its length in words."""
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if kind == "object":
        return {name: _schema_instance(sub, text) for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [_schema_instance(schema.get("items") or {"type": "string"}, text)]
    numbers = {"integer": len(text.split()), "number": float(len(text.split())), "boolean": True}
    return numbers.get(kind, text)


def _prompt_tokens(body: dict) -> int:
    if "messages" in body:
        return sum(len(str(m.get("content", "")).split()) for m in body["messages"])
    return len(str(body.get("prompt", "")).split())


def _sse(obj: dict) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


def _json(obj: dict, status: int = 200) -> Response:
    return Response(orjson.dumps(obj), status_code=status, media_type="application/json")


def _error(status: int, message: str, code: str | None = None) -> Response:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return _json({"error": {"message": message, "type": kind, "param": None, "code": code}}, status)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--model", action="append", dest="models", help="model id to serve (repeatable)")
    parser.add_argument("--token-delay-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    settings = EchoSettings(models=tuple(args.models or ["echo-1"]), token_delay_s=args.token_delay_ms / 1000)
    uvicorn.run(EchoUpstream(settings).app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
