"""The exact tier before the embedder: an identical request is answered without embedding anything."""

import asyncio
import dataclasses
from pathlib import Path

import pytest
from cache_requests import answer, chat

from gateway.cache.fingerprint import request_key
from gateway.cache.step import CacheLayer
from gateway.upstream.settings import UpstreamConfig
from gateway.edge.request import GatewayRequest
from gateway.edge.wire import ParsedRequest
from gateway.upstream.pool import Upstream
from policies.adaptive import LoadAdaptivePolicy
from policies.classifier import CategoryClassifier
from policies.loader import load_policy_file
from policies.reload import PolicyHolder

POLICIES = Path(__file__).resolve().parents[3] / "config" / "policies.yaml"


async def test_an_exact_repeat_is_found_in_any_category_without_embedding(cache, policy):
    finance, general = policy(name="finance"), policy(name="general")
    await cache.insert("t1", finance, chat("What is a Roth IRA?"), answer("A retirement account."), "m")
    asked = cache.embedder.stats.requests
    found = await cache.find_exact_hit("t1", [general, finance], chat("what is a roth ira"))
    assert found is not None
    stored_under, result = found
    assert stored_under.name == "finance" and result.reason == "exact" and result.similarity == 1.0
    assert cache.embedder.stats.requests == asked  # nothing embedded
    assert await cache.find_exact_hit("t2", [general, finance], chat("What is a Roth IRA?")) is None  # private
    assert await cache.find_exact_hit("t1", [general], chat("What is a Roth IRA?")) is None  # category not offered
    assert await cache.find_exact_hit("t1", [dataclasses.replace(finance, cacheable=False)],
                                      chat("What is a Roth IRA?")) is None


async def test_an_expired_exact_entry_is_not_served_by_the_shortcut(cache, policy):
    p = policy()
    await cache.insert("t1", p, chat("What time is it in Tokyo?"), answer("Noon."), "m", ttl_override=0.01)
    await asyncio.sleep(0.05)
    assert await cache.find_exact_hit("t1", [p], chat("What time is it in Tokyo?")) is None


@pytest.fixture
def layer(cache, embedding_model) -> CacheLayer:
    policies = load_policy_file(str(POLICIES))
    holder = PolicyHolder(policies, lambda p: CategoryClassifier.build(p, embedding_model.encode))
    return CacheLayer(cache, holder, LoadAdaptivePolicy(policies, {}, "echo"))


def _parsed(body: dict, headers: dict | None = None) -> GatewayRequest:
    """`body` as the edge hands it to the cache step: tenant t1, upstream echo, fingerprinted."""
    parsed = ParsedRequest(kind="chat", body=body, model=body["model"], stream=False, include_usage=False, semgate={})
    return GatewayRequest("t1", "chat", body["model"], body, False, False, CacheLayer.controls(headers or {}, parsed),
                          request_key(body), Upstream(UpstreamConfig("echo", "http://127.0.0.1:1/v1"), set()), {},
                          headers or {})


async def test_the_layer_answers_an_exact_repeat_before_the_embedder(layer):
    question = chat("How do I reverse a list in Python?")
    first = await layer.consult(_parsed(question))
    assert not first.hit and first.embedding is not None
    assert await layer.remember(first, _parsed(question), answer("list[::-1]"), "m")
    layer.cache.embedder._lru.clear()  # a repeat long after: not in the embedder's LRU either
    asked = layer.cache.embedder.stats.requests
    again = await layer.consult(_parsed(chat("How do I reverse a list in Python?")))
    assert again.hit and again.lookup.reason == "exact" and again.policy.name == first.policy.name
    assert layer.cache.embedder.stats.requests == asked
    assert again.headers()["x-semgate-cache"] == "hit"
    bypass = await layer.consult(_parsed(question, {"cache-control": "no-cache"}))
    assert not bypass.hit and bypass.headers()["x-semgate-cache"] == "bypass"
