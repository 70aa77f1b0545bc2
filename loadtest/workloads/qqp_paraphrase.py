"""Paraphrase stream from Quora Question Pairs: Zipf-popular duplicate groups, a random phrasing each time.

Questions linked by a `duplicate: true` pair (transitively) form one duplicate group; the group id is
the request's label, so a cache hit whose answer came from another group is a detectable false hit.
Non-duplicate pairs are kept too: they are topically close questions that must NOT share answers.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from loadtest.workloads.evaldata import evaldata_file
from loadtest.workloads.sampling import ZipfSampler
from loadtest.workloads.spec import RequestSpec, WorkloadOptions

def duplicate_groups(pairs: Iterable[tuple[str, str, bool]]) -> list[list[str]]:
    """Connected components of the `duplicate` relation, each a sorted list of distinct questions."""
    parent: dict[str, str] = {}

    def find(q: str) -> str:
        parent.setdefault(q, q)
        while parent[q] != q:
            parent[q] = parent[parent[q]]  # path halving keeps the trees shallow
            q = parent[q]
        return q

    for a, b, duplicate in pairs:
        root_a, root_b = find(a), find(b)
        if duplicate and root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)
    members: dict[str, list[str]] = {}
    for question in parent:
        members.setdefault(find(question), []).append(question)
    return sorted(sorted(group) for group in members.values())


def read_pairs(path: Path, split: str, limit: int) -> list[tuple[str, str, bool]]:
    pairs: list[tuple[str, str, bool]] = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if row["split"] == split and row["a"].strip() and row["b"].strip():
                pairs.append((row["a"].strip(), row["b"].strip(), bool(row["duplicate"])))
                if len(pairs) >= limit:
                    break
    return pairs


def paraphrase_pool(pairs: list[tuple[str, str, bool]]) -> list[list[str]]:
    """Groups with at least two phrasings, plus their hard negatives: groups a non-duplicate pair links to them."""
    groups = duplicate_groups(pairs)
    group_of = {q: i for i, group in enumerate(groups) for q in group}
    keep = {i for i, group in enumerate(groups) if len(group) > 1}
    negatives = {group_of[x] for a, b, duplicate in pairs if not duplicate
                 for x, other in ((a, b), (b, a)) if group_of[other] in keep}
    return [groups[i] for i in sorted(keep | negatives)]


class QQPParaphraseStream:
    """Each request picks a duplicate group by Zipf popularity, then one of its phrasings uniformly."""

    name = "qqp"

    def __init__(self, options: WorkloadOptions, split: str = "test", pairs: int = 5000) -> None:
        self.options = options
        self.groups = paraphrase_pool(read_pairs(options.path or evaldata_file("qqp_pairs.jsonl.gz"), split, pairs))
        if not self.groups:
            raise ValueError(f"no QQP duplicate pairs in split {split!r}")

    def requests(self) -> Iterator[RequestSpec]:
        rng = np.random.default_rng(self.options.seed)
        labelled = [(f"qqp-{i}", group) for i, group in enumerate(self.groups)]
        popularity = ZipfSampler(labelled, self.options.zipf_s, rng)
        while True:
            label, group = popularity.draw()
            question = group[int(rng.integers(len(group)))]
            yield RequestSpec(
                model=self.options.model,
                max_tokens=self.options.max_tokens,
                stream=self.options.stream,
                messages=({"role": "user", "content": question},),
                group=label,
                slo=self.options.slo,
            )
