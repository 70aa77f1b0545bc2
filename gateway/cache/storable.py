"""Which upstream answers the cache may store.

An answer is stored only when it is whole: every choice ended with `stop` (or a tool call, where the
category caches those). An answer cut at the `max_tokens` (`max_completion_tokens`) its request set is
whole too: that request, asked again, gets the same cut answer from the upstream, and the fingerprint
holds the bound (gateway/cache/fingerprint.py), so the entry answers only requests with the same one,
never a request that asked for more. (A request whose bound the model's context cannot hold is cut
where the context ends, and asked again it is cut there again: stored alike.) An answer the upstream
cut at a bound of its own (a request that set none: the bundled backend stops a runaway answer at 512
tokens) is not what the client asked for and is never stored. Nor is anything that did not finish: an
error, a broken stream (the relay's recorder keeps only streams that ended properly).
"""

from typing import Any

_TOOL_CALL_ENDS = frozenset({"tool_calls", "function_call"})


def storable(request: dict[str, Any], response: dict[str, Any], *, tool_calls: bool, cut_answers: bool) -> bool:
    """`tool_calls`: the category stores tool-call answers; `cut_answers`: it stores answers cut at
    the request's own `max_tokens`."""
    choices = response.get("choices")
    if not isinstance(choices, list) or not choices or "error" in response:
        return False
    finished = {"stop"} | (_TOOL_CALL_ENDS if tool_calls else set())
    if cut_answers and sets_output_bound(request):
        finished.add("length")
    for choice in choices:
        if not isinstance(choice, dict) or choice.get("finish_reason") not in finished:
            return False
        message = choice.get("message") or {}
        if not tool_calls and (message.get("tool_calls") or message.get("function_call")):
            return False
    return True


def sets_output_bound(request: dict[str, Any]) -> bool:
    """Whether the request itself bounds its answer's length (chat or completion)."""
    return any(
        isinstance(request.get(name), int) and not isinstance(request.get(name), bool)
        for name in ("max_tokens", "max_completion_tokens")
    )


def ended_by_itself(response: dict[str, Any]) -> bool:
    """The first choice ended on its own (`stop`), not at a length bound: what may teach another model."""
    choices = response.get("choices") or [{}]
    return isinstance(choices[0], dict) and choices[0].get("finish_reason") == "stop"
