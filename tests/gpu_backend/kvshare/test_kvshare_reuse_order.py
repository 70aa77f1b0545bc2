"""Cache-aware admission on constructed queues: high reuse first, sharers together, SLOs kept."""

from gpu_backend.engine import SamplingParams, Sequence
from gpu_backend.engine.block_manager import BlockManager
from gpu_backend.engine.slo import RequestSLO
from gpu_backend.kv import KVPool
from gpu_backend.kvshare import ChunkStore
from gpu_backend.kvshare.reuse_order import ReuseOrder

CHUNK_A, CHUNK_B, CHUNK_C = list(range(100, 132)), list(range(200, 232)), list(range(300, 332))


def _setup():
    pool = KVPool.create(32, 1, 1, 4, 16)
    manager = BlockManager(pool)
    store = ChunkStore(pool, "tiny")
    holder = pool.allocator.allocate(2)
    store.save(CHUNK_A, "", holder, 0)  # chunk A is stored; B and C are not
    pool.allocator.free(holder)
    return manager, store


def _seq(seq_id, chunks, now, waited=0.0, slo=None, question=(7, 8, 9)):
    tokens, spans = [1, 2, 3], []
    for chunk in chunks:
        spans.append((len(tokens), len(tokens) + len(chunk)))
        tokens += chunk
    seq = Sequence(seq_id, tokens + list(question), SamplingParams(), arrival_time=now - waited,
                   slo=slo or RequestSLO())
    seq.chunk_spans = spans
    return seq


def test_high_reuse_goes_first_and_sharers_are_adjacent():
    manager, store = _setup()
    now = 1000.0
    cold_b = _seq(0, [CHUNK_B], now)
    cold_c = _seq(1, [CHUNK_C], now)
    hot = _seq(2, [CHUNK_A], now)
    cold_b2 = _seq(3, [CHUNK_B], now, question=(5, 6))
    order = ReuseOrder(manager, store).order([cold_b, cold_c, hot, cold_b2], now)
    assert [s.seq_id for s in order] == [2, 0, 3, 1]
    assert ReuseOrder(manager, store).reuse_fraction(hot) == 32 / 38


def test_urgent_requests_keep_their_place_at_the_head():
    manager, store = _setup()
    now = 1000.0
    waited_long = _seq(0, [CHUNK_B], now, waited=5.0)
    near_slo = _seq(1, [CHUNK_C], now, waited=0.3, slo=RequestSLO(ttft_s=0.5))
    preempted = _seq(2, [CHUNK_C], now)
    preempted.num_preemptions = 1
    hot = _seq(3, [CHUNK_A], now)
    order = ReuseOrder(manager, store, max_wait_s=2.0).order([waited_long, near_slo, preempted, hot], now)
    assert [s.seq_id for s in order] == [0, 1, 2, 3]
