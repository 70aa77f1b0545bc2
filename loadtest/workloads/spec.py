"""What a workload yields: one request to send, with the labels needed to judge its answer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Protocol


@dataclass(frozen=True)
class SLO:
    """Per-request service-level objective; a bound left as None is not checked."""

    ttft_s: float | None = None
    tpot_s: float | None = None
    e2e_s: float | None = None

    def met_by(self, ttft_s: float | None, tpot_s: float | None, e2e_s: float | None) -> bool:
        checks = ((self.ttft_s, ttft_s), (self.tpot_s, tpot_s), (self.e2e_s, e2e_s))
        # A measured value that is missing (e.g. TPOT of a one-token answer) cannot break its bound.
        return all(bound is None or value is None or value <= bound for bound, value in checks)

    def to_dict(self) -> dict[str, float]:
        return {k: v for k, v in (("ttft_s", self.ttft_s), ("tpot_s", self.tpot_s), ("e2e_s", self.e2e_s)) if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, float] | None) -> SLO | None:
        if not data:
            return None
        return cls(ttft_s=data.get("ttft_s"), tpot_s=data.get("tpot_s"), e2e_s=data.get("e2e_s"))


@dataclass(frozen=True)
class RequestSpec:
    """One request: either chat `messages` (→ /v1/chat/completions) or a `prompt` (→ /v1/completions).

    `category` is the workload's own category label; `group` is a duplicate-group label: two requests
    may share an answer only when their groups are equal (None means "no label, cannot judge").
    """

    model: str
    max_tokens: int
    stream: bool
    messages: tuple[dict[str, str], ...] = ()
    prompt: str | None = None
    category: str | None = None
    group: str | None = None
    slo: SLO | None = None

    @property
    def endpoint(self) -> str:
        return "/v1/completions" if self.prompt is not None else "/v1/chat/completions"

    @property
    def question(self) -> str:
        """The text a semantic cache embeds: the last user message (or the prompt)."""
        if self.prompt is not None:
            return self.prompt
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return message.get("content", "")
        return ""

    def body(self) -> dict:
        body: dict = {"model": self.model, "max_tokens": self.max_tokens, "stream": self.stream}
        if self.prompt is not None:
            body["prompt"] = self.prompt
        else:
            body["messages"] = [dict(m) for m in self.messages]
        if self.stream:
            # Lets the runner read exact token counts instead of counting chunks.
            body["stream_options"] = {"include_usage": True}
        return body


@dataclass(frozen=True)
class WorkloadOptions:
    """Settings shared by every workload; `path` is the data file where a workload takes one."""

    model: str
    seed: int = 0
    max_tokens: int = 64
    stream: bool = True
    slo: SLO | None = None
    path: Path | None = None
    # Exponent of the power law over repeated items (0 = uniform); workloads with repetition use it.
    zipf_s: float = 1.1
    # Prepended to every chat request that has no system message of its own (e.g. "answer briefly",
    # so a small model finishes within max_tokens and its answers are complete, hence cacheable).
    system_prompt: str | None = None


class Workload(Protocol):
    name: str

    def requests(self) -> Iterator[RequestSpec]:
        """An endless, seeded stream of requests (the runner bounds it in count and time)."""
        ...
