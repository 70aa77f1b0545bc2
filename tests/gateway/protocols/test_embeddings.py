"""Embeddings with the real MiniLM encoder: cached vectors are the fresh ones bit for bit, only uncached
texts reach the encoder, order is kept, tenants never share a cache, and the openai SDK reads the
answer in both encodings."""

import asyncio
import base64
import json
from typing import Any

import httpx2  # openai 3.x sends its requests through httpx2
import numpy as np
import openai
import pytest

from gateway.cache.coverage import EmbeddingWindow
from gateway.cache.embedder import EmbeddingModel
from gateway.cache.bundled_model import bundled_model_dir
from gateway.protocols.embedding_service import EmbeddingService, embeddings_response
from gateway.protocols.embeddings_request import MINILM, EmbeddingModelSpec, parse_embeddings_request
from gateway.protocols.errors import ProtocolError
from gateway.cache.tenant_lru import TenantLRU

MODELS = {MINILM.name: MINILM}


@pytest.fixture(scope="module")
def model() -> EmbeddingModel:
    return EmbeddingModel()


class RecordingEncoder:
    """The real model's encode, remembering which texts each call was given."""

    def __init__(self, model: EmbeddingModel) -> None:
        self.model = model
        self.calls: list[list[str]] = []

    async def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return await asyncio.to_thread(self.model.encode, texts)


def token_counter() -> Any:
    window = EmbeddingWindow(bundled_model_dir())
    return lambda texts: [len(window.encode(text)[0].ids) for text in texts]


def async_counter() -> Any:
    count = token_counter()

    async def counts(texts: list[str]) -> list[int]:
        return count(texts)

    return counts


def service_for(model: EmbeddingModel, per_tenant: int = 64) -> tuple[EmbeddingService, RecordingEncoder]:
    encoder = RecordingEncoder(model)
    return EmbeddingService(encoder, async_counter(), TenantLRU(1024, per_tenant)), encoder


def request(texts: Any, **fields: Any) -> Any:
    return parse_embeddings_request({"model": MINILM.name, "input": texts, **fields}, MODELS)


async def test_a_cached_vector_is_the_fresh_one_bit_for_bit(model: EmbeddingModel) -> None:
    service, encoder = service_for(model)
    first = await service.embed("a", request("How do I reset my password?"))
    again = await service.embed("a", request(["Where is my order?", "How do I reset my password?"]))
    assert encoder.calls == [["How do I reset my password?"], ["Where is my order?"]]
    assert again.cached == 1 and first.cached == 0
    fresh = model.encode(["How do I reset my password?"])[0]
    assert again.vectors[1].tobytes() == first.vectors[0].tobytes() == fresh.tobytes()


async def test_mixed_batch_encodes_only_the_uncached_once_and_keeps_order(model: EmbeddingModel) -> None:
    service, encoder = service_for(model)
    await service.embed("a", request(["beta", "delta"]))
    texts = ["alpha", "beta", "gamma", "delta", "alpha"]
    result = await service.embed("a", request(texts))
    assert encoder.calls[-1] == ["alpha", "gamma"]
    assert result.cached == 2
    expected = np.stack([model.encode([text])[0] for text in texts])
    assert result.vectors.tobytes() == expected.tobytes()


async def test_a_request_over_the_token_bound_is_refused_before_any_encoding(model: EmbeddingModel) -> None:
    encoder = RecordingEncoder(model)
    service = EmbeddingService(encoder, async_counter(), TenantLRU(1024, 64), max_tokens=20)
    with pytest.raises(ProtocolError) as err:
        await service.embed("a", request(["word " * 12, "word " * 12]))
    assert (err.value.status, err.value.code, err.value.param) == (413, "too_many_tokens", "input")
    assert encoder.calls == []
    first = await service.embed("a", request("word " * 12))
    assert first.cached_tokens == 0
    again = await service.embed("a", request("word " * 12))
    assert again.cached_tokens == again.prompt_tokens == sum(token_counter()(["word " * 12])) > 12


async def test_one_tenants_cache_never_serves_another(model: EmbeddingModel) -> None:
    service, encoder = service_for(model)
    await service.embed("a", request("our merger with Initech closes Friday"))
    result = await service.embed("b", request("our merger with Initech closes Friday"))
    assert encoder.calls == [["our merger with Initech closes Friday"]] * 2 and result.cached == 0


async def test_usage_counts_every_input_as_the_model_reads_it(model: EmbeddingModel) -> None:
    service, _ = service_for(model)
    texts = ["short", "a somewhat longer sentence to embed"]
    await service.embed("a", request(texts[:1]))
    result = await service.embed("a", request(texts))
    assert result.prompt_tokens == sum(token_counter()(texts)) > len(texts)
    body = embeddings_response(request(texts), result)
    assert body["usage"] == {"prompt_tokens": result.prompt_tokens, "total_tokens": result.prompt_tokens}


async def test_base64_decodes_to_the_same_floats(model: EmbeddingModel) -> None:
    service, _ = service_for(model)
    as_floats = embeddings_response(request("hello"), await service.embed("a", request("hello")))
    encoded = embeddings_response(
        request("hello", encoding_format="base64"), await service.embed("a", request("hello", encoding_format="base64"))
    )
    decoded = np.frombuffer(base64.b64decode(encoded["data"][0]["embedding"]), dtype="<f4")
    assert decoded.tolist() == as_floats["data"][0]["embedding"] and decoded.shape == (384,)


async def test_dimensions_shorten_and_renormalise_only_a_matryoshka_model(model: EmbeddingModel) -> None:
    with pytest.raises(ProtocolError) as refused:
        request("hello", dimensions=128)
    assert refused.value.param == "dimensions"
    assert request("hello", dimensions=384).dimensions == 384
    nested = EmbeddingModelSpec("nested-test", 384, matryoshka=True)
    service, _ = service_for(model)
    short = parse_embeddings_request(
        {"model": "nested-test", "input": "hello", "dimensions": 64}, {"nested-test": nested}
    )
    vector = (await service.embed("a", short)).vectors[0]
    full = model.encode(["hello"])[0][:64]
    assert vector.shape == (64,) and np.allclose(vector, full / np.linalg.norm(full), atol=1e-6)


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"model": MINILM.name, "input": [1, 2, 3]}, 400, "input"),
        ({"model": MINILM.name, "input": [[1, 2], [3]]}, 400, "input"),
        ({"model": MINILM.name, "input": ""}, 400, "input[0]"),
        ({"model": MINILM.name, "input": []}, 400, "input"),
        ({"model": MINILM.name, "input": "x", "encoding_format": "int8"}, 400, "encoding_format"),
        ({"model": MINILM.name, "input": "x", "dimensions": 0}, 400, "dimensions"),
        ({"model": MINILM.name, "input": "x", "frobnicate": 1}, 400, "frobnicate"),
        ({"model": "text-embedding-3-small", "input": "x"}, 404, "model"),
    ],
)
def test_bad_requests(body: dict[str, Any], status: int, param: str) -> None:
    with pytest.raises(ProtocolError) as raised:
        parse_embeddings_request(body, MODELS)
    assert (raised.value.status, raised.value.param) == (status, param)


def test_the_openai_sdk_reads_both_encodings(model: EmbeddingModel) -> None:
    service, _ = service_for(model)

    def handle(http_request: httpx2.Request) -> httpx2.Response:
        try:
            parsed = parse_embeddings_request(json.loads(http_request.content), MODELS)
        except ProtocolError as error:
            return httpx2.Response(error.status, json=error.openai_body())
        return httpx2.Response(200, json=embeddings_response(parsed, asyncio.run(service.embed("a", parsed))))

    client = openai.OpenAI(
        base_url="http://semgate.test/v1",
        api_key="k",
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(handle)),
    )
    texts = ["first text", "second text"]
    expected = model.encode(texts).tolist()
    as_floats = client.embeddings.create(model=MINILM.name, input=texts, encoding_format="float")
    assert [d.embedding for d in as_floats.data] == expected and as_floats.usage.prompt_tokens > 0
    # Asked for base64 by name, the SDK hands the string over as it came.
    as_base64 = client.embeddings.create(model=MINILM.name, input=texts, encoding_format="base64")
    decoded = [np.frombuffer(base64.b64decode(str(d.embedding)), dtype="<f4").tolist() for d in as_base64.data]
    assert decoded == expected
    # Left to itself, the SDK asks for base64 and decodes it.
    single = client.embeddings.create(model=MINILM.name, input="first text")
    assert single.data[0].embedding == expected[0]
    with pytest.raises(openai.NotFoundError) as missing:
        client.embeddings.create(model="text-embedding-3-small", input="x")
    assert missing.value.code == "model_not_found"
