"""GET /v1/models/{id} through the official openai SDK: `models.retrieve` reads every served model (the
upstreams', IC-Cache's routed names, the gateway's own embedding model) and raises NotFoundError otherwise."""

import httpx
import openai
import pytest
from gateway_setup import gateway_yaml

from gateway.app import build_app
from gateway.config import parse_config

TENANTS = "tenants: [{name: acme, api_key_env: MODELS_ACME_KEY}]\nembeddings: {model: minilm-local}\n"


@pytest.fixture
def url(serve, echo, monkeypatch) -> str:
    monkeypatch.setenv("MODELS_ACME_KEY", "sk-acme-models")
    return serve(build_app(parse_config(gateway_yaml(echo.url, TENANTS), "test.yaml"))).url


def sdk(url: str, key: str = "sk-acme-models") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)


def test_retrieve_reads_upstream_and_embedding_models(url):
    for model_id in ("echo-1", "minilm-local"):
        model = sdk(url).models.retrieve(model_id)
        assert (model.id, model.object, model.owned_by) == (model_id, "model", "semgate")
        assert model.created > 0
    assert {m.id for m in sdk(url).models.list()} == {"echo-1", "minilm-local"}


def test_an_unknown_model_is_not_found_in_openai_shape(url):
    with pytest.raises(openai.NotFoundError) as err:
        sdk(url).models.retrieve("gpt-nope")
    assert err.value.code == "model_not_found" and err.value.body["param"] == "model"
    with pytest.raises(openai.NotFoundError) as err:  # ids with a slash reach the lookup, not the unknown-URL 404
        sdk(url).models.retrieve("org/gpt-nope")
    assert err.value.code == "model_not_found"


def test_lookup_takes_a_tenant_key(url):
    with pytest.raises(openai.AuthenticationError):
        sdk(url, "sk-wrong").models.retrieve("echo-1")
    assert httpx.get(f"{url}/v1/models/echo-1").status_code == 401
