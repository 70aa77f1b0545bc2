"""`kill -9` during sustained writes, then a restart over the same store.

How the test knows a write was committed: a non-streamed miss answers `x-semgate-cache: miss`
only after the store acknowledged the entry's commit (`store-skipped` otherwise), so every
question answered "miss" before the kill must be in the store after it, and be served.
"""

import signal
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import orjson
from reliability_setup import gateway_config

from loadtest.services import Services, free_port

REPO = Path(__file__).resolve().parents[3]
ADMIN = {"authorization": "Bearer admin-t"}
WRITERS = 4
KILL_AFTER = 40  # acknowledged writes before the kill; the writers keep going until it lands


def question(i: int) -> str:
    return f"How do I write a Python function that returns {i} squared plus {i * 7}?"


def start(services: Services, config: Path, port: int) -> str:
    return services.start("gateway", ["gateway", "gateway", "--config", str(config), "--log-level", "warning"], port,
                          ready_timeout_s=120, cwd=REPO)


def drive_writes(url: str, acknowledged: list[str], stop: threading.Event, first: int) -> None:
    i = first
    with httpx.Client(timeout=30) as client:
        while not stop.is_set():
            text = question(i)
            i += WRITERS
            try:
                response = client.post(f"{url}/v1/chat/completions",
                                       json={"model": "echo-1", "messages": [{"role": "user", "content": text}]})
            except httpx.HTTPError:
                return  # the gateway is gone
            if response.headers.get("x-semgate-cache") == "miss":
                acknowledged.append(text)


def store_rows(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return db.execute("SELECT id, query_text, response, length(embedding) FROM entries").fetchall()


def test_kill_9_loses_no_acknowledged_entry_and_serves_no_partial_one(upstream, tmp_path, monkeypatch):
    monkeypatch.setenv("SEMGATE_ADMIN_TOKEN", "admin-t")
    port = free_port()
    store = tmp_path / "cache.db"
    config = tmp_path / "gateway.yaml"
    config.write_text(gateway_config(upstream.url, store, read_s=10).replace("127.0.0.1:8080", f"127.0.0.1:{port}"))
    acknowledged: list[str] = []
    with Services(tmp_path / "logs") as services:
        url = start(services, config, port)
        stop = threading.Event()
        with ThreadPoolExecutor(WRITERS) as pool:
            writers = [pool.submit(drive_writes, url, acknowledged, stop, w) for w in range(WRITERS)]
            while len(acknowledged) < KILL_AFTER and not any(w.done() for w in writers):
                threading.Event().wait(0.05)
            services.processes[-1].send_signal(signal.SIGKILL)  # mid-write: the writers are still sending
            services.processes[-1].wait()
            stop.set()
        assert len(acknowledged) >= KILL_AFTER, (tmp_path / "logs" / "gateway.log").read_text()[-3000:]
        killed_with = list(acknowledged)

        rows = store_rows(store)  # what the crash left, before the restart touches it
        by_question = {text: (entry_id, orjson.loads(response), size) for entry_id, text, response, size in rows}
        assert set(killed_with) <= set(by_question), "an acknowledged entry was lost"
        for text, (_, response, size) in by_question.items():  # whole entries only, acknowledged or not
            assert response["choices"][0]["message"]["content"] == f"Echo: {text}"
            assert response["choices"][0]["finish_reason"] == "stop" and size == 384 * 4

        sent = upstream.requests
        url = start(services, config, port)
        stats = httpx.get(f"{url}/admin/v1/stats", headers=ADMIN).json()["entries"]
        assert stats["total"] == stats["indexed"] == len(rows)  # the index rebuilt from the store
        with httpx.Client(timeout=30) as client:
            for text in killed_with:
                response = client.post(f"{url}/v1/chat/completions",
                                       json={"model": "echo-1", "messages": [{"role": "user", "content": text}]})
                assert response.headers["x-semgate-cache"] == "hit", text
                assert response.headers["x-semgate-entry"] == by_question[text][0]
                assert response.json()["choices"][0]["message"]["content"] == f"Echo: {text}"
            for entry_id, text, _, _ in rows:  # every stored id is in the index, found by its own text
                found = client.get(f"{url}/admin/v1/entries/search", params={"q": text, "k": 5}, headers=ADMIN)
                assert entry_id in [e["id"] for e in found.json()["data"]], text
        assert upstream.requests == sent  # every answer above came from the cache
