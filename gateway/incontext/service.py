"""IC-Cache in the request flow: what the proxy calls on a miss, after an answer, and on feedback.

plan(): pick the model (router) and, for a small one, the examples (retrieval, selection,
injection); the returned plan (gateway/incontext/plan.py) says where the request goes and with which
body; its settle(): the answer is known (and stored or not): remember it for feedback. observe(): every request
with an embedding; a re-ask is negative feedback on the answer it repeats. feedback(): explicit
scores from POST /v1/feedback.

Only requests for a model listed under `models:` in gateway.yaml are routed (or pinned with
`x-semgate-model`); any other model passes through untouched. Routing never changes what a request
asked for: a model's `params` fill in only the settings the request left unset (a request's own
`temperature: 0.7` was once overridden by the greedy alias it was routed to), and the answer
names the model that produced it (gateway/incontext/answer_label.py).
"""

import logging

from gateway.cache.decision import CacheDecision, Decision
from gateway.cache.step import CacheLayer
from gateway.cache.store import StoreUnavailable
from gateway.config import GatewayConfig
from gateway.edge.errors import OpenAIError, invalid
from gateway.edge.request import GatewayRequest
from gateway.incontext import utility
from gateway.incontext.bandit import NONE, evidence
from gateway.incontext.examples import Example, find_candidates, request_context
from gateway.incontext.feedback import Answer, FeedbackBook
from gateway.incontext.injection import inject
from gateway.incontext.plan import Direct, Plan, Route
from gateway.incontext.router import Router
from gateway.incontext.selection import score, select
from gateway.incontext.settings import SMALL, STRONG, ModelConfig
from gateway.incontext.tokens import counter_for
from gateway.observe.stats import RequestTrace
from gateway.upstream.pool import UpstreamPool

log = logging.getLogger(__name__)
PIN_HEADER = "x-semgate-model"


class InContextService:
    takes_feedback = True  # POST /v1/feedback scores its answers

    def __init__(self, config: GatewayConfig, pool: UpstreamPool, layer: CacheLayer) -> None:
        self.models = {m.name: m for m in config.models}
        self.settings = config.incontext
        self.pool = pool
        self.layer = layer
        self.book = FeedbackBook(self.settings.reask_window_s, self.settings.reask_similarity)
        self.router = Router(config.models, self.settings.router, self._upstream_load)
        self.strong = {m.name for m in config.models if m.tier == STRONG}

    def served_model(self, requested: str) -> str:
        """The upstream model name behind a requested model (an entry under `models:` may alias one)."""
        model = self.models.get(requested)
        return model.upstream_model if model is not None else requested

    # -- the request flow ------------------------------------------------------------------------

    async def observe(self, request: GatewayRequest, decision: Decision) -> None:
        """Every consulted request: a re-ask is negative feedback; a hit is remembered for re-asks. An exact
        repeat answered from the cache is neither (gateway/incontext/feedback.py)."""
        tenant, text = request.tenant, request.key.query_text
        if (
            not isinstance(decision, CacheDecision)
            or decision.embedding is None
            or not text
            or (decision.hit and self.book.repeats(tenant, text))
        ):
            return
        repeated = self.book.reasked(tenant, decision.embedding, text)
        if repeated is not None:
            try:
                await self._apply(repeated, utility.REASK_SCORE)
            except Exception:
                log.exception("applying re-ask feedback failed")
        lookup = decision.lookup
        # A hit is remembered for re-asks only: feedback on its entry id reads the store.
        if lookup is not None and lookup.entry is not None:
            entry = lookup.entry
            # A shared category's entry may be another tenant's: a re-ask of it judges nothing of ours,
            # and must not move the utility that steers the owner's examples.
            own = entry.tenant == tenant
            answer = Answer(tenant, entry.category, entry.id if own else None, entry.example_ids if own else ())
            self.book.remember([], answer, decision.embedding, text)

    async def plan(self, request: GatewayRequest, decision: Decision) -> Plan:
        """Which model answers and with which examples. A request the cache did not consult (it failed before
        the lookup) has no category to route by: it goes where it asked."""
        tenant, pinned = request.tenant, request.headers.get(PIN_HEADER)
        if pinned is not None and pinned not in self.models:
            raise invalid(
                f"{PIN_HEADER} names an unknown model {pinned[:60]!r}; routable: {', '.join(self.models)}",
                param=PIN_HEADER,
                code="model_not_found",
            )
        if not isinstance(decision, CacheDecision) or (pinned is None and request.model not in self.models):
            return Direct(request.upstream, request.body)
        policy = decision.policy
        candidates = [self.models[pinned]] if pinned else self._candidates(policy.routing.models)
        examples: list[Example] = []
        small = [m for m in candidates if m.tier == SMALL]
        if small and self.settings.enabled and policy.incontext.enabled and decision.embedding is not None:
            examples = await self._examples(request, decision, small[0])
        best = max((score(e) for e in examples), default=None)
        level_of = lambda m: evidence(best) if m.tier == SMALL else NONE  # noqa: E731
        chosen = self.router.choose(tenant, policy.name, candidates, level_of).model
        used = examples if chosen.tier == SMALL else []
        body = inject(request.body, used, self.settings.mark_examples)
        body = {**chosen.params, **body, "model": chosen.upstream_model}  # the request's own settings win
        upstream = await self.pool.resolve(chosen.upstream_model)
        self.router.started(chosen.name)
        return Route(
            chosen,
            upstream,
            body,
            used,
            level_of(chosen),
            tenant,
            policy.name,
            decision.embedding,
            request.key.query_text,
            self.book,
        )

    def record(self, trace: RequestTrace) -> None:
        """A finished request (TraceRecorder): its routed model has one request less in flight."""
        if trace.routed_model is not None:
            self.router.finished(trace.routed_model)

    # -- feedback ---------------------------------------------------------------------------------

    async def feedback(self, tenant: str, response_id: str, score_: float) -> bool:
        """Apply a score in [-1, 1] to a response of this tenant; False when no such response is known."""
        answer = self.book.find(tenant, response_id)
        if answer is None:
            entry = await self.layer.cache.store.get(response_id)
            if entry is None or entry.tenant != tenant:
                return False
            answer = Answer(tenant, entry.category, entry.id, entry.example_ids)
        await self._apply(answer, score_)
        return True

    async def _apply(self, answer: Answer, score_: float) -> None:
        if answer.model is not None and answer.tier is not None and answer.level is not None:  # routed
            bandit = self.router.bandit_for(answer.tenant)
            bandit.reward(answer.category, answer.model, answer.tier, answer.level, (score_ + 1) / 2)
        changes = []
        if answer.entry_id is not None:
            changes.append((answer.entry_id, utility.FEEDBACK_STEP * score_))
        for example_id in answer.example_ids:  # the examples share the credit (or the blame)
            changes.append((example_id, utility.FEEDBACK_STEP * score_ / len(answer.example_ids)))
        store = self.layer.cache.store
        try:
            for entry_id, delta in changes:
                await store.add_utility(entry_id, delta, utility.LOW, utility.HIGH)
        except StoreUnavailable as exc:
            log.warning("feedback not applied to the store: %s", exc)

    # -- helpers ----------------------------------------------------------------------------------

    def _candidates(self, allowed: tuple[str, ...]) -> list[ModelConfig]:
        listed = [self.models[name] for name in allowed if name in self.models]
        return listed or list(self.models.values())

    async def _examples(self, request: GatewayRequest, decision: CacheDecision, small: ModelConfig) -> list[Example]:
        if decision.embedding is None:  # plan() asks only with one: the neighbours are the embedding's
            return []
        policy = decision.policy
        try:
            found = await find_candidates(
                self.layer.cache,
                self.layer.policies.current.policies,
                policy,
                request.tenant,
                decision.embedding,
                request_context(request.body),
                self.strong,
                self.settings.min_similarity,
                self.settings.min_utility,
            )
        except Exception:
            log.exception("finding in-context examples failed; answering without")
            return []
        return select(
            found,
            policy.incontext.k,
            policy.incontext.token_budget,
            counter_for(small.tokenizer),
            self.settings.duplicate_similarity,
        )

    def _upstream_load(self, model: ModelConfig) -> float:
        try:
            upstream = self.pool.for_model(model.upstream_model)
        except OpenAIError:  # not served (yet): no load known
            return 0.0
        state = self.layer.adaptive.load_states().get(upstream.name)
        return max(upstream.stats.in_flight / upstream.capacity, state.index if state is not None else 0.0)
