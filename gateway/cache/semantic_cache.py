"""The semantic cache: what the gateway calls on every request.

lookup: exact tier (hash of the normalised request) first, then the semantic tier (HNSW
neighbours of the last user message with the same context fingerprint, filtered by TTL,
the category's guards, the conversation (gateway/cache/context_match.py) and the calibrated
duplicate verifier). The neighbours come from every category of the request's namespace: two
wordings of one question are not always classified alike, and splitting them would make a sure miss.
The query's category still decides: its thresholds, its guards, and its TTL (an entry of another
category answers while it is fresh by its own TTL and by the query's: expires_for). insert: only
complete answers, committed to the document store before the index can return them.
"""

import asyncio
import contextlib
import dataclasses
import functools
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gateway.cache.clause_order import moved_part, reordered
from gateway.cache.context_match import ContextMatcher, PairScorer
from gateway.cache.coverage import EmbeddingWindow
from gateway.cache.embedder import Embedder
from gateway.cache.entry import CacheEntry, namespace_for
from gateway.cache.fingerprint import RequestKey, request_key
from gateway.cache.index import VectorIndex
from gateway.cache.pair_scorer import VerifierPairScorer
from gateway.cache.policy import CachePolicy
from gateway.cache.reading import Reading, ReadingMemo, load_word_lists, read_soon, veto
from gateway.cache.rebuild import rebuild
from gateway.cache.reembed import ensure_embedded_by
from gateway.cache.restated import restated
from gateway.cache.storable import storable
from gateway.cache.store import DocumentStore, HitUpdate, StoreUnavailable
from gateway.cache.text import normalise
from gateway.cache.verifier import Verifier
from gateway.cache.verifier_features import QuestionView
from gateway.cache.verifier_stack import StackedVerifier

log = logging.getLogger(__name__)
EXACT, SEMANTIC = "exact", "semantic"
MISS, BYPASS, NOT_CACHEABLE = "miss", "bypass", "not_cacheable"
BELOW_THRESHOLD, GUARD_REJECTED, VERIFIER_REJECTED = "below_threshold", "guard_rejected", "verifier_rejected"
UNREADABLE = "unreadable"  # the embedding model cannot read the query: exact repeats only (gateway/cache/coverage.py)


@dataclass(frozen=True)
class CacheControls:
    """Per-request controls: `Cache-Control: no-cache / no-store`, `x-semgate-ttl`, `semgate: {...}`."""

    no_cache: bool = False  # do not answer from the cache
    no_store: bool = False  # do not keep this answer
    ttl_seconds: float | None = None  # shorter life for this answer (never longer than the policy's)


@dataclass(frozen=True)
class Candidate:
    entry: CacheEntry
    similarity: float
    probability: float | None  # the verifier's; None when the category does not verify
    rejected_by: str | None  # the guard that vetoed it


@dataclass(frozen=True)
class LookupResult:
    reason: str  # exact | semantic | miss | bypass | not_cacheable | below_threshold | guard_rejected |
    # verifier_rejected | unreadable
    entry: CacheEntry | None  # the cached answer on a hit
    similarity: float | None
    probability: float | None
    namespace: str
    best: Candidate | None  # the strongest candidate, hit or not (metrics, threshold sweeps)
    stale: bool = False  # served past its TTL (allow_stale)
    candidates: tuple[Candidate, ...] = ()  # every live neighbour of a semantic lookup (threshold sweeps)
    match: str | None = None  # on a hit, what decided it: exact | semantic | semantic+exact-tail

    @property
    def hit(self) -> bool:
        return self.entry is not None


class SemanticCache:
    def __init__(
        self,
        store: DocumentStore,
        embedder: Embedder,
        verifier: Verifier | StackedVerifier,
        index: VectorIndex | None = None,
        top_k: int | None = None,
        maintenance_interval_s: float = 5.0,
        stale_grace_s: float = 0.0,
        context_scorer: PairScorer | None = None,
        window: EmbeddingWindow | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.window = window or EmbeddingWindow.bundled()  # what the embedding sees of a text
        self._readings = ReadingMemo(self.window)
        self.verifier = verifier
        # Earlier turns are compared by meaning (gateway/cache/context_match.py); `context_scorer` reads
        # two contexts together (the verifier's cross-encoder), else the duplicate verifier does.
        # A stacked verifier lends its feature part: the conversation check's thresholds were measured on that.
        context_verifier = verifier.features if isinstance(verifier, StackedVerifier) else verifier
        written = functools.partial(embedder.model.encode, as_written=True)  # as the context check embeds
        self.context = ContextMatcher(embedder, context_scorer or VerifierPairScorer(context_verifier, written))
        self.index = index or VectorIndex()
        # The verifier's context features were learned on this many neighbours per lookup.
        self.top_k = top_k or int(verifier.info.training.get("top_k", 8))
        self.stale_grace_s = stale_grace_s  # expired entries are kept this long for allow_stale lookups
        self._maintenance_interval_s = maintenance_interval_s
        self._pending_hits: dict[str, HitUpdate] = {}
        self._counts: dict[tuple[str, str], int] = {}
        # Entries removed by the cache itself, by (category, reason): "evicted" (quota) or
        # "expired" (TTL; the category is not known to the sweep, so "*").
        self.removals: Counter[tuple[str, str]] = Counter()
        self._maintenance: asyncio.Task | None = None
        self._closed = False

    async def start(self, progress: bool = True) -> int:
        """Load the word lists, rebuild the index from the store and start the TTL sweeper; returns the entries
        indexed."""
        await asyncio.to_thread(load_word_lists)
        indexed = await self.rebuild_index(progress=progress)
        if self._maintenance_interval_s > 0:
            self._maintenance = asyncio.create_task(self._maintain())
        return indexed

    async def close(self) -> None:
        """Flush hit counters, close the store and stop the index's search thread (the embedder belongs to
        the caller). Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._maintenance is not None:
            self._maintenance.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._maintenance
        await self.flush_hits()
        await self.store.close()
        self.index.close()

    async def lookup(
        self,
        tenant: str,
        policy: CachePolicy,
        request: dict[str, Any],
        query_embedding: np.ndarray | None = None,
        controls: CacheControls | None = None,
        allow_stale: bool = False,
        max_stale_s: float | None = None,
        exact_checked: bool = False,
        key: RequestKey | None = None,
    ) -> LookupResult:
        """`key`: the request's fingerprint when the caller has it.
        `allow_stale`: expired entries may answer too (stale-if-error), those expired at most
        `max_stale_s` ago when it is given. `exact_checked`: `find_exact_hit` found no fresh exact
        entry for this request already, so the exact tier is not asked again."""
        namespace = namespace_for(tenant, policy.scope, policy.personal)
        if controls is not None and controls.no_cache:
            return LookupResult(BYPASS, None, None, None, namespace, None)
        if not policy.cacheable:
            return LookupResult(NOT_CACHEABLE, None, None, None, namespace, None)
        key = key or request_key(request)
        now = time.time()
        exact = None if exact_checked else await self.store.find_exact(namespace, policy.name, key.exact_key)
        fresh_enough = _freshness(now, allow_stale, max_stale_s)
        if exact is not None and _visible(exact, tenant, namespace) and fresh_enough(exact, policy):
            self._record_hit(exact.id, now)
            return LookupResult(
                EXACT,
                exact,
                1.0,
                None,
                namespace,
                Candidate(exact, 1.0, None, None),
                stale=exact.expired(now),
                match=EXACT,
            )
        if key.query_text is None:
            return LookupResult(MISS, None, None, None, namespace, None)
        # A long message is read off the event loop: tens of milliseconds of Python (gateway/cache/reading.py).
        [query] = await read_soon([key.query_text], self.window)
        if not query.coverage.readable:
            return LookupResult(UNREADABLE, None, None, None, namespace, None)
        vector = query_embedding if query_embedding is not None else await self.embedder.embed(key.query_text, tenant)
        candidates = await self._candidates(tenant, namespace, policy, key, vector, now, fresh_enough, query)
        decided = self._decide(namespace, policy, candidates, now)
        return dataclasses.replace(
            decided, candidates=tuple(candidates), match=query.match_kind if decided.hit else None
        )

    async def find_exact_hit(
        self,
        tenant: str,
        policies: Sequence[CachePolicy],
        request: dict[str, Any],
        controls: CacheControls | None = None,
        key: RequestKey | None = None,
    ) -> tuple[CachePolicy, LookupResult] | None:
        """The exact tier before anything is embedded: the newest fresh entry with this request's exact
        key in any cacheable category of `policies` (one store read), with the policy it was stored
        under. An identical request classifies as its entry did, so the category needs no embedding."""
        if controls is not None and controls.no_cache:
            return None
        spaces = {(namespace_for(tenant, p.scope, p.personal), p.name): p for p in policies if p.cacheable}
        if not spaces:
            return None
        now = time.time()
        found = await self.store.find_exact_in(list(spaces), (key or request_key(request)).exact_key)
        fresh = [e for e in found if _visible(e, tenant, e.namespace) and not e.expired(now)]  # all in `spaces`
        if not fresh:
            return None
        exact = max(fresh, key=lambda e: e.created_at)
        self._record_hit(exact.id, now)
        return spaces[(exact.namespace, exact.category)], LookupResult(
            EXACT, exact, 1.0, None, exact.namespace, Candidate(exact, 1.0, None, None), match=EXACT
        )

    async def insert(
        self,
        tenant: str,
        policy: CachePolicy,
        request: dict[str, Any],
        response: dict[str, Any],
        model: str,
        ttl_override: float | None = None,
        *,
        controls: CacheControls | None = None,
        query_embedding: np.ndarray | None = None,
        producer_model: str | None = None,
        example_ids: tuple[str, ...] = (),
        key: RequestKey | None = None,
    ) -> str | None:
        """Store a complete answer; returns its id, or None when it must not be cached. `key`: the
        request's fingerprint when the caller has it."""
        controls = controls or CacheControls()
        ttl = policy.ttl_seconds
        for requested in (ttl_override, controls.ttl_seconds):
            if requested is not None:
                ttl = min(ttl, requested)
        if (
            controls.no_store
            or not policy.cacheable
            or ttl <= 0
            or not storable(request, response, tool_calls=policy.cache_tool_calls, cut_answers=policy.cache_cut_answers)
        ):
            return None
        key = key or request_key(request)
        vector = None
        if key.query_text is not None:
            vector = query_embedding
            if vector is None:
                vector = await self.embedder.embed(key.query_text, tenant)
        namespace = namespace_for(tenant, policy.scope, policy.personal)
        # Embedded once here, so that a lookup embeds only its own conversation (gateway/cache/context_match.py).
        context_vector, offer_vector = (
            await self.context.vectors(tenant, key.turns) if vector is not None else (None, None)
        )
        entry = CacheEntry(
            tenant=tenant,
            namespace=namespace,
            category=policy.name,
            model=model,
            fingerprint=key.fingerprint,
            exact_key=key.exact_key,
            query_text=key.query_text or "",
            embedding=vector,
            request=request,
            response=response,
            expires_at=time.time() + ttl,
            producer_model=producer_model or model,
            example_ids=tuple(example_ids),
            context_embedding=context_vector,
            offer_embedding=offer_vector,
        )
        replaced = await self.store.put(entry)  # committed before the index can return it
        for old in replaced:
            self.index.remove(old)
        if vector is not None:
            self.index.add(namespace, policy.name, [(entry.id, entry.fingerprint, vector)])
        space = (namespace, policy.name)
        self._counts[space] = self._counts.get(space, 0) + 1 - len(replaced)
        if self._counts[space] > policy.max_entries:
            await self._evict(namespace, policy, entry.id)
        return entry.id

    async def delete(self, entry_id: str) -> bool:
        self.index.remove(entry_id)  # invisible first, then gone from the source of truth
        self._pending_hits.pop(entry_id, None)
        return await self.store.delete([entry_id]) > 0

    def apply_remote_change(self, removed: Sequence[str], added: Sequence[CacheEntry] = ()) -> None:
        """Mirror a change committed to a shared store (gateway/cache/replica_sync.py). Idempotent:
        a change seen twice, or one this replica made itself, leaves the index as it is."""
        for entry_id in removed:
            self.index.remove(entry_id)
            self._pending_hits.pop(entry_id, None)
        for entry in added:
            if entry.embedding is not None and entry.id not in self.index:
                self.index.add(entry.namespace, entry.category, [(entry.id, entry.fingerprint, entry.embedding)])

    async def refresh_counts(self) -> None:
        """Re-read the per-namespace counts the quotas use (other replicas insert into a shared store)."""
        self._counts = await self.store.count_by_namespace()

    async def rebuild_index(self, progress: bool = True) -> int:
        """Re-embed the store first if another embedding model wrote its vectors (gateway/cache/reembed.py)."""
        await ensure_embedded_by(self.store, self.embedder.model, progress=progress)
        self.index.clear()
        self._counts = await self.store.count_by_namespace()
        return await rebuild(self.store, self.index, total=sum(self._counts.values()), progress=progress)

    async def purge_expired(self) -> int:
        """Delete entries past their TTL (and the stale grace) from the store and the index."""
        expired = await self.store.expire(time.time() - self.stale_grace_s)
        for entry_id in expired:
            self.index.remove(entry_id)
            self._pending_hits.pop(entry_id, None)
        if expired:
            self._counts = await self.store.count_by_namespace()
            self.removals[("*", "expired")] += len(expired)
        return len(expired)

    async def flush_hits(self) -> None:
        updates, self._pending_hits = list(self._pending_hits.values()), {}
        await self.store.record_hits(updates)

    async def _candidates(
        self,
        tenant: str,
        namespace: str,
        policy: CachePolicy,
        key: RequestKey,
        vector: np.ndarray,
        now: float,
        fresh_enough: "Freshness",
        query: Reading,
    ) -> list[Candidate]:
        neighbours = self.index.search_namespace(namespace, vector, key.fingerprint, self.top_k)
        if not neighbours:
            return []
        entries = await self.store.get_many([n.entry_id for n in neighbours])
        live = [
            (entries[n.entry_id], n.similarity)
            for n in neighbours
            if n.entry_id in entries
            and _visible(entries[n.entry_id], tenant, namespace)
            and entries[n.entry_id].fingerprint == key.fingerprint
            and fresh_enough(entries[n.entry_id], policy)
        ]
        close = [entry for entry, similarity in live if similarity >= policy.similarity_threshold]
        readings = await self._readings.readings([(e.id, e.query_text) for e in close])
        found: list[Candidate] = []
        to_verify: list[tuple[int, QuestionView, float]] = []  # (candidate, its question, cosine)
        asked = normalise(key.query_text or "")
        for entry, similarity in live:
            guard, probability = None, None
            if similarity >= policy.similarity_threshold:
                cached = readings[entry.id]
                guard = veto(query, cached, policy.guards)
                # The same question, as typed or once greetings, frames and typos are gone (the canonical form),
                # its words in another order (clause_order.py) or its content words and quantities restated
                # (restated.py), perhaps in another conversation: nothing for the verifier to read in the two
                # questions (its neighbour features would only count look-alikes); the guards read them as written
                # (slips corrected), and whether the conversations agree is the context check's.
                if (
                    guard is None
                    and policy.verify
                    and (normalise(entry.query_text) == asked or _same_form(query, cached))
                ):
                    probability = 1.0
                elif guard is None and policy.verify:
                    to_verify.append((len(found), cached.view, similarity))
            found.append(Candidate(entry, similarity, probability, guard))
        found = await self._in_context(tenant, key, vector, policy, found)
        to_verify = [v for v in to_verify if found[v[0]].rejected_by is None]
        if to_verify:
            # The look-alikes the verifier weighs a candidate against (its context features) are the neighbours
            # still in the running: one a guard vetoed (another gym, another time) is no other reading of the query.
            running = [c.similarity for c in found if c.rejected_by is None]
            pairs = [(v, s) for _, v, s in to_verify]
            score = functools.partial(self.verifier.probabilities, query.view, pairs, running)
            # A verifier that runs a network (the stack's cross-encoder, milliseconds a pair) does so on its own
            # thread; the feature verifier's few matrix products cost less than the thread hop.
            executor = self.verifier.executor
            probabilities = await asyncio.get_running_loop().run_in_executor(executor, score) if executor else score()
            for (i, _, _), p in zip(to_verify, probabilities, strict=True):
                found[i] = Candidate(found[i].entry, found[i].similarity, float(p), None)
        return found

    async def _in_context(
        self, tenant: str, key: RequestKey, vector: np.ndarray, policy: CachePolicy, found: list[Candidate]
    ) -> list[Candidate]:
        """Vetoes the candidates whose conversation disagrees with the query's where the question depends on it."""
        open_ = [
            i for i, c in enumerate(found) if c.rejected_by is None and c.similarity >= policy.similarity_threshold
        ]
        if not open_:
            return found
        verdicts = await self.context.rejections(
            tenant, key.query_text or "", vector, key.turns, [found[i].entry for i in open_]
        )
        found = list(found)
        for i, verdict in zip(open_, verdicts, strict=True):
            if verdict is not None:
                found[i] = dataclasses.replace(found[i], rejected_by=verdict)
        return found

    def _decide(self, namespace: str, policy: CachePolicy, candidates: list[Candidate], now: float) -> LookupResult:
        if not candidates:
            return LookupResult(MISS, None, None, None, namespace, None)
        eligible = [c for c in candidates if c.similarity >= policy.similarity_threshold]
        if not eligible:
            best = max(candidates, key=lambda c: c.similarity)
            return LookupResult(BELOW_THRESHOLD, None, best.similarity, None, namespace, best)
        passed = [c for c in eligible if c.rejected_by is None]
        if not passed:
            best = max(eligible, key=lambda c: c.similarity)
            return LookupResult(GUARD_REJECTED, None, best.similarity, None, namespace, best)
        if policy.verify:
            best = max(passed, key=lambda c: (c.probability or 0.0, c.similarity))
            if (best.probability or 0.0) < policy.verifier_threshold:
                return LookupResult(VERIFIER_REJECTED, None, best.similarity, best.probability, namespace, best)
        else:
            best = max(passed, key=lambda c: c.similarity)
        self._record_hit(best.entry.id, now)
        return LookupResult(
            SEMANTIC,
            best.entry,
            best.similarity,
            best.probability,
            namespace,
            best,
            stale=expires_for(best.entry, policy) <= now,
        )

    def _record_hit(self, entry_id: str, now: float) -> None:
        # Hit counters are batched: a hit must not wait for a write transaction.
        previous = self._pending_hits.get(entry_id)
        self._pending_hits[entry_id] = HitUpdate(entry_id, (previous.hits if previous else 0) + 1, now)

    async def _evict(self, namespace: str, policy: CachePolicy, newest: str) -> None:
        await self.flush_hits()  # LRU/LFU order must see the latest hits
        # The entry just stored has no hits yet; LFU would otherwise always pick it.
        for entry_id in await self.store.evict(
            namespace, policy.name, policy.max_entries, policy.eviction, protect=[newest]
        ):
            self.index.remove(entry_id)
            self.removals[(policy.name, "evicted")] += 1
        self._counts[(namespace, policy.name)] = min(self._counts[(namespace, policy.name)], policy.max_entries)

    async def _maintain(self) -> None:
        while True:
            await asyncio.sleep(self._maintenance_interval_s)
            try:
                await self.flush_hits()
                await self.purge_expired()
            except StoreUnavailable as exc:  # locked, full, read-only, unreachable: try again next round
                log.warning("cache maintenance skipped: %s", exc)


def expires_for(entry: CacheEntry, policy: CachePolicy) -> float:
    """When `entry` stops answering a query of `policy`'s category: at its own expiry, and an entry stored
    under another category also once it is older than this category keeps answers (a weather question
    is not answered from a week-old general-knowledge entry). Nothing else refuses it to that category."""
    if entry.category == policy.name:
        return entry.expires_at
    return min(entry.expires_at, entry.created_at + policy.ttl_seconds)


def _same_form(query: Reading, cached: Reading) -> bool:
    """The same canonical form once frames are said the plainest way (frames.py), the same words in another
    order (clause_order.py), or the same content words and quantities in other words (restated.py)."""
    form, other = query.view.asked, cached.view.asked
    return bool(form) and (
        form == other or moved_part(form, other) or reordered(form, other) or restated(query.view, cached.view)
    )


def _visible(entry: CacheEntry, tenant: str, namespace: str) -> bool:
    """Defence in depth: an entry answers only its own namespace, and a private one only its tenant."""
    return entry.namespace == namespace and (entry.namespace != tenant or entry.tenant == tenant)


# Whether an entry may answer a query of a policy.
Freshness = Callable[[CacheEntry, CachePolicy], bool]


def _freshness(now: float, allow_stale: bool, max_stale_s: float | None) -> Freshness:
    """Which entries may answer a query of a policy: those unexpired for it (expires_for), or with
    allow_stale those expired for it at most max_stale_s ago."""
    if not allow_stale:
        return lambda entry, policy: expires_for(entry, policy) > now
    if max_stale_s is None:
        return lambda entry, policy: True
    return lambda entry, policy: now - expires_for(entry, policy) <= max_stale_s
