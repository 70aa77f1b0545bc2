"""Multi-category mix from CLINC150: 10 domains, each with its own repetition pattern.

As the category-aware caching paper describes, some categories repeat by a power law (a few
questions asked again and again: high hit rates) while others are near-uniform (conversation-like:
low hit rates). Each request's category is its domain and its duplicate group is its intent, so a
hit answered from another intent counts as a false hit (same-intent hits are not judged wrong,
which makes the CLINC false-hit rate a lower bound).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import numpy as np

from loadtest.workloads.evaldata import evaldata_file
from loadtest.workloads.sampling import ZipfSampler
from loadtest.workloads.spec import RequestSpec, WorkloadOptions

# Repetition-heavy task domains vs chatty, long-tail ones; the exponent is for Zipf over utterances.
POWER_LAW_DOMAINS = ("banking", "credit_cards", "auto_and_commute", "utility", "work")
NEAR_UNIFORM_EXPONENT = 0.2


def load_domains(clinc_path: Path, domains_path: Path, split: str) -> dict[str, list[tuple[str, str]]]:
    """domain → [(utterance, intent)], in file order."""
    data = json.loads(clinc_path.read_text(encoding="utf-8"))
    intents_by_domain: dict[str, list[str]] = json.loads(domains_path.read_text(encoding="utf-8"))
    domain_of = {intent: domain for domain, intents in intents_by_domain.items() for intent in intents}
    utterances: dict[str, list[tuple[str, str]]] = {domain: [] for domain in intents_by_domain}
    for text, intent in data[split]:
        if intent in domain_of:
            utterances[domain_of[intent]].append((text, intent))
    return {domain: rows for domain, rows in utterances.items() if rows}


def repetition_exponents(domains: list[str], power_law_s: float) -> dict[str, float]:
    return {d: power_law_s if d in POWER_LAW_DOMAINS else NEAR_UNIFORM_EXPONENT for d in domains}


class ClincCategoryMix:
    """Picks a domain uniformly, then an utterance by that domain's repetition pattern."""

    name = "clinc"

    def __init__(self, options: WorkloadOptions, split: str = "test") -> None:
        self.options = options
        clinc_path = options.path or evaldata_file("clinc150.json")
        self.domains = load_domains(clinc_path, clinc_path.with_name("clinc150_domains.json"), split)
        self.exponents = repetition_exponents(sorted(self.domains), options.zipf_s)

    def requests(self) -> Iterator[RequestSpec]:
        rng = np.random.default_rng(self.options.seed)
        names = sorted(self.domains)
        samplers = {d: ZipfSampler(self.domains[d], self.exponents[d], rng) for d in names}
        while True:
            domain = names[int(rng.integers(len(names)))]
            text, intent = samplers[domain].draw()
            yield RequestSpec(
                model=self.options.model,
                max_tokens=self.options.max_tokens,
                stream=self.options.stream,
                messages=({"role": "user", "content": text},),
                category=domain,
                group=f"clinc-{intent}",
                slo=self.options.slo,
            )
