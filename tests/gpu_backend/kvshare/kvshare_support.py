"""Shared helpers for the KVShare tests: a small pool, a prefiller and chunked prompts."""

from gpu_backend.engine import SamplingParams, Sequence
from gpu_backend.engine.block_manager import BlockManager
from gpu_backend.kv import KVPool
from gpu_backend.kvshare import ChunkReusePrefill, ChunkStore

SYSTEM = [{"role": "system", "content": "Answer with the intent label only."}]
EXAMPLES = [
    ("book me a flight to paris", "book_flight"),
    ("what is my account balance", "balance"),
    ("set an alarm for seven", "alarm"),
    ("play some jazz music", "play_music"),
]


def prefiller(smollm2, ratio: float, num_blocks: int = 64, block_size: int = 16,
              enable_prefix_cache: bool = True, store_blocks: int | None = None) -> ChunkReusePrefill:
    cfg = smollm2.config
    pool = KVPool.create(num_blocks, cfg.num_layers, cfg.num_kv_heads, cfg.head_dim, block_size)
    manager = BlockManager(pool, enable_prefix_cache, chunk_store=ChunkStore(pool, "smollm2-135m", store_blocks))
    return ChunkReusePrefill(smollm2.model, manager, manager.chunk_store, ratio)


def messages(order: list[int], question: str) -> tuple[list[dict], list[tuple[int, int]]]:
    turns = [t for i in order for t in ({"role": "user", "content": EXAMPLES[i][0]},
                                        {"role": "assistant", "content": EXAMPLES[i][1]})]
    chunks = [(1 + 2 * j, 3 + 2 * j) for j in range(len(order))]
    return [*SYSTEM, *turns, {"role": "user", "content": question}], chunks


_ids = iter(range(10**9))


def sequence(token_ids: list[int], salt: str = "") -> Sequence:
    return Sequence(next(_ids), list(token_ids), SamplingParams(max_tokens=8, temperature=0, cache_salt=salt))
