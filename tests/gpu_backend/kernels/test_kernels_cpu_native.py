"""The native CPU decode attention kernel against the torch reference it stands in for."""

import math

import pytest
import torch

from gpu_backend import kernels
from gpu_backend.errors import KernelUnavailable
from gpu_backend.kernels import cpu_decode_attention, cpu_native
from gpu_backend.kernels.reference_attention import paged_decode_attention as reference_decode

pytestmark = pytest.mark.skipif(not cpu_decode_attention.available(),
                                reason="no C compiler: the native kernel cannot be built here")
BLOCK = 4


def paged_batch(seq_lens, num_heads, num_kv_heads, head_dim, seed, spare_blocks=3):
    """q, a pool with each sequence's blocks in shuffled order, its tables (padded with 0) and lengths."""
    gen = torch.Generator().manual_seed(seed)
    blocks_per_seq = [-(-n // BLOCK) for n in seq_lens]
    num_blocks = sum(blocks_per_seq) + spare_blocks
    k_cache = torch.randn(num_blocks, BLOCK, num_kv_heads, head_dim, generator=gen)
    v_cache = torch.randn(num_blocks, BLOCK, num_kv_heads, head_dim, generator=gen)
    order = torch.randperm(num_blocks, generator=gen).tolist()
    tables = torch.zeros(len(seq_lens), max(1, max(blocks_per_seq)), dtype=torch.int32)
    for b, count in enumerate(blocks_per_seq):
        tables[b, :count] = torch.tensor([order.pop() for _ in range(count)], dtype=torch.int32)
    q = torch.randn(len(seq_lens), num_heads, head_dim, generator=gen)
    return q, k_cache, v_cache, tables, torch.tensor(seq_lens, dtype=torch.int32)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("num_heads,num_kv_heads,head_dim", [(4, 4, 8), (6, 2, 16), (9, 3, 64), (8, 1, 32)])
@pytest.mark.parametrize("threads", [1, 2])
def test_matches_the_reference(seed, num_heads, num_kv_heads, head_dim, threads):
    # Lengths in no order: block boundaries (4, 8), one token, a partial last block, long ones.
    seq_lens = [13, 1, 8, 4, 37, 22, 5, 64]
    q, k_cache, v_cache, tables, lens = paged_batch(seq_lens, num_heads, num_kv_heads, head_dim, seed)
    scale = 1 / math.sqrt(head_dim)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        out = cpu_decode_attention.paged_decode_attention(q, k_cache, v_cache, tables, lens, scale)
    finally:
        torch.set_num_threads(before)
    torch.testing.assert_close(out, reference_decode(q, k_cache, v_cache, tables, lens, scale), atol=2e-6, rtol=1e-5)


@pytest.mark.parametrize("num_heads,num_kv_heads", [(9, 3), (8, 1), (4, 4)])
def test_fewer_sequences_than_threads_split_by_kv_head(num_heads, num_kv_heads):
    q, k_cache, v_cache, tables, lens = paged_batch([29], num_heads, num_kv_heads, 16, seed=5)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        out = cpu_decode_attention.paged_decode_attention(q, k_cache, v_cache, tables, lens, 0.25)
    finally:
        torch.set_num_threads(before)
    torch.testing.assert_close(out, reference_decode(q, k_cache, v_cache, tables, lens, 0.25), atol=2e-6, rtol=1e-5)


def test_empty_context_gives_zeros_and_empty_batch_gives_empty():
    q, k_cache, v_cache, tables, lens = paged_batch([0, 6, 0], 6, 2, 16, seed=0)
    out = cpu_decode_attention.paged_decode_attention(q, k_cache, v_cache, tables, lens, 0.25)
    assert torch.equal(out[0], torch.zeros_like(out[0])) and torch.equal(out[2], torch.zeros_like(out[2]))
    torch.testing.assert_close(out, reference_decode(q, k_cache, v_cache, tables, lens, 0.25))
    empty = cpu_decode_attention.paged_decode_attention(q[:0], k_cache, v_cache, tables[:0], lens[:0], 0.25)
    assert empty.shape == (0, 6, 16)


def test_reads_the_pool_in_place_with_strided_inputs():
    """A layer view of a 5-D pool, a row slice of the tables and a q that is a view of a wider
    projection (as the model passes them) give the reference's answer."""
    q, k_cache, v_cache, tables, lens = paged_batch([9, 3, 17], 9, 3, 64, seed=1)
    k_pool, v_pool = torch.stack([torch.zeros_like(k_cache), k_cache]), torch.stack([torch.zeros_like(v_cache), v_cache])
    wide = torch.cat([q.reshape(3, -1), torch.randn(3, 40)], dim=1)
    q_view = wide[:, : 9 * 64].view(3, 9, 64)
    padded_tables = torch.cat([tables, torch.zeros(1, tables.shape[1], dtype=torch.int32)])
    out = cpu_decode_attention.paged_decode_attention(q_view, k_pool[1], v_pool[1], padded_tables[:3], lens.long(), 0.125)
    torch.testing.assert_close(out, reference_decode(q, k_cache, v_cache, tables, lens, 0.125), atol=2e-6, rtol=1e-5)


def test_indices_outside_the_pool_or_tables_are_an_error_not_a_read():
    q, k_cache, v_cache, tables, lens = paged_batch([5, 7], 4, 2, 8, seed=2)
    bad_block = tables.clone()
    bad_block[1, 1] = k_cache.shape[0]
    with pytest.raises(ValueError, match="block ids"):
        cpu_decode_attention.paged_decode_attention(q, k_cache, v_cache, bad_block, lens, 0.5)
    with pytest.raises(ValueError, match="context lengths"):
        cpu_decode_attention.paged_decode_attention(q, k_cache, v_cache, tables, torch.tensor([5, 9]), 0.5)
    negative = tables.clone()
    negative[0, 0] = -1
    with pytest.raises(ValueError):
        cpu_decode_attention.paged_decode_attention(q, k_cache, v_cache, negative, lens, 0.5)


def test_dispatch_takes_the_native_kernel_on_cpu_float32_unless_torch_is_forced(monkeypatch):
    q, k_cache, v_cache, tables, lens = paged_batch([6, 11], 6, 2, 16, seed=3)
    calls = []
    native = cpu_decode_attention.paged_decode_attention
    monkeypatch.setattr(cpu_decode_attention, "paged_decode_attention", lambda *a: calls.append(1) or native(*a))
    monkeypatch.delenv("SEMGATE_KERNELS", raising=False)
    kernels.paged_decode_attention(q, k_cache, v_cache, tables, lens, 0.25)
    kernels.paged_decode_attention(q.double(), k_cache.double(), v_cache.double(), tables, lens, 0.25)
    monkeypatch.setenv("SEMGATE_KERNELS", "torch")
    kernels.paged_decode_attention(q, k_cache, v_cache, tables, lens, 0.25)
    assert calls == [1]  # float64 and the forced torch path take the reference


def test_a_failed_build_leaves_the_torch_path(monkeypatch, tmp_path):
    monkeypatch.setenv("SEMGATE_KERNEL_CACHE", str(tmp_path))
    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    cpu_native.load.cache_clear()
    try:
        assert cpu_native.load("cpu_decode_attention") is None
    finally:
        cpu_native.load.cache_clear()
    assert list(tmp_path.iterdir()) == []


def test_calling_the_kernel_after_a_failed_build_is_a_named_error(monkeypatch, tmp_path):
    """It used to fail with "'NoneType' object is not callable" from inside the module."""
    monkeypatch.setenv("SEMGATE_KERNEL_CACHE", str(tmp_path))
    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    cpu_native.load.cache_clear()
    cpu_decode_attention._kernel.cache_clear()
    try:
        with pytest.raises(KernelUnavailable, match="did not build or load"):
            cpu_decode_attention.paged_decode_attention(*paged_batch([3, 5], 4, 2, 8, seed=1), 0.5)
    finally:
        cpu_native.load.cache_clear()
        cpu_decode_attention._kernel.cache_clear()


def test_the_build_is_cached_per_source_and_machine(monkeypatch, tmp_path):
    monkeypatch.setenv("SEMGATE_KERNEL_CACHE", str(tmp_path))
    cpu_native.load.cache_clear()
    try:
        assert cpu_native.load("cpu_decode_attention") is not None
        built = sorted(p.name for p in tmp_path.iterdir())
        cpu_native.load.cache_clear()
        assert cpu_native.load("cpu_decode_attention") is not None
    finally:
        cpu_native.load.cache_clear()
    assert len(built) == 1 and built[0].startswith("cpu_decode_attention-") and built[0].endswith(".so")
    assert sorted(p.name for p in tmp_path.iterdir()) == built  # loaded again, not rebuilt


def test_shapes_the_kernel_cannot_take_are_an_error():
    q, k_cache, v_cache, tables, lens = paged_batch([5, 7], 6, 2, 16, seed=4)
    for args in [(q, k_cache[None], v_cache[None]),  # a whole pool, not a layer
                 (q[:, :5], k_cache, v_cache),  # 5 query heads over 2 KV heads
                 (q[..., :12], k_cache[..., :12].contiguous(), v_cache[..., :12].contiguous()),  # D = 12
                 (q, k_cache.transpose(1, 2), v_cache.transpose(1, 2)),  # not contiguous
                 (q.double(), k_cache.double(), v_cache.double())]:
        with pytest.raises(ValueError, match="decode attention needs"):
            cpu_decode_attention.paged_decode_attention(*args, tables, lens, 0.5)


def test_running_softmax_holds_with_widely_spread_scores():
    """Keys scaled by their pool slot (up to ~30x) and a 20x query spread the scores over
    hundreds, so the running maximum jumps between blocks: a wrong rescale shows at once."""
    q, k_cache, v_cache, tables, lens = paged_batch([61, 40, 3], 6, 2, 16, seed=6)
    ramp = torch.arange(k_cache.shape[0] * BLOCK, dtype=torch.float32).view(k_cache.shape[0], BLOCK, 1, 1)
    k_cache = k_cache * (1 + ramp / 8)
    out = cpu_decode_attention.paged_decode_attention(q * 20, k_cache, v_cache, tables, lens, 0.25)
    torch.testing.assert_close(out, reference_decode(q * 20, k_cache, v_cache, tables, lens, 0.25), atol=1e-5, rtol=1e-5)
