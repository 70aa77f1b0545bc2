"""IC-Cache through HTTP: examples reach the upstream, tenants stay apart, feedback moves utility."""

import json
import threading
import time

import httpx
from gateway_setup import control
from ic_setup import MODELS, ask, stored

LIST = "How do I reverse a list in Python?"
STRING = "How do I reverse a string in Python?"
DICT = "How do I reverse a dictionary in Python?"


def test_a_small_model_gets_strong_answers_as_earlier_turns_in_canonical_order(cached_gateway, echo, tmp_path):
    url = cached_gateway(MODELS)
    for question in (LIST, STRING):
        seeded = ask(url, question, pin="echo-strong")
        assert seeded.headers["x-semgate-model"] == "echo-strong" and "x-semgate-examples" not in seeded.headers
    first = ask(url, DICT, pin="echo-small")
    assert first.headers["x-semgate-category"] == "code"
    ids = first.headers["x-semgate-examples"].split(",")
    expected = sorted([stored(tmp_path / "cache.db", LIST)["id"], stored(tmp_path / "cache.db", STRING)["id"]])
    assert ids == expected  # both examples (k=2 for code), ordered by entry id, not by similarity
    sent = echo.last_body
    by_id = {stored(tmp_path / "cache.db", q)["id"]: q for q in (LIST, STRING)}
    assert [m["content"] for m in sent["messages"][0:4:2]] == [by_id[i] for i in ids]
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "user", "assistant", "user"]
    assert sent["messages"][1]["content"] == f"Echo: {by_id[ids[0]]}"  # the strong model's stored answer
    assert sent["messages"][-1]["content"] == DICT
    assert sent["semgate_examples"] == {"ids": ids, "messages": [0, 4], "chunks": [[0, 2], [2, 4]]}
    assert sent["model"] == "echo-1"  # the small model's upstream name
    entry = stored(tmp_path / "cache.db", DICT)
    assert json.loads(entry["example_ids"]) == ids and entry["producer_model"] == "echo-small"
    # Another question given the same examples opens with the very same turns (a shared prefix).
    ask(url, "How do I reverse a set in Python?", pin="echo-small")
    assert echo.last_body["messages"][:4] == sent["messages"][:4]


def test_examples_never_come_from_another_tenant(cached_gateway, echo, tmp_path, monkeypatch):
    monkeypatch.setenv("KEY_A", "sk-a")
    monkeypatch.setenv("KEY_B", "sk-b")
    url = cached_gateway(MODELS + "tenants: [{name: a, api_key_env: KEY_A}, {name: b, api_key_env: KEY_B}]")
    ask(url, LIST, pin="echo-strong", key="sk-a")
    other = ask(url, LIST, pin="echo-small", key="sk-b")
    assert "x-semgate-examples" not in other.headers
    assert len(echo.last_body["messages"]) == 1 and "semgate_examples" not in echo.last_body
    own = ask(url, STRING, pin="echo-small", key="sk-a")
    assert own.headers["x-semgate-examples"] == stored(tmp_path / "cache.db", LIST, "a")["id"]


def test_examples_are_answers_given_under_the_same_system_prompt_and_nothing_else(cached_gateway, echo, tmp_path):
    """Shown bare after the request's system messages, an answer given under another system prompt, or
    after earlier turns, would be taken for the answer to its question alone."""
    url = cached_gateway(MODELS)
    french = [{"role": "system", "content": "Answer in French."}]
    ask(url, LIST, pin="echo-strong", before=french)
    ask(url, STRING, pin="echo-strong", before=[{"role": "user", "content": "I am on Python 2."},
                                                 {"role": "assistant", "content": "Noted."}])
    plain = ask(url, DICT, pin="echo-small")
    assert "x-semgate-examples" not in plain.headers and len(echo.last_body["messages"]) == 1
    also_french = ask(url, DICT, pin="echo-small", before=french)
    assert also_french.headers["x-semgate-examples"] == stored(tmp_path / "cache.db", LIST)["id"]
    assert [m["role"] for m in echo.last_body["messages"]] == ["system", "user", "assistant", "user"]


def test_feedback_moves_the_utility_of_the_answer_and_of_its_examples(cached_gateway, echo, tmp_path, monkeypatch):
    monkeypatch.setenv("KEY_A", "sk-a")
    monkeypatch.setenv("KEY_B", "sk-b")
    url = cached_gateway(MODELS + "tenants: [{name: a, api_key_env: KEY_A}, {name: b, api_key_env: KEY_B}]")
    db = tmp_path / "cache.db"
    stored_a = lambda question: stored(db, question, "a")  # noqa: E731
    ask(url, LIST, pin="echo-strong", key="sk-a")
    small = ask(url, DICT, pin="echo-small", key="sk-a")
    assert small.headers["x-semgate-examples"] == stored_a(LIST)["id"]

    def feedback(response_id: str, score, key: str) -> httpx.Response:
        return httpx.post(f"{url}/v1/feedback", json={"response_id": response_id, "score": score},
                          headers={"authorization": f"Bearer {key}"})

    assert feedback(small.json()["id"], 1, "sk-b").status_code == 404  # not b's response
    assert (stored_a(DICT)["utility"], stored_a(LIST)["utility"]) == (0.0, 0.0)
    assert feedback(small.json()["id"], 1, "sk-a").status_code == 200
    assert (stored_a(DICT)["utility"], stored_a(LIST)["utility"]) == (1.0, 1.0)
    # The entry id works too (it is what a cache hit reports in x-semgate-entry).
    assert feedback(stored_a(LIST)["id"], -0.5, "sk-a").status_code == 200
    assert stored_a(LIST)["utility"] == 0.5
    bad = feedback(small.json()["id"], 3, "sk-a")
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "score"
    assert feedback(stored_a(LIST)["id"], 1, "sk-b").status_code == 404


def test_an_immediate_reask_counts_as_negative_feedback(cached_gateway, echo, tmp_path):
    url = cached_gateway(MODELS)
    ask(url, LIST, pin="echo-strong")
    assert stored(tmp_path / "cache.db", LIST)["utility"] == 0.0
    again = ask(url, "how do I reverse a list in python", pin="echo-strong", fresh=False)
    assert again.headers["x-semgate-cache"] == "hit"
    assert stored(tmp_path / "cache.db", LIST)["utility"] == -0.5
    ask(url, "how do I reverse a list in python?", pin="echo-strong", fresh=False)  # and again: the hit's turn
    assert stored(tmp_path / "cache.db", LIST)["utility"] == -1.0
    ask(url, "What is a closure in JavaScript?", pin="echo-strong", fresh=False)  # another question: no signal
    assert stored(tmp_path / "cache.db", LIST)["utility"] == -1.0


def test_the_router_sends_misses_to_the_small_model_while_the_strong_one_is_loaded(cached_gateway, echo):
    url = cached_gateway(MODELS)
    assert ask(url, "What is a closure in JavaScript?").headers["x-semgate-model"] == "echo-strong"
    control(echo, first_token_delay_s=1.5)
    slow = threading.Thread(target=ask, args=(url, "What is a monad in Haskell?"), kwargs={"pin": "echo-strong"})
    slow.start()
    deadline = time.monotonic() + 5
    while echo.stats.requests < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    # The strong model has its capacity (1) in flight: the next miss goes to the small one.
    assert ask(url, "What is a goroutine in Go?").headers["x-semgate-model"] == "echo-small"
    slow.join()
    control(echo, first_token_delay_s=0.0)
    assert ask(url, "What is a trait in Rust?").headers["x-semgate-model"] == "echo-strong"


def test_pinning_and_pass_through(cached_gateway, echo):
    url = cached_gateway(MODELS)
    assert ask(url, "What is a closure in JavaScript?", pin="echo-small").headers["x-semgate-model"] == "echo-small"
    plain = ask(url, "What is a closure in JavaScript?", model="echo-1")
    assert "x-semgate-model" not in plain.headers and echo.last_body["model"] == "echo-1"
    unknown = httpx.post(f"{url}/v1/chat/completions", headers={"x-semgate-model": "gpt-9"},
                         json={"model": "echo-1", "messages": [{"role": "user", "content": "hi"}]})
    assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "x-semgate-model"
    listed = {m["id"] for m in httpx.get(f"{url}/v1/models").json()["data"]}
    assert {"echo-1", "echo-strong", "echo-small"} <= listed


def test_streamed_and_completion_requests_get_examples_too(cached_gateway, echo, tmp_path):
    url = cached_gateway(MODELS)
    ask(url, LIST, pin="echo-strong")
    example_id = stored(tmp_path / "cache.db", LIST)["id"]
    headers = {"x-semgate-model": "echo-small", "cache-control": "no-cache"}
    body = {"model": "echo-strong", "stream": True, "messages": [{"role": "user", "content": DICT}]}
    with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, headers=headers, timeout=30) as streamed:
        assert streamed.headers["x-semgate-examples"] == example_id
        assert "data: [DONE]" in streamed.read().decode()
    assert json.loads(stored(tmp_path / "cache.db", DICT)["example_ids"]) == [example_id]
    # Completions take examples recorded from completions (a chat answer is not text to continue).
    seeded = httpx.post(f"{url}/v1/completions", headers={**headers, "x-semgate-model": "echo-strong"}, timeout=30,
                        json={"model": "echo-strong", "prompt": STRING})
    assert seeded.status_code == 200
    completion = httpx.post(f"{url}/v1/completions", headers=headers, timeout=30,
                            json={"model": "echo-strong", "prompt": "How do I reverse a set in Python?"})
    assert completion.status_code == 200
    assert completion.headers["x-semgate-examples"] == stored(tmp_path / "cache.db", STRING)["id"]
    assert echo.last_body["prompt"] == f"Q: {STRING}\nA: Echo: {STRING}\n\nHow do I reverse a set in Python?"
