"""How one request wants its tokens chosen and when it wants them to stop."""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gpu_backend.errors import InvalidRequest

if TYPE_CHECKING:
    from gpu_backend.engine.grammar import CompiledGrammar


@dataclass(frozen=True)
class SamplingParams:
    # None: the engine's default bound (EngineConfig.default_max_tokens). Counts output tokens only.
    max_tokens: int | None = 16
    # 0 means greedy (argmax); the OpenAI default is 1.
    temperature: float = 1.0
    # 0 keeps only the most likely token, as the OpenAI API treats it.
    top_p: float = 1.0
    # 0 disables top-k.
    top_k: int = 0
    # Same seed, same prompt, same params -> same tokens, whatever else shares the batch.
    seed: int | None = None
    # Generation stops before any of these strings; the string itself is not returned.
    stop: tuple[str, ...] = ()
    # Token ids that end generation besides EOS; they are not part of the text.
    stop_token_ids: tuple[int, ...] = ()
    # Benchmarks want a fixed number of tokens whatever the model says.
    ignore_eos: bool = False
    # Caller-supplied prefix-cache namespace (e.g. a tenant): requests only share KV
    # with requests carrying the same salt.
    cache_salt: str = field(default="", compare=False)
    # Constrained decoding: every token must keep the output inside this grammar (engine/grammar.py).
    grammar: "CompiledGrammar | None" = field(default=None, compare=False)
    # None: no log probabilities; k >= 0: each sampled token's, with the k most likely alternatives.
    logprobs: int | None = None

    def __post_init__(self) -> None:
        if self.max_tokens is not None and self.max_tokens < 1:
            raise InvalidRequest(f"max_tokens must be at least 1, got {self.max_tokens}")
        if self.temperature < 0:
            raise InvalidRequest(f"temperature must be non-negative, got {self.temperature}")
        if not 0 <= self.top_p <= 1:
            raise InvalidRequest(f"top_p must be in [0, 1], got {self.top_p}")
        if self.top_k < 0:
            raise InvalidRequest(f"top_k must be non-negative (0 disables it), got {self.top_k}")
        if self.logprobs is not None and not 0 <= self.logprobs <= 20:
            raise InvalidRequest(f"logprobs must be in [0, 20], got {self.logprobs}")
        if any(not s for s in self.stop):
            raise InvalidRequest("stop strings must not be empty")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0 or self.top_k == 1 or self.top_p == 0
