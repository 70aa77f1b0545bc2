"""KVShare: reuse the KV of chunks (e.g. in-context examples) wherever they appear in a prompt.

chunk_spans.py (marks -> token spans), chunk_store.py (chunk KV in the pool, by content),
rerotate.py (RoPE to new positions), blend.py (selective recompute of high-deviation tokens),
prefill.py (one prompt's prefill with the radix cache and the chunk store).
"""

from gpu_backend.kvshare.blend import BlendResult, ReusedKV, blend_prefill
from gpu_backend.kvshare.chunk_store import ChunkStore, StoredChunk
from gpu_backend.kvshare.prefill import ChunkReusePrefill, PrefillReport
from gpu_backend.kvshare.rerotate import rerotate_keys

__all__ = ["BlendResult", "ChunkReusePrefill", "ChunkStore", "PrefillReport", "ReusedKV", "StoredChunk",
           "blend_prefill", "rerotate_keys"]
