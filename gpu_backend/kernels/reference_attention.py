"""Torch reference for the paged-KV kernels; also the path the engine runs on a CPU.

Layouts: a layer's cache is [num_blocks, block_size, Hkv, D]; slot = block * block_size + offset.
K/V are gathered block-wise with index_select (several times faster on a CPU than
advanced indexing) and never repeated for GQA: decode folds the G = H // Hkv query heads
of a KV head into the query-length axis; prefill uses SDPA's enable_gqa.
"""

import torch
import torch.nn.functional as F


def store_kv(
    k: torch.Tensor,
    v: torch.Tensor,
    k_cache_layer: torch.Tensor,
    v_cache_layer: torch.Tensor,
    slot_mapping: torch.Tensor,
) -> None:
    """Write k, v [T, Hkv, D] to their slots in place; a negative slot (padding) is skipped."""
    k_flat = k_cache_layer.view(-1, *k_cache_layer.shape[2:])
    v_flat = v_cache_layer.view(-1, *v_cache_layer.shape[2:])
    slots = slot_mapping.long()
    valid = slots >= 0
    if not bool(valid.all()):
        k, v, slots = k[valid], v[valid], slots[valid]
    k_flat.index_copy_(0, slots, k.to(k_flat.dtype))
    v_flat.index_copy_(0, slots, v.to(v_flat.dtype))


def _gather_context(cache_layer: torch.Tensor, block_tables: torch.Tensor) -> torch.Tensor:
    """[B, M] block ids -> [B, Hkv, M * block_size, D] keys or values in sequence order."""
    batch, num_blocks = block_tables.shape
    _, block_size, num_kv_heads, head_dim = cache_layer.shape
    gathered = cache_layer.index_select(0, block_tables.reshape(-1).long())
    return gathered.view(batch, num_blocks * block_size, num_kv_heads, head_dim).transpose(1, 2)


def paged_decode_attention(
    q: torch.Tensor,
    k_cache_layer: torch.Tensor,
    v_cache_layer: torch.Tensor,
    block_tables: torch.Tensor,
    context_lens: torch.Tensor,
    scale: float,
) -> torch.Tensor:
    """One query token per sequence, q [B, H, D], attending to its first context_lens[b]
    pool positions. A sequence with an empty context gets a zero output."""
    batch, num_heads, head_dim = q.shape
    block_size, num_kv_heads = k_cache_layer.shape[1], k_cache_layer.shape[2]
    group = num_heads // num_kv_heads
    max_len = int(context_lens.max()) if batch else 0
    used_blocks = max(1, -(-max_len // block_size))
    tables = block_tables[:, :used_blocks]
    keys = _gather_context(k_cache_layer, tables)
    values = _gather_context(v_cache_layer, tables)
    positions = torch.arange(used_blocks * block_size, device=q.device)
    lens = context_lens.to(q.device).long()
    visible = positions[None, :] < lens[:, None]  # [B, L]
    empty = lens == 0
    visible[:, 0] |= empty
    queries = q.reshape(batch, num_kv_heads, group, head_dim)
    out = F.scaled_dot_product_attention(
        queries, keys.to(q.dtype), values.to(q.dtype), attn_mask=visible[:, None, None, :], scale=scale
    )
    out = out.reshape(batch, num_heads, head_dim)
    if bool(empty.any()):
        out = out.masked_fill(empty[:, None, None], 0.0)
    return out


def paged_prefill_attention(
    q: torch.Tensor,
    k_cache_layer: torch.Tensor,
    v_cache_layer: torch.Tensor,
    block_tables: torch.Tensor,
    cu_seqlens_q: torch.Tensor,
    context_lens: torch.Tensor,
    scale: float,
    max_seqlen_q: int,
) -> torch.Tensor:
    """New tokens q [T, H, D] of several sequences (offsets cu_seqlens_q), causal over each
    sequence's pool positions: new token i of seq b sits at context_lens[b] - n_new + i.
    Their K/V must already be in the pool (store_kv)."""
    del max_seqlen_q  # the per-sequence loop knows each length
    num_heads, head_dim = q.shape[1], q.shape[2]
    block_size, num_kv_heads = k_cache_layer.shape[1], k_cache_layer.shape[2]
    out = torch.empty_like(q)
    starts = cu_seqlens_q.tolist()
    lens = context_lens.tolist()
    for b, context_len in enumerate(lens):
        start, end = starts[b], starts[b + 1]
        num_new = end - start
        if num_new == 0:
            continue
        used_blocks = -(-context_len // block_size)
        table = block_tables[b : b + 1, :used_blocks]
        keys = _gather_context(k_cache_layer, table)[:, :, :context_len].to(q.dtype)
        values = _gather_context(v_cache_layer, table)[:, :, :context_len].to(q.dtype)
        queries = q[start:end].transpose(0, 1)[None]  # [1, H, n_new, D]
        query_pos = torch.arange(context_len - num_new, context_len, device=q.device)
        causal = torch.arange(context_len, device=q.device)[None, :] <= query_pos[:, None]
        attended = F.scaled_dot_product_attention(
            queries, keys, values, attn_mask=causal, scale=scale, enable_gqa=num_heads != num_kv_heads
        )
        out[start:end] = attended[0].transpose(0, 1)
    return out
