"""What gateway.yaml says about IC-Cache: the routable models and the in-context settings.

Read and validated by gateway/config/ (`models:` and `incontext:`) against these fields and their
constraints; kept here so the in-context package owns its own knobs.
"""

from dataclasses import dataclass, field
from typing import Any

from policies.constraints import AT_LEAST_ONE, NON_NEGATIVE, POSITIVE, UNIT, OneOf, checked

STRONG, SMALL = "strong", "small"
TIERS = (STRONG, SMALL)


@dataclass(frozen=True)
class ModelConfig:
    """A model the router may send a request to."""

    name: str  # what clients ask for and what `x-semgate-model` pins
    # "strong": its answers become examples; "small": it gets examples
    tier: str = field(metadata={"check": OneOf(TIERS)})
    # Relative price per 1000 tokens (prompt + completion); only ratios between models matter.
    cost_per_1k_tokens: float = checked(1.0, NON_NEGATIVE)
    # The model name sent upstream (default: `name`); two entries may serve one upstream model
    # with different generation settings.
    serves: str | None = None
    # Generation settings for requests routed to it that do not set them (e.g. {temperature: 0});
    # a request's own settings are always kept.
    params: dict[str, Any] = field(default_factory=dict, compare=False)
    # Requests in flight at which its load reads as saturated (with its upstream's own load).
    capacity: int = checked(8, AT_LEAST_ONE)
    # A Hugging Face tokenizer.json for exact token counts; without it a conservative estimate.
    tokenizer: str | None = None

    @property
    def upstream_model(self) -> str:
        return self.serves or self.name


@dataclass(frozen=True)
class RouterWeights:
    """score(model) = expected quality - cost_weight * relative cost - load_weight * load."""

    cost_weight: float = checked(0.2, NON_NEGATIVE)
    load_weight: float = checked(0.5, NON_NEGATIVE)
    exploration: float = checked(
        0.05, NON_NEGATIVE, "UCB bonus scale: how much an untried (model, context) is worth trying"
    )


@dataclass(frozen=True)
class InContextConfig:
    enabled: bool = True
    min_similarity: float = checked(0.5, UNIT, "candidates less similar to the question are not examples")
    duplicate_similarity: float = checked(0.95, UNIT, "an example this close to an already chosen one adds nothing")
    min_utility: float = checked(-1.0, None, "examples whose utility fell below this are not used (replay prunes)")
    reask_window_s: float = checked(
        30.0, POSITIVE, "a near-identical question from the same tenant this soon: negative feedback"
    )
    reask_similarity: float = checked(0.92, UNIT)
    # Example boundaries go upstream in the body field `semgate_examples` (servers that do not know
    # it ignore it: vLLM, SGLang, llama.cpp, the bundled backend). Turn off for strict APIs.
    mark_examples: bool = True
    router: RouterWeights = RouterWeights()
