"""One request as the engine sees it: its tokens, its KV blocks, its progress and timing."""

import enum
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gpu_backend.engine.sampling_params import SamplingParams
from gpu_backend.engine.slo import RequestSLO
from gpu_backend.errors import InvalidRequest
from gpu_backend.kv import RadixNode

if TYPE_CHECKING:  # both modules import this one
    from gpu_backend.engine.block_manager import HostFetch
    from gpu_backend.engine.swapper import SwappedKV


class SequenceStatus(enum.Enum):
    WAITING = "waiting"  # queued, or preempted and queued again; holds no KV blocks
    RUNNING = "running"  # admitted: has blocks, gets new tokens computed every step it is scheduled
    FINISHED = "finished"


class FinishReason(str, enum.Enum):  # noqa: UP042 - a StrEnum would change str() and format() of members
    STOP = "stop"  # EOS, a stop token or a stop string
    LENGTH = "length"  # max_tokens, or the model's context is full
    ABORT = "abort"  # cancelled by the caller (e.g. the client went away)


@dataclass(eq=False)
class Sequence:
    seq_id: int
    prompt_token_ids: list[int]
    params: SamplingParams
    arrival_time: float = field(default_factory=time.monotonic)
    slo: RequestSLO = field(default_factory=RequestSLO)
    # Who is served (fair-share accounting); "" for all untagged requests together.
    tenant: str = ""
    status: SequenceStatus = SequenceStatus.WAITING
    # Prompt followed by every token generated so far.
    token_ids: list[int] = field(init=False)
    # Tokens whose K/V are in the pool. The newest sampled token never is: the next
    # step computes it. Preemption resets this to 0 (recompute).
    num_computed_tokens: int = 0
    # Of the prompt, the tokens the prefix cache supplied at the latest admission.
    num_cached_tokens: int = 0
    block_table: list[int] = field(default_factory=list)
    # Radix node this sequence holds locked (its cached prefix), or None.
    cache_handle: RadixNode | None = None
    finish_reason: FinishReason | None = None
    first_token_time: float | None = None
    finish_time: float | None = None
    num_preemptions: int = 0
    # Set while preempted by swapping: where its KV waits on the host.
    swapped: "SwappedKV | None" = None
    # Set while its cached prefix is fetched from the prefix cache's host tier.
    host_fetch: "HostFetch | None" = None
    # KVShare (gpu_backend/kvshare): token spans of the prompt's reusable chunks, and after a
    # blended prefill the leading tokens whose KV is exact (only those go into the prefix cache).
    chunk_spans: list[tuple[int, int]] = field(default_factory=list)
    num_exact_tokens: int | None = None

    def __post_init__(self) -> None:
        if not self.prompt_token_ids:
            raise InvalidRequest("a prompt needs at least one token")
        self.token_ids = list(self.prompt_token_ids)

    @property
    def num_tokens(self) -> int:
        return len(self.token_ids)

    @property
    def num_prompt_tokens(self) -> int:
        return len(self.prompt_token_ids)

    @property
    def num_output_tokens(self) -> int:
        return len(self.token_ids) - len(self.prompt_token_ids)

    @property
    def output_token_ids(self) -> list[int]:
        return self.token_ids[len(self.prompt_token_ids) :]

    @property
    def num_pending_tokens(self) -> int:
        """Tokens still to run through the model before the next one can be sampled."""
        return len(self.token_ids) - self.num_computed_tokens

    @property
    def is_finished(self) -> bool:
        return self.status is SequenceStatus.FINISHED

    def append_token(self, token_id: int, now: float) -> None:
        self.token_ids.append(token_id)
        if self.first_token_time is None:
            self.first_token_time = now

    def finish(self, reason: FinishReason, now: float) -> None:
        self.status = SequenceStatus.FINISHED
        self.finish_reason = reason
        self.finish_time = now

    @property
    def ttft(self) -> float | None:
        """Seconds from arrival to the first output token."""
        return None if self.first_token_time is None else self.first_token_time - self.arrival_time

    @property
    def tpot(self) -> float | None:
        """Mean seconds per output token after the first."""
        if self.finish_time is None or self.first_token_time is None or self.num_output_tokens < 2:
            return None
        return (self.finish_time - self.first_token_time) / (self.num_output_tokens - 1)
