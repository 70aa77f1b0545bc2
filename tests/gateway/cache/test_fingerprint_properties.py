"""Properties of the request key over generated requests: what may and may not change it.

A key that ignores an answer-changing field serves a wrong answer; a key that changes with
an irrelevant one only costs hits. Both directions are checked.
"""

import random

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gateway.cache.fingerprint import query_text, request_key
from gateway.cache.text import normalise

PROPERTY_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Fields the fingerprint leaves out on purpose (transport and bookkeeping), and their explicit defaults.
NEUTRAL = {"stream": st.booleans(), "stream_options": st.just({"include_usage": True}), "user": st.text(max_size=8),
           "metadata": st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2),
           "store": st.booleans(), "service_tier": st.sampled_from(["auto", "default"]),
           "semgate": st.just({"no_store": True})}
DEFAULTS = {"n": 1, "presence_penalty": 0, "frequency_penalty": 0.0, "stop": None,
            "logit_bias": {}, "logprobs": False, "tools": [], "parallel_tool_calls": True}

json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                                     st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12)),
                           lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                           max_leaves=10)
texts = st.text(min_size=1, max_size=40).filter(lambda t: t.strip())
turns = st.lists(st.fixed_dictionaries({"role": st.sampled_from(["system", "user", "assistant"]), "content": texts}),
                 max_size=4)
answer_fields = st.sampled_from(["temperature", "top_p", "max_tokens", "max_completion_tokens", "seed", "n", "stop",
                                 "tools", "tool_choice", "response_format", "logit_bias", "presence_penalty",
                                 "reasoning_effort", "some_future_parameter"])


@st.composite
def chats(draw) -> dict:
    request = {"model": draw(st.sampled_from(["m", "gpt-x", "echo-1"])),
               "messages": [*draw(turns), {"role": "user", "content": draw(texts)}]}
    for name in draw(st.lists(answer_fields, max_size=3, unique=True)):
        request[name] = draw(json_values)
    return request


def shuffled(value, rng: random.Random):
    """The same JSON value with every object's keys in another order."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [shuffled(v, rng) for v in value]
    return value


@PROPERTY_SETTINGS
@given(chats(), st.randoms(use_true_random=False))
def test_the_key_does_not_depend_on_the_order_of_object_keys(request, rng):
    assert request_key(shuffled(request, rng)) == request_key(request)


@PROPERTY_SETTINGS
@given(chats(), st.fixed_dictionaries({}, optional=NEUTRAL), st.fixed_dictionaries({}, optional={k: st.just(v) for k, v in DEFAULTS.items()}))
def test_transport_fields_and_explicit_defaults_leave_the_key_alone(request, neutral, defaults):
    assume(not set(defaults) & set(request))
    assert request_key({**request, **neutral, **defaults}) == request_key(request)


@PROPERTY_SETTINGS
@given(chats(), answer_fields, json_values)
def test_any_answer_changing_field_changes_the_fingerprint(request, name, value):
    before = request.get(name, DEFAULTS.get(name))
    assume(value != before and not (name == "max_completion_tokens" and request.get("max_tokens") is not None))
    assume(not (name == "max_tokens" and value is None and request.get("max_completion_tokens") is not None))
    assert request_key({**request, name: value}).fingerprint != request_key(request).fingerprint


@PROPERTY_SETTINGS
@given(chats(), st.sampled_from(["m", "gpt-x", "other"]), texts)
def test_the_model_and_system_turns_change_the_fingerprint_and_other_turns_the_exact_key(request, model, text):
    base = request_key(request)
    if model != request["model"]:
        assert request_key({**request, "model": model}).fingerprint != base.fingerprint
    earlier = request["messages"][:-1]
    for i, turn in enumerate(earlier):
        if normalise(turn["content"]) != normalise(text):
            changed = request_key({**request, "messages": [*earlier[:i], {**turn, "content": text}, *earlier[i + 1:],
                                                           request["messages"][-1]]})
            # Earlier user/assistant turns are compared by meaning (context_match), system turns exactly.
            assert (changed.fingerprint != base.fingerprint) == (turn["role"] == "system")
            assert changed.exact_key != base.exact_key
    added = request_key({**request, "messages": [*earlier, {"role": "assistant", "content": text},
                                                 request["messages"][-1]]})
    assert added.fingerprint == base.fingerprint and added.exact_key != base.exact_key
    assert added.turns == (*base.turns, ("assistant", text))


@PROPERTY_SETTINGS
@given(chats(), texts)
def test_a_history_with_a_tool_turn_stays_in_the_fingerprint_whole(request, text):
    earlier = request["messages"][:-1]
    tool_turn = {"role": "tool", "tool_call_id": "1", "content": "sunny"}
    with_tool = [*earlier, tool_turn, request["messages"][-1]]
    key = request_key({**request, "messages": with_tool})
    assert key.turns == ()
    edited = [{**m, "content": text} if m["role"] == "user" else m for m in with_tool[:-1]] + [with_tool[-1]]
    if any(m["role"] == "user" and normalise(m["content"]) != normalise(text) for m in earlier):
        assert request_key({**request, "messages": edited}).fingerprint != key.fingerprint


@PROPERTY_SETTINGS
@given(chats(), texts)
def test_the_last_user_message_is_the_query_and_only_it_is_left_out_of_the_fingerprint(request, question):
    key = request_key(request)
    assert key.query_text == request["messages"][-1]["content"] == query_text(request)
    other = {**request, "messages": [*request["messages"][:-1], {"role": "user", "content": question}]}
    assert request_key(other).fingerprint == key.fingerprint
    assert (request_key(other).exact_key == key.exact_key) == (normalise(question) == normalise(key.query_text))


@PROPERTY_SETTINGS
@given(chats(), st.sampled_from(["assistant", "tool", "system"]), texts)
def test_a_request_that_does_not_end_with_a_user_question_has_no_query(request, role, text):
    ended = {**request, "messages": [*request["messages"], {"role": role, "content": text}]}
    assert request_key(ended).query_text is None


@PROPERTY_SETTINGS
@given(chats(), st.lists(texts, min_size=1, max_size=3))
def test_text_parts_of_the_question_are_joined_into_the_query(request, parts):
    content = [{"type": "text", "text": p} for p in parts]
    asked = {**request, "messages": [*request["messages"][:-1], {"role": "user", "content": content}]}
    assert request_key(asked).query_text == "\n".join(parts)
