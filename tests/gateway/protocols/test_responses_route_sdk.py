"""`/v1/responses` through the official openai SDK against a running semgate (cache on) in front of the
deterministic echo upstream: miss then hit, streamed hits the SDK's own accumulator reads, structured
output, `previous_response_id` through the tenant's stored responses, GET/DELETE, tenant isolation, and
every answer-changing field of the adapter changing the cache key."""

from typing import Any

import httpx
import openai
import pytest
from pydantic import BaseModel

from gateway.protocols.responses_request import ANSWER_CHANGING_FIELDS

Semgate = Any  # the `semgate` fixture (tests/gateway/protocols/conftest.py): url, echo, key_a, key_b

QUESTION = "How do I reverse a list in Python?"


class City(BaseModel):
    name: str
    population: int


def client(semgate: Semgate, key: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{semgate.url}/v1", api_key=key or semgate.key_a, max_retries=0)


def create(semgate: Semgate, key: str | None = None, **body: Any) -> tuple[str, Any]:
    """(x-semgate-cache, the SDK's Response) for one responses.create."""
    raw = client(semgate, key).responses.with_raw_response.create(**{"model": "echo-1", **body})
    return raw.headers["x-semgate-cache"], raw.parse()


def test_plain_miss_then_hit_with_identical_text(semgate: Semgate) -> None:
    first_cache, first = create(semgate, input=QUESTION, instructions="Be brief.")
    second_cache, second = create(semgate, input=QUESTION, instructions="Be brief.")
    assert (first_cache, second_cache) == ("miss", "hit")
    assert second.output_text == first.output_text == f"Echo: {QUESTION}"
    assert second.id != first.id and second.status == "completed" and second.instructions == "Be brief."
    assert second.usage is not None and second.usage.output_tokens == first.usage.output_tokens == 9
    assert semgate.echo.stats.requests == 1
    sent = semgate.echo.last_body
    assert sent is not None and sent["messages"][0] == {"role": "system", "content": "Be brief."}


def test_streamed_miss_then_streamed_hit_read_by_the_sdk_accumulator(semgate: Semgate) -> None:
    raw = client(semgate).responses.with_raw_response.create(model="echo-1", input=QUESTION, stream=True)
    assert raw.headers["x-semgate-cache"] == "miss"
    events = list(raw.parse())
    assert [e.type for e in events][:2] == ["response.created", "response.in_progress"]
    assert events[-1].type == "response.completed"
    missed = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    with client(semgate).responses.stream(model="echo-1", input=QUESTION) as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == missed == f"Echo: {QUESTION}"
    assert final.usage is not None and final.usage.output_tokens == 9
    assert semgate.echo.stats.requests == 1  # the stream was served from the cache
    cache, whole = create(semgate, input=QUESTION)  # the streamed answer serves a whole request too
    assert cache == "hit" and whole.output_text == missed


def test_parse_with_a_pydantic_model_misses_then_hits(semgate: Semgate) -> None:
    caches = []
    for _ in range(2):
        raw = client(semgate).responses.with_raw_response.parse(
            model="echo-1", input="Name a city of about a million people.", text_format=City
        )
        caches.append(raw.headers["x-semgate-cache"])
        parsed = raw.parse().output_parsed
        assert parsed == City(name="Echo: Name a city of about a million people.", population=9)
    assert caches == ["miss", "hit"]
    sent = semgate.echo.last_body
    assert sent is not None and sent["response_format"]["json_schema"]["name"] == "City"


def test_previous_response_id_continues_the_conversation_and_matches_by_context(semgate: Semgate) -> None:
    _, sorting = create(semgate, input="How do I sort a list of numbers in Rust?")
    _, regexes = create(semgate, input="How do I match an email address with a regex in Rust?")
    follow_up = "And how do I do that in Python?"
    cache, answer = create(semgate, input=follow_up, previous_response_id=sorting.id)
    assert cache == "miss" and answer.previous_response_id == sorting.id
    sent = semgate.echo.last_body
    assert sent is not None
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "user"]
    assert sent["messages"][1]["content"] == "Echo: How do I sort a list of numbers in Rust?"
    assert create(semgate, input=follow_up, previous_response_id=sorting.id)[0] == "hit"
    # The same words after another conversation ask something else: no hit across contexts.
    assert create(semgate, input=follow_up, previous_response_id=regexes.id)[0] == "miss"
    # The stored follow-up continues the chain: three turns reach the upstream.
    create(semgate, input="Thanks!", previous_response_id=answer.id)
    assert semgate.echo.last_body is not None and len(semgate.echo.last_body["messages"]) == 5


def test_stored_responses_are_tenant_scoped(semgate: Semgate) -> None:
    _, mine = create(semgate, input=QUESTION)
    assert create(semgate, semgate.key_b, input=QUESTION)[0] == "miss"  # another tenant never hits my entry
    assert client(semgate).responses.retrieve(mine.id).output_text == mine.output_text
    with pytest.raises(openai.NotFoundError) as theirs:
        client(semgate, semgate.key_b).responses.retrieve(mine.id)
    with pytest.raises(openai.NotFoundError) as unknown:
        client(semgate, semgate.key_b).responses.retrieve("resp_" + "0" * 48)
    assert theirs.value.body == {**unknown.value.body, "message": theirs.value.body["message"]}
    with pytest.raises(openai.BadRequestError) as continued:
        create(semgate, semgate.key_b, input="and then?", previous_response_id=mine.id)
    assert continued.value.code == "previous_response_not_found"
    with pytest.raises(openai.NotFoundError):
        client(semgate, semgate.key_b).responses.delete(mine.id)
    client(semgate).responses.delete(mine.id)
    with pytest.raises(openai.NotFoundError):
        client(semgate).responses.retrieve(mine.id)


def test_store_false_keeps_nothing(semgate: Semgate) -> None:
    _, answer = create(semgate, input=QUESTION, store=False)
    with pytest.raises(openai.NotFoundError):
        client(semgate).responses.retrieve(answer.id)


# One value per answer-changing field that differs from BASE (the chat body must then differ).
VARIANTS: dict[str, Any] = {
    "model": "echo-2",
    "input": "And how do I test that in Go?",
    "instructions": "Answer in French.",
    "previous_response_id": "regexes",  # replaced by the stored id of another conversation
    "tools": [{"type": "function", "name": "get_time", "parameters": {"type": "object", "properties": {}}}],
    "tool_choice": "none",
    "parallel_tool_calls": False,
    "text": {"format": {"type": "json_object"}},
    "max_output_tokens": 3,
    "temperature": 0.5,
    "top_p": 0.5,
}


def test_every_answer_changing_field_changes_the_cache_key(semgate: Semgate) -> None:
    assert set(VARIANTS) == set(ANSWER_CHANGING_FIELDS)
    stored = {
        topic: create(semgate, input=question)[1].id
        for topic, question in (("sorting", "How do I sort a list in Rust?"), ("regexes", "How do I use regexes?"))
    }
    base = {"model": "echo-1", "input": "And how do I do that in Python?", "previous_response_id": stored["sorting"]}
    post = httpx.Client(base_url=f"{semgate.url}/v1", headers={"authorization": f"Bearer {semgate.key_a}"}, timeout=30)
    assert [post.post("/responses", json=base).headers["x-semgate-cache"] for _ in range(2)] == ["miss", "hit"]
    for name, value in VARIANTS.items():
        variant = {**base, name: stored.get(value, value) if isinstance(value, str) else value}
        answer = post.post("/responses", json=variant)
        assert answer.status_code == 200, answer.text
        # A miss (a cut answer, max_output_tokens, is stored for that bound only), never a hit.
        assert answer.headers["x-semgate-cache"] in ("miss", "store-skipped"), name


def test_a_native_upstream_is_sent_the_responses_api_and_its_answer_is_still_cached(start_semgate: Any) -> None:
    semgate = start_semgate("responses: native")
    caches, texts = [], []
    for stream in (False, True, False):
        raw = client(semgate).responses.with_raw_response.create(model="echo-1", input=QUESTION, stream=stream)
        caches.append(raw.headers["x-semgate-cache"])
        parsed = raw.parse()
        events = list(parsed) if stream else []
        texts.append(events[-1].response.output_text if stream else parsed.output_text)
    assert caches == ["miss", "hit", "hit"] and texts == [f"Echo: {QUESTION}"] * 3
    assert semgate.echo.stats.by_path == {"/v1/responses": 1}
    sent = semgate.echo.last_body
    assert sent is not None and sent["store"] is False and sent["input"] == [{"role": "user", "content": QUESTION}]
    # A streamed miss from the native upstream, then a follow-up that sends it the whole conversation.
    with client(semgate).responses.stream(model="echo-1", input="What is a radix tree?") as events:
        first = events.get_final_response()
    assert first.output_text == "Echo: What is a radix tree?" and first.usage is not None
    follow = client(semgate).responses.create(model="echo-1", input="And a trie?", previous_response_id=first.id)
    assert follow.output_text == "Echo: And a trie?"
    sent = semgate.echo.last_body
    assert sent is not None and [item["role"] for item in sent["input"]] == ["user", "assistant", "user"]
    # Chat requests to the same upstream stay chat completions.
    openai_chat = client(semgate).chat.completions.create(
        model="echo-1", messages=[{"role": "user", "content": "Hello there"}]
    )
    assert openai_chat.choices[0].message.content == "Echo: Hello there"
    assert semgate.echo.stats.by_path["/v1/chat/completions"] == 1
