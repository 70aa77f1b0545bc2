"""POST /v1/embeddings through the official openai SDK against a running semgate: the gateway's own MiniLM,
exact-cached per tenant (miss then hit, identical vectors, batches reassembled in order), both encodings,
the bounds, and an upstream that serves embeddings passed through."""

import httpx
import numpy as np
import openai
import pytest
from gateway_setup import control, gateway_yaml

from gateway.app import build_app
from gateway.config import parse_config
from loadtest.echo_upstream import echo_vector

MODEL = "all-minilm-l6-v2"
KEYS = {"acme": "sk-acme-embed", "globex": "sk-globex-embed"}
TENANTS = """tenants:
  - {name: acme, api_key_env: EMBED_ACME_KEY}
  - {name: globex, api_key_env: EMBED_GLOBEX_KEY}
embeddings: {max_inputs: 8, max_tokens: 200}
"""


@pytest.fixture
def url(cached_gateway, monkeypatch) -> str:
    monkeypatch.setenv("EMBED_ACME_KEY", KEYS["acme"])
    monkeypatch.setenv("EMBED_GLOBEX_KEY", KEYS["globex"])
    return cached_gateway(TENANTS)


def client(url: str, tenant: str = "acme") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=KEYS[tenant], max_retries=0)


def embed(url: str, texts: str | list[str], tenant: str = "acme", **fields: object) -> tuple[np.ndarray, str, str]:
    """The vectors, x-semgate-cache and x-semgate-cached-inputs of one SDK call."""
    raw = client(url, tenant).embeddings.with_raw_response.create(model=MODEL, input=texts, **fields)
    answer = raw.parse()
    assert [d.index for d in answer.data] == list(range(len(answer.data)))
    vectors = np.array([d.embedding for d in answer.data], dtype=np.float32)
    return vectors, raw.headers["x-semgate-cache"], raw.headers["x-semgate-cached-inputs"]


def test_single_input_misses_then_hits_with_the_identical_vector(url):
    first, cache, _ = embed(url, "How do I reset my password?")
    again, cache_again, cached = embed(url, "How do I reset my password?")
    assert (cache, cache_again, cached) == ("miss", "hit", "1")
    assert first.shape == (1, 384) and np.array_equal(first, again)
    assert abs(float(np.linalg.norm(first[0])) - 1) < 1e-5


def test_batch_encodes_only_the_uncached_and_keeps_input_order(url):
    texts = ["alpha particles", "beta decay", "gamma rays"]
    singles = {text: embed(url, text)[0][0] for text in texts[:2]}
    batch, cache, cached = embed(url, [texts[1], texts[2], texts[0]])
    assert (cache, cached) == ("miss", "2")
    assert np.array_equal(batch[0], singles["beta decay"]) and np.array_equal(batch[2], singles["alpha particles"])
    again, cache, cached = embed(url, [texts[1], texts[2], texts[0]])
    assert (cache, cached) == ("hit", "3") and np.array_equal(again, batch)
    # A vector depends on its text alone, not on the batch it came in.
    assert np.allclose(batch[1], embed(url, "gamma rays")[0][0])


def test_base64_and_float_give_the_same_vectors(url):
    sdk_default, _, _ = embed(url, "a vector in two encodings")  # the SDK asks for base64 and decodes it
    floats, cache, _ = embed(url, "a vector in two encodings", encoding_format="float")
    assert cache == "hit" and np.array_equal(sdk_default, floats)
    raw = httpx.post(f"{url}/v1/embeddings", headers={"authorization": f"Bearer {KEYS['acme']}"},
                     json={"model": MODEL, "input": "a vector in two encodings", "encoding_format": "base64"})
    assert isinstance(raw.json()["data"][0]["embedding"], str)


def test_one_tenant_never_hits_another_tenants_vectors(url):
    _, acme, _ = embed(url, "our merger with Initech closes Friday", tenant="acme")
    _, globex, cached = embed(url, "our merger with Initech closes Friday", tenant="globex")
    assert (acme, globex, cached) == ("miss", "miss", "0")


def test_another_input_or_dimensions_misses_or_is_refused(url):
    embed(url, "the first text")
    assert embed(url, "the first text.")[1] == "miss"
    assert embed(url, "the first text", dimensions=384)[1] == "hit"  # the full size is the same request
    with pytest.raises(openai.BadRequestError) as err:  # MiniLM was not trained for shortened vectors
        embed(url, "the first text", dimensions=128)
    assert err.value.code == "unsupported_parameter" and err.value.body["param"] == "dimensions"
    with pytest.raises(openai.NotFoundError) as err:
        client(url).embeddings.create(model="text-embedding-3-small", input="the first text")
    assert err.value.code == "model_not_found"


def test_bounds_are_openai_shaped_errors(url):
    with pytest.raises(openai.APIStatusError) as err:
        embed(url, [f"text {i}" for i in range(9)])
    assert err.value.status_code == 413 and err.value.code == "too_many_inputs"
    with pytest.raises(openai.APIStatusError) as err:
        embed(url, ["word " * 150, "word " * 150])
    assert err.value.status_code == 413 and err.value.code == "too_many_tokens"
    with pytest.raises(openai.BadRequestError) as err:
        client(url).embeddings.create(model=MODEL, input=[[1, 2, 3]])
    assert err.value.body["param"] == "input"


def test_an_upstream_that_serves_embeddings_gets_them_passed_through_and_cached(serve, echo, embedding_model,
                                                                               monkeypatch):
    monkeypatch.setenv("EMBED_ACME_KEY", KEYS["acme"])
    monkeypatch.setenv("EMBED_GLOBEX_KEY", KEYS["globex"])
    extra = """  - name: vectors
    base_url: {url}/v1
    models: [echo-embed]
    embeddings: true
    retries: 0
""".format(url=echo.url)
    config = parse_config(gateway_yaml(echo.url, extra + TENANTS), "test.yaml")
    url = serve(build_app(config, embedding_model)).url

    def passed(texts: list[str], tenant: str = "acme") -> tuple[list[list[float]], str]:
        raw = client(url, tenant).embeddings.with_raw_response.create(model="echo-embed", input=texts,
                                                                       encoding_format="float")
        return [d.embedding for d in raw.parse().data], raw.headers["x-semgate-cache"]

    control(echo, fault="500", fault_count=1)
    with pytest.raises(openai.InternalServerError):  # the upstream's failure, relayed and not kept
        passed(["one", "two"])
    assert passed(["one", "two"]) == ([echo_vector("one"), echo_vector("two")], "miss")
    assert passed(["one", "two"]) == ([echo_vector("one"), echo_vector("two")], "hit")
    assert passed(["one", "two"], tenant="globex")[1] == "miss"
    assert passed(["two", "one"])[1] == "miss"  # whole requests are kept: another order is another request
    assert echo.stats.by_path["/v1/embeddings"] == 4  # the failed one, then one per miss
    with pytest.raises(openai.NotFoundError):  # a chat model is not an embedding model
        client(url).embeddings.create(model="echo-1", input="one")
    # With the cache off the local model answers too (on an embedder of its own).
    assert len(client(url).embeddings.create(model=MODEL, input="one").data[0].embedding) == 384


def test_vectors_are_of_the_text_as_written_not_the_cache_canonical_form(url, embedding_model):
    """The cache embeds a canonical form (greetings and typos dropped); a client's vector is its own text's."""
    texts = ["Hi there! How do I reset my password?", "How do I reset my password?"]
    assert np.array_equal(*embedding_model.encode(texts))  # the cache's reading: one question
    vectors, _, _ = embed(url, texts)
    assert not np.allclose(vectors[0], vectors[1])
    assert np.allclose(vectors, embedding_model.encode(texts, as_written=True), atol=1e-6)
