"""`GET /v1/models/{id}` as the openai SDK's `models.retrieve` reads it, and its 404 for other ids."""

import httpx2  # openai 3.x sends its requests through httpx2
import openai
import pytest

from gateway.protocols.errors import ProtocolError
from gateway.protocols.models import ServedModel, retrieve_model

SERVED = [ServedModel("smollm2-135m", 1765000000, "semgate"), ServedModel("all-MiniLM-L6-v2", 1765000000, "semgate")]


def client() -> openai.OpenAI:
    def handle(request: httpx2.Request) -> httpx2.Response:
        try:
            return httpx2.Response(200, json=retrieve_model(SERVED, request.url.path.removeprefix("/v1/models/")))
        except ProtocolError as error:
            return httpx2.Response(error.status, json=error.openai_body())

    return openai.OpenAI(
        base_url="http://semgate.test/v1",
        api_key="k",
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(handle)),
    )


def test_retrieve_a_served_model() -> None:
    model = client().models.retrieve("smollm2-135m")
    assert (model.id, model.object, model.created, model.owned_by) == ("smollm2-135m", "model", 1765000000, "semgate")


def test_unknown_model_is_openais_404() -> None:
    with pytest.raises(openai.NotFoundError) as raised:
        client().models.retrieve("gpt-4o")
    assert raised.value.code == "model_not_found" and "gpt-4o" in raised.value.message
    message = "The model 'gpt-4o' does not exist or you do not have access to it."
    assert raised.value.body == {
        "message": message,
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }
