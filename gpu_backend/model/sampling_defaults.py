"""The sampling settings used when a request leaves them out, per model.

The OpenAI API's defaults (temperature 1, top_p 1) suit large models. A small model sampled
at temperature 1 mostly rambles, so servers take the publisher's settings instead when a
request omits them (vLLM reads generation_config.json). Ours come, first found first: the
command line, the model file (GGUF `general.sampling.*`, a HF folder's generation_config.json),
semgate's choice for a packaged model, the OpenAI defaults.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from gpu_backend.errors import InvalidConfig


@dataclass(frozen=True)
class SamplingDefaults:
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0  # 0: off
    source: str = "OpenAI defaults"

    def __post_init__(self) -> None:
        if not (isinstance(self.temperature, (int, float)) and 0 <= self.temperature <= 2):
            raise InvalidConfig(f"default temperature must lie in [0, 2], got {self.temperature!r}")
        if not (isinstance(self.top_p, (int, float)) and 0 < self.top_p <= 1):
            raise InvalidConfig(f"default top_p must lie in (0, 1], got {self.top_p!r}")
        if not (isinstance(self.top_k, int) and self.top_k >= 0):
            raise InvalidConfig(f"default top_k must be 0 (off) or positive, got {self.top_k!r}")

    def overridden(
        self, source: str, temperature: float | None = None, top_p: float | None = None, top_k: int | None = None
    ) -> SamplingDefaults:
        """These defaults with the given settings replaced (None: kept); unchanged when none is given."""
        settings: dict[str, Any] = {"temperature": temperature, "top_p": top_p, "top_k": top_k}
        given = {k: v for k, v in settings.items() if v is not None}
        if not given:
            return self
        try:
            return replace(self, **given, source=source)
        except ValueError as error:
            raise InvalidConfig(f"{source}: {error}") from None

    def describe(self) -> str:
        sampling = "greedy" if self.temperature == 0 else f"temperature {self.temperature:g}, top_p {self.top_p:g}"
        top_k = f", top_k {self.top_k}" if self.top_k and self.temperature else ""
        return f"{sampling}{top_k} ({self.source})"


def from_gguf_metadata(metadata: dict[str, Any], base: SamplingDefaults) -> SamplingDefaults:
    """`base` with the GGUF file's recommended sampling (`general.sampling.temp/top_p/top_k`) applied."""
    keys = ("general.sampling.temp", "general.sampling.top_p", "general.sampling.top_k")
    return _recommended(base, "the GGUF file's general.sampling", *(metadata.get(k) for k in keys))


def from_generation_config(config: dict[str, Any], base: SamplingDefaults) -> SamplingDefaults:
    """`base` with generation_config.json's temperature / top_p / top_k applied (what vLLM reads)."""
    return _recommended(base, "generation_config.json", *(config.get(k) for k in ("temperature", "top_p", "top_k")))


def _recommended(base: SamplingDefaults, source: str, temperature: Any, top_p: Any, top_k: Any) -> SamplingDefaults:
    """`base` with a model file's values applied; values of the wrong type are ignored."""
    return base.overridden(source, temperature=_finite(temperature), top_p=_finite(top_p), top_k=_whole(top_k))


def _finite(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
