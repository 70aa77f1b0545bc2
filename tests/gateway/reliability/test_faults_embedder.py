"""The embedder failing or too slow: the request bypasses the cache (a header says why) and gets
its upstream answer; nothing is stored; once the embedder is back the cache works again."""

import time

import pytest
from reliability_setup import answer, ask, stored_questions


class FaultyModel:
    """The real embedding model with faults injected on demand, like the echo upstream's /_echo/control."""

    def __init__(self, model) -> None:
        self.model = model
        self.dim = model.dim
        self.identity = model.identity  # the store records whose vectors it holds (gateway/cache/reembed.py)
        self.fault: str | None = None  # "error" | "slow"

    def encode(self, texts, *args, **kwargs):
        if self.fault == "error":
            raise RuntimeError("injected embedder failure")
        if self.fault == "slow":
            time.sleep(1.0)
        return self.model.encode(texts, *args, **kwargs)


@pytest.fixture
def faulty(embedding_model):
    return FaultyModel(embedding_model)


@pytest.mark.parametrize("fault, reason", [("error", "embedder_error"), ("slow", "embedder_timeout")])
def test_embedder_fault_bypasses_the_cache_and_the_request_still_succeeds(start_gateway, upstream, faulty,
                                                                           fault, reason):
    url, app = start_gateway(model=faulty, cache="embed_timeout_s: 0.3")
    faulty.fault = fault
    response = ask(url, "What is the speed of light?")
    assert answer(response) == "Echo: What is the speed of light?"
    assert response.headers["x-semgate-cache"] == "bypass"
    assert response.headers["x-semgate-bypass-reason"] == reason
    assert stored_questions(app) == []
    faulty.fault = None
    time.sleep(1.0)  # a slow encode still in the embedder's thread finishes first
    assert ask(url, "What is the speed of light?").headers["x-semgate-cache"] == "miss"
    assert ask(url, "What is the speed of light?").headers["x-semgate-cache"] == "hit"
