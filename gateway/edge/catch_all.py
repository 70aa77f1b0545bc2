"""The last line of defence: no exception reaches the client as a plain-text 500.

Starlette's own handler for unexpected errors answers, then re-raises, and the server closes the
connection, so a client's next request on that keep-alive connection is reset. This middleware
sits inside Starlette's and answers any exception an endpoint lets through in the API's error
shape (Anthropic's on its routes), once, and logs it (gateway/observe/log_safety.py keeps the
traceback safe), leaving the connection usable. Once a response has started (a stream) nothing
can be answered any more: the exception goes on, the server closes the connection, and the client
sees the stream cut off.
"""

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.edge.errors import OpenAIError
from gateway.protocols.messages_route import anthropic_error, speaks_anthropic

log = logging.getLogger(__name__)


class CatchAll:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        except Exception as exc:
            log.error("unhandled error on %s %s", scope.get("method"), scope.get("path"), exc_info=exc)
            if started:
                raise
            error = OpenAIError(
                500, "The gateway failed to handle this request; the error has been logged.", code="internal_error"
            )
            shaped = anthropic_error(error) if speaks_anthropic(scope.get("path", "")) else error.response()
            await shaped(scope, receive, send)
