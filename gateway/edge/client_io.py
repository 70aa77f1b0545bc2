"""The client's side of a request: its body, read within the limit, and whether it is still there.

A streamed answer notices a client that went away by itself (Starlette cancels the relay); a
non-streamed one does not, so the upstream would keep generating an answer nobody reads.
`until_disconnect` watches the connection while the answer is prepared and cancels that work,
and with it the upstream request, as soon as the client leaves.
"""

from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
from starlette.requests import ClientDisconnect, Request

from gateway.edge.errors import OpenAIError

T = TypeVar("T")


async def until_disconnect(request: Request, work: Callable[[], Awaitable[T]]) -> T | None:
    """`work()`'s result, or None once the client has gone away: `work` is cancelled then, and with it
    the upstream request (its connection closed, so the upstream stops working on it)."""
    result, failure = None, None
    async with anyio.create_task_group() as group:

        async def watch() -> None:
            # The body has been read: what the server passes on now is the client going away.
            while (await request.receive())["type"] != "http.disconnect":
                pass
            group.cancel_scope.cancel()

        group.start_soon(watch)
        try:
            result = await work()
        except Exception as exc:  # noqa: BLE001 raised as itself below, not wrapped in the task group's ExceptionGroup
            failure = exc
        group.cancel_scope.cancel()
    if failure is not None:
        raise failure
    return result


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect as exc:
        raise OpenAIError(
            400, "The client closed the connection before the body was complete.", code="client_disconnected"
        ) from exc
    return b"".join(chunks)


def _too_large(limit: int) -> OpenAIError:
    return OpenAIError(413, f"Request body is larger than the limit of {limit} bytes.", code="request_too_large")
