"""What one tenant's traffic teaches IC-Cache never steers another tenant (through the real gateway):
the router's learned quality and the example utility the re-ask signal moves are per tenant."""

import re
from pathlib import Path

import httpx
import pytest
from gateway_setup import gateway_yaml
from ic_setup import MODELS, ask, stored

from gateway.app import build_app
from gateway.config import parse_config

TENANTS = "tenants: [{name: a, api_key_env: KEY_A}, {name: b, api_key_env: KEY_B}]"


@pytest.fixture(autouse=True)
def keys(monkeypatch):
    monkeypatch.setenv("KEY_A", "sk-a")
    monkeypatch.setenv("KEY_B", "sk-b")


def feedback(url: str, response_id: str, score: float, key: str) -> None:
    response = httpx.post(f"{url}/v1/feedback", json={"response_id": response_id, "score": score},
                          headers={"authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text


def test_one_tenants_pins_and_feedback_do_not_move_another_tenants_routing(cached_gateway):
    url = cached_gateway(MODELS + TENANTS)
    first = ask(url, "What is a closure in JavaScript?", key="sk-a")
    assert first.headers["x-semgate-model"] == "echo-strong"
    for question in ("How do I parse JSON in JavaScript?", "What is a goroutine in Go?", "What is a trait in Rust?",
                     "What is a macro in Rust?"):
        pinned = ask(url, question, pin="echo-strong", key="sk-b")
        assert pinned.headers["x-semgate-category"] == first.headers["x-semgate-category"]
        feedback(url, pinned.json()["id"], -1, "sk-b")
    # b taught its own router that the strong model fails it in this category...
    assert ask(url, "What is a lifetime in Rust?", key="sk-b").headers["x-semgate-model"] == "echo-small"
    # ...and a's requests stay where a's own (absent) feedback leaves them.
    assert ask(url, "What is a pointer in C?", key="sk-a").headers["x-semgate-model"] == "echo-strong"


def test_reasking_another_tenants_shared_entry_leaves_its_utility_alone(serve, echo, embedding_model, tmp_path):
    shared = re.sub(r"(?m)^  scope: private", "  scope: shared", Path("config/policies.yaml").read_text(), count=1)
    (tmp_path / "policies.yaml").write_text(shared)
    text = gateway_yaml(echo.url, MODELS + TENANTS, store=str(tmp_path / "cache.db"))
    config = parse_config(text.replace("config/policies.yaml", str(tmp_path / "policies.yaml")), "test.yaml")
    url = serve(build_app(config, embedding_model)).url
    question = "How do I reverse a list in Python?"
    assert ask(url, question, pin="echo-strong", key="sk-a").headers["x-semgate-category"] == "code"
    for rephrased in ("how do I reverse a list in python", "how do I reverse a list in python?"):
        assert ask(url, rephrased, pin="echo-strong", key="sk-b", fresh=False).headers["x-semgate-cache"] == "hit"
    assert stored(tmp_path / "cache.db", question, "a")["utility"] == 0.0  # b's re-ask judged nothing of a's
    assert ask(url, "how do I reverse a list in python", pin="echo-strong", key="sk-a",
               fresh=False).headers["x-semgate-cache"] == "hit"
    assert stored(tmp_path / "cache.db", question, "a")["utility"] == -0.5  # a's own re-ask does
