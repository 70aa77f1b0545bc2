"""The phase-split engine (semi-PD on a CPU): prefill and decode run concurrently in two
worker processes over one shared copy of the weights and one shared paged KV pool.

This process keeps everything that allocates or decides (scheduler, block manager, radix
cache, sampler, controller); a worker only computes a step it is sent. Each loop turn
hands a decode batch to the decode worker and a prefill batch to the prefill worker when
either is idle, then waits for whichever finishes first and post-processes its batch
exactly as the unified engine does (sampling, stop checks, freeing finished sequences).
So decodes keep going while a long prefill chunk runs, and a request whose prefill ends
joins the decode batches with the very blocks its prefill wrote.

The split changes from the SLO-aware controller or `set_split`; nothing moves but where each
phase computes: threads per worker process on a CPU, an SM partition per phase on a GPU
(CUDA green contexts, or MPS percentages), as the placement (placement.py) chosen by the
capability check (partition.py) does it. The KV pool stays where it is.

It wraps a core LLMEngine (made by gpu_backend/build.py) and drives it: the core's scheduler
batches one phase at a time, the workers run what the core's runner prepares, and the core
post-processes. What the server and benches read of an engine is forwarded to the core.
"""

import logging
import time
from dataclasses import dataclass

from gpu_backend.engine.engine import Completion, LLMEngine, RequestOutput, run_to_completion
from gpu_backend.engine.phase_split.controller import (
    FixedSplit,
    RequestObservation,
    Split,
    SplitChange,
    SplitController,
)
from gpu_backend.engine.phase_split.core_view import CoreView
from gpu_backend.engine.phase_split.partition import GpuSplit, PartitionChoice
from gpu_backend.engine.phase_split.placement import Placement, ThreadPlacement, Worker
from gpu_backend.engine.phase_split.process import memory_mb, wait_any
from gpu_backend.engine.phase_split.split import PhaseSplit
from gpu_backend.engine.sampling_params import SamplingParams
from gpu_backend.engine.scheduler import PHASES, ScheduledBatch
from gpu_backend.engine.sequence import FinishReason
from gpu_backend.errors import InvalidConfig

log = logging.getLogger(__name__)


@dataclass
class _InFlight:
    batch: ScheduledBatch
    contended: bool  # the other worker computed at some point during this step


class PhaseSplitEngine(CoreView):
    def __init__(
        self,
        core: LLMEngine,
        split: Split,
        controller: SplitController | FixedSplit,
        placement: Placement | None = None,
    ) -> None:
        """`split`: each phase's share to start with; `controller` moves it (FixedSplit: never);
        `placement`: where the workers compute (default: CPU worker processes on threads)."""
        super().__init__(core)
        model, config = core.model, core.config
        if placement is None:
            if model.embed_tokens.device.type != "cpu" or not isinstance(split, PhaseSplit):
                raise InvalidConfig("a phase split on a GPU needs its placement (build.py chooses it)")
            placement = ThreadPlacement(PartitionChoice("threads", "the model is on the CPU"), split)
        self.placement = placement
        self.split = split
        self.controller = controller
        self.split_log: list[SplitChange] = []
        self.workers: dict[str, Worker] = {}
        try:
            self.workers = placement.start(model, self.pool.k_cache, self.pool.v_cache, config.max_running)
            for worker in self.workers.values():
                worker.wait_ready()
            self.worker_threads = {phase: self.split.share(phase) for phase in PHASES}  # as last reported
        except BaseException:
            self.close()
            raise
        log.info("phase split on %s: %s (%s)", placement.choice.kind, split, placement.choice.reason)
        self._in_flight: dict[str, _InFlight] = {}
        self._abort_after_step: set[int] = set()

    @property
    def worker_pids(self) -> dict[str, int]:
        """Each worker's process (MPS workers restart on a move, so read it when needed)."""
        return {phase: worker.pid for phase, worker in self.workers.items()}

    def set_split(self, split: Split, source: str = "manual") -> bool:
        """Give each worker its new share (applied from its next step); False if the placement
        could not make it (e.g. a green context failed: the split stays, the reason is logged)."""
        if split == self.split:
            return True
        if not self.placement.move(self.workers, split):
            log.warning("phase split (%s): %s -> %s refused; staying at %s", source, self.split, split, self.split)
            return False
        log.info("phase split (%s): %s -> %s", source, self.split, split)
        if source != "controller":
            self.split_log.append(SplitChange(time.monotonic(), self.split, split, float("nan"), float("nan"), 0))
        self.split = split
        return True

    def abort(self, seq_id: int) -> RequestOutput | None:
        """As LLMEngine.abort; a request whose step is in flight is aborted once that step is
        back (its blocks must not be freed under a worker), and None is returned."""
        if seq_id in self.scheduler.in_flight:
            self._abort_after_step.add(seq_id)
            return None
        return self.core.abort(seq_id)

    def step(self) -> list[RequestOutput]:
        for phase in ("decode", "prefill"):
            if phase not in self._in_flight:
                batch = self.scheduler.schedule_phase(phase)
                if batch is not None:
                    try:
                        self.workers[phase].submit(*self.model_runner.prepare(batch))
                    except Exception:  # e.g. the worker died: its sequences are not in flight
                        self.scheduler.complete(batch)
                        raise
                    for other in self._in_flight.values():
                        other.contended = True
                    self._in_flight[phase] = _InFlight(batch, contended=bool(self._in_flight))
        if not self._in_flight:
            return []
        outputs = []
        for worker in wait_any(list(self.workers.values())):
            outputs += self._complete(worker)
        return outputs

    def _complete(self, worker: Worker) -> list[RequestOutput]:
        flight = self._in_flight.pop(worker.phase)
        self.scheduler.complete(flight.batch)
        result = worker.receive()  # raises if the worker failed; the batch is no longer in flight
        logits = worker.logits[: result.rows].clone()
        self.worker_threads[worker.phase] = result.threads
        outputs = self.core.postprocess(flight.batch, logits)
        self.controller.observe_step(
            worker.phase,
            flight.batch.num_tokens,
            result.seconds,
            result.threads,
            self.split.other(worker.phase),
            flight.contended,
        )
        aborted = self._abort_after_step & {seq.seq_id for seq in flight.batch.seqs}
        for seq_id in aborted:
            self._abort_after_step.discard(seq_id)
            self.core.abort(seq_id)
        for seq in flight.batch.seqs:
            observed = seq.is_finished and seq.finish_reason is not FinishReason.ABORT
            finish_time, ttft = seq.finish_time, seq.ttft  # both set once a sequence finished with a token
            if observed and finish_time is not None and ttft is not None:
                self.controller.observe_request(
                    RequestObservation(finish_time, seq.slo, ttft, seq.tpot, seq.num_output_tokens, self.split)
                )
        self._control()
        return [output for output in outputs if output.seq_id not in aborted]

    def _control(self) -> None:
        new = self.controller.decide(self.split)
        if new is None:
            return
        change = self.controller.changes[-1]
        if self.set_split(new, source="controller"):
            self.split_log.append(change)
        else:  # it did not happen; the controller's dwell time still spaces out the next try
            self.controller.changes.remove(change)

    def phase_split_stats(self) -> dict:
        """The partition kind and why it was chosen, the current split and every change so far
        (for /metrics, benches and logs). Shares are in `unit`: threads, SMs or percent."""
        unit = self.split.unit if isinstance(self.split, GpuSplit) else "threads"
        return {
            "partition": self.placement.choice.kind,
            "partition_reason": self.placement.choice.reason,
            "unit": unit,
            "prefill": self.split.share("prefill"),
            "decode": self.split.share("decode"),
            **self.placement.stats(),
            "changes": [
                {
                    "at": c.at,
                    "from": str(c.old),
                    "to": str(c.new),
                    "predicted_from": c.predicted_old,
                    "predicted_to": c.predicted_new,
                    "window_requests": c.window_requests,
                }
                for c in self.split_log
            ],
        }

    def metrics(self) -> dict[str, float]:
        return {
            **self.core.metrics(),
            "phase_split_prefill_threads": self.split.share("prefill"),
            "phase_split_decode_threads": self.split.share("decode"),
            "phase_split_changes": len(self.split_log),
        }

    def memory_report(self) -> dict:
        """MiB: the shared weights and pool, and each process's resident memory (shared/private)."""
        weights = sum(p.numel() * p.element_size() for p in self.model.parameters())
        return {
            "weights_mb": weights / 2**20,
            "kv_pool_mb": self.pool.total_bytes / 2**20,
            "engine": memory_mb(),
            **{phase: memory_mb(pid) for phase, pid in self.worker_pids.items()},
        }

    def generate(self, prompts: list[list[int]], params: SamplingParams | list[SamplingParams]) -> list[Completion]:
        return run_to_completion(self, prompts, params)

    def close(self) -> None:
        self.core.close()
        for worker in self.workers.values():
            worker.stop()
        self.workers = {}
        self.placement.close()
