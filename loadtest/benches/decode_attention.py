"""The CPU decode attention: the native kernel against the torch reference, per decode step.

SmolLM2-135M's shapes (9 query heads, 3 KV heads, head size 64, 16-token blocks, 30 layers):
a batch of sequences with context lengths spread around a mean, their blocks scattered over a
pool sized for the batch plus as many free blocks (a pool that has served for a while), one
query token each, every layer attended in turn as the model does. Both implementations get
the same inputs in alternating rounds; the best round of each is reported (the least disturbed
by other jobs on the machine) with its median, and the reference/native ratio.
"""

import argparse
import json
import statistics
import sys
import time

import torch

from gpu_backend.kernels import cpu_decode_attention
from gpu_backend.kernels.reference_attention import paged_decode_attention as reference_decode
from loadtest.machine import describe_machine

DESCRIPTION = "CPU decode attention per step: the native kernel vs the torch reference (gather + SDPA)"
# SEMGATE_SMOKE=1 caps these options (loadtest/smoke.py)
SMOKE = {"batch": 2, "context": 32, "rounds": 1}
HEADS, KV_HEADS, HEAD_DIM, BLOCK, LAYERS = 9, 3, 64, 16, 30


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--batch", default="1,8,32", help="sequences per decode step (comma-separated)")
    parser.add_argument("--context", default="128,512", help="mean context lengths (comma-separated)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true")


def step_inputs(batch: int, mean_context: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    lens = torch.randint(max(1, mean_context // 2), mean_context * 3 // 2 + 1, (batch,), generator=gen)
    lens = lens.sort().values.to(torch.int32)  # the engine hands decodes over shortest first
    blocks = [-(-int(n) // BLOCK) for n in lens]
    pool_blocks = 2 * sum(blocks)
    shape = (LAYERS, pool_blocks, BLOCK, KV_HEADS, HEAD_DIM)
    k_pool, v_pool = torch.randn(shape, generator=gen), torch.randn(shape, generator=gen)
    scattered = torch.randperm(pool_blocks, generator=gen)
    tables = torch.zeros(batch, max(blocks), dtype=torch.int32)
    taken = 0
    for row, count in enumerate(blocks):
        tables[row, :count] = scattered[taken:taken + count]
        taken += count
    q = torch.randn(batch, HEADS, HEAD_DIM, generator=gen)
    return q, k_pool, v_pool, tables, lens


def time_step(attend, q, k_pool, v_pool, tables, lens) -> float:
    start = time.perf_counter()
    for layer in range(LAYERS):
        attend(q, k_pool[layer], v_pool[layer], tables, lens, HEAD_DIM ** -0.5)
    return time.perf_counter() - start


def run(args: argparse.Namespace) -> int:
    if not cpu_decode_attention.available():
        print("the native kernel could not be built here (no C compiler?): nothing to compare", file=sys.stderr)
        return 1
    torch.set_num_threads(args.threads)
    rows = []
    for batch in (int(b) for b in args.batch.split(",")):
        for context in (int(c) for c in args.context.split(",")):
            inputs = step_inputs(batch, context)
            q, k_pool, v_pool, tables, lens = inputs
            layer = (q, k_pool[0], v_pool[0], tables, lens, HEAD_DIM ** -0.5)
            error = (cpu_decode_attention.paged_decode_attention(*layer) - reference_decode(*layer)).abs().max().item()
            times = {"reference": [], "native": []}
            for _ in range(args.rounds):
                times["reference"].append(time_step(reference_decode, *inputs))
                times["native"].append(time_step(cpu_decode_attention.paged_decode_attention, *inputs))
            row = {"batch": batch, "mean_context": context, "max_abs_error": error}
            for name, values in times.items():
                row[f"{name}_ms_best"] = 1000 * min(values)
                row[f"{name}_ms_median"] = 1000 * statistics.median(values)
            row["ratio_best"] = row["reference_ms_best"] / row["native_ms_best"]
            row["ratio_median"] = row["reference_ms_median"] / row["native_ms_median"]
            rows.append(row)
            if not args.json:
                print(f"batch {batch:3d}, context ~{context:5d}: reference {row['reference_ms_best']:7.1f} ms, "
                      f"native {row['native_ms_best']:6.1f} ms per step ({LAYERS} layers): "
                      f"{row['ratio_best']:.2f}x (medians {row['ratio_median']:.2f}x), max error {error:.1e}",
                      flush=True)
    summary = {"machine": describe_machine(), "threads": args.threads, "rounds": args.rounds, "rows": rows}
    if args.json:
        print(json.dumps(summary, indent=2))
    return 0
