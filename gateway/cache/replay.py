"""A cached answer served as a fresh response: new id and timestamp, the same content."""

import copy
import time
import uuid
from typing import Any

_ID_PREFIX = {"chat.completion": "chatcmpl-", "text_completion": "cmpl-"}


def fresh_response(cached: dict[str, Any], model: str | None = None) -> dict[str, Any]:
    """A copy of `cached` with its own id and `created`; `model` (the one asked for) replaces
    the recorded one when given, so a client sees the name it used."""
    response = copy.deepcopy(cached)
    prefix = _ID_PREFIX.get(response.get("object", ""), "chatcmpl-")
    response["id"] = f"{prefix}{uuid.uuid4().hex}"
    response["created"] = int(time.time())
    if model is not None:
        response["model"] = model
    return response

