"""A user's own requests: one JSON object per line, replayed in file order (repeated when the run needs more).

    {"messages": [{"role": "user", "content": "..."}], "max_tokens": 64, "stream": true,
     "model": "...", "category": "billing", "group": "refund-howto", "slo": {"ttft_s": 0.5, "e2e_s": 5}}
    {"prompt": "Once upon a time"}

Only `messages` or `prompt` is required; other fields default to the command-line settings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from loadtest.workloads.spec import SLO, RequestSpec, WorkloadOptions

_FIELDS = {"messages", "prompt", "model", "max_tokens", "stream", "category", "group", "slo"}


def parse_request(row: object, options: WorkloadOptions, where: str) -> RequestSpec:
    if not isinstance(row, dict):
        raise ValueError(f"{where}: expected a JSON object")
    unknown = set(row) - _FIELDS
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(_FIELDS)}")
    messages, prompt = row.get("messages"), row.get("prompt")
    if (messages is None) == (prompt is None):
        raise ValueError(f"{where}: give exactly one of 'messages' or 'prompt'")
    if messages is not None and not (
        isinstance(messages, list) and messages
        and all(isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str) for m in messages)
    ):
        raise ValueError(f"{where}: 'messages' must be a non-empty list of {{role, content}} strings")
    if prompt is not None and not isinstance(prompt, str):
        raise ValueError(f"{where}: 'prompt' must be a string")
    return RequestSpec(
        model=str(row.get("model", options.model)),
        max_tokens=int(row.get("max_tokens", options.max_tokens)),
        stream=bool(row.get("stream", options.stream)),
        messages=tuple({"role": m["role"], "content": m["content"]} for m in messages or ()),
        prompt=prompt,
        category=row.get("category"),
        group=row.get("group"),
        slo=SLO.from_dict(row.get("slo")) or options.slo,
    )


def read_requests(path: Path, options: WorkloadOptions) -> list[RequestSpec]:
    specs = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path}:{number}: not JSON ({error.msg})") from None
                specs.append(parse_request(row, options, f"{path}:{number}"))
    if not specs:
        raise ValueError(f"{path}: no requests")
    return specs


class JsonlFileReplay:
    name = "jsonl"

    def __init__(self, options: WorkloadOptions) -> None:
        if options.path is None:
            raise ValueError("the jsonl workload needs a file (--workload-file PATH)")
        self.options = options
        self.specs = read_requests(options.path, options)

    def requests(self) -> Iterator[RequestSpec]:
        while True:
            yield from self.specs
