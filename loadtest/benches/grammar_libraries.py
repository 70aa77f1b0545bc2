"""xgrammar vs llguidance on this CPU, for SmolLM2's vocabulary: JSON-schema compile time, and the
time to fill the token masks of a 32-sequence decode step (each sequence at its own point in its
own schema) plus applying them to the logits.

    semgate bench grammar-libraries [--schemas 64] [--json]

Indicative only on a shared machine: re-measure on a quiet one before quoting.
"""

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable

import torch

from gpu_backend.model import load_model
from loadtest.json_schemas import schemas

DESCRIPTION = "xgrammar vs llguidance on SmolLM2's vocabulary: schema compile time, token-mask time at batch 32"
# SEMGATE_SMOKE=1 caps these options (loadtest/smoke.py)
SMOKE = {"schemas": 33, "steps": 2}
BATCH = 32


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--schemas", type=int, default=64, help="random JSON schemas compiled (at least 32)")
    parser.add_argument("--steps", type=int, default=20, help="decode steps whose masks are timed")
    parser.add_argument("--json", action="store_true")


def _instance(schema: dict, rng: random.Random):
    """A value that validates against a schema drawn by loadtest.json_schemas."""
    if "enum" in schema:
        return rng.choice(schema["enum"])
    kind = schema["type"]
    if kind == "object":
        return {k: _instance(v, rng) for k, v in schema["properties"].items()}
    if kind == "array":
        return [_instance(schema["items"], rng) for _ in range(rng.randint(1, schema["maxItems"]))]
    return {"string": "abc", "integer": 42, "number": 3.5, "boolean": True}[kind]


def _xgrammar(tokenizer, vocab_size: int, stop_ids: list[int]):
    import xgrammar as xgr

    from gpu_backend.engine.grammar import encoded_vocab

    info = xgr.TokenizerInfo(encoded_vocab(tokenizer, vocab_size), xgr.VocabType.BYTE_LEVEL,
                             vocab_size=vocab_size, stop_token_ids=stop_ids)
    compiler = xgr.GrammarCompiler(info, max_threads=1, cache_enabled=False)
    batch = xgr.BatchGrammarMatcher(max_threads=1)

    def compile_(schema: dict):
        return compiler.compile_json_schema(json.dumps(schema))

    def matcher(compiled, tokens: list[int]):
        m = xgr.GrammarMatcher(compiled)
        for t in tokens:
            assert m.accept_token(t)
        return m

    def fill(matchers, bitmask: torch.Tensor) -> None:
        batch.batch_fill_next_token_bitmask(matchers, bitmask)

    def apply(logits: torch.Tensor, bitmask: torch.Tensor) -> None:
        xgr.apply_token_bitmask_inplace(logits, bitmask)

    return compile_, matcher, fill, apply


def _llguidance(tokenizer, vocab_size: int, stop_ids: list[int]):
    import llguidance
    import llguidance.torch as llt

    lltok = llguidance.LLTokenizer(tokenizer.backend.to_str(), n_vocab=vocab_size, eos_token=stop_ids)
    executor = llguidance.LLExecutor(num_threads=1)

    def compile_(schema: dict):
        grammar = llguidance.LLMatcher.grammar_from_json_schema(schema)
        m = llguidance.LLMatcher(lltok, grammar)  # the matcher is the compiled form
        assert not m.is_error(), m.get_error()
        return grammar

    def matcher(grammar, tokens: list[int]):
        m = llguidance.LLMatcher(lltok, grammar)
        assert m.consume_tokens(tokens), m.get_error()
        return m

    def fill(matchers, bitmask: torch.Tensor) -> None:
        llt.fill_next_token_bitmask_par(executor, [(m, i) for i, m in enumerate(matchers)], bitmask)

    def apply(logits: torch.Tensor, bitmask: torch.Tensor) -> None:
        # llguidance's own apply is torch.compile'd; the same bit test in eager torch keeps it comparable
        import xgrammar as xgr
        xgr.apply_token_bitmask_inplace(logits, bitmask, backend="torch_native")

    return compile_, matcher, fill, apply


def measure(name: str, make: Callable, tokenizer, vocab_size: int, stop_ids: list[int], count: int = 64,
            steps: int = 20) -> dict:
    compile_, matcher, fill, apply = make(tokenizer, vocab_size, stop_ids)
    rng = random.Random(1)
    drawn = schemas(max(count, BATCH), seed=7, depth=2)
    compile_ms = []
    for schema in drawn:
        started = time.perf_counter()
        compile_(schema)
        compile_ms.append((time.perf_counter() - started) * 1e3)
    compiled = [compile_(s) for s in drawn[:BATCH]]
    texts = [json.dumps(_instance(s, rng)) for s in drawn[:BATCH]]
    token_lists = [tokenizer.encode(t) for t in texts]
    bitmask = torch.full((BATCH, (vocab_size + 31) // 32), -1, dtype=torch.int32)
    logits = torch.randn(BATCH, vocab_size)
    fill_ms, apply_ms = [], []
    for step in range(steps):
        # every sequence some way into its answer, as in a running batch
        matchers = [matcher(c, toks[: min(step, len(toks) - 1)]) for c, toks in zip(compiled, token_lists)]
        started = time.perf_counter()
        fill(matchers, bitmask)
        fill_ms.append((time.perf_counter() - started) * 1e3)
        started = time.perf_counter()
        apply(logits.clone(), bitmask)
        apply_ms.append((time.perf_counter() - started) * 1e3)
    return {"library": name, "schemas": len(drawn), "compile_ms_p50": round(statistics.median(compile_ms), 2),
            "compile_ms_max": round(max(compile_ms), 2), "batch": BATCH,
            "mask_fill_ms_p50": round(statistics.median(fill_ms), 3),
            "mask_apply_ms_p50": round(statistics.median(apply_ms), 3)}


def run(args: argparse.Namespace) -> int:
    torch.set_num_threads(1)
    loaded = load_model("smollm2-135m", progress=False)
    tokenizer, vocab_size = loaded.tokenizer, loaded.model.config.vocab_size
    stop_ids = sorted(tokenizer.stop_ids)
    rows = [measure(name, make, tokenizer, vocab_size, stop_ids, args.schemas, args.steps)
            for name, make in (("xgrammar", _xgrammar), ("llguidance", _llguidance))]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'library':12s} {'compile p50 ms':>15s} {'compile max ms':>15s} {'fill 32 masks ms':>17s} "
          f"{'apply 32 masks ms':>18s}")
    for row in rows:
        print(f"{row['library']:12s} {row['compile_ms_p50']:15.2f} {row['compile_ms_max']:15.2f} "
              f"{row['mask_fill_ms_p50']:17.3f} {row['mask_apply_ms_p50']:18.3f}")
    return 0
