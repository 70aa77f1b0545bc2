"""What makes two requests ask the same thing: the context fingerprint and the query text.

Only the last user message is embedded. Everything else that can change the answer (the
model, the system prompt, every earlier turn, tools, the response format and the sampling
settings) goes into the fingerprint, and a cached answer is served only to a request with
the same fingerprint. So "and in Python?" after a conversation about sorting never hits
"and in Python?" after a conversation about regexes.

Parameters are included by default and left out only when known not to change the answer
(streaming, user ids, metadata): a new OpenAI parameter is then safe before anyone lists it.
"""

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.cache.text import normalise

# Transport and bookkeeping fields: the same answer whatever their value.
_ANSWER_NEUTRAL = frozenset({
    "stream", "stream_options", "user", "metadata", "store", "service_tier", "safety_identifier",
    "prompt_cache_key", "semgate", "messages", "prompt", "model",
})
# Explicit OpenAI defaults are the same request as leaving the field out. Not temperature and
# top_p: servers fill those in per model when a request leaves them out (vLLM from the model's
# generation_config, our backend greedy for SmolLM2), so an explicit 1 can be another answer.
_DEFAULTS: dict[str, Any] = {
    "n": 1, "presence_penalty": 0, "frequency_penalty": 0,
    "stop": None, "logit_bias": {}, "logprobs": False, "echo": False, "best_of": 1,
    "tools": [], "parallel_tool_calls": True,
}


@dataclass(frozen=True)
class RequestKey:
    fingerprint: str
    # The text that is embedded; None when the request has no single trailing user question
    # (a tool result, several prompts, token ids): only the exact tier serves it then.
    query_text: str | None
    exact_key: str


def request_key(request: dict[str, Any]) -> RequestKey:
    context, query = _split(request)
    settings = {k: v for k, v in request.items() if k not in _ANSWER_NEUTRAL and _DEFAULTS.get(k, ...) != v}
    if settings.get("max_completion_tokens") is not None and "max_tokens" not in settings:
        settings["max_tokens"] = settings.pop("max_completion_tokens")
    material = {"model": request.get("model"), "context": context, "settings": settings}
    fingerprint = _digest(orjson.dumps(material, option=orjson.OPT_SORT_KEYS))
    exact = _digest(f"{fingerprint}\x00{normalise(query) if query is not None else ''}".encode())
    return RequestKey(fingerprint=fingerprint, query_text=query, exact_key=exact)


def query_text(request: dict[str, Any]) -> str | None:
    """The text to embed: the last user message of a chat, or the prompt of a completion."""
    return _split(request)[1]


def _split(request: dict[str, Any]) -> tuple[Any, str | None]:
    """(everything before the question, the question) for chat and completion requests."""
    messages = request.get("messages")
    if isinstance(messages, list):
        *earlier, last = messages if messages else [None]
        if not isinstance(last, dict) or last.get("role") != "user":
            return {"kind": "chat", "messages": messages}, None
        text, other_parts = _text_of(last.get("content"))
        if not text.strip():
            return {"kind": "chat", "messages": messages}, None
        # An image or file in the question is part of what is asked: it must match exactly.
        asked = {k: v for k, v in last.items() if k not in ("content", "role")}
        return {"kind": "chat", "earlier": earlier, "question_extras": asked, "question_parts": other_parts}, text
    prompt = request.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if isinstance(prompt, str) and prompt.strip():
        return {"kind": "completion"}, prompt
    return {"kind": "completion", "prompt": prompt}, None


def _text_of(content: Any) -> tuple[str, list[Any]]:
    if isinstance(content, str):
        return content, []
    if not isinstance(content, list):
        return "", []
    texts = [p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"]
    others = [p for p in content if not (isinstance(p, dict) and p.get("type") == "text")]
    return "\n".join(t for t in texts if isinstance(t, str)), others


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]
