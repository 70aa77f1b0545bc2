"""A store that cannot take writes (locked by another process, full, read-only): the client still
gets its upstream answer, the header says store-skipped, the log says why in one line, and no
partial entry is left behind."""

import logging
import sqlite3
import time

import pytest
from reliability_setup import answer, ask, stored_questions

from gateway.cache.entry import CacheEntry
from gateway.cache.sqlite_store import SqliteStore
from gateway.cache.store import StoreUnavailable

STORE_LOG = "gateway.cache"  # the cache package's loggers, one per module


def store_warnings(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith(STORE_LOG) and r.levelno == logging.WARNING]


def test_locked_store_serves_the_answer_skips_the_store_and_says_why(start_gateway, upstream, caplog, tmp_path):
    url, app = start_gateway()
    ask(url, "What is a closure in JavaScript?")
    lock = sqlite3.connect(tmp_path / "cache.db", isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")  # another process holds the write lock past the busy timeout
    try:
        with caplog.at_level(logging.WARNING, logger=STORE_LOG):
            response = ask(url, "What is a monad in Haskell?")
            assert answer(response) == "Echo: What is a monad in Haskell?"
            assert response.headers["x-semgate-cache"] == "store-skipped"
            assert ask(url, "What is a closure in JavaScript?").headers["x-semgate-cache"] == "hit"  # reads go on
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    [warning] = [r for r in store_warnings(caplog) if "not cached" in r.getMessage()]
    assert "locked by another writer" in warning.getMessage() and warning.exc_info is None
    assert "\n" not in warning.getMessage()
    assert stored_questions(app) == ["What is a closure in JavaScript?"]
    assert ask(url, "What is a monad in Haskell?").headers["x-semgate-cache"] == "miss"  # stored once free again


def test_full_store_keeps_answering_and_holds_only_whole_entries(start_gateway, upstream, caplog, tmp_path):
    url, app = start_gateway(cache="store_max_bytes: 196608")
    outcomes = {}
    with caplog.at_level(logging.WARNING, logger=STORE_LOG):
        for i in range(40):
            question = f"Question {i}: " + " ".join(f"word{i}x{j}" for j in range(400))
            response = ask(url, question, max_tokens=1000)
            assert answer(response) == f"Echo: {question}"
            outcomes[question] = response.headers["x-semgate-cache"]
            if outcomes[question] == "store-skipped":
                break
    stored = [q for q, outcome in outcomes.items() if outcome == "miss"]
    assert stored and outcomes[question] == "store-skipped", "the store never filled up"
    assert any("is full" in r.getMessage() and r.exc_info is None for r in store_warnings(caplog))
    assert stored_questions(app) == sorted(stored)  # what was acknowledged, and nothing half-written
    with sqlite3.connect(tmp_path / "cache.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert ask(url, stored[0], max_tokens=1000).headers["x-semgate-cache"] == "hit"


def entry(text: str) -> CacheEntry:
    return CacheEntry(tenant="t1", namespace="t1", category="general", model="m", fingerprint="fp",
                      exact_key=f"k-{text}", query_text=text, embedding=None, request={"q": text},
                      response={"choices": [{"message": {"content": text}, "finish_reason": "stop"}]},
                      expires_at=time.time() + 60, producer_model="m")


async def test_read_only_store_refuses_writes_with_a_clear_error_and_keeps_what_it_had(tmp_path):
    store = await SqliteStore.open(tmp_path / "ro.db")
    kept = entry("kept")
    await store.put(kept)
    await store._db.execute("PRAGMA query_only=1")  # SQLite's own read-only mode on the store's connection
    try:
        with pytest.raises(StoreUnavailable, match=r"ro\.db is read-only"):
            await store.put(entry("refused"))
        with pytest.raises(StoreUnavailable, match="read-only"):
            await store.delete([kept.id])
        assert await store.count() == 1 and (await store.get(kept.id)).query_text == "kept"
    finally:
        await store.close()


def test_bad_store_max_bytes_is_a_config_error():
    from gateway.config import ConfigError, parse_config

    with pytest.raises(ConfigError, match=r"cache.store_max_bytes: 100 is out of range \(allowed: a number >= 65536\)"):
        parse_config("cache: {store_max_bytes: 100}")
