import pytest
import torch

from gpu_backend.kv import BlockAllocator, KVPool, OutOfBlocksError, bytes_per_block


def test_allocate_until_exhausted_then_clear_error():
    allocator = BlockAllocator(4)
    first = allocator.allocate(3)
    assert len(set(first)) == 3 and allocator.num_free == 1
    assert allocator.try_allocate(2) is None
    assert allocator.num_free == 1  # a failed request takes nothing
    with pytest.raises(OutOfBlocksError, match="asked for 2 KV blocks but only 1 of 4"):
        allocator.allocate(2)
    assert allocator.allocate(1)[0] not in first


def test_shared_block_is_freed_only_by_its_last_owner():
    allocator = BlockAllocator(2)
    (block,) = allocator.allocate(1)
    allocator.incref([block])
    assert allocator.ref_count(block) == 2
    assert allocator.decref([block]) == []
    assert allocator.num_free == 1
    assert allocator.free([block]) == [block]
    assert allocator.num_free == 2


def test_double_free_and_incref_of_free_block_are_rejected():
    allocator = BlockAllocator(2)
    blocks = allocator.allocate(1)
    allocator.free(blocks)
    with pytest.raises(ValueError):
        allocator.free(blocks)
    with pytest.raises(ValueError):
        allocator.incref(blocks)


def test_pool_from_budget_fits_the_budget_and_tracks_usage():
    per_block = bytes_per_block(30, 3, 64, 16, torch.float16)
    assert per_block == 2 * 30 * 16 * 3 * 64 * 2
    pool = KVPool.from_budget(10 * per_block + per_block - 1, 30, 3, 64, 16, torch.float16, "cpu")
    assert pool.num_blocks == 10
    assert pool.k_cache.shape == (30, 10, 16, 3, 64) and pool.v_cache.dtype == torch.float16
    assert pool.total_bytes <= 11 * per_block and pool.bytes_per_block == per_block
    k_layer, _ = pool.layer(29)
    assert k_layer.shape == (10, 16, 3, 64)
    pool.allocator.allocate(4)
    assert pool.usage == pytest.approx(0.4)


def test_pool_budget_too_small_for_one_block():
    with pytest.raises(ValueError, match="holds no block"):
        KVPool.from_budget(1000, 30, 3, 64, 16, torch.float32, "cpu")
