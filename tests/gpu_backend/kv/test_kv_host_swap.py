"""The host KV pool: swap out / in round trips bit for bit, in few large copies."""

import torch

from gpu_backend.kv import HostKVPool, KVPool
from gpu_backend.kv.host_swap import contiguous_runs


def random_pool(num_blocks: int = 24) -> KVPool:
    pool = KVPool.create(num_blocks, num_layers=3, num_kv_heads=2, head_dim=8, block_size=4)
    generator = torch.Generator().manual_seed(0)
    pool.k_cache.copy_(torch.randn(pool.k_cache.shape, generator=generator))
    pool.v_cache.copy_(torch.randn(pool.v_cache.shape, generator=generator))
    return pool


def test_contiguous_runs_group_consecutive_block_ids():
    assert contiguous_runs([4, 5, 6, 9, 10, 2]) == [(0, 4, 3), (3, 9, 2), (5, 2, 1)]
    assert contiguous_runs([]) == []


def test_swap_out_and_in_to_other_blocks_is_bitwise_exact():
    pool = random_pool()
    host = HostKVPool(pool, num_blocks=16)
    source = [3, 4, 5, 6, 11, 12, 0]
    k_before, v_before = pool.k_cache[:, source].clone(), pool.v_cache[:, source].clone()
    taken = host.reserve(len(source))
    host.swap_out(source, taken).result()
    pool.k_cache[:, source] = float("nan")  # the blocks are reused by someone else
    pool.v_cache[:, source] = 0.0
    target = [20, 21, 22, 23, 1, 2, 7]
    host.swap_in(taken, target).result()
    assert torch.equal(pool.k_cache[:, target], k_before) and torch.equal(pool.v_cache[:, target], v_before)
    stats = host.stats
    assert stats.swaps_out == stats.swaps_in == 1
    assert stats.bytes_out == stats.bytes_in == len(source) * pool.bytes_per_block
    # three runs out ([3..6], [11, 12], [0]) and three in ([20..23], [1, 2], [7]), K and V each
    assert stats.copies == 2 * 3 + 2 * 3
    host.close()


def test_host_ranges_are_contiguous_and_merge_when_freed():
    host = HostKVPool(random_pool(), num_blocks=10)
    a, b, c = host.reserve(4), host.reserve(3), host.reserve(3)
    assert (a.start, b.start, c.start) == (0, 4, 7)
    assert host.reserve(1) is None
    host.release(a)
    host.release(b)
    assert host.reserve(7).start == 0  # the two freed ranges merged into one
    host.close()
