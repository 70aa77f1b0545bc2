"""KVShare: reuse the KV of chunks (e.g. in-context examples) wherever they appear in a prompt.

chunk_spans.py (marks -> token spans), chunk_store.py (chunk KV in the pool, by content),
rerotate.py (RoPE to new positions), blend.py (selective recompute of high-deviation tokens),
runner.py (KVShareRunner: the engine's model runner, wrapped to blend prompts with stored
chunks), reuse_order.py (a scheduling policy: cache-aware admission).
"""

from gpu_backend.kvshare.blend import BlendResult, ReusedKV, blend_prefill
from gpu_backend.kvshare.chunk_store import ChunkStore, StoredChunk
from gpu_backend.kvshare.rerotate import rerotate_keys
from gpu_backend.kvshare.runner import KVShareRunner

__all__ = ["BlendResult", "ChunkStore", "KVShareRunner", "ReusedKV", "StoredChunk", "blend_prefill", "rerotate_keys"]
