"""A phase worker: a process that runs model steps over the shared weights and KV pool.

The worker owns nothing: the engine process allocates every block and sends each step as
index arrays (token ids, positions, slot mapping, block tables); the worker runs the model,
which writes K/V into the shared pool at those slots, and writes the logits into a shared
buffer. Messages over a pipe, in order (so a thread-count change applies from the next step):

    ("step", arrays, meta) -> ("done", rows, seconds, threads)
    ("threads", n)         -> (no reply) torch.set_num_threads(n) before the next step
    ("inspect", blocks)    -> ("inspect", pid, k_cache sums of those blocks)
    ("stop",)              -> the process exits
"""

import os
import time
from multiprocessing.connection import Connection

import numpy as np
import torch

from gpu_backend.batch import StepBatch
from gpu_backend.model.llama import LlamaModel

_ARRAYS = ("input_ids", "positions", "slot_mapping", "block_tables", "context_lens", "cu_seqlens_q", "logits_indices")


def pack_step(input_ids: torch.Tensor, positions: torch.Tensor, batch: StepBatch) -> tuple[dict, dict]:
    """A prepared step as plain numpy arrays (pickled by value, no shared-memory handles per
    step) and its scalar fields."""
    tensors = {
        "input_ids": input_ids,
        "positions": positions,
        "slot_mapping": batch.slot_mapping,
        "block_tables": batch.block_tables,
        "context_lens": batch.context_lens,
        "cu_seqlens_q": batch.cu_seqlens_q,
        "logits_indices": batch.logits_indices,
    }
    meta = {
        "is_prefill": batch.is_prefill,
        "max_seqlen_q": batch.max_seqlen_q,
        "max_context_len": batch.max_context_len,
        "num_decode_seqs": batch.num_decode_seqs,
    }
    return {name: tensor.cpu().numpy() for name, tensor in tensors.items()}, meta


def _unpack_step(
    arrays: dict[str, np.ndarray], meta: dict, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor, StepBatch]:
    t = {name: torch.from_numpy(arrays[name]).to(device) for name in _ARRAYS}
    batch = StepBatch(
        is_prefill=meta["is_prefill"],
        slot_mapping=t["slot_mapping"],
        block_tables=t["block_tables"],
        context_lens=t["context_lens"],
        cu_seqlens_q=t["cu_seqlens_q"],
        logits_indices=t["logits_indices"],
        max_seqlen_q=meta["max_seqlen_q"],
        max_context_len=meta["max_context_len"],
        num_decode_seqs=meta["num_decode_seqs"],
    )
    return t["input_ids"], t["positions"], batch


def worker_main(
    model: LlamaModel,
    k_cache: torch.Tensor,
    v_cache: torch.Tensor,
    logits_out: torch.Tensor,
    conn: Connection,
    threads: int,
) -> None:
    """Entry point of the worker process (spawned; every tensor argument is in shared memory)."""
    torch.set_num_threads(threads)
    conn.send(("ready", os.getpid()))
    with torch.inference_mode():
        while True:
            message = conn.recv()
            kind = message[0]
            if kind == "stop":
                return
            if kind == "threads":
                torch.set_num_threads(message[1])
            elif kind == "inspect":
                sums = [float(k_cache[:, block].sum()) for block in message[1]]
                conn.send(("inspect", os.getpid(), sums))
            elif kind == "step":
                started = time.perf_counter()
                try:
                    input_ids, positions, batch = _unpack_step(message[1], message[2], k_cache.device)
                    logits = model(input_ids, positions, batch, k_cache, v_cache)
                    logits_out[: logits.shape[0]].copy_(logits)
                    if logits_out.is_cuda:  # the engine reads the buffer as soon as it hears back
                        torch.cuda.synchronize()
                except Exception as error:  # noqa: BLE001 - report it to the engine, keep serving
                    conn.send(("error", f"{type(error).__name__}: {error}"))
                    continue
                conn.send(("done", logits.shape[0], time.perf_counter() - started, torch.get_num_threads()))
