"""The async engine: concurrent token streams, and cancellation that frees KV blocks."""

import asyncio

import pytest
from engine_support import tiny_engine

from gpu_backend.engine import AsyncEngine, FinishReason, SamplingParams


@pytest.fixture
def engine(smollm2):
    engine = AsyncEngine(tiny_engine(smollm2.tokenizer))
    engine.start()
    yield engine
    engine.stop()


@pytest.fixture(scope="module")
def encode(smollm2):
    return smollm2.tokenizer.encode


async def collect(engine: AsyncEngine, prompt: list[int], params: SamplingParams):
    async with engine.submit(prompt, params) as stream:
        return [output async for output in stream]


async def test_concurrent_streams_match_offline_generation(smollm2, engine, encode):
    prompts = [encode(t) for t in ("Hello there", "The capital of France is", "Once upon a time")]
    params = SamplingParams(max_tokens=10, temperature=0, ignore_eos=True)
    expected = tiny_engine(smollm2.tokenizer).generate(prompts, params)
    streams = await asyncio.gather(*(collect(engine, p, params) for p in prompts))
    for outputs, want in zip(streams, expected):
        assert [t for o in outputs for t in o.new_token_ids] == want.token_ids
        assert "".join(o.new_text for o in outputs) == want.text
        assert outputs[-1].finished and outputs[-1].finish_reason is FinishReason.LENGTH
        assert not any(o.finished for o in outputs[:-1])


async def test_leaving_a_stream_early_aborts_it_and_frees_its_blocks(engine, encode):
    params = SamplingParams(max_tokens=2000, temperature=0, ignore_eos=True)
    async with engine.submit(encode("Count forever: one two three"), params) as stream:
        async for output in stream:
            if output.num_output_tokens >= 3:
                break
    inner = engine.engine
    for _ in range(200):
        if not inner.has_unfinished():
            break
        await asyncio.sleep(0.02)
    assert not inner.has_unfinished()
    assert inner.stats.aborted_requests == 1
    # Only the prefix cache still holds blocks, and it holds them unlocked (evictable).
    radix = inner.block_manager.radix
    assert inner.pool.allocator.num_used == radix.cached_blocks == radix.evictable_blocks


async def test_an_impossible_request_is_refused_before_queueing(engine):
    with pytest.raises(ValueError, match="tokens"):
        engine.submit(list(range(10)) * 1000, SamplingParams())
    with pytest.raises(ValueError, match="token ids"):
        engine.submit([10**9], SamplingParams())
