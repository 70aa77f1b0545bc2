"""Stored responses: a previous_response_id chain resolves to the whole conversation, scoped to its tenant
(another tenant's id reads exactly like an unknown one), bounded per tenant and by TTL, kept on disk."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway.protocols.errors import ProtocolError
from gateway.protocols.response_store import SqliteResponseStore, record_for, resolve_previous
from gateway.protocols.responses_output import response_from_chat
from gateway.protocols.responses_request import parse_responses_request


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def store_and_clock() -> AsyncIterator[tuple[SqliteResponseStore, Clock]]:
    clock = Clock()
    store = await SqliteResponseStore.open(":memory:", max_per_tenant=3, ttl_s=60, clock=clock)
    yield store, clock
    await store.close()


async def turn(
    store: SqliteResponseStore, tenant: str, body: dict[str, Any], reply: str, chat_answer: Any
) -> tuple[str, dict[str, Any]]:
    """One stored turn as the route will run it: resolve, adapt, answer, record."""
    previous = body.get("previous_response_id")
    earlier = await resolve_previous(store, tenant, previous) if previous else None
    request = parse_responses_request(body, earlier)
    response = response_from_chat(chat_answer(text=reply).completion("m"), request)
    await store.put(tenant, record_for(request, earlier, response))
    return response["id"], request.chat


async def test_chain_resolves_to_every_earlier_turn(store_and_clock: Any, chat_answer: Any) -> None:
    store, _ = store_and_clock
    first, _ = await turn(store, "a", {"model": "m", "input": "My name is Ana."}, "Hi Ana!", chat_answer)
    second, _ = await turn(
        store, "a", {"model": "m", "input": "I live in Lyon.", "previous_response_id": first}, "Nice city.", chat_answer
    )
    _, chat = await turn(
        store,
        "a",
        {"model": "m", "input": "Who am I?", "instructions": "Be terse.", "previous_response_id": second},
        "Ana from Lyon.",
        chat_answer,
    )
    assert chat["messages"] == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "My name is Ana."},
        {"role": "assistant", "content": "Hi Ana!"},
        {"role": "user", "content": "I live in Lyon."},
        {"role": "assistant", "content": "Nice city."},
        {"role": "user", "content": "Who am I?"},
    ]
    record = await store.get("a", second)
    assert record is not None and record.response["output"][0]["content"][0]["text"] == "Nice city."


async def test_another_tenants_id_reads_like_an_unknown_one(store_and_clock: Any, chat_answer: Any) -> None:
    store, _ = store_and_clock
    mine, _ = await turn(store, "a", {"model": "m", "input": "secret plan"}, "ok", chat_answer)
    assert await store.get("b", mine) is None
    assert await store.delete("b", mine) is False
    errors = []
    for response_id in (mine, "resp_unknown"):
        with pytest.raises(ProtocolError) as raised:
            await resolve_previous(store, "b", response_id)
        errors.append(raised.value.openai_body()["error"] | {"message": None})
    assert errors[0] == errors[1] and raised.value.status == 400
    assert await store.get("a", mine) is not None  # B's attempts changed nothing


async def test_delete_removes_only_that_record(store_and_clock: Any, chat_answer: Any) -> None:
    store, _ = store_and_clock
    kept, _ = await turn(store, "a", {"model": "m", "input": "one"}, "1", chat_answer)
    gone, _ = await turn(store, "a", {"model": "m", "input": "two"}, "2", chat_answer)
    assert await store.delete("a", gone) is True
    assert await store.get("a", gone) is None and await store.delete("a", gone) is False
    assert await store.get("a", kept) is not None


async def test_records_expire_after_the_ttl(store_and_clock: Any, chat_answer: Any) -> None:
    store, clock = store_and_clock
    response_id, _ = await turn(store, "a", {"model": "m", "input": "q"}, "r", chat_answer)
    clock.now += 59
    assert await store.get("a", response_id) is not None
    clock.now += 2
    assert await store.get("a", response_id) is None
    with pytest.raises(ProtocolError):
        await resolve_previous(store, "a", response_id)


async def test_each_tenant_keeps_its_newest_records(store_and_clock: Any, chat_answer: Any) -> None:
    store, clock = store_and_clock
    other, _ = await turn(store, "b", {"model": "m", "input": "b's"}, "r", chat_answer)
    ids = []
    for i in range(5):
        clock.now += 1
        ids.append((await turn(store, "a", {"model": "m", "input": f"q{i}"}, "r", chat_answer))[0])
    assert await store.count("a") == 3
    assert [await store.get("a", i) is not None for i in ids] == [False, False, True, True, True]
    assert await store.get("b", other) is not None  # a busy tenant never evicts another's records


async def test_records_survive_a_reopen(tmp_path: Path, chat_answer: Any) -> None:
    path = tmp_path / "responses.db"
    store = await SqliteResponseStore.open(path)
    response_id, _ = await turn(store, "a", {"model": "m", "input": "q"}, "kept", chat_answer)
    await store.close()
    store = await SqliteResponseStore.open(path)
    record = await store.get("a", response_id)
    await store.close()
    assert record is not None and record.items_after()[-1]["content"][0]["text"] == "kept"


async def test_a_tool_result_continues_the_stored_function_call(store_and_clock: Any, chat_answer: Any) -> None:
    """The agents' loop: the model calls a tool, the client sends only the call's output with
    previous_response_id, and the upstream sees the call and its result in chat's order."""
    store, _ = store_and_clock
    first = parse_responses_request({"model": "m", "input": "Weather in Paris?"})
    call = chat_answer(tool_calls=[("call_9", "weather", '{"city": "Paris"}')], finish_reason="tool_calls")
    response = response_from_chat(call.completion("m"), first)
    await store.put("a", record_for(first, None, response))
    earlier = await resolve_previous(store, "a", response["id"])
    output = {"type": "function_call_output", "call_id": "call_9", "output": "18C"}
    body = {"model": "m", "input": [output], "previous_response_id": response["id"]}
    assert parse_responses_request(body, earlier).chat["messages"] == [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_9", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Paris"}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_9", "content": "18C"},
    ]
