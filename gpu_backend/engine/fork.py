"""`n` samples of one prompt: the prompt is prefilled once, then forked.

The first sample prefills the prompt. When it samples its first token, each other sample becomes
a sequence of its own over the same KV: it shares the prompt's full blocks (one more reference
each) and gets a copy of the last, partly filled block, which every sample goes on to write its
own tokens into. Each then samples its first token from the same logits with its own generator.
"""

from gpu_backend.engine.block_manager import BlockManager
from gpu_backend.engine.sampling_params import SamplingParams
from gpu_backend.engine.sequence import Sequence, SequenceStatus


def fork_prefilled(manager: BlockManager, parent: Sequence, seq_id: int, params: SamplingParams) -> Sequence | None:
    """A running sequence over `parent`'s prompt KV (the parent has computed its prompt and sampled
    nothing yet), or None when the pool has no block for the copy."""
    size = manager.block_size
    num_prompt = parent.num_prompt_tokens
    full = num_prompt // size
    partial = parent.block_table[full : manager.blocks_for(num_prompt)]
    copies = manager.allocator.try_allocate(len(partial))
    if copies is None:
        return None
    if partial:
        pool = manager.pool
        pool.k_cache[:, copies] = pool.k_cache[:, partial]
        pool.v_cache[:, copies] = pool.v_cache[:, partial]
    shared = parent.block_table[:full]
    manager.allocator.incref(shared)
    child = Sequence(
        seq_id,
        list(parent.prompt_token_ids),
        params,
        arrival_time=parent.arrival_time,
        slo=parent.slo,
        tenant=parent.tenant,
    )
    child.block_table = shared + copies
    if parent.cache_handle is not None:  # the cached prefix stays locked while any sample holds it
        manager.radix.lock(parent.cache_handle)
        child.cache_handle = parent.cache_handle
    child.num_computed_tokens = num_prompt
    child.num_cached_tokens = parent.num_cached_tokens
    child.num_exact_tokens = parent.num_exact_tokens
    child.status = SequenceStatus.RUNNING
    return child
