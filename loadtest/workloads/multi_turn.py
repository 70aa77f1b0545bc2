"""Multi-turn conversations: the same follow-up question after different histories.

Histories are the opening exchanges of real ShareGPT conversations; the last turn is one of a few
context-dependent follow-ups ("Can you summarise that in one sentence?"). The duplicate group is
(history, follow-up): a cache that ignores earlier turns answers one conversation with another's
reply, which the group label exposes. Conversations recur by Zipf popularity, so true repeats exist.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from loadtest.workloads.sampling import ZipfSampler
from loadtest.workloads.sharegpt import Conversation, load_sharegpt
from loadtest.workloads.spec import RequestSpec, WorkloadOptions

FOLLOW_UPS = (
    "Can you summarise that in one sentence?",
    "Can you explain that more simply?",
    "Give me an example.",
    "What is the most important point?",
    "Are there any downsides to that?",
    "Can you make it shorter?",
)


def history_of(conversation: Conversation, exchanges: int, max_chars: int) -> tuple[dict[str, str], ...]:
    """The first `exchanges` user/assistant pairs, each message cut to `max_chars` to bound prompt size."""
    history = []
    for message in conversation.messages[: 2 * exchanges]:
        history.append({"role": message["role"], "content": message["content"][:max_chars]})
    return tuple(history)


def has_exchanges(conversation: Conversation, exchanges: int) -> bool:
    roles = [m["role"] for m in conversation.messages[: 2 * exchanges]]
    return roles == ["user", "assistant"] * exchanges


class MultiTurnConversations:
    name = "multiturn"

    def __init__(self, options: WorkloadOptions, histories: int = 200, max_exchanges: int = 2,
                 max_chars: int = 400) -> None:
        self.options = options
        rng = np.random.default_rng(options.seed)
        self.histories: list[tuple[dict[str, str], ...]] = []
        for conversation in load_sharegpt(limit=histories * 4):
            exchanges = int(rng.integers(1, max_exchanges + 1))
            if has_exchanges(conversation, exchanges):
                self.histories.append(history_of(conversation, exchanges, max_chars))
            if len(self.histories) == histories:
                break
        if not self.histories:
            raise ValueError("no ShareGPT conversation has a full user/assistant exchange")

    def requests(self) -> Iterator[RequestSpec]:
        rng = np.random.default_rng(self.options.seed + 1)
        threads = [(h, f) for h in range(len(self.histories)) for f in range(len(FOLLOW_UPS))]
        popularity = ZipfSampler(threads, self.options.zipf_s, rng)
        while True:
            history, follow_up = popularity.draw()
            yield RequestSpec(
                model=self.options.model,
                max_tokens=self.options.max_tokens,
                stream=self.options.stream,
                messages=(*self.histories[history], {"role": "user", "content": FOLLOW_UPS[follow_up]}),
                category=f"turns-{len(self.histories[history]) // 2 + 1}",
                group=f"conv-{history}-{follow_up}",
                slo=self.options.slo,
            )
