"""GET /v1/models and GET /v1/models/{id}: the models a tenant may ask for, as `models.list`/`retrieve` read them.

The served set is what the upstreams serve, the names IC-Cache routes between, and the embedding model the
gateway serves itself. Both routes take a tenant key like every /v1 route, so nobody without one learns
what is deployed; an id outside the set is OpenAI's 404 `model_not_found`.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import orjson
from starlette.requests import Request
from starlette.responses import Response

from gateway.edge.auth import TenantResolver
from gateway.edge.errors import OpenAIError
from gateway.protocols.errors import ProtocolError
from gateway.protocols.models import ServedModel, model_object, retrieve_model

OWNER = "semgate"


@dataclass(frozen=True)
class ServedModels:
    resolver: TenantResolver
    names: Callable[[], Iterable[str]]  # the models to chat with, read per request: upstreams discovered later join
    started: int  # Unix seconds: each model's `created`, when the gateway started serving it
    # Listed after the chat models (the gateway's own embedding model): a client that takes the first listed
    # model, as `semgate loadtest` does, gets one it can chat with.
    embedding: tuple[str, ...] = ()

    def served(self) -> list[ServedModel]:
        chat = sorted(set(self.names()) - set(self.embedding))
        return [ServedModel(name, self.started, OWNER) for name in [*chat, *self.embedding]]

    async def list(self, request: Request) -> Response:
        try:
            self.resolver.resolve(request.headers)
        except OpenAIError as exc:
            return exc.response()
        return _json({"object": "list", "data": [model_object(m) for m in self.served()]})

    async def retrieve(self, request: Request) -> Response:
        try:
            self.resolver.resolve(request.headers)
            return _json(retrieve_model(self.served(), request.path_params["model"]))
        except OpenAIError as exc:
            return exc.response()
        except ProtocolError as exc:
            return _json(exc.openai_body(), exc.status)


def _json(obj: dict, status: int = 200) -> Response:
    return Response(orjson.dumps(obj), status_code=status, media_type="application/json")
