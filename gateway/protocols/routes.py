"""The routes of the APIs served through adapters: Responses and Anthropic Messages.

`POST /v1/responses` and `POST /v1/messages` run through the one proxy (the lifespan state's `proxy`)
with their adapter; the stored responses (the lifespan state's `responses`) answer `GET` and
`DELETE /v1/responses/{id}` for their tenant only: another tenant's id is a 404 like an unknown one.
"""

from collections.abc import Callable, Sequence
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.edge.client_io import read_body
from gateway.edge.errors import OpenAIError
from gateway.edge.limits import Limits
from gateway.edge.request import Reception
from gateway.edge.wire import MESSAGES, RESPONSES, json_object
from gateway.incontext.settings import ModelConfig
from gateway.incontext.tokens import TEMPLATE_TOKENS_PER_MESSAGE, counter_for
from gateway.protocols.anthropic_response import count_tokens
from gateway.protocols.errors import ProtocolError
from gateway.protocols.messages_route import MessagesAdapter, anthropic_error
from gateway.protocols.response_store import ResponseStore, deleted_object, response_not_found
from gateway.protocols.responses_route import ResponsesAdapter


def protocol_routes(limits: Limits, models: Sequence[ModelConfig]) -> list[Route]:
    """`models`: the configured models, whose tokenizers count tokens for `/v1/messages/count_tokens`."""
    count_prompt = prompt_counter(models)

    async def responses(request: Request) -> Response:
        return await request.state.proxy.handle(request, RESPONSES, ResponsesAdapter(request.state.responses, limits))

    async def stored_response(request: Request) -> Response:
        store: ResponseStore = request.state.responses
        response_id = request.path_params["response_id"]
        try:
            tenant = _reception(request).resolver.resolve(request.headers)
        except OpenAIError as exc:
            return exc.response()
        if request.method == "DELETE":
            found = await store.delete(tenant, response_id)
            return _json(deleted_object(response_id)) if found else _not_found(response_id)
        record = await store.get(tenant, response_id)
        return _json(record.response) if record is not None else _not_found(response_id)

    async def messages(request: Request) -> Response:
        return await request.state.proxy.handle(request, MESSAGES, MessagesAdapter(limits))

    async def messages_count_tokens(request: Request) -> Response:
        reception = _reception(request)
        try:
            reception.resolver.resolve(request.headers, x_api_key=True)
            body = json_object(await read_body(request, limits.max_body_bytes))
            model = body.get("model")
            if isinstance(model, str):  # a model nobody serves is a 404, as on /v1/messages
                await reception.pool.resolve(reception.served_model(model))
            return _json(count_tokens(body, count_prompt))
        except ProtocolError as exc:
            return anthropic_error(exc.as_openai())
        except OpenAIError as exc:
            return anthropic_error(exc)

    return [
        Route("/v1/responses", responses, methods=["POST"]),
        Route("/v1/responses/{response_id}", stored_response, methods=["GET", "DELETE"]),
        Route("/v1/messages", messages, methods=["POST"]),
        Route("/v1/messages/count_tokens", messages_count_tokens, methods=["POST"]),
    ]


def prompt_counter(models: Sequence[ModelConfig]) -> Callable[[dict[str, Any]], int]:
    """Tokens of a chat body's prompt: with the model's tokenizer.json when the config names one
    (`models[].tokenizer`), else the conservative estimate (gateway/incontext/tokens.py); each message
    adds its chat template's role markers, tools their JSON."""
    tokenizers = {m.name: m.tokenizer for m in models}

    def count(chat: dict[str, Any]) -> int:
        counter = counter_for(tokenizers.get(chat["model"]))
        total = 0
        for message in chat["messages"]:
            content = message.get("content")
            text = content if isinstance(content, str) else orjson.dumps(content).decode() if content else ""
            calls = message.get("tool_calls")
            total += counter.count(text) + TEMPLATE_TOKENS_PER_MESSAGE
            total += counter.count(orjson.dumps(calls).decode()) if calls else 0
        return total + (counter.count(orjson.dumps(chat["tools"]).decode()) if chat.get("tools") else 0)

    return count


def _reception(request: Request) -> Reception:
    reception: Reception = request.state.proxy.reception
    return reception


def _not_found(response_id: str) -> Response:
    return _json(response_not_found(response_id).openai_body(), 404)


def _json(obj: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(obj), status_code=status, media_type="application/json")
