"""Workload generators: each turns a seed into an endless stream of RequestSpecs."""

from __future__ import annotations

from typing import Callable

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
    return factory(options)


__all__ = ["SLO", "WORKLOADS", "RequestSpec", "Workload", "WorkloadOptions", "build_workload"]
