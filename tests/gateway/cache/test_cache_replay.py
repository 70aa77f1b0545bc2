"""A cached answer goes out as a new response with the same content."""

from cache_requests import answer

from gateway.cache.replay import fresh_response


def test_a_replayed_answer_gets_its_own_id_and_the_asked_model_name():
    cached = answer("Paris.")
    replayed = fresh_response(cached, model="gpt-client-name")
    assert replayed["id"] != cached["id"] and replayed["id"].startswith("chatcmpl-")
    assert replayed["model"] == "gpt-client-name"
    assert replayed["choices"] == cached["choices"]
    replayed["choices"][0]["message"]["content"] = "changed"
    assert cached["choices"][0]["message"]["content"] == "Paris."  # the stored entry is never mutated


def test_a_completion_keeps_its_object_type():
    cached = {"id": "cmpl-1", "object": "text_completion", "created": 1, "model": "m",
              "choices": [{"index": 0, "text": "once", "finish_reason": "stop"}]}
    replayed = fresh_response(cached)
    assert replayed["id"].startswith("cmpl-") and replayed["object"] == "text_completion" and replayed["model"] == "m"
