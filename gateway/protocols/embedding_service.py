"""Embeddings served by the gateway's own model, exact-cached per tenant.

A vector depends only on its text and the model, so a cached one is always right. A batch is
split into texts the tenant's cache holds and texts it does not; only the latter (each distinct
text once) go to the encoder, in one call, and the answer is put back together in input order.
The cache is split by tenant (the gateway's TenantLRU fits): one tenant's hits never tell it
what another embedded. Usage counts every input's tokens as the model reads them, cached or not; they are counted first,
so a request over the token bound is refused before anything is encoded.
"""

import base64
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from gateway.protocols.embeddings_request import EmbeddingsRequest
from gateway.protocols.errors import ProtocolError

Encoder = Callable[[list[str]], Awaitable[np.ndarray]]  # texts -> L2-normalised float32 rows
TokenCounter = Callable[[list[str]], Awaitable[list[int]]]  # texts -> tokens of each, as the model reads it
CacheKey = tuple[str, bytes]  # (model name, SHA-256 of the text)


class TenantVectorCache(Protocol):
    """A bounded map split by tenant, where a tenant's lookups see only its own part."""

    def get(self, tenant: str, key: CacheKey) -> np.ndarray | None: ...

    def put(self, tenant: str, key: CacheKey, value: np.ndarray) -> None: ...


@dataclass
class EmbeddingResult:
    vectors: np.ndarray  # one float32 row per input, in input order, at the requested dimensions
    prompt_tokens: int
    cached: int  # inputs answered from the tenant's cache
    cached_tokens: int  # the tokens of those inputs: what the cache saved the model from reading


class EmbeddingService:
    def __init__(
        self, encode: Encoder, count_tokens: TokenCounter, cache: TenantVectorCache, max_tokens: int | None = None
    ) -> None:
        self._encode = encode
        self._count_tokens = count_tokens
        self._cache = cache
        self._max_tokens = max_tokens  # of one request's texts together; past it a 413 before any encoding

    async def embed(self, tenant: str, request: EmbeddingsRequest) -> EmbeddingResult:
        tokens = await self._count_tokens(request.texts)
        if self._max_tokens is not None and sum(tokens) > self._max_tokens:
            raise ProtocolError(
                413,
                f"'input' holds {sum(tokens)} tokens; at most {self._max_tokens} are accepted in one request.",
                "input",
                "too_many_tokens",
            )
        model = request.model.name
        keys = [(model, hashlib.sha256(text.encode()).digest()) for text in request.texts]
        found: dict[CacheKey, np.ndarray] = {}
        missing = []
        for key in dict.fromkeys(keys):
            vector = self._cache.get(tenant, key)
            if vector is None:
                missing.append(key)
            else:
                found[key] = vector
        if missing:
            text_of = dict(zip(keys, request.texts, strict=True))
            fresh = await self._encode([text_of[key] for key in missing])
            for key, row in zip(missing, fresh, strict=True):
                vector = np.array(row, dtype=np.float32)
                vector.flags.writeable = False  # shared by later hits: nobody may change it in place
                self._cache.put(tenant, key, vector)
                found[key] = vector
        vectors = np.stack([found[key] for key in keys])
        encoded = set(missing)
        cached = [n for key, n in zip(keys, tokens, strict=True) if key not in encoded]
        return EmbeddingResult(_shortened(vectors, request.dimensions), sum(tokens), len(cached), sum(cached))


def _shortened(vectors: np.ndarray, dimensions: int) -> np.ndarray:
    if dimensions == vectors.shape[1]:
        return vectors
    prefix = vectors[:, :dimensions]
    return (prefix / np.maximum(np.linalg.norm(prefix, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def embeddings_response(request: EmbeddingsRequest, result: EmbeddingResult) -> dict[str, Any]:
    """OpenAI's list object; base64 is the float32 little-endian bytes the SDKs decode."""
    data = []
    for index, vector in enumerate(result.vectors):
        embedding: Any = (
            base64.b64encode(vector.astype("<f4").tobytes()).decode()
            if request.encoding_format == "base64"
            else vector.tolist()
        )
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    return {
        "object": "list",
        "data": data,
        "model": request.model.name,
        "usage": {"prompt_tokens": result.prompt_tokens, "total_tokens": result.prompt_tokens},
    }
