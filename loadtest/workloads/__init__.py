"""Workload generators: each turns a seed into an endless stream of RequestSpecs."""

from __future__ import annotations

import dataclasses
from typing import Callable, Iterator

from loadtest.workloads.clinc_mix import ClincCategoryMix
from loadtest.workloads.jsonl_file import JsonlFileReplay
from loadtest.workloads.multi_turn import MultiTurnConversations
from loadtest.workloads.qqp_paraphrase import QQPParaphraseStream
from loadtest.workloads.sharegpt import ShareGPTReplay
from loadtest.workloads.spec import SLO, RequestSpec, Workload, WorkloadOptions

WORKLOADS: dict[str, Callable[[WorkloadOptions], Workload]] = {
    "sharegpt": ShareGPTReplay,
    "qqp": QQPParaphraseStream,
    "clinc": ClincCategoryMix,
    "multiturn": MultiTurnConversations,
    "jsonl": JsonlFileReplay,
}


def build_workload(name: str, options: WorkloadOptions) -> Workload:
    try:
        factory = WORKLOADS[name]
    except KeyError:
        raise ValueError(f"unknown workload {name!r}; choose from {sorted(WORKLOADS)}") from None
    workload = factory(options)
    return WithSystemPrompt(workload, options.system_prompt) if options.system_prompt else workload


class WithSystemPrompt:
    """Puts a system message first in every chat request that has none."""

    def __init__(self, inner: Workload, system_prompt: str) -> None:
        self.inner, self.system_prompt = inner, system_prompt
        self.name = inner.name

    def requests(self) -> Iterator[RequestSpec]:
        system = {"role": "system", "content": self.system_prompt}
        for spec in self.inner.requests():
            if spec.prompt is None and not any(m.get("role") == "system" for m in spec.messages):
                spec = dataclasses.replace(spec, messages=(system, *spec.messages))
            yield spec


__all__ = ["SLO", "WORKLOADS", "RequestSpec", "Workload", "WorkloadOptions", "build_workload"]
