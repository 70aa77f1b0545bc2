"""`GET /v1/models/{id}`: the model object the SDK's `models.retrieve` reads, or OpenAI's 404."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gateway.protocols.errors import ProtocolError


@dataclass(frozen=True)
class ServedModel:
    id: str
    created: int  # Unix seconds; the gateway reports when it started serving the model
    owned_by: str


def model_object(model: ServedModel) -> dict[str, Any]:
    return {"id": model.id, "object": "model", "created": model.created, "owned_by": model.owned_by}


def model_not_found(model_id: str) -> ProtocolError:
    return ProtocolError(
        404, f"The model '{model_id}' does not exist or you do not have access to it.", "model", "model_not_found"
    )


def retrieve_model(served: Sequence[ServedModel], model_id: str) -> dict[str, Any]:
    """The object for `model_id` among the served models; a 404 ProtocolError for any other id."""
    for model in served:
        if model.id == model_id:
            return model_object(model)
    raise model_not_found(model_id)
