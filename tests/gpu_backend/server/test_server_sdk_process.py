"""What SDK code sends, against `python -m gpu_backend` started as a user starts it (its own process,
the real SmolLM2): structured output, a required tool call, n from one prefill, streamed n, logprobs."""

import json
from pathlib import Path
from typing import Literal

import jsonschema
import openai
import pytest
from backend_metrics import metric
from pydantic import BaseModel

from loadtest.services import Services, free_port

REPO = Path(__file__).resolve().parents[3]
MODEL = "smollm2-135m"
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
PARIS = [{"role": "user", "content": "Tell me about Paris as JSON."}]
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


class City(BaseModel):
    name: str
    country: str
    # SmolLM2 runs an unbounded integer on digit after digit (docs/backend.md): an enum instead.
    continent: Literal["Africa", "America", "Asia", "Europe", "Oceania"]


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    port = free_port()
    with Services(tmp_path_factory.mktemp("backend") / "logs") as services:
        url = services.start("backend", ["gpu_backend", "--port", str(port), "--kv-budget-mb", "64", "--threads", "2"],
                             port, ready_timeout_s=300, cwd=REPO)
        yield url


@pytest.fixture(scope="module")
def client(backend):
    return openai.OpenAI(base_url=f"{backend}/v1", api_key="unused")


def test_parse_returns_the_pydantic_object_and_json_object_parses(client):
    parsed = client.chat.completions.parse(model=MODEL, messages=PARIS, response_format=City, temperature=0,
                                           max_tokens=60).choices[0].message.parsed
    assert isinstance(parsed, City) and parsed.name == "Paris"
    text = client.chat.completions.create(model=MODEL, messages=QUESTION, response_format={"type": "json_object"},
                                          temperature=0, max_tokens=40).choices[0].message.content
    assert isinstance(json.loads(text), dict)


def test_a_required_tool_call_is_valid_for_its_schema_streamed_or_not(client):
    ask = dict(model=MODEL, messages=[{"role": "user", "content": "Weather in Oslo?"}], tools=[WEATHER],
               tool_choice="required", temperature=0, max_tokens=30)
    choice = client.chat.completions.create(**ask).choices[0]
    assert choice.finish_reason == "tool_calls"
    for call in choice.message.tool_calls:
        assert call.function.name == "get_weather"
        jsonschema.validate(json.loads(call.function.arguments), WEATHER["function"]["parameters"])
    chunks = list(client.chat.completions.create(**ask, stream=True))
    deltas = [d for c in chunks for d in c.choices[0].delta.tool_calls or ()]
    assert deltas[0].function.name == "get_weather" and deltas[0].id.startswith("call_")
    arguments = "".join(d.function.arguments or "" for d in deltas if d.index == 0)
    jsonschema.validate(json.loads(arguments), WEATHER["function"]["parameters"])
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_three_choices_from_one_prefill_streamed_or_not(client, backend):
    ask = dict(model=MODEL, messages=[{"role": "user", "content": "Name a fruit."}], n=3, temperature=1.0, seed=5,
               max_tokens=6, extra_body={"ignore_eos": True})
    before = metric(backend, "prefill_tokens_total")
    response = client.chat.completions.create(**ask)
    assert [c.index for c in response.choices] == [0, 1, 2]
    computed = response.usage.prompt_tokens - response.usage.prompt_tokens_details.cached_tokens
    assert metric(backend, "prefill_tokens_total") - before == computed > 3  # once, past the cached prefix
    chunks = list(client.chat.completions.create(**ask, stream=True))
    texts = ["", "", ""]
    for chunk in chunks:
        texts[chunk.choices[0].index] += chunk.choices[0].delta.content or ""
    assert texts == [c.message.content for c in response.choices]


def test_greedy_logprobs_put_the_chosen_token_on_top(client):
    choice = client.chat.completions.create(model=MODEL, messages=QUESTION, temperature=0, max_tokens=12,
                                            logprobs=True, top_logprobs=2).choices[0]
    entries = choice.logprobs.content
    assert "".join(e.token for e in entries) == choice.message.content
    assert all(e.token == e.top_logprobs[0].token for e in entries)
