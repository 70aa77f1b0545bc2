"""The OpenAI-compatible HTTP server over the async engine (Starlette)."""

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import jinja2
import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from gpu_backend.engine import AsyncEngine, RequestOutput, SamplingParams
from gpu_backend.engine.async_engine import RequestStream
from gpu_backend.engine.grammar import CompiledGrammar, GrammarSpec
from gpu_backend.engine.logprobs import TokenLogprob
from gpu_backend.engine.slo import RequestSLO
from gpu_backend.errors import EngineStopped
from gpu_backend.kvshare.chunk_spans import chat_chunk_spans, prompt_chunk_spans
from gpu_backend.model import ChatTemplate, SamplingDefaults, Tokenizer
from gpu_backend.server.admin import admin_routes
from gpu_backend.server.metrics import metrics_registry, render
from gpu_backend.server.protocol import (
    GenerationRequest,
    OpenAIError,
    parse_chat_request,
    parse_completion_request,
)
from gpu_backend.server.responses import ResponseBuilder
from gpu_backend.server.sse import log_cancelled, sse
from gpu_backend.server.tool_prompt import chat_prompt, tool_syntax

log = logging.getLogger(__name__)
TENANT_HEADER = "x-semgate-tenant"  # what the gateway sends to semgate_headers upstreams


@dataclass
class BackendService:
    engine: AsyncEngine
    tokenizer: Tokenizer
    chat_template: ChatTemplate
    # Names clients may ask for; the first is the one responses carry.
    model_names: tuple[str, ...]
    # Request header whose value namespaces the prefix cache (isolation: only equal values share
    # KV); None: off. Fairness does not depend on it: sharing KV across tenants is the default.
    salt_header: str | None = "x-semgate-kv-salt"
    # Request header naming the tenant fair share accounts to (percent-decoded: the gateway
    # encodes names a header cannot carry); None: off, every request is tenant "".
    tenant_header: str | None = TENANT_HEADER
    # Bearer token the admin API (server/admin.py) asks for; None: the admin API is open.
    admin_token: str | None = None
    # Temperature / top_p / top_k for requests that leave them out (the model's, not OpenAI's).
    sampling_defaults: SamplingDefaults = SamplingDefaults()


def build_app(service: BackendService) -> Starlette:
    registry = metrics_registry(service.engine, service.model_names[0])
    started = int(time.time())

    async def chat_completions(request: Request) -> Response:
        return await _generate(service, request, chat=True)

    async def completions(request: Request) -> Response:
        return await _generate(service, request, chat=False)

    async def models(request: Request) -> Response:
        data = [
            {"id": name, "object": "model", "created": started, "owned_by": "semgate"} for name in service.model_names
        ]
        return JSONResponse({"object": "list", "data": data})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "model": service.model_names[0]})

    async def metrics(request: Request) -> Response:
        return Response(render(registry), media_type="text/plain; version=0.0.4; charset=utf-8")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        service.engine.start()
        split = getattr(service.engine.engine, "phase_split_stats", None)  # the capability check's choice
        where = "" if split is None else "; phase split on {partition} ({partition_reason})".format(**split())
        log.info("semgate backend ready: serving %s%s", ", ".join(service.model_names), where)
        try:
            yield
        finally:
            service.engine.stop()

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/completions", completions, methods=["POST"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            *admin_routes(service.engine, service.admin_token),
        ],
        exception_handlers={OpenAIError: _openai_error, HTTPException: _http_error},
        lifespan=lifespan,
    )


async def _generate(service: BackendService, request: Request, chat: bool) -> Response:
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as error:
        raise OpenAIError(400, f"the request body is not valid JSON: {error}") from None
    salt = request.headers.get(service.salt_header, "") if service.salt_header else ""
    parse = parse_chat_request if chat else parse_completion_request
    parsed = parse(body, salt, service.sampling_defaults)
    if parsed.model not in service.model_names:
        raise OpenAIError(
            404,
            f"the model '{parsed.model}' does not exist; this backend serves {', '.join(service.model_names)}",
            "model",
            code="model_not_found",
        )
    try:
        slo = RequestSLO.from_headers(request.headers)
    except ValueError as error:
        raise OpenAIError(400, str(error)) from None
    tenant = unquote(request.headers.get(service.tenant_header, "")) if service.tenant_header else ""
    if parsed.grammar is not None:
        forced_call = parsed.tools is not None and parsed.tools.forced
        grammar = await _compile(service, parsed.grammar, forced_call)
        parsed.params = dataclasses.replace(parsed.params, grammar=grammar)
    try:
        prompt_ids, chunk_spans = _prompt_ids(service, parsed)
        streams = service.engine.submit_samples(prompt_ids, _sample_params(parsed), slo, tenant, chunk_spans)
    except ValueError as error:
        raise OpenAIError(400, str(error), "messages" if chat else "prompt", code="context_length_exceeded") from None
    except EngineStopped:  # shutting down: the engine stopped first (server/lifecycle.py)
        raise OpenAIError(503, "the backend is shutting down", type_="server_error") from None
    wants_logprobs = parsed.params.logprobs is not None
    builder = ResponseBuilder(
        service.model_names[0],
        chat,
        service.tokenizer if wants_logprobs else None,
        parsed.tools,
        tool_syntax(service.chat_template).tagged_calls,
    )
    if parsed.stream:
        return StreamingResponse(
            sse(streams, builder, parsed.include_usage),
            media_type="text/event-stream",
            headers={"cache-control": "no-cache"},
        )
    return await _complete(request, streams, builder)


def _sample_params(parsed: GenerationRequest) -> list[SamplingParams]:
    """One params per sample; with a seed, sample i draws from seed + i (its own, reproducible)."""
    seed = parsed.params.seed
    return [
        parsed.params if i == 0 or seed is None else dataclasses.replace(parsed.params, seed=seed + i)
        for i in range(parsed.n)
    ]


async def _compile(service: BackendService, grammar: GrammarSpec, forced_call: bool) -> CompiledGrammar:
    """The request's grammar, compiled off the event loop (a new schema takes milliseconds; a
    repeated one is a cache hit)."""
    try:
        return await asyncio.to_thread(service.engine.engine.grammars.compile, grammar)
    except ValueError as error:
        raise OpenAIError(400, str(error), "tools" if forced_call else "response_format") from None


def _prompt_ids(service: BackendService, parsed: GenerationRequest) -> tuple[list[int], list[tuple[int, int]]]:
    """The prompt's token ids and, when KVShare is on and the request marks chunks, their token spans."""
    chunked = bool(parsed.chunks) and service.engine.engine.reuses_chunks
    if parsed.messages is not None:
        tools = list(parsed.tools.tools) if parsed.tools is not None else []
        try:
            prompt = chat_prompt(service.chat_template, parsed.messages, tools, parsed.chunks)
            if chunked and prompt.chunks:
                return chat_chunk_spans(service.chat_template, service.tokenizer, prompt.messages, prompt.chunks)
        except jinja2.TemplateError as error:
            raise OpenAIError(400, f"the chat template rejected these messages: {error}", "messages") from None
        return service.tokenizer.encode(prompt.text), []
    if parsed.prompt is None:  # the parser asks for messages or a prompt
        raise OpenAIError(400, "the request has neither 'messages' nor 'prompt'", "prompt")
    if isinstance(parsed.prompt, list):
        return parsed.prompt, []
    if chunked:
        return prompt_chunk_spans(service.tokenizer, parsed.prompt, parsed.chunks)
    return service.tokenizer.encode(parsed.prompt, add_special=True), []


async def _complete(request: Request, streams: list[RequestStream], builder: ResponseBuilder) -> Response:
    generation = asyncio.ensure_future(_collect_all(streams))
    disconnect = asyncio.ensure_future(_client_gone(request))
    try:
        await asyncio.wait({generation, disconnect}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        disconnect.cancel()
        if not generation.done():
            # The client went away (or this handler was cancelled): cancelling the collector leaves
            # `async with stream`, which aborts the request and frees its KV blocks. Wait for that,
            # so the task is settled (cancelled) before anyone asks it for a result.
            generation.cancel()
            await asyncio.wait({generation})
    if generation.cancelled():
        log_cancelled(streams[0])
        return Response(status_code=499)  # nginx's "client closed request": nobody reads it
    try:
        samples = generation.result()
    except ValueError as error:
        raise OpenAIError(400, str(error)) from None
    except RuntimeError as error:
        raise OpenAIError(503, f"generation failed: {error}", type_="server_error") from None
    return _json(builder.response(samples))


async def _collect_all(streams: list[RequestStream]) -> list[tuple[str, RequestOutput, list[TokenLogprob]]]:
    # A task, not a bare gather: cancelling it cancels every sample and leaves it `cancelled()`.
    return await asyncio.gather(*(_collect(stream) for stream in streams))


async def _collect(stream: RequestStream) -> tuple[str, RequestOutput, list[TokenLogprob]]:
    parts: list[str] = []
    last: RequestOutput | None = None
    logprobs: list[TokenLogprob] = []
    async with stream:
        async for output in stream:
            parts.append(output.new_text)
            logprobs += output.logprobs
            last = output
    if last is None:
        raise EngineStopped(f"request {stream.seq_id} ended without an output")
    return "".join(parts), last, logprobs


async def _client_gone(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


async def _openai_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, OpenAIError)
    return _json(error.body(), error.status)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    kind = "not_found_error" if error.status_code == 404 else "invalid_request_error"
    return _json({"error": {"message": error.detail, "type": kind, "param": None, "code": None}}, error.status_code)
