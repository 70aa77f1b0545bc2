"""Routing never changes what a request asked for (through the real gateway and the echo upstream):
its own sampling settings are kept, the answer names the model that produced it, examples come only
from requests of its own shape, and watching the cache answer a repeat is not read as a complaint."""

import json

import httpx
import orjson
from ic_setup import ask, stored

LIST = "How do I reverse a list in Python?"
SET = "How do I reverse a set in Python?"
# echo-small is greedy by default, as the shipped `smollm2-135m-ic` alias is.
GREEDY_MODELS = """
models:
  - {name: echo-strong, tier: strong, serves: echo-1, cost_per_1k_tokens: 1.0, capacity: 1}
  - {name: echo-small, tier: small, serves: echo-1, cost_per_1k_tokens: 0.05, params: {temperature: 0, top_p: 1}}
"""


def post(url: str, path: str, body: dict, pin: str | None = None) -> httpx.Response:
    headers = {"cache-control": "no-cache", **({"x-semgate-model": pin} if pin else {})}
    response = httpx.post(f"{url}/v1/{path}", json=body, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return response


def test_a_requests_own_sampling_settings_are_kept_where_it_is_routed(cached_gateway, echo):
    url = cached_gateway(GREEDY_MODELS)
    question = {"model": "echo-strong", "messages": [{"role": "user", "content": LIST}]}
    post(url, "chat/completions", {**question, "temperature": 0.7}, pin="echo-small")
    assert (echo.last_body["temperature"], echo.last_body["top_p"]) == (0.7, 1)  # asked 0.7: kept
    post(url, "chat/completions", question, pin="echo-small")
    assert echo.last_body["temperature"] == 0  # nothing asked: the model's own default


def test_the_answer_names_the_routed_model_streamed_or_not(cached_gateway, echo):
    url = cached_gateway(GREEDY_MODELS)
    body = {"model": "echo-strong", "messages": [{"role": "user", "content": LIST}]}
    whole = post(url, "chat/completions", body, pin="echo-small")
    assert whole.headers["x-semgate-model"] == "echo-small" and whole.json()["model"] == "echo-small"
    assert echo.last_body["model"] == "echo-1"  # the upstream still gets its own name
    headers = {"x-semgate-model": "echo-small", "cache-control": "no-cache"}
    with httpx.stream("POST", f"{url}/v1/chat/completions", json={**body, "stream": True}, headers=headers,
                      timeout=30) as streamed:
        events = [line[6:] for line in streamed.iter_lines() if line.startswith("data: ")]
    chunks = [orjson.loads(e) for e in events if e != "[DONE]"]
    assert chunks and {c["model"] for c in chunks} == {"echo-small"}
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == f"Echo: {LIST}"
    strong = post(url, "completions", {"model": "echo-strong", "prompt": SET}, pin="echo-strong")
    assert strong.json()["model"] == "echo-strong"
    unrouted = post(url, "chat/completions", {**body, "model": "echo-1"})
    assert unrouted.json()["model"] == "echo-1" and "x-semgate-model" not in unrouted.headers


def test_completions_get_examples_recorded_from_completions_only(cached_gateway, echo, tmp_path):
    url = cached_gateway(GREEDY_MODELS)
    post(url, "chat/completions", {"model": "echo-strong", "messages": [{"role": "user", "content": LIST}]},
         pin="echo-strong")
    completion = post(url, "completions", {"model": "echo-strong", "prompt": SET}, pin="echo-small")
    assert "x-semgate-examples" not in completion.headers and echo.last_body["prompt"] == SET
    post(url, "completions", {"model": "echo-strong", "prompt": "How do I reverse a tuple in Python?"},
         pin="echo-strong")
    tuple_id = stored(tmp_path / "cache.db", "How do I reverse a tuple in Python?")["id"]
    again = post(url, "completions", {"model": "echo-strong", "prompt": "How do I reverse a deque in Python?"},
                 pin="echo-small")
    assert again.headers["x-semgate-examples"] == tuple_id
    assert echo.last_body["prompt"].startswith("Q: How do I reverse a tuple in Python?\nA: Echo: ")
    question = {"role": "user", "content": "How do I reverse a str in Python?"}
    chat = post(url, "chat/completions", {"model": "echo-strong", "messages": [question]}, pin="echo-small")
    assert chat.headers["x-semgate-examples"] == stored(tmp_path / "cache.db", LIST)["id"]  # chat from chat only


def test_repeating_a_question_to_watch_the_cache_answer_is_not_negative_feedback(cached_gateway, tmp_path):
    url = cached_gateway(GREEDY_MODELS)
    ask(url, LIST, pin="echo-strong")
    for _ in range(4):
        assert ask(url, LIST, pin="echo-strong", fresh=False).headers["x-semgate-cache"] == "hit"
    assert stored(tmp_path / "cache.db", LIST)["utility"] == 0.0
    rephrased = ask(url, "how do I reverse a list in python", pin="echo-strong", fresh=False)
    assert rephrased.headers["x-semgate-cache"] == "hit"
    assert stored(tmp_path / "cache.db", LIST)["utility"] == -0.5  # a rephrased re-ask still says it failed
    assert json.loads(stored(tmp_path / "cache.db", LIST)["example_ids"]) == []
