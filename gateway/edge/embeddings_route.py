"""POST /v1/embeddings: the gateway's own MiniLM, exact-cached per tenant, or an upstream that serves embeddings.

A model the config names (`embeddings.model`) is served locally by the same int8 MiniLM graph the semantic
cache embeds with (gateway/cache/embedder.py), on its worker thread, never the event loop. Its vectors are
exact-cached per tenant (gateway/protocols/embedding_service.py): the answer's `x-semgate-cache` is `hit` when
every input came from the cache, `miss` otherwise, and `x-semgate-cached-inputs` says how many did. A model
served by an upstream flagged `embeddings: true` is passed through to that upstream's /embeddings unchanged,
and its answer exact-cached per tenant by the whole request (the same body answers the same): a batch is not
split there, since the upstream's per-text token counts and dimensions are its own.
"""

import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import orjson
from starlette.requests import Request
from starlette.responses import Response

from gateway.cache.outcome import CacheOutcome
from gateway.cache.tenant_lru import TenantLRU
from gateway.edge.auth import TenantResolver
from gateway.edge.client_io import read_body, until_disconnect
from gateway.edge.errors import OpenAIError
from gateway.edge.limits import Limits
from gateway.edge.wire import EMBEDDINGS, json_object
from gateway.observe.stats import RequestTrace, TraceRecorder
from gateway.protocols.embedding_service import EmbeddingService, embeddings_response
from gateway.protocols.embeddings_request import EmbeddingModelSpec, EmbeddingsRequest, parse_embeddings_request
from gateway.protocols.errors import ProtocolError
from gateway.protocols.models import model_not_found
from gateway.relay.answer_check import AnswerBounds, AnswerRefused, read_whole
from gateway.relay.scrub import scrub
from gateway.upstream.pool import Upstream, UpstreamPool

CLIENT_GONE = 499
# Upstream answers kept per tenant by request; bigger ones (large batches) are passed on and not kept.
PASSED_ANSWERS, PASSED_PER_TENANT, MAX_PASSED_ANSWER_BYTES = 1024, 256, 64 << 10
PassedAnswer = tuple[bytes, int]  # the answer as the upstream sent it, its prompt tokens


@dataclass(frozen=True)
class LocalEmbeddings:
    """The locally served embedding model and its cached service."""

    spec: EmbeddingModelSpec
    service: EmbeddingService
    max_inputs: int


@dataclass(frozen=True)
class EmbeddingsRoute:
    resolver: TenantResolver
    pool: UpstreamPool
    limits: Limits
    local: LocalEmbeddings | None
    recorders: Sequence[TraceRecorder] = ()
    passed: TenantLRU[bytes, PassedAnswer] = field(default_factory=lambda: TenantLRU(PASSED_ANSWERS, PASSED_PER_TENANT))

    @property
    def local_models(self) -> Mapping[str, EmbeddingModelSpec]:
        return {self.local.spec.name: self.local.spec} if self.local is not None else {}

    async def handle(self, http: Request) -> Response:
        trace = RequestTrace(route=EMBEDDINGS)
        try:
            tenant = trace.tenant = self.resolver.resolve(http.headers)
            body = json_object(await read_body(http, self.limits.max_body_bytes))
            name = body.get("model")
            if self.local is None or name != self.local.spec.name:
                upstream = await self._upstream_for(name)
                if upstream is not None:
                    return self._finish(trace, await self._pass_through(http, upstream, body, trace, tenant))
            request = parse_embeddings_request(body, self.local_models)
            local = self.local
            if local is None:  # the parser refused every name already: no model is served locally
                raise model_not_found(request.model.name)
            trace.model = request.model.name
            self._check_size(request, local.max_inputs)
            result = await local.service.embed(tenant, request)
        except OpenAIError as exc:
            return self._finish(trace, exc.response())
        except ProtocolError as exc:
            return self._finish(trace, _json(exc.openai_body(), exc.status))
        trace.cache = CacheOutcome.HIT if result.cached == len(request.texts) else CacheOutcome.MISS
        trace.prompt_tokens_saved = result.cached_tokens
        headers = {"x-semgate-cache": trace.cache.value, "x-semgate-cached-inputs": str(result.cached)}
        return self._finish(trace, _json(embeddings_response(request, result), 200, headers))

    async def _upstream_for(self, name: Any) -> Upstream | None:
        """The upstream serving embedding model `name`; None when it is for the local model's parser to judge."""
        if not isinstance(name, str) or not name:
            return None
        try:
            upstream = await self.pool.resolve(name)
        except OpenAIError:
            return None  # unknown: parse_embeddings_request answers OpenAI's 404 model_not_found
        if not upstream.config.embeddings:
            raise OpenAIError(
                404,
                f"The model '{name}' does not serve embeddings.",
                param="model",
                code="model_not_found",
            )
        return upstream

    def _check_size(self, request: EmbeddingsRequest, max_inputs: int) -> None:
        if len(request.texts) > max_inputs:
            raise OpenAIError(
                413,
                f"'input' holds {len(request.texts)} items; the limit is {max_inputs}",
                param="input",
                code="too_many_inputs",
            )
        for i, text in enumerate(request.texts):
            if len(text) > self.limits.max_message_chars:
                raise OpenAIError(
                    413,
                    f"'input[{i}]' has {len(text)} characters; the limit is {self.limits.max_message_chars}",
                    param=f"input[{i}]",
                    code="message_too_long",
                )

    async def _pass_through(
        self, http: Request, upstream: Upstream, body: dict[str, Any], trace: RequestTrace, tenant: str
    ) -> Response:
        trace.model, trace.upstream = body["model"], upstream.name
        key = hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).digest()
        kept = self.passed.get(tenant, key)
        if kept is None:
            bounds = AnswerBounds.starting_now(
                upstream.name, self.limits.max_answer_bytes, upstream.config.timeouts.total_s
            )
            started = time.perf_counter()
            answer = await until_disconnect(http, lambda: self._forward(upstream, body, bounds))
            if answer is None:
                return Response(status_code=CLIENT_GONE)
            trace.upstream_s = time.perf_counter() - started
            stored = len(answer[0]) <= MAX_PASSED_ANSWER_BYTES
            if stored:
                self.passed.put(tenant, key, answer)
            trace.cache = CacheOutcome.MISS if stored else CacheOutcome.STORE_SKIPPED
        else:
            answer = kept
            trace.cache, trace.prompt_tokens_saved = CacheOutcome.HIT, answer[1]
        return Response(answer[0], media_type="application/json", headers={"x-semgate-cache": trace.cache.value})

    async def _forward(self, upstream: Upstream, body: dict[str, Any], bounds: AnswerBounds) -> PassedAnswer:
        """The upstream's answer (scrubbed of its key) and its prompt tokens; its errors raise as OpenAIError."""
        response = await self.pool.open(upstream, "/embeddings", body)
        try:
            raw = scrub(await read_whole(response, bounds), [upstream.config.api_key() or ""])
            answer = orjson.loads(raw)
            if not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
                raise bounds.malformed("not an embeddings list")
        except (httpx.HTTPError, orjson.JSONDecodeError, AnswerRefused) as exc:
            await self.pool.close(upstream, response, ok=False)
            if isinstance(exc, AnswerRefused):
                raise exc.error from None
            raise OpenAIError(
                502, f"Upstream {upstream.name} failed while answering ({type(exc).__name__}).", code="upstream_error"
            ) from None
        except BaseException:  # cancelled: the client went away while the upstream was answering
            with anyio.CancelScope(shield=True):
                await self.pool.close(upstream, response, ok=False, upstream_fault=False)
            raise
        await self.pool.close(upstream, response, ok=True)
        usage = answer.get("usage")
        tokens = usage.get("prompt_tokens") if isinstance(usage, dict) else None
        return raw, tokens if isinstance(tokens, int) and not isinstance(tokens, bool) and tokens > 0 else 0

    def _finish(self, trace: RequestTrace, response: Response) -> Response:
        trace.finish(response.status_code)
        for recorder in self.recorders:
            recorder.record(trace)
        return response


def _json(obj: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(obj), status_code=status, media_type="application/json", headers=headers)
