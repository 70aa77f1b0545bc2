"""Is an upstream's answer an OpenAI answer? Checked before it is relayed or stored.

An upstream may answer 200 with anything: a body cut off mid-JSON, an SSE stream to a request
that did not ask for one, a `message.content` that is a list. Relayed, the client's SDK fails on
it; stored, every later hit replays it (and a replay as SSE fails on it). So a non-streamed
answer must be a completion, and every event of a stream a chunk, of the kind asked for (chat or
text completion), in the fields the gateway and the SDKs read; fields they do not read are
left alone, so new OpenAI fields keep passing. Each check returns why the answer is not one, or
None when it is.
"""

from typing import Any

from gateway.edge.wire import CHAT

_MAX_CHOICES = 128  # the most `n` a request may ask for (gateway/edge/wire.py)


def completion_problem(answer: Any, kind: str) -> str | None:
    """Why `answer` (the parsed JSON body of a non-streamed 200) is not a completion of `kind`."""
    if not isinstance(answer, dict):
        return "the answer is not a JSON object"
    return _choices_problem(answer, kind, "message" if kind == CHAT else None, allow_empty=False)


def chunk_problem(chunk: Any, kind: str) -> str | None:
    """Why `chunk` (one parsed stream event, not an error event) is not a stream chunk of `kind`."""
    if not isinstance(chunk, dict):
        return "a stream event is not a JSON object"
    # The last chunk of a stream with include_usage has no choices, only usage.
    return _choices_problem(chunk, kind, "delta" if kind == CHAT else None, allow_empty=True)


def _choices_problem(answer: dict, kind: str, message_field: str | None, allow_empty: bool) -> str | None:
    # A stream chunk may carry only usage (or metadata) and leave `choices` out.
    choices = answer.get("choices", [] if allow_empty else None)
    if not isinstance(choices, list) or not (choices or allow_empty) or len(choices) > _MAX_CHOICES:
        return "`choices` is not a list of 1 to 128 choices"
    usage = answer.get("usage")
    if usage is not None and not isinstance(usage, dict):
        return "`usage` is not an object"
    for field in ("id", "model", "object"):
        if answer.get(field) is not None and not isinstance(answer[field], str):
            return f"`{field}` is not a string"
    for choice in choices:
        problem = _choice_problem(choice, kind, message_field)
        if problem is not None:
            return problem
    return None


def _choice_problem(choice: Any, kind: str, message_field: str | None) -> str | None:
    if not isinstance(choice, dict):
        return "a choice is not an object"
    index = choice.get("index", 0)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < _MAX_CHOICES:
        return "a choice's `index` is not an integer in 0..127"
    if choice.get("finish_reason") is not None and not isinstance(choice["finish_reason"], str):
        return "a choice's `finish_reason` is not a string"
    if kind != CHAT:
        return None if isinstance(choice.get("text", ""), str) else "a choice's `text` is not a string"
    message = choice.get(message_field)
    if message is None and message_field == "delta":
        return None  # a chunk that only carries a finish_reason
    if not isinstance(message, dict):
        return f"a choice's `{message_field}` is not an object"
    for field in ("content", "role", "refusal"):
        if message.get(field) is not None and not isinstance(message[field], str):
            return f"a choice's `{message_field}.{field}` is not a string or null"
    calls = message.get("tool_calls")
    if calls is not None and not (isinstance(calls, list) and all(_is_tool_call(c) for c in calls)):
        return f"a choice's `{message_field}.tool_calls` is not a list of tool calls"
    return None


def _is_tool_call(call: Any) -> bool:
    if not isinstance(call, dict):
        return False
    function = call.get("function")
    if function is None:
        return True
    return isinstance(function, dict) and all(
        function.get(k) is None or isinstance(function[k], str) for k in ("name", "arguments")
    )
