"""Torch reference for the paged-KV kernels; also the path the engine runs on a CPU, except
decode attention, which runs the native kernel there when it builds (cpu_decode_attention).

Layouts: a layer's cache is [num_blocks, block_size, Hkv, D]; slot = block * block_size + offset.
K/V are gathered block-wise with index_select (several times faster on a CPU than
advanced indexing) and never repeated for GQA: decode folds the G = H // Hkv query heads
of a KV head into the query-length axis; prefill uses SDPA's enable_gqa.
"""

import itertools

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
    total_blocks, block_size, num_kv_heads, head_dim = cache_layer.shape
    # A 2-D view makes index_select one row copy per block.
    rows = cache_layer.view(total_blocks, -1).index_select(0, block_tables.reshape(-1).long())
    return rows.view(batch, num_blocks * block_size, num_kv_heads, head_dim).transpose(1, 2)


# Decode batches are split into at most this many groups of similar context length.
DECODE_LENGTH_GROUPS = 4


def length_groups(
    sorted_lens: list[int], block_size: int, max_groups: int = DECODE_LENGTH_GROUPS
) -> list[tuple[int, int, int]]:
    """(start, end, blocks) row ranges of an ascending list of context lengths: equal-count
    groups, each padded to its own longest context; neighbours needing the same number of
    blocks are merged."""
    count = len(sorted_lens)
    groups: list[tuple[int, int, int]] = []
    num_groups = max(1, min(max_groups, count))
    for index in range(num_groups):
        start, end = index * count // num_groups, (index + 1) * count // num_groups
        if start == end:
            continue
        blocks = max(1, -(-sorted_lens[end - 1] // block_size))
        if groups and groups[-1][2] == blocks:
            groups[-1] = (groups[-1][0], end, blocks)
        else:
            groups.append((start, end, blocks))
    return groups


def _decode_group(
    q: torch.Tensor,
    k_cache_layer: torch.Tensor,
    v_cache_layer: torch.Tensor,
    block_tables: torch.Tensor,
    lens: torch.Tensor,
    used_blocks: int,
    scale: float,
) -> torch.Tensor:
    batch, num_heads, head_dim = q.shape
    block_size, num_kv_heads = k_cache_layer.shape[1], k_cache_layer.shape[2]
    tables = block_tables[:, :used_blocks]
    keys = _gather_context(k_cache_layer, tables).to(q.dtype)
    values = _gather_context(v_cache_layer, tables).to(q.dtype)
    positions = torch.arange(used_blocks * block_size, device=q.device)
    visible = positions[None, :] < lens[:, None]  # [b, L]
    visible[:, 0] |= lens == 0
    queries = q.reshape(batch, num_kv_heads, num_heads // num_kv_heads, head_dim)
    out = F.scaled_dot_product_attention(queries, keys, values, attn_mask=visible[:, None, None, :], scale=scale)
    return out.reshape(batch, num_heads, head_dim)


def paged_decode_attention(
    q: torch.Tensor,
    k_cache_layer: torch.Tensor,
    v_cache_layer: torch.Tensor,
    block_tables: torch.Tensor,
    context_lens: torch.Tensor,
    scale: float,
) -> torch.Tensor:
    """One query token per sequence, q [B, H, D], attending to its first context_lens[b]
    pool positions. A sequence with an empty context gets a zero output.

    Sequences are grouped by context length and each group is padded only to its own
    longest context (padding a whole batch to its longest costs several times the
    gather and attention work). The engine hands decode batches over sorted by length,
    so the groups are plain slices; any other order is sorted here first."""
    batch = q.shape[0]
    lens = context_lens.to(q.device).long()
    if batch == 0:
        return torch.empty_like(q)
    lens_list = lens.tolist()
    ordered = all(a <= b for a, b in itertools.pairwise(lens_list))
    order = None if ordered else torch.argsort(lens, stable=True)
    if order is not None:
        q, block_tables = q.index_select(0, order), block_tables.index_select(0, order)
        lens = lens.index_select(0, order)
        lens_list = lens.tolist()
    groups = length_groups(lens_list, k_cache_layer.shape[1])
    parts = [
        _decode_group(
            q[start:end], k_cache_layer, v_cache_layer, block_tables[start:end], lens[start:end], blocks, scale
        )
        for start, end, blocks in groups
    ]
    out = parts[0] if len(parts) == 1 else torch.cat(parts)
    empty = lens == 0
    if bool(empty.any()):
        out = out.masked_fill(empty[:, None, None], 0.0)
    if order is not None:
        out = torch.empty_like(out).index_copy_(0, order, out)
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
    num_heads = q.shape[1]
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
