"""KVShare in the engine: blended prompts batch with others, ratio 1.0 matches the plain engine,
and approximate KV never reaches the prefix cache."""

from gpu_backend.build import build_engine
from gpu_backend.engine import EngineConfig, SamplingParams
from gpu_backend.kvshare.chunk_spans import chat_chunk_spans
from kvshare_support import messages

GREEDY = SamplingParams(max_tokens=6, temperature=0, ignore_eos=True)


def _engine(smollm2, ratio):
    return build_engine(smollm2.model, smollm2.tokenizer, EngineConfig(kv_budget_bytes=64 << 20,
                                                                      kvshare_recompute_ratio=ratio))


def _prompt(smollm2, order, question):
    return chat_chunk_spans(smollm2.chat_template, smollm2.tokenizer, *messages(order, question))


def _run(engine, requests, start_second_after: int = 0):
    """Run (ids, spans) requests; the second joins after `start_second_after` steps of the first."""
    seqs = [engine.add_request(requests[0][0], GREEDY, chunk_spans=requests[0][1])]
    for _ in range(start_second_after):
        engine.step()
    seqs += [engine.add_request(ids, GREEDY, chunk_spans=spans) for ids, spans in requests[1:]]
    while engine.has_unfinished():
        engine.step()
    return [s.output_token_ids for s in seqs]


def test_ratio_one_matches_the_plain_engine_with_a_decode_in_the_same_batch(smollm2):
    seed = _prompt(smollm2, [0, 1, 2], "wake me up at six")
    moved = _prompt(smollm2, [2, 0, 1], "play the news")
    plain = _engine(smollm2, None)
    expected = _run(plain, [seed, moved], start_second_after=2)
    assert not plain.reuses_chunks

    shared = _engine(smollm2, 1.0)
    got = _run(shared, [seed, moved], start_second_after=2)  # the seed decodes while `moved` blends
    stats = shared.runner.counters
    assert stats.prompts_blended == 1 and stats.chunks_saved == 3
    assert stats.tokens_reused == sum(e - s for s, e in moved[1]) == stats.tokens_recomputed
    assert got == expected


def test_a_low_ratio_keeps_approximate_kv_out_of_the_prefix_cache(smollm2):
    seed = _prompt(smollm2, [0, 1, 2, 3], "wake me up at six")
    moved_ids, moved_spans = _prompt(smollm2, [3, 2, 1, 0], "play the news")
    engine = _engine(smollm2, 0.15)
    _run(engine, [seed])
    _run(engine, [(moved_ids, moved_spans)])
    stats = engine.runner.counters
    assert stats.prompts_blended == 1 and 0 < stats.tokens_recomputed < stats.tokens_reused
    match = engine.block_manager.radix.match_prefix(moved_ids, record=False)
    assert match.num_tokens <= moved_spans[0][0]  # nothing past the first reused chunk is cached
    engine.block_manager.radix.evict(10**6)
    engine.runner.store.clear()
    assert engine.pool.allocator.num_free == engine.pool.num_blocks  # no block leaked
