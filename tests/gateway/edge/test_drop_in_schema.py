"""The published document's request schemas for the routes beyond chat list exactly the fields their adapters
accept (gateway/protocols/): a field the adapter takes is documented, and a documented one is never a 400."""

from gateway.edge.openai_schema import openai_document
from gateway.protocols import anthropic_request, responses_request

DOCUMENT = openai_document()


def fields(path: str) -> set[str]:
    schema = DOCUMENT["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema["additionalProperties"] is False  # the adapters refuse unknown fields, so the schema does too
    return set(schema["properties"])


def test_request_schemas_list_the_adapters_fields():
    assert fields("/v1/responses") == {*responses_request.ANSWER_CHANGING_FIELDS, *responses_request.IGNORED_FIELDS}
    assert fields("/v1/messages") == {*anthropic_request.ANSWER_CHANGING_FIELDS, *anthropic_request.IGNORED_FIELDS}
    assert fields("/v1/messages/count_tokens") == set(anthropic_request.COUNT_TOKENS_FIELDS)
    assert fields("/v1/embeddings") == {"input", "model", "encoding_format", "dimensions", "user"}


def test_messages_routes_document_anthropic_errors_and_the_others_openai_errors():
    for path in ("/v1/messages", "/v1/messages/count_tokens"):
        assert DOCUMENT["paths"][path]["post"]["responses"]["400"]["content"]["application/json"]["schema"][
            "properties"]["type"] == {"const": "error"}
    for path, method in (("/v1/embeddings", "post"), ("/v1/responses", "post"), ("/v1/models/{model}", "get"),
                         ("/v1/responses/{response_id}", "delete")):
        error = DOCUMENT["paths"][path][method]["responses"]["404"]["content"]["application/json"]["schema"]
        assert error["required"] == ["error"]
