"""Where a miss is sent and with which body: IC-Cache's plan for a request, a typed value the proxy reads.

`Direct` is the plan when nothing is routed (IC-Cache off, or a model it does not route): the request's own
upstream and body. `Route` sends it to the model the router chose, with in-context examples for a small
one. Either way the proxy asks the plan where to go, which headers and model name the answer carries, whom
to name as its producer when it is stored, and tells it how the answer ended (`settle`). The cache step
never sees the plan.
"""

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gateway.incontext.answer_label import ModelLabel
from gateway.incontext.examples import Example
from gateway.incontext.feedback import Answer, FeedbackBook
from gateway.incontext.settings import ModelConfig
from gateway.upstream.pool import Upstream


@dataclass(frozen=True)
class Direct:
    upstream: Upstream
    body: dict[str, Any]
    routed_model: None = None
    example_ids: tuple[str, ...] = ()

    @property
    def producer(self) -> str:
        return self.upstream.name

    def headers(self) -> dict[str, str]:
        return {}

    def label(self) -> None:
        return None

    def settle(self, completion: dict[str, Any] | None, entry_id: str | None) -> None:
        return None


@dataclass
class Route:
    model: ModelConfig
    upstream: Upstream
    body: dict[str, Any]
    examples: list[Example]
    level: str
    tenant: str
    category: str
    embedding: np.ndarray | None
    question: str | None
    book: FeedbackBook = field(repr=False)  # where a settled answer waits for feedback

    @property
    def routed_model(self) -> str:
        return self.model.name

    @property
    def producer(self) -> str:
        return self.model.name

    @property
    def example_ids(self) -> tuple[str, ...]:
        return tuple(e.entry_id for e in self.examples)

    def headers(self) -> dict[str, str]:
        headers = {"x-semgate-model": self.model.name}
        if self.examples:
            headers["x-semgate-examples"] = ",".join(self.example_ids)
        return headers

    def label(self) -> ModelLabel | None:
        """What renames the upstream's model to the routed one in the answer; None when they are one name."""
        if self.model.upstream_model == self.model.name:
            return None
        return ModelLabel(self.model.upstream_model, self.model.name)

    def settle(self, completion: dict[str, Any] | None, entry_id: str | None) -> None:
        """The answer is complete (`completion`, None when it failed) and stored as `entry_id` (or not)."""
        if completion is None:
            return
        answer = Answer(
            self.tenant, self.category, entry_id, self.example_ids, self.model.name, self.model.tier, self.level
        )
        ids = [i for i in (completion.get("id"), entry_id) if isinstance(i, str) and i]
        self.book.remember(ids, answer, self.embedding, self.question)


Plan = Direct | Route
