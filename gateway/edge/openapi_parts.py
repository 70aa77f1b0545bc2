"""The pieces every operation of the OpenAI routes' OpenAPI document is built from.

gateway/edge/openai_schema.py (chat, completions, model list) and gateway/edge/drop_in_schema.py (the routes
beyond chat) describe their operations with these, so a JSON answer, a POST with a JSON body and the model
object read the same on every route.
"""

from typing import Any

Schema = dict[str, Any]

MODEL_OBJECT: Schema = {
    "type": "object",
    "required": ["id", "object"],
    "properties": {
        "id": {"type": "string"},
        "object": {"const": "model"},
        "created": {"type": "integer"},
        "owned_by": {"type": "string"},
    },
}


def json_response(description: str, schema: Schema) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def post_operation(
    operation_id: str,
    summary: str,
    request: Schema,
    answer: Schema,
    streamed: tuple[str, Schema],
    errors: dict[str, Any],
) -> dict[str, Any]:
    """A POST taking `request` as its JSON body; `answer` is the JSON answer, `streamed` the description of the
    200 answer and the schema of one server-sent event when the client asks for a stream; `errors`: the error
    responses by status."""
    description, event = streamed
    ok = json_response(description, answer)
    ok["content"]["text/event-stream"] = {"schema": event}
    return {
        "operationId": operation_id,
        "summary": summary,
        "requestBody": {"required": True, "content": {"application/json": {"schema": request}}},
        "responses": {"200": ok, **errors},
    }
