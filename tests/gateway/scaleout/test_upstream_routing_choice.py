"""Choosing a server among several of one upstream: prefix affinity, load, health."""

from collections import Counter

from gateway.upstream.routing import BackendSet, affinity_key, prompt_prefix

URLS = ("http://a:8000/v1", "http://b:8000/v1", "http://c:8000/v1")
SYSTEM = "You are a support agent for Acme. " * 40  # a long shared system prompt


def chat(question: str, system: str | None = SYSTEM, history: tuple[str, ...] = ()) -> dict:
    messages = [{"role": "system", "content": system}] if system else []
    for i, text in enumerate(history):
        messages.append({"role": "user" if i % 2 == 0 else "assistant", "content": text})
    return {"model": "m", "messages": [*messages, {"role": "user", "content": question}]}


def test_the_same_long_prefix_always_goes_to_the_same_server():
    backends = BackendSet(URLS, capacity=8, prefix_chars=512)
    chosen = {backends.order(chat(f"question {i}?"))[0].url for i in range(30)}
    assert len(chosen) == 1
    # Later turns of one conversation keep its opening, so they stay on that server's KV.
    later = chat("and then?", history=("question 1?", "an answer"))
    assert backends.order(later)[0].url in chosen


def test_different_prefixes_spread_over_the_servers_and_every_replica_agrees():
    one, other = BackendSet(URLS, 8, 512), BackendSet(URLS, 8, 512)  # two gateway replicas, no shared state
    bodies = [chat("Why?", system=f"Persona {i}. " + "Answer briefly and politely. " * 30) for i in range(60)]
    picks = [one.order(b)[0].url for b in bodies]
    assert picks == [other.order(b)[0].url for b in bodies]
    assert set(Counter(picks)) == set(URLS)


def test_short_prompts_go_to_the_least_loaded_server():
    backends = BackendSet(URLS, capacity=8, prefix_chars=512)
    a, b, c = backends.backends
    a.in_flight, b.in_flight, c.in_flight = 5, 1, 3
    assert affinity_key(chat("hi", system=None), 512) is None
    assert [x.url for x in backends.order(chat("hi", system=None))] == [b.url, c.url, a.url]
    b.in_flight = 3
    assert Counter(backends.order(chat("hi", system=None))[0].url for _ in range(10)) == Counter({b.url: 5, c.url: 5})


def test_a_saturated_server_spills_its_prefix_to_one_with_room():
    backends = BackendSet(URLS, capacity=4, prefix_chars=512)
    preferred = backends.order(chat("q"))[0]
    preferred.in_flight = 3  # busy but not full: affinity wins
    assert backends.order(chat("q"))[0] is preferred
    preferred.in_flight = 4
    assert backends.order(chat("q"))[0] is not preferred
    for b in backends.backends:
        b.in_flight = 4  # all full: the KV is worth waiting for
    assert backends.order(chat("q"))[0] is preferred


def test_unhealthy_servers_leave_the_choice_and_come_last_in_the_failover_order():
    backends = BackendSet(URLS, capacity=8, prefix_chars=512)
    preferred = backends.order(chat("q"))[0]
    preferred.mark_down("ConnectError")
    order = backends.order(chat("q"))
    assert order[0] is not preferred and order[-1] is preferred
    for b in backends.backends:
        b.mark_down("ConnectError")
    assert len(backends.order(chat("q"))) == 3  # all down: still try them, a probe can be stale


def test_the_prefix_reads_chat_and_completion_prompts():
    body = {"messages": [{"role": "system", "content": "Be brief."},
                         {"role": "user", "content": [{"type": "text", "text": "Hello"}]}]}
    assert prompt_prefix(body, 100) == "<system>Be brief.\n<user>Hello\n"
    assert prompt_prefix({"prompt": ["Once upon a time"]}, 4) == "Once"
    assert affinity_key({"prompt": "x" * 600}, 512) == affinity_key({"prompt": "x" * 512 + "y" * 88}, 512)
    assert affinity_key({"prompt": "x" * 600}, 0) is None
