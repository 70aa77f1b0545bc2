"""The shipped stacked verifier deciding hits inside SemanticCache (its cross-encoder through PyTorch here)."""

import threading

import pytest
from cache_requests import answer, chat

from gateway.cache.cross_encoder_verifier import CrossEncoderVerifier
from gateway.cache.verifier import Verifier
from gateway.cache.verifier_stack import (
    CROSS_ENCODER_PATH,
    STACK_PATH,
    StackedVerifier,
    read_head,
)


@pytest.fixture(scope="module")
def verifier() -> StackedVerifier:
    """Overrides conftest's: the cache, and the policy's 2% threshold, are the stack's."""
    head, info = read_head(STACK_PATH)
    return StackedVerifier(Verifier.load(), CrossEncoderVerifier.load(CROSS_ENCODER_PATH, backend="torch"), head, info)


async def test_a_paraphrase_hits_on_the_stacks_probability_computed_on_the_cross_encoders_thread(
    cache, policy, verifier, monkeypatch
):
    threads = []
    probabilities = verifier.probabilities

    def recording(*args):
        threads.append(threading.current_thread())
        return probabilities(*args)

    monkeypatch.setattr(verifier, "probabilities", recording)
    p = policy(similarity_threshold=0.6)
    await cache.insert("t1", p, chat("How can I improve my English speaking skills?"), answer("Practice daily."), "m")
    result = await cache.lookup("t1", p, chat("How can I improve my spoken English skills?"))
    assert result.reason == "semantic" and result.probability >= p.verifier_threshold
    # Its own thread (lowered beside a backend, gateway/cpu_share.py), not the event loop's or asyncio's default pool.
    assert threads and all(t.name.startswith("semgate-cross-encoder") for t in threads)
    # Only the stack's two most similar candidates can hit: a third, less similar one never gets a probability.
    await cache.insert("t1", p, chat("How can I improve my English reading skills?"), answer("Read daily."), "m")
    await cache.insert("t1", p, chat("How can I improve my English listening skills?"), answer("Listen."), "m")
    result = await cache.lookup("t1", p, chat("How can I improve my spoken English skills?"))
    eligible = [c for c in result.candidates if c.rejected_by is None and c.similarity >= p.similarity_threshold]
    scored = [c for c in eligible if c.probability]
    assert len(eligible) == 3 and len(scored) == 2
    assert min(c.similarity for c in scored) > max(c.similarity for c in eligible if not c.probability)


async def test_the_conversation_check_keeps_the_feature_verifier(cache, verifier):
    assert cache.context._score_pairs.verifier is verifier.features
