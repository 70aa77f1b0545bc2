"""`POST /v1/embeddings` body -> a validated request for one served embedding model.

Token arrays (`input` as lists of ints) are refused: they are ids of the client's tokenizer
(OpenAI's tiktoken), which a locally served model does not share, so reading them would embed
other words. `dimensions` shortens a vector only for a model trained so that its prefixes are
embeddings themselves (Matryoshka); MiniLM is not, so it serves its full 384 dimensions only.
`user` is end-user attribution and is accepted without effect.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.protocols.errors import check_fields, invalid, require_object, unsupported
from gateway.protocols.models import model_not_found

MAX_INPUTS = 2048  # OpenAI's limit on one request's batch


@dataclass(frozen=True)
class EmbeddingModelSpec:
    name: str
    dim: int
    matryoshka: bool = False  # a prefix of its vector, renormalised, is itself a good embedding


MINILM = EmbeddingModelSpec("all-MiniLM-L6-v2", 384)


@dataclass(frozen=True)
class EmbeddingsRequest:
    model: EmbeddingModelSpec
    texts: list[str]
    encoding_format: str  # "float" or "base64"
    dimensions: int


def parse_embeddings_request(body: Any, models: Mapping[str, EmbeddingModelSpec]) -> EmbeddingsRequest:
    body = require_object(body)
    check_fields(body, {"input", "model", "encoding_format", "dimensions", "user"})
    name = body.get("model")
    if not isinstance(name, str) or not name:
        raise invalid("'model' is required and must be a string.", "model")
    if name not in models:
        raise model_not_found(name)
    spec = models[name]
    texts = _texts(body.get("input"))
    encoding = body.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        raise invalid("'encoding_format' must be 'float' or 'base64'.", "encoding_format")
    dimensions = body.get("dimensions")
    if dimensions is None:
        dimensions = spec.dim
    if isinstance(dimensions, bool) or not isinstance(dimensions, int) or not 1 <= dimensions <= spec.dim:
        raise invalid(f"'dimensions' must be an integer from 1 to {spec.dim} for {spec.name}.", "dimensions")
    if dimensions != spec.dim and not spec.matryoshka:
        raise unsupported("dimensions", f"{spec.name} was not trained for shortened vectors; it serves {spec.dim}")
    return EmbeddingsRequest(spec, texts, encoding, dimensions)


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise invalid("'input' must be a non-empty string or a non-empty list of strings.", "input")
    if any(isinstance(item, int | list) for item in value):
        raise unsupported(
            "input",
            "token arrays are ids of the client's tokenizer, which the served model does not share; send the text",
        )
    if len(value) > MAX_INPUTS:
        raise invalid(f"'input' holds {len(value)} items; at most {MAX_INPUTS} are accepted.", "input")
    for i, text in enumerate(value):
        if not isinstance(text, str) or not text:
            raise invalid(f"input[{i}] must be a non-empty string.", f"input[{i}]")
    return value
