"""Finding example candidates for a miss: past answers of a strong model, of the same tenant.

Searched in the index of each category the policy allows (its own when it names none), in
the namespace the tenant's entries of that category live in. A shared category pools entries
of several tenants in one namespace, so every candidate is also checked to be the tenant's
own: an example is never another tenant's question or answer.

An example is shown as a bare (question, answer) pair after the request's system messages, so
its answer must be one to that question under those same system messages: an entry asked after
earlier turns, or under another system prompt or response_format, is never an example (an answer
given under "Answer in French." taught the small model to answer an English question in French).
Nor is an answer recorded from another request shape: a chat answer prepended to a completion
prompt is continued as text ("The capital of Italy is" went on with a made-up question), so chat
requests get chat entries and completions get completion entries.
"""

import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from gateway.cache.entry import CacheEntry, namespace_for
from gateway.cache.semantic_cache import SemanticCache
from gateway.cache.storable import ended_by_itself
from policies.schema import CategoryPolicy, PolicySet

# Neighbours fetched per source category for each example wanted: room for the filters below.
OVERFETCH = 4


@dataclass(frozen=True)
class Example:
    entry_id: str
    question: str
    answer: str
    similarity: float  # cosine between its question and the new one
    utility: float
    embedding: np.ndarray


async def find_candidates(
    cache: SemanticCache,
    policies: PolicySet,
    policy: CategoryPolicy,
    tenant: str,
    embedding: np.ndarray,
    context: bytes,
    strong_models: Collection[str],
    min_similarity: float,
    min_utility: float,
) -> list[Example]:
    """Up to OVERFETCH * k usable candidates, most similar first; `context`: request_context() of the request."""
    settings = policy.incontext
    wanted = OVERFETCH * settings.k
    neighbours: dict[str, float] = {}
    for source_name in settings.categories or (policy.name,):
        source = policies.get(source_name)
        namespace = namespace_for(tenant, source.scope, source.personal)
        try:
            found_here = cache.index.search(namespace, source.name, embedding, None, wanted)
        except RuntimeError:  # hnswlib: fewer live neighbours than asked for after deletions
            found_here = []
        for n in found_here:
            if n.similarity >= min_similarity:
                neighbours[n.entry_id] = max(n.similarity, neighbours.get(n.entry_id, -1.0))
    entries = await cache.store.get_many(list(neighbours))
    now = time.time()
    found = []
    for entry_id, similarity in neighbours.items():
        entry = entries.get(entry_id)
        if (
            entry is None
            or entry.embedding is None
            or not usable(entry, tenant, context, strong_models, min_utility, now)
        ):
            continue
        found.append(
            Example(entry.id, entry.query_text, answer_text(entry.response), similarity, entry.utility, entry.embedding)
        )
    found.sort(key=lambda e: -e.similarity)
    return found[:wanted]


def usable(
    entry: CacheEntry,
    tenant: str,
    context: bytes,
    strong_models: Collection[str],
    min_utility: float,
    now: float | None = None,
) -> bool:
    return (
        entry.tenant == tenant
        and entry.producer_model in strong_models
        and not entry.expired(now)
        and entry.utility >= min_utility
        and entry.embedding is not None
        and bool(entry.query_text)
        and bool(answer_text(entry.response))
        and ended_by_itself(entry.response)  # an answer cut at max_tokens would teach a cut answer
        and asked_under(entry.request) == context
    )


def request_context(body: dict[str, Any]) -> bytes:
    """What examples injected into `body` are read under: its shape (chat or completion), its leading
    system/developer messages (the examples go right after them) and its response_format."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return _context_key("completion", [], body.get("response_format"))
    return _context_key("chat", messages[: leading_system_count(messages)], body.get("response_format"))


def asked_under(request: dict[str, Any]) -> bytes | None:
    """request_context() of a stored entry's request, or None when anything besides its system messages
    came before its question: that answer may rest on the conversation."""
    messages = request.get("messages")
    if isinstance(messages, list) and len(messages) - leading_system_count(messages) != 1:
        return None
    return request_context(request)


def leading_system_count(messages: list[Any]) -> int:
    """How many system/developer messages open the conversation."""
    start = 0
    while (
        start < len(messages)
        and isinstance(messages[start], dict)
        and messages[start].get("role") in ("system", "developer")
    ):
        start += 1
    return start


def _context_key(shape: str, leading: list[Any], response_format: Any) -> bytes:
    if response_format == {"type": "text"}:
        response_format = None  # the default, spelt out
    return orjson.dumps([shape, leading, response_format], option=orjson.OPT_SORT_KEYS)


def answer_text(response: dict[str, Any]) -> str:
    """The text of a stored answer's first choice (chat or completion); "" when it has none."""
    choices = response.get("choices") or [{}]
    choice = choices[0] if isinstance(choices[0], dict) else {}
    message = choice.get("message")
    text = message.get("content") if isinstance(message, dict) else choice.get("text")
    return text.strip() if isinstance(text, str) else ""
