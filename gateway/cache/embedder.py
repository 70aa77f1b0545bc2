"""Query embeddings: all-MiniLM-L6-v2 off the event loop, micro-batched, with a per-tenant LRU.

`EmbeddingModel` is the synchronous model (loaded once per process); `Embedder` is the
asyncio front that the gateway awaits. One worker thread runs the model, because two
forward passes at once on a small CPU only slow each other down. A lone request is encoded
at once; requests that arrive together (or queue while the worker is busy) wait a short
window for more and go through in one call to the worker: one hand-off to its thread instead
of one each. The int8 model inside runs each text of a batch alone (its vectors must not depend
on their companions), so a batch costs about the sum of its texts (gateway/cache/minilm.py).

Every text is embedded for a tenant, and only that tenant's earlier texts can answer it: the LRU
is split by tenant (gateway/cache/tenant_lru.py), and the same text asked by two tenants at once is
encoded twice. A shared LRU (or a shared in-flight encode) made a repeat of another tenant's text
answer measurably faster, which told a tenant what others had recently sent.
"""

import asyncio
import copy
import hashlib
import os
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from gateway.cache import canonical as canonical_form
from gateway.cache.bundled_model import bundled_model_dir
from gateway.cache.minilm import DIM, MiniLM, TorchTransformer
from gateway.cache.onnx_export import onnx_transformer
from gateway.cache.tenant_lru import TenantLRU
from gateway.cpu_share import EMBED_THREADS_ALONE, lower_this_thread

__all__ = ["DIM", "OPERATOR", "Embedder", "EmbeddingModel", "encode_cached"]

# The admin API's own part of the LRU (no tenant name holds a NUL): an operator's searches warm no tenant's.
OPERATOR = "\0operator"
# Texts of a client's embedding request encoded per model call: ~16 short texts take ~80 ms, about as long
# as a cache lookup may wait behind them.
CLIENT_SLICE = 16


class EmbeddingModel:
    """all-MiniLM-L6-v2 (gateway/cache/minilm.py); thread-safe for one caller at a time.

    `backend`: "onnx" (ONNX Runtime on the int8 graph exported once from the bundled weights; falls
    back to PyTorch when that cannot be done), "torch", or None for the SEMGATE_EMBED_BACKEND
    environment variable (default "onnx"). PyTorch computes the fp32 vectors; the int8 graph's are
    within cosine 0.98 of them (0.995 on average), and the shipped verifier and thresholds were
    tuned on the int8 graph's (gateway/cache/onnx_export.py).
    `threads` sets the intra-op threads (None leaves the runtime's default). Two by default
    (one on a one-core machine): a lone query takes 4.9 ms on two against 6.8 ms on one on an idle
    machine, and no longer than on one when the other core is busy, because the ONNX threads
    sleep rather than spin between runs (minilm.OnnxTransformer); more than two gain little on a
    15-token query and take cores from the event loop.
    """

    def __init__(
        self,
        model_dir: str | Path | None = None,
        threads: int | None = EMBED_THREADS_ALONE,
        backend: str | None = None,
        canonical: bool = True,
    ) -> None:
        model_dir = Path(model_dir or bundled_model_dir())
        backend = backend or os.environ.get("SEMGATE_EMBED_BACKEND", "onnx")
        if backend not in ("onnx", "torch"):
            raise ValueError(f"embedding backend must be 'onnx' or 'torch', got {backend!r}")
        transformer = onnx_transformer(model_dir, threads) if backend == "onnx" else None
        self._minilm = MiniLM(model_dir, transformer or TorchTransformer(model_dir, threads))
        self.dim = self._minilm.dim
        self.backend = self._minilm.backend
        # What is embedded is a text's canonical form (gateway/cache/canonical.py): greetings, politeness
        # frames and typos do not move the vector. Vectors of the raw text are another identity.
        self.canonical = canonical
        if canonical:
            canonical_form.vocabulary()  # read now (~0.1 s), not on the first request
        self.identity = self._minilm.identity + (f"+{canonical_form.VERSION}" if canonical else "")

    def raw(self) -> "EmbeddingModel":
        """The same model embedding each text as written (the raw MiniLM baseline of the benches)."""
        raw = copy.copy(self)
        raw.canonical, raw.identity = False, self._minilm.identity
        return raw

    def encode(
        self, texts: list[str], batch_size: int = 64, progress: bool = False, as_written: bool = False
    ) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text. `as_written`: of the texts themselves, not their
        canonical forms (a conversation's earlier turns: the context check's cosines were measured on those)."""
        if self.canonical and not as_written:
            texts = [self._canonical(text) for text in texts]
        return self._minilm.encode(texts, batch_size=batch_size, progress=progress)

    def token_counts(self, texts: list[str]) -> list[int]:
        """Tokens of each text as the model reads it (cut at its window)."""
        return [len(self._minilm.window.encode(text)[0].ids) for text in texts]

    def _canonical(self, text: str) -> str:
        """A text's canonical form where the embedding reads all of it, else the text as written: past the
        window a match needs the rest identical as written (gateway/cache/coverage.py), and a rewritten window
        would no longer end where that rest begins."""
        if len(text) > canonical_form.MAX_CHARS or self._minilm.window.coverage(text).truncated:
            return text
        form = canonical_form.canonical(text)
        return text if self._minilm.window.coverage(form).truncated else form


def encode_cached(model: EmbeddingModel, texts: list[str], cache: Path | None, progress: bool = True) -> np.ndarray:
    """`model`'s vectors for `texts`, read from the file `cache` when it holds these texts embedded the
    same way (model.identity), else computed and saved there (None: computed, not saved): for tools
    that embed the same evaluation data run after run."""
    digest = hashlib.sha256("\n".join([model.identity, *texts]).encode()).hexdigest()
    if cache is not None and cache.exists():
        with np.load(cache) as data:
            if str(data["digest"]) == digest:
                return data["vectors"]
    if progress:
        print(
            f"embedding {len(texts)} texts with {model.identity}"
            + (f" (kept in {cache} for the next run)" if cache is not None else ""),
            file=sys.stderr,
        )
    vectors = model.encode(texts, batch_size=128, progress=progress)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, digest=np.asarray(digest), vectors=vectors)
    return vectors


@dataclass
class EmbedderStats:
    """Counters for the metrics endpoint."""

    requests: int = 0
    lru_hits: int = 0
    batches: int = 0
    texts_encoded: int = 0
    encode_seconds: float = 0.0
    batch_sizes: Counter = field(default_factory=Counter)  # batch size -> how many batches

    @property
    def mean_batch_size(self) -> float:
        return self.texts_encoded / self.batches if self.batches else 0.0


class Embedder:
    """`await embed(text, tenant)` from any number of coroutines; one model call per batch.

    The LRU keeps up to `lru_size` vectors in all and `lru_per_tenant` per tenant, keyed by a digest
    of the text (a 256,000-character message costs its vector, not its text, to remember)."""

    def __init__(
        self,
        model: EmbeddingModel,
        window_s: float = 0.002,
        max_batch: int = 32,
        lru_size: int = 4096,
        lru_per_tenant: int | None = 1024,
    ) -> None:
        self.model = model
        self.dim = model.dim
        self.stats = EmbedderStats()
        self._window_s = window_s
        self._max_batch = max_batch
        self._lru: TenantLRU[bytes, np.ndarray] = TenantLRU(lru_size, lru_per_tenant)
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._waiting: dict[tuple[str, bytes], asyncio.Future[np.ndarray]] = {}
        self._worker = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="semgate-embed", initializer=lower_this_thread
        )
        self._dispatcher: asyncio.Task | None = None

    async def embed(self, text: str, tenant: str) -> np.ndarray:
        return await self._submit(text, tenant)

    async def embed_many(self, texts: list[str], tenant: str, as_written: bool = False) -> np.ndarray:
        """`as_written`: see EmbeddingModel.encode."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack(await asyncio.gather(*(self._submit(t, tenant, as_written) for t in texts)))

    async def encode_for_client(self, texts: list[str]) -> np.ndarray:
        """Vectors of the texts as written, for POST /v1/embeddings: on the model's one worker thread, a
        slice at a time, so a large batch lets the cache's lookups through between slices instead of
        holding the model for all of it. The LRU above is the cache's, not this route's (it has its own)."""
        loop = asyncio.get_running_loop()
        rows = [
            await loop.run_in_executor(
                self._worker, partial(self.model.encode, texts[i : i + CLIENT_SLICE], as_written=True)
            )
            for i in range(0, len(texts), CLIENT_SLICE)
        ]
        return np.concatenate(rows) if rows else np.zeros((0, self.dim), dtype=np.float32)

    async def close(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            await asyncio.gather(self._dispatcher, return_exceptions=True)
        for future in self._waiting.values():
            future.cancel()
        self._worker.shutdown(wait=True)

    def _submit(self, text: str, tenant: str, as_written: bool = False) -> asyncio.Future[np.ndarray]:
        self.stats.requests += 1
        loop = asyncio.get_running_loop()
        # The two vectors of one text are two entries: the digest says which.
        digest = hashlib.blake2b(
            text.encode("utf-8", "surrogatepass"), digest_size=16, person=b"as-written" if as_written else b""
        ).digest()
        cached = self._lru.get(tenant, digest)
        if cached is not None:
            self.stats.lru_hits += 1
            done = loop.create_future()
            done.set_result(cached)
            return done
        key = (tenant, digest)
        future = self._waiting.get(key)
        if future is None:  # the same text asked twice at once by one tenant is encoded once
            future = self._waiting[key] = loop.create_future()
            self._queue.put_nowait(_Pending(tenant, digest, text, as_written))
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = loop.create_task(self._dispatch())
        return asyncio.shield(future)

    async def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            backlog = not self._queue.empty()  # these texts waited for the worker already
            batch = [await self._queue.get()]
            await asyncio.sleep(0)  # texts submitted in this same turn of the loop join at once
            self._drain(batch)
            # A lone text goes now: waiting for company that is not coming only adds latency, and
            # a backlog has waited already. Texts arriving together wait up to the window for more.
            deadline = loop.time() + (self._window_s if len(batch) > 1 and not backlog else 0.0)
            while len(batch) < self._max_batch:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), remaining))
                except TimeoutError:
                    break
                self._drain(batch)
            await self._run(batch)

    def _drain(self, batch: list["_Pending"]) -> None:
        while len(batch) < self._max_batch and not self._queue.empty():
            batch.append(self._queue.get_nowait())

    async def _run(self, batch: list["_Pending"]) -> None:
        started = time.perf_counter()
        try:
            vectors = await asyncio.get_running_loop().run_in_executor(self._worker, self._encode, batch)
        except Exception as exc:  # noqa: BLE001 every waiter learns why; the dispatcher keeps serving
            for pending in batch:
                future = self._waiting.pop(pending.key)
                if not future.done():
                    future.set_exception(exc)
            return
        self.stats.batches += 1
        self.stats.texts_encoded += len(batch)
        self.stats.batch_sizes[len(batch)] += 1
        self.stats.encode_seconds += time.perf_counter() - started
        for pending, vector in zip(batch, vectors, strict=True):
            vector.flags.writeable = False  # shared by the LRU and every waiter
            self._lru.put(pending.tenant, pending.digest, vector)
            future = self._waiting.pop(pending.key)
            if not future.done():
                future.set_result(vector)

    def _encode(self, batch: list["_Pending"]) -> np.ndarray:
        vectors = np.empty((len(batch), self.dim), dtype=np.float32)
        for as_written in (False, True):
            rows = [i for i, p in enumerate(batch) if p.as_written == as_written]
            if rows:
                texts = [batch[i].text for i in rows]
                vectors[rows] = self.model.encode(texts, as_written=True) if as_written else self.model.encode(texts)
        return vectors


@dataclass(frozen=True)
class _Pending:
    """A text waiting for the model, and whose LRU it goes into."""

    tenant: str
    digest: bytes
    text: str
    as_written: bool = False

    @property
    def key(self) -> tuple[str, bytes]:
        return (self.tenant, self.digest)
