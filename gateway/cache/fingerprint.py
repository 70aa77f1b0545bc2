"""What makes two requests ask the same thing: the context fingerprint, the query text and the turns.

Only the last user message is embedded. What must match exactly (the model, the system and
developer messages, tools, the response format and the sampling settings) goes into the
fingerprint, and a cached answer is served only to a request with the same fingerprint.
Earlier user and assistant text turns do not: they are the conversation, compared by
meaning (gateway/cache/context_match.py), so a self-contained question hits after unrelated
history while "and in Python?" after a conversation about sorting still misses "and in
Python?" after one about regexes. A history holding anything else (tool calls and results,
images, named participants) stays in the fingerprint whole: nothing compares those by meaning.
The exact key covers the whole normalised conversation: the exact tier answers only a
conversation that is the same word for word.

Parameters are included by default and left out only when known not to change the answer
(streaming, user ids, metadata): a new OpenAI parameter is then safe before anyone lists it.
"""

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.cache.text import normalise

# Transport and bookkeeping fields: the same answer whatever their value.
_ANSWER_NEUTRAL = frozenset(
    {
        "stream",
        "stream_options",
        "user",
        "metadata",
        "store",
        "service_tier",
        "safety_identifier",
        "prompt_cache_key",
        "semgate",
        "messages",
        "prompt",
        "model",
    }
)
# Explicit OpenAI defaults are the same request as leaving the field out. Not temperature and
# top_p: servers fill those in per model when a request leaves them out (vLLM from the model's
# generation_config, our backend greedy for SmolLM2), so an explicit 1 can be another answer.
_DEFAULTS: dict[str, Any] = {
    "n": 1,
    "presence_penalty": 0,
    "frequency_penalty": 0,
    "stop": None,
    "logit_bias": {},
    "logprobs": False,
    "echo": False,
    "best_of": 1,
    "tools": [],
    "parallel_tool_calls": True,
}


@dataclass(frozen=True)
class RequestKey:
    fingerprint: str
    # The text that is embedded; None when the request has no single trailing user question
    # (a tool result, several prompts, token ids): only the exact tier serves it then.
    query_text: str | None
    exact_key: str
    # The earlier user/assistant text turns as (role, text), oldest first: the conversation the
    # question was asked in, left out of the fingerprint and compared by meaning instead.
    turns: tuple[tuple[str, str], ...] = ()


def request_key(request: dict[str, Any]) -> RequestKey:
    context, query, turns = _split(request)
    settings = {k: v for k, v in request.items() if k not in _ANSWER_NEUTRAL and _DEFAULTS.get(k, ...) != v}
    if settings.get("max_completion_tokens") is not None and "max_tokens" not in settings:
        settings["max_tokens"] = settings.pop("max_completion_tokens")
    material = {"model": request.get("model"), "context": context, "settings": settings}
    fingerprint = _digest(orjson.dumps(material, option=orjson.OPT_SORT_KEYS))
    conversation = [f"{role}\x00{normalise(text)}" for role, text in turns]
    asked = normalise(query) if query is not None else ""
    exact = _digest("\x00".join([fingerprint, *conversation, asked]).encode())
    return RequestKey(fingerprint=fingerprint, query_text=query, exact_key=exact, turns=turns)


def query_text(request: dict[str, Any]) -> str | None:
    """The text to embed: the last user message of a chat, or the prompt of a completion."""
    return _split(request)[1]


def conversation_turns(request: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The earlier user/assistant text turns the question was asked after (see RequestKey.turns)."""
    return _split(request)[2]


def _split(request: dict[str, Any]) -> tuple[Any, str | None, tuple[tuple[str, str], ...]]:
    """(what must match exactly, the question, the earlier turns) for chat and completion requests."""
    messages = request.get("messages")
    if isinstance(messages, list):
        *earlier, last = messages or [None]
        if not isinstance(last, dict) or last.get("role") != "user":
            return {"kind": "chat", "messages": messages}, None, ()
        text, other_parts = _text_of(last.get("content"))
        if not text.strip():
            return {"kind": "chat", "messages": messages}, None, ()
        # An image or file in the question is part of what is asked: it must match exactly.
        asked = {k: v for k, v in last.items() if k not in ("content", "role")}
        exact_part, turns = _conversation(earlier)
        exact = {"kind": "chat", "earlier": exact_part, "question_extras": asked, "question_parts": other_parts}
        return exact, text, turns
    prompt = request.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if isinstance(prompt, str) and prompt.strip():
        return {"kind": "completion"}, prompt, ()
    return {"kind": "completion", "prompt": prompt}, None, ()


def _conversation(earlier: list[Any]) -> tuple[list[Any], tuple[tuple[str, str], ...]]:
    """(the earlier messages that must match exactly, the user/assistant text turns compared by meaning).

    The system and developer messages always stay exact. The turns leave the fingerprint only when
    every one of them is plain text from the user or the assistant; otherwise the whole history stays.
    """
    instructions, turns = [], []
    for message in earlier:
        if isinstance(message, dict) and message.get("role") in ("system", "developer"):
            instructions.append(message)
            continue
        text = _plain_turn(message)
        if text is None:
            return earlier, ()
        turns.append((message["role"], text))
    return instructions, tuple(turns)


def _plain_turn(message: Any) -> str | None:
    """The text of a user or assistant turn made of text alone (nothing else that could change the answer)."""
    if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
        return None
    content = message.get("content")
    # Tool calls, names, audio, refusals, images: compared exactly, never by meaning.
    if set(message) - {"role", "content"} or not isinstance(content, (str, list, type(None))):
        return None
    text, others = _text_of(content)
    return None if others else text


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
