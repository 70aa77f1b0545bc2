"""`/v1/messages` through the official anthropic SDK against a running semgate (cache on) in front of the
deterministic echo upstream: miss then hit, a streamed hit the SDK's own accumulator reads, count_tokens,
the tenant key as x-api-key, tenant isolation, every answer-changing field changing the cache key, and
errors (key, body, upstream rate limit) in Anthropic's shape."""

from typing import Any

import anthropic
import httpx
import pytest
from gateway_setup import control

from gateway.protocols.anthropic_request import ANSWER_CHANGING_FIELDS

Semgate = Any  # the `semgate` fixture (tests/gateway/protocols/conftest.py): url, echo, key_a, key_b
QUESTION = "How do I reverse a list in Python?"
ASK: dict[str, Any] = {"model": "echo-1", "max_tokens": 64, "messages": [{"role": "user", "content": QUESTION}]}


def client(semgate: Semgate, key: str | None = None) -> anthropic.Anthropic:
    """The SDK as shipped: it sends the key as x-api-key, and anthropic-version."""
    return anthropic.Anthropic(base_url=semgate.url, api_key=key or semgate.key_a, max_retries=0)


def create(semgate: Semgate, key: str | None = None, **body: Any) -> tuple[str, Any]:
    raw = client(semgate, key).messages.with_raw_response.create(**{**ASK, **body})
    return raw.headers["x-semgate-cache"], raw.parse()


def test_plain_miss_then_hit_with_identical_text(semgate: Semgate) -> None:
    first_cache, first = create(semgate, system="Be brief.")
    second_cache, second = create(semgate, system="Be brief.")
    assert (first_cache, second_cache) == ("miss", "hit")
    assert first.content[0].text == second.content[0].text == f"Echo: {QUESTION}"
    assert second.id != first.id and second.stop_reason == "end_turn" and second.model == "echo-1"
    assert second.usage.output_tokens == first.usage.output_tokens == 9
    assert semgate.echo.stats.requests == 1
    sent = semgate.echo.last_body
    assert sent is not None and sent["messages"][0] == {"role": "system", "content": "Be brief."}


def test_streamed_miss_then_streamed_hit_read_by_the_sdk_accumulator(semgate: Semgate) -> None:
    raw = client(semgate).messages.with_raw_response.create(**ASK, stream=True)
    assert raw.headers["x-semgate-cache"] == "miss"
    events = list(raw.parse())
    assert [e.type for e in events][:1] == ["message_start"] and events[-1].type == "message_stop"
    missed = "".join(e.delta.text for e in events if e.type == "content_block_delta")
    with client(semgate).messages.stream(**ASK) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(pieces) == final.content[0].text == missed == f"Echo: {QUESTION}"
    assert final.usage.output_tokens == 9 and final.stop_reason == "end_turn"
    assert semgate.echo.stats.requests == 1  # the stream was served from the cache


def test_count_tokens_counts_the_prompt_and_refuses_unknown_models(semgate: Semgate) -> None:
    messages = client(semgate).messages
    short = messages.count_tokens(model="echo-1", messages=ASK["messages"]).input_tokens
    longer = messages.count_tokens(model="echo-1", messages=ASK["messages"], system="Answer in French, please.")
    assert 0 < short < longer.input_tokens
    with pytest.raises(anthropic.NotFoundError) as unknown:
        messages.count_tokens(model="claude-nope", messages=ASK["messages"])
    assert unknown.value.body["type"] == "error" and unknown.value.body["error"]["type"] == "not_found_error"
    assert semgate.echo.stats.requests == 0  # counting never asks the upstream


def test_tenants_are_isolated_and_either_header_carries_the_key(semgate: Semgate) -> None:
    assert create(semgate)[0] == "miss"
    assert create(semgate, semgate.key_b)[0] == "miss"  # another tenant never hits my entry
    bearer = httpx.post(f"{semgate.url}/v1/messages", json=ASK, headers={"authorization": f"Bearer {semgate.key_a}"})
    assert bearer.headers["x-semgate-cache"] == "hit"
    both = {"authorization": f"Bearer {semgate.key_a}", "x-api-key": semgate.key_b}
    refused = httpx.post(f"{semgate.url}/v1/messages", json=ASK, headers=both)
    assert refused.status_code == 401 and refused.json()["error"]["type"] == "authentication_error"
    padded = f"{semgate.key_a}\u00a0".encode("latin-1")  # as HTTP carries it: the one byte 0xA0
    for headers in ([("x-api-key", semgate.key_a), ("x-api-key", semgate.key_a)], [(b"x-api-key", padded)]):
        refused = httpx.post(f"{semgate.url}/v1/messages", json=ASK, headers=headers)
        assert refused.status_code == 401 and refused.json()["error"]["type"] == "authentication_error"
    # x-api-key is the Anthropic routes' header: the OpenAI routes read Bearer only.
    chat = {"model": "echo-1", "messages": ASK["messages"]}
    assert (
        httpx.post(f"{semgate.url}/v1/chat/completions", json=chat, headers={"x-api-key": semgate.key_a}).status_code
        == 401
    )


def test_a_bug_is_an_anthropic_shaped_500(semgate: Semgate, monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.protocols import messages_route  # where the route's parser is looked up

    def broken(body: Any) -> None:
        raise RuntimeError("a bug nobody foresaw")

    monkeypatch.setattr(messages_route, "parse_messages_request", broken)
    with pytest.raises(anthropic.InternalServerError) as crashed:
        create(semgate)
    assert crashed.value.body["error"]["type"] == "api_error" and "nobody foresaw" not in str(crashed.value.body)


def test_errors_are_in_anthropics_shape(semgate: Semgate) -> None:
    with pytest.raises(anthropic.AuthenticationError) as wrong_key:
        create(semgate, "sk-nobody")
    assert wrong_key.value.body["type"] == "error"
    assert wrong_key.value.body["error"]["type"] == "authentication_error"
    with pytest.raises(anthropic.BadRequestError) as bad_body:
        create(semgate, max_tokens=0)
    assert bad_body.value.body["error"] == {
        "type": "invalid_request_error",
        "message": "max_tokens: must be a positive integer",
    }
    for method, path, status in (("GET", "/v1/messages", 405), ("POST", "/v1/messages/nope", 404)):
        routed = httpx.request(method, f"{semgate.url}{path}", headers={"x-api-key": semgate.key_a})
        assert routed.status_code == status and routed.json()["type"] == "error", routed.text
    control(semgate.echo, fault="429", fault_count=1)
    with pytest.raises(anthropic.RateLimitError) as limited:
        create(semgate, messages=[{"role": "user", "content": "A question the cache has not seen."}])
    assert limited.value.body["error"]["type"] == "rate_limit_error"


# One value per answer-changing field that differs from ASK (the chat body must then differ).
VARIANTS: dict[str, Any] = {
    "model": "echo-2",
    "system": "Answer in French.",
    "messages": [{"role": "user", "content": "How do I sort a dict by value in Python?"}],
    "max_tokens": 3,
    "stop_sequences": ["list"],
    "temperature": 0.5,
    "top_p": 0.5,
    "top_k": 5,
    "tools": [{"name": "get_time", "input_schema": {"type": "object", "properties": {}}}],
    "tool_choice": {"type": "none"},
    "output_config": {"format": {"type": "json_schema", "schema": {"type": "object", "properties": {}}}},
}


def test_every_answer_changing_field_changes_the_cache_key(semgate: Semgate) -> None:
    assert set(VARIANTS) == set(ANSWER_CHANGING_FIELDS)
    post = httpx.Client(base_url=f"{semgate.url}/v1", headers={"x-api-key": semgate.key_a}, timeout=30)
    assert [post.post("/messages", json=ASK).headers["x-semgate-cache"] for _ in range(2)] == ["miss", "hit"]
    for name, value in VARIANTS.items():
        answer = post.post("/messages", json={**ASK, name: value})
        assert answer.status_code == 200, answer.text
        # A miss (a cut answer, max_tokens, is stored for that bound only), never a hit.
        assert answer.headers["x-semgate-cache"] in ("miss", "store-skipped"), name
