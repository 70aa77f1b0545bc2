"""What gateway.yaml says about POST /v1/embeddings (`embeddings:`): the local model's name and its bounds.

Read by gateway/config/ against these fields; used by gateway/edge/drop_in.py and embeddings_route.py.
"""

from dataclasses import dataclass

from policies.constraints import AT_LEAST_ONE, checked


@dataclass(frozen=True)
class EmbeddingsConfig:
    """POST /v1/embeddings served by the gateway's own MiniLM (gateway/edge/embeddings_route.py)."""

    model: str = checked("all-minilm-l6-v2", expects="a model name")  # the name clients ask for; "" serves none
    max_inputs: int = checked(256, AT_LEAST_ONE, "texts in one request")
    max_tokens: int = checked(65_536, AT_LEAST_ONE, "tokens of all of one request's texts, as the model reads them")
    cache_entries: int = checked(20_000, AT_LEAST_ONE, "cached vectors in all (exact cache, split by tenant)")
    cache_per_tenant: int = checked(5_000, AT_LEAST_ONE)
