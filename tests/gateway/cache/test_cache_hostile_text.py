"""A message built to make text processing slow neither stalls the gateway nor takes long itself.

Before: "a" + 40,000 dots took 28 s in a backtracking regex on the event loop, and /healthz hung
meanwhile; 20,000 "A " took seconds in the guards' sentence-start search. At the 256,000-character
message limit that is minutes.
"""

import threading

import httpx
import pytest

LIMIT = 256_000
HOSTILE = {
    "dots": "a" + "." * (LIMIT - 2) + "a",
    "capitals": "A " * (LIMIT // 2),
    "identifier": "a" + "1" * (LIMIT - 2) + "_",
    "code rule": "function" + " " * (LIMIT - 8),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_the_event_loop_answers_health_checks_while_a_hostile_message_is_processed(cached_gateway, echo, name):
    url = cached_gateway()
    done: dict[str, httpx.Response] = {}

    def hostile() -> None:
        done["response"] = httpx.post(f"{url}/v1/chat/completions", timeout=60, json={
            "model": "echo-1", "messages": [{"role": "user", "content": HOSTILE[name]}]})

    worker = threading.Thread(target=hostile)
    worker.start()
    answered_meanwhile = 0
    while worker.is_alive():
        # An event loop busy with the hostile message answers nothing until it is done with it: then no
        # health check completes while that request is still in flight. (How long either takes is the
        # soak bench's to print: `semgate bench soak`, event_loop_stall.)
        healthy = httpx.get(f"{url}/healthz", timeout=60).status_code == 200
        answered_meanwhile += healthy and worker.is_alive()
    worker.join()
    assert answered_meanwhile > 0
    assert done["response"].status_code == 200, done["response"].text
    # Not a cache hit on anything, and the next request is served as usual.
    assert done["response"].headers["x-semgate-cache"] in ("miss", "store-skipped")
    follow = httpx.post(f"{url}/v1/chat/completions", timeout=10, json={
        "model": "echo-1", "messages": [{"role": "user", "content": "How do I reset my password?"}]})
    assert follow.status_code == 200
