"""The context fingerprint decides which cached answers a request may get at all."""

import hashlib

from cache_requests import chat

from gateway.cache.fingerprint import query_text, request_key


def test_earlier_turns_leave_the_fingerprint_but_stay_in_the_exact_key():
    # The conversation is compared by meaning (context_match), so both requests reach the same
    # candidates; only the exact tier still asks for the same conversation word for word.
    about_sorting = chat("and in Python?", history=(("How do I sort a list in Java?", "Collections.sort(list)"),))
    about_regex = chat("and in Python?", history=(("How do I match a regex in Java?", "Pattern.compile"),))
    first, second = request_key(about_sorting), request_key(about_regex)
    assert first.query_text == second.query_text == "and in Python?"
    assert first.fingerprint == second.fingerprint == request_key(chat("and in Python?")).fingerprint
    assert first.exact_key != second.exact_key
    assert first.turns == (("user", "How do I sort a list in Java?"), ("assistant", "Collections.sort(list)"))


def test_a_conversation_repeated_with_other_case_and_spacing_keeps_its_exact_key():
    history = (("How do I sort a list in Java?", "Collections.sort(list)"),)
    shouted = (("HOW DO I SORT A LIST IN JAVA", "  collections.sort(list)  "),)
    assert request_key(chat("and in Python?", history=history)).exact_key == \
        request_key(chat("And in python", history=shouted)).exact_key


def test_the_exact_key_of_a_question_asked_alone_is_unchanged_from_earlier_versions():
    # Stores written before conversations were compared by meaning keep their exact hits.
    key = request_key(chat("What is HNSW?"))
    assert key.exact_key == hashlib.sha256(f"{key.fingerprint}\x00what is hnsw".encode()).hexdigest()[:32]


def test_the_system_prompt_model_tools_and_sampling_settings_change_the_fingerprint():
    base = request_key(chat("What is HNSW?")).fingerprint
    assert request_key(chat("What is HNSW?", system="Answer in French.")).fingerprint != base
    assert request_key(chat("What is HNSW?", model="other")).fingerprint != base
    assert request_key(chat("What is HNSW?", temperature=0.2)).fingerprint != base
    assert request_key(chat("What is HNSW?", max_tokens=10)).fingerprint != base
    assert request_key(chat("What is HNSW?", seed=7)).fingerprint != base
    assert request_key(chat("What is HNSW?", response_format={"type": "json_object"})).fingerprint != base
    tool = {"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}}
    assert request_key(chat("What is HNSW?", tools=[tool])).fingerprint != base


def test_transport_fields_and_explicit_defaults_do_not_change_it():
    base = request_key(chat("What is HNSW?"))
    same = request_key(chat("What is HNSW?", stream=True, stream_options={"include_usage": True}, user="u-1",
                            presence_penalty=0, n=1))
    assert same == base


def test_an_explicit_temperature_or_top_p_of_one_is_not_leaving_it_out():
    # The upstream may default them per model (our backend decodes SmolLM2 greedily), so
    # temperature 1 asked for is not the answer a request without it gets.
    base = request_key(chat("What is HNSW?")).fingerprint
    assert request_key(chat("What is HNSW?", temperature=1.0)).fingerprint != base
    assert request_key(chat("What is HNSW?", top_p=1)).fingerprint != base


def test_the_exact_key_ignores_case_and_surrounding_punctuation_but_not_the_words():
    assert request_key(chat("What is HNSW?")).exact_key == request_key(chat("  what is hnsw")).exact_key
    assert request_key(chat("What is HNSW?")).exact_key != request_key(chat("What is LSH?")).exact_key


def test_an_image_in_the_question_is_part_of_the_fingerprint():
    def with_image(url):
        return {"model": "m", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "What is in this picture?"}, {"type": "image_url", "image_url": {"url": url}}]}]}

    cat, dog = request_key(with_image("http://x/cat.png")), request_key(with_image("http://x/dog.png"))
    assert cat.query_text == dog.query_text == "What is in this picture?"
    assert cat.fingerprint != dog.fingerprint


def test_completions_embed_the_prompt_and_odd_requests_are_exact_only():
    assert query_text({"model": "m", "prompt": "Once upon a time"}) == "Once upon a time"
    assert query_text({"model": "m", "prompt": ["Once upon a time"]}) == "Once upon a time"
    assert query_text({"model": "m", "prompt": ["a", "b"]}) is None
    assert query_text({"model": "m", "prompt": [1, 2, 3]}) is None
    tool_turn = {"model": "m", "messages": [{"role": "user", "content": "weather?"},
                                            {"role": "tool", "tool_call_id": "1", "content": "sunny"}]}
    assert request_key(tool_turn).query_text is None
    assert request_key({"model": "m", "prompt": "x"}).fingerprint != request_key(chat("x")).fingerprint
