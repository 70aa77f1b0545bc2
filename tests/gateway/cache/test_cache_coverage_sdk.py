"""Through the openai SDK: no hit rests on text the embedding did not see (gateway/cache/coverage.py).

The embedding reads 256 word-pieces; before, two long prompts that shared their first ~256 tokens
answered each other (similarity 1.0), and so did two different questions in a script the model
cannot read (every word [UNK]).
"""

import openai
import pytest

# About 700 word-pieces of shared context: the embedding window ends well inside it.
CONTRACT = " ".join(f"Clause {i}: the tenant keeps the flat clean, pays the rent by the first of the month and "
                    f"reports any damage to the landlord within seven days." for i in range(1, 31))
# Amharic (Ge'ez script): every word is [UNK] to all-MiniLM-L6-v2's vocabulary.
CAPITAL = "የኢትዮጵያ ዋና ከተማ ማን ናት?"  # What is the capital of Ethiopia?
WEATHER = "ዛሬ የአየር ሁኔታ እንዴት ነው?"  # What is the weather like today?


def ask(client: openai.OpenAI, content: str):
    # max_tokens: the echo upstream repeats the whole prompt, and only a complete answer is stored.
    raw = client.chat.completions.with_raw_response.create(
        model="echo-1", messages=[{"role": "user", "content": content}], max_tokens=2000)
    return raw.headers, raw.parse().choices[0].message.content


@pytest.fixture
def client(cached_gateway):
    return openai.OpenAI(base_url=f"{cached_gateway()}/v1", api_key="unused", max_retries=0)


def test_long_prompts_that_share_their_first_300_tokens_miss_each_other(client, echo):
    landlord = f"Read this lease. {CONTRACT} Question: may the landlord raise the rent?"
    sublet = f"Read this lease. {CONTRACT} Question: may the landlord raise the deposit?"
    assert ask(client, landlord)[0]["x-semgate-cache"] == "miss"
    headers, answer = ask(client, sublet)
    assert headers["x-semgate-cache"] == "miss"
    assert answer == f"Echo: {sublet}"
    repeat_headers, repeat = ask(client, landlord)
    assert repeat_headers["x-semgate-cache"] == "hit"
    assert repeat_headers["x-semgate-match"] == "exact"
    assert repeat == f"Echo: {landlord}"
    assert echo.stats.requests == 2


def test_a_reworded_opening_with_the_same_rest_hits_on_window_and_tail(client, echo):
    original = f"Please read the following lease. {CONTRACT} Question: may the landlord raise the rent?"
    reworded = f"Read this lease, please. {CONTRACT} Question: may the landlord raise the rent?"
    ask(client, original)
    headers, answer = ask(client, reworded)
    assert headers["x-semgate-cache"] == "hit", dict(headers)
    assert headers["x-semgate-match"] == "semantic+exact-tail"
    assert answer == f"Echo: {original}"
    assert echo.stats.requests == 1


def test_questions_in_a_script_the_model_cannot_read_match_only_exactly(client, echo):
    assert ask(client, CAPITAL)[0]["x-semgate-cache"] == "miss"
    headers, answer = ask(client, WEATHER)
    assert headers["x-semgate-cache"] == "miss"
    assert answer == f"Echo: {WEATHER}"
    headers, answer = ask(client, "  " + CAPITAL + "  ")  # the same question, normalised
    assert headers["x-semgate-cache"] == "hit"
    assert headers["x-semgate-match"] == "exact"
    assert answer == f"Echo: {CAPITAL}"
    assert echo.stats.requests == 2


def test_a_short_paraphrase_says_the_embedding_decided(client, echo):
    ask(client, "How can I reverse a list in Python?")
    headers, _ = ask(client, "how do I reverse a python list")
    assert headers["x-semgate-cache"] == "hit"
    assert headers["x-semgate-match"] == "semantic"
