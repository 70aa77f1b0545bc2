"""The IC-Cache test gateway: the echo upstream behind a strong and a small model entry."""

import sqlite3
from pathlib import Path

import httpx

# Both serve the echo upstream's echo-1; the test reads which one was chosen from the headers.
MODELS = """
models:
  - {name: echo-strong, tier: strong, serves: echo-1, cost_per_1k_tokens: 1.0, capacity: 1}
  - {name: echo-small, tier: small, serves: echo-1, cost_per_1k_tokens: 0.05}
"""


def ask(url: str, question: str, *, model: str = "echo-strong", pin: str | None = None, key: str | None = None,
        fresh: bool = True, before: list[dict] | None = None) -> httpx.Response:
    """`fresh`: Cache-Control: no-cache, so the question misses even next to a similar stored one.
    `before`: messages ahead of the question (a system prompt, earlier turns)."""
    headers = {"cache-control": "no-cache"} if fresh else {}
    if pin:
        headers["x-semgate-model"] = pin
    if key:
        headers["authorization"] = f"Bearer {key}"
    response = httpx.post(f"{url}/v1/chat/completions", headers=headers, timeout=30,
                          json={"model": model, "messages": [*(before or []), {"role": "user", "content": question}]})
    assert response.status_code == 200, response.text
    return response


def stored(db: Path, question: str, tenant: str = "default") -> sqlite3.Row:
    """The tenant's stored entry of `question` (read beside the running gateway: the store is in WAL mode)."""
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute("SELECT id, tenant, producer_model, utility, example_ids FROM entries "
                            "WHERE query_text = ? AND tenant = ?", (question, tenant)).fetchone()
