"""The engine: requests in, token and text deltas out, one step at a time.

A step is schedule -> run -> postprocess: the scheduler picks sequences and token
counts, the model runner computes their logits, and postprocess samples, appends,
detokenizes, checks stop conditions and lets finished sequences go.

Not thread-safe: one thread drives it (AsyncEngine runs it on its own thread).
"""

import dataclasses
import functools
import itertools
import logging
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

import torch

from gpu_backend.engine.block_manager import BlockManager
from gpu_backend.engine.config import EngineConfig
from gpu_backend.engine.fairness import FairShareOff, TenantAccounting
from gpu_backend.engine.fork import fork_prefilled
from gpu_backend.engine.grammar import GrammarCompiler, GrammarMatcher, TokenMasker
from gpu_backend.engine.logprobs import TokenLogprob, token_logprobs
from gpu_backend.engine.model_runner import StepRunner
from gpu_backend.engine.output_text import OutputText
from gpu_backend.engine.repetition import loop_period
from gpu_backend.engine.sampler import Sampler
from gpu_backend.engine.sampling_params import SamplingParams
from gpu_backend.engine.scheduler import ScheduledBatch, Scheduler
from gpu_backend.engine.sequence import FinishReason, Sequence
from gpu_backend.engine.slo import RequestSLO
from gpu_backend.engine.stats import EngineStats
from gpu_backend.errors import InvalidRequest, SchedulingError
from gpu_backend.kv import HostKVPool, KVPool
from gpu_backend.model import LlamaModel, Tokenizer

log = logging.getLogger(__name__)


@dataclass
class RequestOutput:
    """What one step produced for one request (deltas since its previous output)."""

    seq_id: int
    new_token_ids: list[int]
    new_text: str
    finished: bool
    finish_reason: FinishReason | None
    num_prompt_tokens: int
    num_output_tokens: int
    num_cached_tokens: int
    # One per new token when the request asked for logprobs, else empty.
    logprobs: list[TokenLogprob] = dataclasses.field(default_factory=list)


@dataclass
class Completion:
    """A finished request, as `LLMEngine.generate` returns it."""

    seq_id: int
    token_ids: list[int]
    text: str
    finish_reason: FinishReason
    num_prompt_tokens: int
    num_cached_tokens: int
    num_preemptions: int
    ttft: float | None
    tpot: float | None


@dataclass
class _Request:
    seq: Sequence
    text: OutputText
    generator: torch.Generator | None
    max_tokens: int
    bounded_by_default: bool  # the request set no max_tokens
    matcher: GrammarMatcher | None = None  # constrained decoding (params.grammar)
    # Further samples of this prompt (seq id, params), forked once its prompt is prefilled.
    siblings: list[tuple[int, SamplingParams]] = dataclasses.field(default_factory=list)


@dataclass
class EngineParts:
    """What an engine is made of; gpu_backend/build.py makes them from an EngineConfig."""

    pool: KVPool
    host_pool: HostKVPool | None  # swap preemption and the prefix cache's host tier share it
    block_manager: BlockManager
    scheduler: Scheduler
    runner: StepRunner  # ModelRunner, or KVShare's runner around it
    fairness: TenantAccounting | FairShareOff  # per-tenant accounting, for /admin/tenants


class LLMEngine:
    def __init__(self, model: LlamaModel, tokenizer: Tokenizer, config: EngineConfig, parts: EngineParts) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        self.pool = parts.pool
        self.host_pool = parts.host_pool
        self.block_manager = parts.block_manager
        # The prefix cache's host tier, or None (its stats: host_tier.host_stats).
        self.host_tier = self.block_manager.host_tier
        self.scheduler = parts.scheduler
        self.runner = parts.runner
        self.fairness = parts.fairness
        self.sampler = Sampler()
        self.masker = TokenMasker(model.config.vocab_size)
        self.stats = EngineStats()
        # A sequence must fit in the model's positions and, alone, in the pool.
        self.max_model_len = min(model.config.max_position, self.pool.num_blocks * self.pool.block_size)
        self._eos_ids = frozenset(tokenizer.stop_ids) | (
            frozenset() if tokenizer.eos_id is None else frozenset([tokenizer.eos_id])
        )
        self._requests: dict[int, _Request] = {}
        self._ids = itertools.count()

    @functools.cached_property
    def grammars(self) -> GrammarCompiler:
        """Compiles `response_format` grammars for this tokenizer (built on first use: it reads the
        whole vocabulary). Thread-safe, so the server compiles off the engine thread."""
        return GrammarCompiler(self.tokenizer, self.model.config.vocab_size, sorted(self._eos_ids))

    def check_request(self, prompt_token_ids: list[int], params: SamplingParams) -> None:
        """Raise InvalidRequest if the request can never run (safe to call from any thread)."""
        if not prompt_token_ids:
            raise InvalidRequest("the prompt is empty")
        if len(prompt_token_ids) >= self.max_model_len:
            raise InvalidRequest(
                f"the prompt has {len(prompt_token_ids)} tokens; this backend holds at most "
                f"{self.max_model_len} tokens per sequence (prompt and output together)"
            )
        vocab = self.model.config.vocab_size
        if min(prompt_token_ids) < 0 or max(prompt_token_ids) >= vocab:
            raise InvalidRequest(f"prompt token ids must lie in [0, {vocab})")
        if any(not 0 <= t < vocab for t in params.stop_token_ids):
            raise InvalidRequest(f"stop token ids must lie in [0, {vocab})")

    def new_seq_id(self) -> int:
        """A fresh request id (safe to call from any thread: the counter's step is atomic)."""
        return next(self._ids)

    def add_request(
        self,
        prompt_token_ids: list[int],
        params: SamplingParams,
        seq_id: int | None = None,
        slo: RequestSLO | None = None,
        tenant: str = "",
        chunk_spans: list[tuple[int, int]] | None = None,
        siblings: Collection[tuple[int, SamplingParams]] = (),
    ) -> Sequence:
        """`chunk_spans`: token spans of reusable chunks (read by KVShare's runner; unread without it).
        `siblings`: further samples of the same prompt, (seq id, params) each, which share this
        request's prefill (engine/fork.py)."""
        self.check_request(prompt_token_ids, params)
        for _, sibling_params in siblings:
            self.check_request(prompt_token_ids, sibling_params)
        bounded = params.max_tokens is None
        seq_id = self.new_seq_id() if seq_id is None else seq_id
        seq = Sequence(
            seq_id,
            list(prompt_token_ids),
            self._bounded(params, len(prompt_token_ids)),
            slo=slo or RequestSLO(),
            tenant=tenant,
        )
        if chunk_spans:
            seq.chunk_spans = [(s, e) for s, e in chunk_spans if 0 <= s < e <= len(prompt_token_ids)]
        self._register(seq, bounded).siblings = list(siblings)
        self.stats.prompt_tokens += seq.num_prompt_tokens  # once for all samples, as OpenAI counts it
        self.scheduler.add(seq)
        return seq

    def _bounded(self, params: SamplingParams, num_prompt_tokens: int) -> SamplingParams:
        """`params` with a real max_tokens: the scheduler's length estimates read the bound from them."""
        if params.max_tokens is not None:
            return params
        room = self.max_model_len - num_prompt_tokens
        return dataclasses.replace(params, max_tokens=min(self.config.default_max_tokens or room, room))

    def _register(self, seq: Sequence, bounded_by_default: bool) -> _Request:
        params = seq.params
        generator = None if params.seed is None else torch.Generator(self.pool.k_cache.device).manual_seed(params.seed)
        matcher = None if params.grammar is None else GrammarMatcher(params.grammar)
        room = self.max_model_len - seq.num_prompt_tokens
        max_tokens = room if params.max_tokens is None else min(params.max_tokens, room)
        request = _Request(
            seq,
            OutputText(self.tokenizer.detokenizer(), params.stop),
            generator,
            max_tokens,
            bounded_by_default,
            matcher,
        )
        self._requests[seq.seq_id] = request
        return request

    def abort(self, seq_id: int) -> RequestOutput | None:
        """Cancel a request; its blocks go back to the pool. None if it is not active."""
        request = self._requests.pop(seq_id, None)
        if request is None:
            for other in self._requests.values():  # a sample not yet forked: it never runs
                other.siblings = [(i, p) for i, p in other.siblings if i != seq_id]
            return None
        self.scheduler.finish(request.seq, FinishReason.ABORT)
        if request.siblings:  # the samples waiting on this prefill go on without it
            seq = request.seq
            (next_id, params), *rest = request.siblings
            self.add_request(seq.prompt_token_ids, params, next_id, seq.slo, seq.tenant, siblings=rest)
        self.stats.aborted_requests += 1
        return self._output(request, [], finished=True)

    @property
    def reuses_chunks(self) -> bool:
        """Whether requests' chunk spans are read (KVShare on): else the server need not compute them."""
        return self.runner.reuses_chunks

    def has_unfinished(self) -> bool:
        return self.scheduler.has_work()

    def step(self) -> list[RequestOutput]:
        batch = self.scheduler.schedule()
        if batch is None:
            return []
        started = time.perf_counter()
        logits = self.runner.run(batch)
        outputs = self.postprocess(batch, logits)
        self.scheduler.observe_step(batch, time.perf_counter() - started)
        return outputs

    def postprocess(self, batch: ScheduledBatch, logits: torch.Tensor) -> list[RequestOutput]:
        """Sample each row that finished its pending tokens, append, detokenize, stop (also the
        phase split's, once a worker has computed `batch`)."""
        sampled_seqs = []
        # A row is a decode when it computes the one token its sequence sampled last.
        prefill_tokens = sum(
            count
            for seq, count in zip(batch.seqs, batch.num_new_tokens, strict=True)
            if count > 1 or seq.num_output_tokens == 0
        )
        for seq, count in zip(batch.seqs, batch.num_new_tokens, strict=True):
            seq.num_computed_tokens += count
            if count > 1:
                # Cache each prefill chunk as soon as it is computed: a request sharing
                # the prefix can use it before this one has finished its prompt.
                self.block_manager.cache_computed_blocks(seq)
            if seq.num_pending_tokens == 0:
                sampled_seqs.append(seq)
        requests = [self._requests[seq.seq_id] for seq in sampled_seqs]
        logits = self._fork_samples(requests, logits)
        self.masker.apply(logits, [r.matcher for r in requests])
        tokens = self.sampler(logits, [r.seq.params for r in requests], [r.generator for r in requests])
        logprobs = token_logprobs(logits, tokens, [r.seq.params.logprobs for r in requests])
        now = time.monotonic()
        outputs = []
        for request, token, logprob in zip(requests, tokens, logprobs, strict=True):
            seq = request.seq
            seq.append_token(token, now)
            reason = self._stop_reason(request, token)
            if reason is not None:
                self._finish(request, reason)
            # A stop token is no part of the answer's text, so (as OpenAI) none of its logprobs either.
            stopped_by_token = reason is FinishReason.STOP and self._is_stop_token(request, token)
            outputs.append(
                self._output(
                    request,
                    [token],
                    finished=reason is not None,
                    logprobs=[logprob] if logprob is not None and not stopped_by_token else [],
                )
            )
        self.stats.record_step(batch.is_prefill, len(tokens), now, prefill_tokens)
        return outputs

    def _fork_samples(self, requests: list[_Request], logits: torch.Tensor) -> torch.Tensor:
        """Start the further samples of requests that just prefilled their prompt (appended to
        `requests`); returns the logits with one row per request, a forked sample sharing its
        parent's row. A sample with no block for its copy waits and prefills on its own."""
        rows = list(range(len(requests)))
        for row, request in enumerate(list(requests)):
            if not request.siblings or request.seq.num_output_tokens:
                continue
            parent = request.seq
            for seq_id, params in request.siblings:
                seq = fork_prefilled(
                    self.block_manager, parent, seq_id, self._bounded(params, parent.num_prompt_tokens)
                )
                if seq is None:
                    self.add_request(parent.prompt_token_ids, params, seq_id, parent.slo, parent.tenant)
                    continue
                self.scheduler.running.append(seq)
                requests.append(self._register(seq, params.max_tokens is None))
                rows.append(row)
            request.siblings = []
        if len(rows) == logits.shape[0]:
            return logits
        return logits.index_select(0, torch.tensor(rows, device=logits.device))

    def _stop_reason(self, request: _Request, token: int) -> FinishReason | None:
        seq, params = request.seq, request.seq.params
        if request.matcher is not None and self._grammar_ends(request.matcher, seq.seq_id, token):
            request.text.finish()
            return FinishReason.STOP
        if token in params.stop_token_ids or (token in self._eos_ids and not params.ignore_eos):
            request.text.finish()  # the stop token adds no text; release what was held back
            return FinishReason.STOP
        if request.text.append(token):
            return FinishReason.STOP
        if seq.num_output_tokens >= request.max_tokens:
            request.text.finish()
            self.stats.default_bound_cuts += request.bounded_by_default
            self.stats.looping_cuts += loop_period(seq.output_token_ids) is not None
            return FinishReason.LENGTH
        return None

    def _is_stop_token(self, request: _Request, token: int) -> bool:
        params = request.seq.params
        return token in params.stop_token_ids or (
            token in self._eos_ids and (not params.ignore_eos or request.matcher is not None)
        )

    def _grammar_ends(self, matcher: GrammarMatcher, seq_id: int, token: int) -> bool:
        """Advance the request's grammar by `token`; True once the grammar is complete (it took a stop
        token, whatever ignore_eos says: nothing may follow a complete answer)."""
        if not matcher.accept(token):
            # The mask allowed only tokens the grammar accepts; reaching this is a bug, not bad input.
            log.error("request %d: sampled token %d outside its grammar; ending it", seq_id, token)
            return True
        return matcher.is_terminated()

    def _finish(self, request: _Request, reason: FinishReason) -> None:
        self.scheduler.finish(request.seq, reason)
        del self._requests[request.seq.seq_id]
        self.stats.finished_requests += 1

    def _output(
        self, request: _Request, new_tokens: list[int], finished: bool, logprobs: list[TokenLogprob] | None = None
    ) -> RequestOutput:
        seq = request.seq
        return RequestOutput(
            seq_id=seq.seq_id,
            new_token_ids=new_tokens,
            new_text=request.text.take_delta(finished),
            finished=finished,
            finish_reason=seq.finish_reason,
            num_prompt_tokens=seq.num_prompt_tokens,
            num_output_tokens=seq.num_output_tokens,
            num_cached_tokens=seq.num_cached_tokens,
            logprobs=logprobs or [],
        )

    def metrics(self) -> dict[str, float]:
        """Every figure the engine and its parts report, by /metrics name."""
        return {
            "running_sequences": len(self.scheduler.running),
            **self.stats.report(),
            **self.block_manager.stats(),
            **self.scheduler.stats(),
            **self.runner.stats(),
        }

    def close(self) -> None:
        """Stop the swap worker thread (if any)."""
        if self.host_pool is not None:
            self.host_pool.close()

    def generate(self, prompts: list[list[int]], params: SamplingParams | list[SamplingParams]) -> list[Completion]:
        return run_to_completion(self, prompts, params)


class Steppable(Protocol):
    def add_request(self, prompt_token_ids: list[int], params: SamplingParams) -> Sequence: ...

    def step(self) -> list[RequestOutput]: ...


def run_to_completion(
    engine: Steppable, prompts: list[list[int]], params: SamplingParams | list[SamplingParams]
) -> list[Completion]:
    """Run `prompts` to completion together (continuous batching); results in prompt order."""
    params_list = params if isinstance(params, list) else [params] * len(prompts)
    if len(params_list) != len(prompts):
        raise InvalidRequest(f"{len(params_list)} sampling params for {len(prompts)} prompts: give one, or one each")
    seqs = [engine.add_request(prompt, p) for prompt, p in zip(prompts, params_list, strict=True)]
    texts: dict[int, list[str]] = {seq.seq_id: [] for seq in seqs}
    while any(not seq.is_finished for seq in seqs):
        for output in engine.step():
            if output.seq_id in texts:
                texts[output.seq_id].append(output.new_text)
    return [
        Completion(
            seq_id=seq.seq_id,
            token_ids=seq.output_token_ids,
            text="".join(texts[seq.seq_id]),
            finish_reason=_finish_reason(seq),
            num_prompt_tokens=seq.num_prompt_tokens,
            num_cached_tokens=seq.num_cached_tokens,
            num_preemptions=seq.num_preemptions,
            ttft=seq.ttft,
            tpot=seq.tpot,
        )
        for seq in seqs
    ]


def _finish_reason(seq: Sequence) -> FinishReason:
    if seq.finish_reason is None:
        raise SchedulingError(f"sequence {seq.seq_id} has no finish reason: it has not finished")
    return seq.finish_reason
