"""n samples of one prompt: one prefill, then each sample on its own seed over shared KV."""

import pytest
from engine_support import tiny_engine

from gpu_backend.engine import SamplingParams


@pytest.fixture(scope="module")
def tokenizer(smollm2):
    return smollm2.tokenizer


def _run(engine, prompt, params_list):
    """All samples of `prompt` through one request with siblings; token ids by sample."""
    ids = [engine.new_seq_id() for _ in params_list]
    engine.add_request(prompt, params_list[0], ids[0], siblings=list(zip(ids[1:], params_list[1:])))
    tokens = {i: [] for i in ids}
    while engine.has_unfinished():
        for output in engine.step():
            tokens[output.seq_id] += output.new_token_ids
    return [tokens[i] for i in ids]


@pytest.mark.parametrize("prompt_text", ["Once upon a time there was", "A" * 40])
def test_three_samples_prefill_once_and_each_follows_its_own_seed(tokenizer, prompt_text):
    prompt = tokenizer.encode(prompt_text)
    params = [SamplingParams(max_tokens=10, temperature=1.0, seed=seed, ignore_eos=True) for seed in (1, 2, 3)]
    engine = tiny_engine(tokenizer, enable_prefix_cache=False, block_size=16)
    samples = _run(engine, prompt, params)
    assert engine.stats.prefill_tokens == len(prompt)  # one prefill for all three
    assert engine.pool.allocator.num_free == engine.pool.num_blocks  # every block came back
    alone = [tiny_engine(tokenizer, enable_prefix_cache=False, block_size=16).generate([prompt], p)[0].token_ids
             for p in params]
    assert samples == alone
    assert len({tuple(s) for s in samples}) == 3


def test_an_aborted_sample_that_has_not_started_never_runs(tokenizer):
    engine = tiny_engine(tokenizer)
    prompt = tokenizer.encode("Once upon a time")
    first, second = engine.new_seq_id(), engine.new_seq_id()
    params = SamplingParams(max_tokens=4, temperature=0, ignore_eos=True)
    engine.add_request(prompt, params, first, siblings=[(second, params)])
    assert engine.abort(second) is None
    seen = set()
    while engine.has_unfinished():
        seen |= {output.seq_id for output in engine.step()}
    assert seen == {first}


def test_samples_waiting_on_an_aborted_first_sample_still_share_one_prefill(tokenizer):
    engine = tiny_engine(tokenizer, enable_prefix_cache=False)
    prompt = tokenizer.encode("Once upon a time")
    ids = [engine.new_seq_id() for _ in range(3)]
    params = SamplingParams(max_tokens=4, temperature=0, ignore_eos=True)
    engine.add_request(prompt, params, ids[0], siblings=[(ids[1], params), (ids[2], params)])
    engine.abort(ids[0])
    finished = set()
    while engine.has_unfinished():
        finished |= {output.seq_id for output in engine.step() if output.finished}
    assert finished == {ids[1], ids[2]}
    assert engine.stats.prefill_tokens == len(prompt)
