"""One measured request, and the JSONL file that holds a run's records."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Iterable


@dataclass
class RequestRecord:
    index: int
    scheduled_s: float  # when the arrival process wanted it sent, from the start of the run
    start_s: float  # when it was sent
    endpoint: str
    stream: bool
    question: str  # last user message, cut to 200 characters
    category: str | None = None  # the workload's label
    group: str | None = None  # the workload's duplicate-group label
    status: int | None = None  # HTTP status; None when no response came
    error: str | None = None  # cause, e.g. "http_503", "timeout", "incomplete_stream"; None = success
    ttft_s: float | None = None  # to the first content token (the whole answer when not streaming)
    e2e_s: float | None = None
    tpot_s: float | None = None  # mean time per output token after the first
    token_gaps_s: list[float] = field(default_factory=list)  # between consecutive content chunks
    prompt_tokens: int | None = None
    completion_tokens: int = 0
    finish_reason: str | None = None
    cache: str | None = None  # x-semgate-cache
    cache_category: str | None = None  # x-semgate-category
    similarity: float | None = None  # x-semgate-similarity
    answer_digest: str | None = None  # sha1 of the answer text: ties a cache hit to the miss that stored it
    answer_preview: str = ""
    slo: dict[str, float] | None = None
    slo_met: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def hit(self) -> bool:
        return self.cache == "hit"

    @property
    def label(self) -> str:
        """The category a report groups this request under."""
        return self.category or self.cache_category or "all"

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict) -> RequestRecord:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def write_records(path: Path, records: Iterable[RequestRecord]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(record.to_json() + "\n")


def read_records(path: Path) -> list[RequestRecord]:
    with path.open(encoding="utf-8") as lines:
        return [RequestRecord.from_dict(json.loads(line)) for line in lines if line.strip()]
