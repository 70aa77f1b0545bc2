"""The official openai SDK, unchanged, through the gateway to a real upstream on loopback."""

import openai
import pytest

CHAT = [{"role": "user", "content": "what is a radix tree"}]


def test_chat_non_stream(gateway):
    client = openai.OpenAI(base_url=f"{gateway}/v1", api_key="unused")
    raw = client.chat.completions.with_raw_response.create(model="echo-1", messages=CHAT)
    completion = raw.parse()
    assert completion.choices[0].message.content == "Echo: what is a radix tree"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.completion_tokens == 6
    assert raw.headers["x-semgate-cache"] in {"miss", "bypass"}


def test_chat_stream_arrives_in_chunks(gateway):
    client = openai.OpenAI(base_url=f"{gateway}/v1", api_key="unused")
    stream = client.chat.completions.create(model="echo-1", messages=CHAT, stream=True,
                                            stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Echo: what is a radix tree"
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) == 6
    assert chunks[-1].usage.completion_tokens == 6


async def test_async_client_stream_and_not(gateway):
    client = openai.AsyncOpenAI(base_url=f"{gateway}/v1", api_key="unused")
    completion = await client.chat.completions.create(model="echo-1", messages=CHAT, max_tokens=3)
    assert completion.choices[0].message.content == "Echo: what is"
    assert completion.choices[0].finish_reason == "length"
    stream = await client.chat.completions.create(model="echo-1", messages=CHAT, stream=True)
    pieces = [c.choices[0].delta.content async for c in stream if c.choices and c.choices[0].delta.content]
    assert "".join(pieces) == "Echo: what is a radix tree"
    await client.close()


def test_completions_stream_and_not(gateway):
    client = openai.OpenAI(base_url=f"{gateway}/v1", api_key="unused")
    completion = client.completions.create(model="echo-1", prompt="say hello")
    assert completion.choices[0].text == "Echo: say hello"
    stream = client.completions.create(model="echo-1", prompt="say hello", stream=True)
    assert "".join(c.choices[0].text for c in stream) == "Echo: say hello"


def test_models_lists_upstream_models_then_the_embedding_model(gateway):
    # Chat models first: a client that takes the first listed model (semgate loadtest does) can chat with it.
    client = openai.OpenAI(base_url=f"{gateway}/v1", api_key="unused")
    assert [m.id for m in client.models.list()] == ["echo-1", "all-minilm-l6-v2"]


def test_unknown_model_is_404_model_not_found(gateway):
    client = openai.OpenAI(base_url=f"{gateway}/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(model="gpt-nope", messages=CHAT)
    assert err.value.code == "model_not_found"
    assert err.value.body["param"] == "model"


def test_missing_messages_is_400(gateway):
    client = openai.OpenAI(base_url=f"{gateway}/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="echo-1", messages=[])
    assert err.value.body["param"] == "messages"
