"""Multi-turn conversations under KV pressure: the prefix cache's host tier on and off.

N conversations of T turns each: turn 1 asks a ShareGPT first question, later turns ask a
short follow-up; every turn's prompt is the chat template over the whole conversation so
far (the previous prompt, the answer, the new message), as a client resending its history
does. `--concurrency` turns are in flight at once, the conversations taking turns, so
between two turns of one conversation the others run; the KV pool (`--pool-share` of all
conversations' final contexts) cannot keep every history, and evicted ones are either
recomputed (host tier off) or fetched back from the host pool (on).

Both modes serve the same conversations in the same process, one after the other, on
engines that differ only in `host_prefix_cache`. Answers have a fixed length (EOS ignored)
so both modes compute comparable prompts. Reported per mode: prefill tokens computed
(everything but decodes), prompt tokens computed for turns 2+, TTFT p50 and mean of turns
2+, the process's CPU seconds (steadier than wall time on a shared machine), the host
tier's hits, tokens reused and copies; then the off/on ratios. The engine is driven
in-process (no HTTP), so the figures are the engine's.
"""

import argparse
import json
import statistics
import sys
import time
from collections import deque
from pathlib import Path

import torch
from tqdm import tqdm

from gpu_backend.build import build_from_loaded
from gpu_backend.engine import EngineConfig, LLMEngine, SamplingParams
from gpu_backend.kv import bytes_per_block
from gpu_backend.model import load_model
from loadtest.benches.backend import percentile, sharegpt_questions
from loadtest.machine import describe_machine

DESCRIPTION = "multi-turn conversations under KV pressure: prefill tokens and TTFT with the host KV tier on vs off"
# SEMGATE_SMOKE=1 caps these options (loadtest/smoke.py)
SMOKE = {"conversations": 2, "turns": 2, "max_tokens": 4, "max_question_chars": 100}
FOLLOW_UPS = ("Can you explain that in more detail?", "Give me a concrete example.",
              "What are the main pitfalls to watch out for?", "Summarize that in three sentences.",
              "How would you do it differently?")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--conversations", type=int, default=8)
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=48, help="answer length (EOS ignored)")
    parser.add_argument("--concurrency", type=int, default=2, help="turns in flight at once")
    parser.add_argument("--pool-share", type=float, default=0.35,
                        help="KV pool size as a share of all conversations' final contexts")
    parser.add_argument("--host-mb", type=int, default=512, help="host KV pool of the host tier (MiB)")
    parser.add_argument("--max-question-chars", type=int, default=600)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("artifacts/multiturn"))
    parser.add_argument("--json", action="store_true")


def conversation_messages(questions: list[str], turns: int) -> list[list[str]]:
    """Each conversation's user messages: a first question, then follow-ups."""
    return [[question] + [FOLLOW_UPS[(index + turn) % len(FOLLOW_UPS)] for turn in range(turns - 1)]
            for index, question in enumerate(questions)]


def serve(engine: LLMEngine, render, conversations: list[list[str]], max_tokens: int, concurrency: int,
          desc: str = "turns") -> list[dict]:
    """Run every conversation's turns, `concurrency` at a time, conversations taking turns.
    `render(messages) -> token ids` builds a prompt. One record per turn."""
    params = SamplingParams(max_tokens=max_tokens, temperature=0, ignore_eos=True)
    history: list[list[dict]] = [[] for _ in conversations]
    ready = deque(range(len(conversations)))  # conversations whose next turn may be sent
    in_flight: dict[int, tuple[int, int, object]] = {}  # seq id -> (conversation, turn, sequence)
    texts: dict[int, list[str]] = {}
    records: list[dict] = []
    bar = tqdm(total=sum(map(len, conversations)), desc=desc, unit="turn", file=sys.stderr)
    while ready or in_flight:
        while ready and len(in_flight) < concurrency:
            index = ready.popleft()
            turn = len(history[index]) // 2
            history[index].append({"role": "user", "content": conversations[index][turn]})
            seq = engine.add_request(render(history[index]), params)
            in_flight[seq.seq_id], texts[seq.seq_id] = (index, turn, seq), []
        for output in engine.step():
            texts[output.seq_id].append(output.new_text)
            if not output.finished:
                continue
            index, turn, seq = in_flight.pop(output.seq_id)
            history[index].append({"role": "assistant", "content": "".join(texts.pop(output.seq_id))})
            records.append({"conversation": index, "turn": turn + 1, "prompt_tokens": seq.num_prompt_tokens,
                            "cached_tokens": seq.num_cached_tokens, "ttft_s": seq.ttft,
                            "answer": seq.output_token_ids})
            bar.update(1)
            if turn + 1 < len(conversations[index]):
                ready.append(index)
    bar.close()
    return records


def summarize(engine: LLMEngine, records: list[dict], wall: float, cpu: float) -> dict:
    later = [r for r in records if r["turn"] > 1]
    ttfts = [r["ttft_s"] for r in later]
    out = {"turns": len(records), "wall_s": wall, "cpu_s": cpu, "prefill_tokens_computed": engine.stats.prefill_tokens,
           "later_turns_prompt_tokens": sum(r["prompt_tokens"] for r in later),
           "later_turns_prompt_tokens_computed": sum(r["prompt_tokens"] - r["cached_tokens"] for r in later),
           "later_turns_ttft_p50_s": percentile(ttfts, 50), "later_turns_ttft_mean_s": statistics.fmean(ttfts),
           "preemptions": engine.scheduler.num_preemptions, "host_tier": None}
    if engine.host_tier is not None:
        host = engine.host_tier.host_stats
        out["host_tier"] = {"hits": host.hits, "tokens_reused": host.tokens_reused,
                            "blocks_saved": host.blocks_saved, "blocks_dropped": host.blocks_dropped,
                            "bytes_out": host.copies.bytes_out, "bytes_in": host.copies.bytes_in,
                            "copy_seconds_out": host.copies.seconds_out, "copy_seconds_in": host.copies.seconds_in}
    return out


def pool_blocks(loaded, conversations: list[list[str]], max_tokens: int, share: float, block_size: int = 16) -> int:
    """`share` of the blocks all conversations' final contexts need, and at least twice the longest."""
    def final_context(messages: list[str]) -> int:
        turns = [m for text in messages for m in ({"role": "user", "content": text},
                                                  {"role": "assistant", "content": "x " * max_tokens})]
        return len(loaded.tokenizer.encode(loaded.chat_template.render(turns)))

    needs = [-(-final_context(messages) // block_size) for messages in conversations]
    return max(round(share * sum(needs)), 2 * max(needs))


def run(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    loaded = load_model(args.model, progress=not args.json)
    questions, source = sharegpt_questions(args.conversations, args.max_question_chars)
    conversations = conversation_messages(questions, args.turns)
    cfg = loaded.config
    blocks = pool_blocks(loaded, conversations, args.max_tokens, args.pool_share)
    per_block = bytes_per_block(cfg.num_layers, cfg.num_kv_heads, cfg.head_dim, 16, loaded.model.embed_tokens.dtype)

    def render(messages: list[dict]) -> list[int]:
        return loaded.tokenizer.encode(loaded.chat_template.render(messages, add_generation_prompt=True))

    result: dict = {"workload": {"conversations": args.conversations, "turns": args.turns,
                                 "max_tokens": args.max_tokens, "concurrency": args.concurrency,
                                 "kv_pool_blocks": blocks, "host_mb": args.host_mb, "prompt_source": source,
                                 "threads": args.threads}}
    answers = {}
    # warm up (first calls into torch), so the first mode measured does not pay for it
    build_from_loaded(loaded, EngineConfig(num_threads=args.threads)).generate(
        [render([{"role": "user", "content": questions[0]}])], SamplingParams(max_tokens=2))
    for mode, tier in (("off", False), ("on", True)):
        config = EngineConfig(kv_budget_bytes=blocks * per_block, num_threads=args.threads, host_prefix_cache=tier,
                              host_kv_budget_bytes=args.host_mb << 20)
        engine = build_from_loaded(loaded, config)
        started, cpu_started = time.monotonic(), time.process_time()
        records = serve(engine, render, conversations, args.max_tokens, args.concurrency, f"host tier {mode}")
        result[mode] = summarize(engine, records, time.monotonic() - started, time.process_time() - cpu_started)
        answers[mode] = {(r["conversation"], r["turn"]): r["answer"] for r in records}
        engine.close()
    off, on = result["off"], result["on"]
    result["ratio_off_over_on"] = {
        "prefill_tokens_computed": off["prefill_tokens_computed"] / max(1, on["prefill_tokens_computed"]),
        "later_turns_prompt_tokens_computed": (off["later_turns_prompt_tokens_computed"]
                                               / max(1, on["later_turns_prompt_tokens_computed"])),
        "later_turns_ttft_p50": off["later_turns_ttft_p50_s"] / on["later_turns_ttft_p50_s"],
        "cpu_s": off["cpu_s"] / on["cpu_s"]}
    result["answers_identical"] = statistics.fmean(answers["off"][k] == answers["on"][k] for k in answers["off"])
    result["machine"] = describe_machine()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "multiturn.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


def table(result: dict) -> str:
    w = result["workload"]
    lines = [f"{w['conversations']} conversations x {w['turns']} turns, {w['max_tokens']}-token answers, "
             f"{w['concurrency']} in flight, KV pool {w['kv_pool_blocks']} blocks, host {w['host_mb']} MiB",
             f"{'host tier':9} {'prefill computed':>16} {'turns 2+ computed':>18} {'of prompt':>10} "
             f"{'TTFT p50 2+':>12} {'mean':>8} {'CPU s':>7} {'hits':>5} {'reused':>7}"]
    for mode in ("off", "on"):
        m = result[mode]
        host = m["host_tier"] or {"hits": 0, "tokens_reused": 0}
        lines.append(f"{mode:9} {m['prefill_tokens_computed']:16d} {m['later_turns_prompt_tokens_computed']:18d} "
                     f"{m['later_turns_prompt_tokens']:10d} {1000 * m['later_turns_ttft_p50_s']:10.0f}ms "
                     f"{1000 * m['later_turns_ttft_mean_s']:6.0f}ms {m['cpu_s']:7.1f} {host['hits']:5d} "
                     f"{host['tokens_reused']:7d}")
    ratio = result["ratio_off_over_on"]
    lines.append(f"off/on: prefill tokens {ratio['prefill_tokens_computed']:.2f}x, turns 2+ prompt tokens "
                 f"{ratio['later_turns_prompt_tokens_computed']:.2f}x, TTFT p50 turns 2+ {ratio['later_turns_ttft_p50']:.2f}x, "
                 f"CPU {ratio['cpu_s']:.2f}x; answers identical {result['answers_identical']:.0%}")
    if result["on"]["host_tier"]:
        host = result["on"]["host_tier"]
        lines.append(f"host tier copies: {host['bytes_out'] / 1e6:.1f} MB out in {host['copy_seconds_out']:.3f} s, "
                     f"{host['bytes_in'] / 1e6:.1f} MB in in {host['copy_seconds_in']:.3f} s")
    lines.append(result["machine"])
    return "\n".join(lines)
