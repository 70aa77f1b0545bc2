"""Through the openai SDK: an answer cut at the max_tokens its request set is cached for that bound only.

The request asked for at most N tokens and got them; asked again with the same N, the upstream gives the same cut
answer, so the cache may give it. A request for more tokens, or for no bound, must reach the upstream.
"""

import openai
import pytest

QUESTION = [{"role": "user", "content": "Explain how a radix tree stores its keys"}]


@pytest.fixture
def client(cached_gateway):
    return openai.OpenAI(base_url=f"{cached_gateway()}/v1", api_key="unused", max_retries=0)


def ask(client: openai.OpenAI, max_tokens: int | None, stream: bool = False):
    bound = {} if max_tokens is None else {"max_tokens": max_tokens}
    raw = client.chat.completions.with_raw_response.create(model="echo-1", messages=QUESTION, stream=stream, **bound)
    if not stream:
        choice = raw.parse().choices[0]
        return raw.headers["x-semgate-cache"], choice.message.content, choice.finish_reason
    chunks = [c for c in raw.parse() if c.choices]
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    return raw.headers["x-semgate-cache"], text, chunks[-1].choices[0].finish_reason


def test_a_cut_answer_answers_the_same_bound_and_nothing_else(client, echo):
    first = ask(client, 4)
    assert first == ("miss", "Echo: Explain how a", "length")
    assert ask(client, 4) == ("hit", "Echo: Explain how a", "length")
    assert ask(client, 4, stream=True) == ("hit", "Echo: Explain how a", "length")
    served = echo.stats.requests
    whole = "Echo: Explain how a radix tree stores its keys"
    assert ask(client, 40) == ("miss", whole, "stop")  # more tokens asked for: the cut answer falls short of it
    assert ask(client, None) == ("miss", whole, "stop")  # no bound: a request of its own, never the cut answer
    assert ask(client, None) == ("hit", whole, "stop")
    assert echo.stats.requests == served + 2
