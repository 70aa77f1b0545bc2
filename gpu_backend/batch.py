"""What one forward step computes: the contract between engine, model and kernels.

The engine packs the new tokens of every scheduled sequence into one flat batch and
describes where their keys/values live in the paged KV pool. The model reads this to
write K/V (`slot_mapping`) and to attend (`block_tables`, `context_lens`).

Slot of a token = block_id * block_size + offset within the block.
"""

from dataclasses import dataclass

import torch


@dataclass
class StepBatch:
    # True: some sequences bring more than one new token (prefill, chunked prefill,
    # or a prefix-cache hit followed by the uncached rest). False: every sequence
    # brings exactly one new token (decode).
    is_prefill: bool
    # [total_new_tokens] int64: pool slot each new token's K/V is written to.
    slot_mapping: torch.Tensor
    # [num_seqs, max_blocks] int32: the blocks of each sequence in order, padded with 0.
    block_tables: torch.Tensor
    # [num_seqs] int32: tokens in the KV pool for each sequence once this step's
    # tokens are written (cached prefix + tokens already computed + new tokens).
    context_lens: torch.Tensor
    # [num_seqs + 1] int32: offsets of each sequence's new tokens in the flat batch.
    cu_seqlens_q: torch.Tensor
    # [num_seqs_to_sample] int64: flat index of the last new token of each sequence
    # whose logits are needed (a chunked prefill that is not finished needs none).
    logits_indices: torch.Tensor
    max_seqlen_q: int
    max_context_len: int
    # In a prefill step, the leading sequences that bring exactly one new token (decodes,
    # sorted by context length): they take the decode attention path, the rest the
    # prefill path. 0: every sequence takes the prefill path.
    num_decode_seqs: int = 0
