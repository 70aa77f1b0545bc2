"""One admin API call as a handler sees it: validated inputs, and the gateway it acts on."""

from dataclasses import dataclass, field
from typing import Any

from gateway.admin.context import AdminContext
from gateway.edge.errors import OpenAIError


@dataclass
class Call:
    ctx: AdminContext
    path: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)  # coerced to the schema's types and validated
    body: dict[str, Any] | None = None  # validated against the operation's body schema


def not_found(what: str, param: str | None = None) -> OpenAIError:
    return OpenAIError(404, f"{what} not found.", param=param, code="not_found")
