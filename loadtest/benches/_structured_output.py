"""The structured-output row of `semgate bench backend`.

Output tokens/s of the same prompts with every request decoded under a JSON schema and with none,
at the same concurrency in the same run (a fresh engine each), so the grammar's cost is the only
difference; and how long a schema takes to compile: p50 over schemas the compiler has not seen,
and p50 of a repeat (its cache).
"""

import copy
import statistics
import time
from collections.abc import Callable
from dataclasses import replace

from gpu_backend.engine import EngineConfig, SamplingParams
from gpu_backend.engine.grammar import GrammarCompiler, GrammarSpec
from gpu_backend.model import LoadedModel
from loadtest.smoke import size

# What a client of an extraction API asks for: nested objects, an enum, an array, required fields.
SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "category": {"type": "string", "enum": ["question", "request", "statement", "other"]},
        "topics": {"type": "array", "items": {"type": "string"}},
        "details": {"type": "object", "properties": {"language": {"type": "string"},
                                                     "needs_code": {"type": "boolean"}},
                    "required": ["language", "needs_code"]},
    },
    "required": ["title", "category", "topics", "details"],
}
COMPILED_SCHEMAS = 20  # distinct schemas timed for the compile p50


def schema_variant(index: int) -> dict:
    """SCHEMA with renamed properties: the same work for the compiler, a text its cache has not seen."""
    variant = copy.deepcopy(SCHEMA)
    variant["properties"] = {f"{name}_{index}": value for name, value in variant["properties"].items()}
    variant["required"] = [f"{name}_{index}" for name in variant["required"]]
    return variant


def compile_times(loaded: LoadedModel) -> dict:
    compiler = GrammarCompiler(loaded.tokenizer, loaded.config.vocab_size, sorted(loaded.tokenizer.stop_ids))
    first, repeat = [], []
    for i in range(size(COMPILED_SCHEMAS, 3)):
        spec = GrammarSpec.json_schema(schema_variant(i), strict=True)
        for times in (first, repeat):
            started = time.perf_counter()
            compiler.compile(spec)
            times.append(time.perf_counter() - started)
    return {"schemas": len(first), "compile_p50_ms": 1000 * statistics.median(first),
            "cached_compile_p50_ms": 1000 * statistics.median(repeat)}


def run_structured_output(loaded: LoadedModel, config: EngineConfig, prompts: list[list[int]], levels: list[int],
                          sizes: dict[int, int], params: SamplingParams, run_engine: Callable[..., dict]) -> dict:
    """`run_engine`: the bench's (a fresh engine per run). `levels`: the concurrencies compared."""
    compiler = GrammarCompiler(loaded.tokenizer, loaded.config.vocab_size, sorted(loaded.tokenizer.stop_ids))
    constrained = replace(params, grammar=compiler.compile(GrammarSpec.json_schema(SCHEMA, strict=True)))
    rows = []
    for c in levels:
        subset = prompts[: sizes[c]]
        free = run_engine(loaded, config, subset, c, params, f"unconstrained x{c}")
        schema = run_engine(loaded, config, subset, c, constrained, f"JSON schema x{c}")
        rows.append({"concurrency": c, "requests": len(subset), "unconstrained": free, "json_schema": schema,
                     "throughput_ratio": schema["tokens_per_s"] / free["tokens_per_s"]})
    return {"schema": SCHEMA, "rows": rows, **compile_times(loaded)}


def print_structured_output(result: dict) -> None:
    print(f"structured output (every request under a JSON schema vs none; compile p50 "
          f"{result['compile_p50_ms']:.1f} ms over {result['schemas']} new schemas, "
          f"{result['cached_compile_p50_ms']:.2f} ms cached):")
    for row in result["rows"]:
        free, schema = row["unconstrained"], row["json_schema"]
        print(f"  x{row['concurrency']:<3} unconstrained {free['tokens_per_s']:8.1f} tok/s "
              f"({free['output_tokens']} tokens), JSON schema {schema['tokens_per_s']:8.1f} tok/s "
              f"({schema['output_tokens']} tokens): {row['throughput_ratio']:.2f}x")
