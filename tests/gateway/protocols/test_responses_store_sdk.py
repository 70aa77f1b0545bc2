"""Stored responses through the openai SDK: a conversation continued with previous_response_id (plain and
streamed turns), `responses.retrieve` and `responses.delete`, all scoped to the caller's API key."""

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx2  # openai 3.x sends its requests through httpx2
import openai
import pytest

from gateway.protocols.errors import ProtocolError
from gateway.protocols.response_store import (
    SqliteResponseStore,
    deleted_object,
    record_for,
    resolve_previous,
    response_not_found,
)
from gateway.protocols.responses_output import response_from_chat
from gateway.protocols.responses_request import parse_responses_request
from gateway.protocols.responses_stream import ResponsesStream, sse_event
from gateway.protocols.tenant_key import api_key_from_headers


@pytest.fixture
async def store() -> AsyncIterator[SqliteResponseStore]:
    opened = await SqliteResponseStore.open(":memory:")
    yield opened
    await opened.close()


def clients(
    store: SqliteResponseStore, chat_answer: Any, seen: list[dict[str, Any]]
) -> tuple[openai.AsyncOpenAI, openai.AsyncOpenAI]:
    """Two tenants' SDK clients over one adapter + store; the model answers with the turn count."""

    async def post(tenant: str, body: dict[str, Any]) -> httpx2.Response:
        previous = body.get("previous_response_id")
        earlier = await resolve_previous(store, tenant, previous) if previous else None
        request = parse_responses_request(body, earlier)
        seen.append(request.chat)
        answer = chat_answer(text=f"answer to turn {sum(m['role'] == 'user' for m in request.chat['messages'])}")
        if request.stream:
            stream = ResponsesStream(request)
            events = [e for c in answer.chunks("m") for e in stream.feed(c)] + stream.finish()
            response, payload = events[-1]["response"], b"".join(sse_event(e) for e in events)
        else:
            response = response_from_chat(answer.completion("m"), request)
            payload = json.dumps(response).encode()
        if request.store:
            await store.put(tenant, record_for(request, earlier, response))
        kind = "text/event-stream" if request.stream else "application/json"
        return httpx2.Response(200, content=payload, headers={"content-type": kind})

    async def handle(http_request: httpx2.Request) -> httpx2.Response:
        tenant = api_key_from_headers(http_request.headers) or ""
        response_id = http_request.url.path.removeprefix("/v1/responses").strip("/")
        try:
            if http_request.method == "POST":
                return await post(tenant, json.loads(http_request.content))
            record = await store.get(tenant, response_id)
            if record is None or (http_request.method == "DELETE" and not await store.delete(tenant, response_id)):
                raise response_not_found(response_id)
            return httpx2.Response(
                200, json=record.response if http_request.method == "GET" else deleted_object(response_id)
            )
        except ProtocolError as error:
            return httpx2.Response(error.status, json=error.openai_body())

    def client(key: str) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(
            base_url="http://semgate.test/v1",
            api_key=key,
            max_retries=0,
            http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handle)),
        )

    return client("sk-tenant-a"), client("sk-tenant-b")


async def test_conversation_continues_across_plain_and_streamed_turns(
    store: SqliteResponseStore, chat_answer: Any
) -> None:
    seen: list[dict[str, Any]] = []
    alice, _ = clients(store, chat_answer, seen)
    first = await alice.responses.create(model="m", input="My name is Ana.", instructions="Be kind.")
    async with alice.responses.stream(model="m", input="I live in Lyon.", previous_response_id=first.id) as stream:
        second = await stream.get_final_response()
    third = await alice.responses.create(model="m", input="Who am I?", previous_response_id=second.id)
    assert third.output_text == "answer to turn 3"
    assert seen[-1]["messages"] == [
        {"role": "user", "content": "My name is Ana."},
        {"role": "assistant", "content": "answer to turn 1"},
        {"role": "user", "content": "I live in Lyon."},
        {"role": "assistant", "content": "answer to turn 2"},
        {"role": "user", "content": "Who am I?"},
    ]
    assert (await alice.responses.retrieve(second.id)).output_text == "answer to turn 2"


async def test_another_tenant_cannot_read_continue_or_delete(store: SqliteResponseStore, chat_answer: Any) -> None:
    alice, bob = clients(store, chat_answer, [])
    mine = await alice.responses.create(model="m", input="private")
    attempts = (
        lambda i: bob.responses.retrieve(i),
        lambda i: bob.responses.delete(i),
        lambda i: bob.responses.create(model="m", input="q", previous_response_id=i),
    )
    for attempt in attempts:
        errors = []
        for response_id in (mine.id, "resp_unknown"):
            with pytest.raises(openai.APIStatusError) as raised:
                await attempt(response_id)
            body = dict(raised.value.body)  # type: ignore[call-overload]
            errors.append((raised.value.status_code, body | {"message": body["message"].replace(response_id, "ID")}))
        assert errors[0] == errors[1]  # Alice's id reads to Bob exactly like an id nobody has
    assert (await alice.responses.retrieve(mine.id)).output_text == "answer to turn 1"


async def test_delete_and_store_false(store: SqliteResponseStore, chat_answer: Any) -> None:
    alice, _ = clients(store, chat_answer, [])
    kept = await alice.responses.create(model="m", input="one")
    await alice.responses.delete(kept.id)
    with pytest.raises(openai.NotFoundError):
        await alice.responses.retrieve(kept.id)
    unstored = await alice.responses.create(model="m", input="two", store=False)
    with pytest.raises(openai.NotFoundError):
        await alice.responses.retrieve(unstored.id)
