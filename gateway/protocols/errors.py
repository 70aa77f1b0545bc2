"""A client error raised by any adapter, rendered in the error shape of the API it came through.

The adapters do not know which route called them, so they raise one exception; the route turns it
into OpenAI's `{"error": {...}}` or Anthropic's `{"type": "error", "error": {...}}` with the same status.
"""

from dataclasses import dataclass
from typing import Any

from gateway.edge.errors import OpenAIError

_OPENAI_TYPES = {401: "authentication_error", 403: "permission_error", 429: "rate_limit_error"}
# Anthropic names its error types by status (https://docs.anthropic.com/en/api/errors).
_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


@dataclass
class ProtocolError(Exception):
    status: int
    message: str
    param: str | None = None
    code: str | None = None

    def __str__(self) -> str:
        return self.message

    def openai_body(self) -> dict[str, Any]:
        kind = _OPENAI_TYPES.get(self.status, "server_error" if self.status >= 500 else "invalid_request_error")
        return {"error": {"message": self.message, "type": kind, "param": self.param, "code": self.code}}

    def as_openai(self) -> OpenAIError:
        """The same error as the pipeline raises it (OpenAI's shape until a route renders it)."""
        return OpenAIError(self.status, self.message, param=self.param, code=self.code)

    @classmethod
    def of(cls, error: OpenAIError) -> "ProtocolError":
        return cls(error.status, error.message, error.param, error.code)

    def anthropic_body(self) -> dict[str, Any]:
        kind = _ANTHROPIC_TYPES.get(self.status, "api_error" if self.status >= 500 else "invalid_request_error")
        return {"type": "error", "error": {"type": kind, "message": self.message}}


def invalid(message: str, param: str | None = None, code: str | None = None) -> ProtocolError:
    return ProtocolError(400, message, param, code)


def unknown_parameter(name: str) -> ProtocolError:
    return ProtocolError(400, f"Unrecognized request argument supplied: {name}", name, "unknown_parameter")


def unsupported(name: str, why: str) -> ProtocolError:
    return ProtocolError(400, f"'{name}' is not supported by this gateway: {why}", name, "unsupported_parameter")


def check_fields(body: dict[str, Any], known: set[str]) -> None:
    """400 naming the first field of `body` this adapter does not know (sorted, so the error is stable)."""
    for name in sorted(body):
        if name not in known:
            raise unknown_parameter(name)


def require_object(body: Any, what: str = "body") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid(f"The request {what} must be a JSON object.", None if what == "body" else what)
    return body


def from_openai_body(status: int, body: Any) -> ProtocolError:
    """An upstream's OpenAI-shaped error, to re-render in another API's shape with its status and message."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return ProtocolError(status, f"upstream error (HTTP {status})")
    return ProtocolError(
        status, str(error.get("message") or f"upstream error (HTTP {status})"), error.get("param"), error.get("code")
    )
