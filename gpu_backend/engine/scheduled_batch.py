"""One step's work: which sequences run and how many of their tokens each."""

from dataclasses import dataclass

from gpu_backend.engine.sequence import Sequence


@dataclass
class ScheduledBatch:
    seqs: list[Sequence]
    num_new_tokens: list[int]  # per sequence, in the same order

    @property
    def is_prefill(self) -> bool:
        return any(n > 1 for n in self.num_new_tokens)

    @property
    def num_tokens(self) -> int:
        return sum(self.num_new_tokens)
