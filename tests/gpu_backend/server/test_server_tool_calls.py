"""Generated text -> OpenAI tool calls: a forced call's JSON split into stream deltas as it arrives,
<tool_call> blocks of `auto` answers, and text that only looks like a call."""

import json

from gpu_backend.server.tool_calls import ForcedCallReader, TaggedCallReader, collect, parse_tagged_calls

FORCED = ('[{"name": "get_weather", "arguments": {"city": "Pa\\"ris}", "days": [1, 2]}}, '
          '{"name": "get_time", "arguments": {}}]')


def read_in_pieces(reader, text, size):
    deltas = [reader.feed(text[i:i + size]) for i in range(0, len(text), size)]
    total = deltas[0]
    for d in deltas[1:]:
        total += d
    return total + reader.finish(), deltas


def test_a_forced_answer_becomes_the_same_calls_in_any_pieces():
    whole = collect(ForcedCallReader().feed(FORCED))
    assert whole["content"] is None
    calls = whole["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["get_weather", "get_time"]
    assert json.loads(calls[0]["function"]["arguments"]) == {"city": 'Pa"ris}', "days": [1, 2]}
    assert calls[1]["function"]["arguments"] == "{}"
    assert all(c["id"].startswith("call_") and len(c["id"]) == 29 for c in calls)
    assert calls[0]["id"] != calls[1]["id"]
    for size in (1, 3, 7):
        reader = ForcedCallReader()
        total, _ = read_in_pieces(reader, FORCED, size)
        pieced = collect(total)["tool_calls"]
        assert [(c["function"]["name"], c["function"]["arguments"]) for c in pieced] == \
            [(c["function"]["name"], c["function"]["arguments"]) for c in calls]
        assert reader.called


def test_a_forced_call_is_announced_before_its_arguments_are_complete():
    reader = ForcedCallReader()
    assert reader.feed('{"name": "get_wea').calls == []  # the name is not complete yet
    first = reader.feed('ther", "arguments": {"ci').calls
    assert first[0]["function"] == {"name": "get_weather", "arguments": ""} and first[0]["type"] == "function"
    assert first[1] == {"index": 0, "function": {"arguments": '{"ci'}}
    assert reader.feed('ty": "Oslo"}}').calls == [{"index": 0, "function": {"arguments": 'ty": "Oslo"}'}}]


def test_auto_answers_that_are_calls_become_calls_and_the_rest_stays_text():
    names = {"get_weather"}
    assert parse_tagged_calls('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>',
                              names) == [("get_weather", '{"city": "Oslo"}')]
    assert parse_tagged_calls('<tool_call>[{"name": "get_weather", "arguments": "{\\"city\\": \\"Oslo\\"}"}]',
                              names) == [("get_weather", '{"city": "Oslo"}')]  # unclosed, a list, text arguments
    for text in ('<tool_call>{"name": "rm_rf", "arguments": {}}</tool_call>',  # not an offered function
                 '<tool_call>{"name": "get_weather", "arguments": {</tool_call>',  # not JSON
                 '<tool_call>{"name": "get_weather", "arguments": {}}</tool_call> and then some words',
                 "It is sunny."):
        assert parse_tagged_calls(text, names) is None


def test_auto_streams_text_at_once_and_holds_back_what_may_be_a_call():
    reader = TaggedCallReader(["get_weather"])
    assert reader.feed(" <tool").content == ""  # may still become a call
    assert reader.feed("box> is a word").content == " <toolbox> is a word"
    assert reader.feed(" and more").content == " and more"
    assert not reader.called
    reader = TaggedCallReader(["get_weather"])
    assert reader.feed('<tool_call>{"name": "get_weather", ').content == ""
    assert reader.feed('"arguments": {"city": "Oslo"}}</tool_call>').calls == []
    calls = reader.finish().calls
    assert calls[0]["function"] == {"name": "get_weather", "arguments": '{"city": "Oslo"}'} and reader.called
    broken = TaggedCallReader(["get_weather"])
    broken.feed("<tool_call>{oops")
    assert broken.finish().content == "<tool_call>{oops" and not broken.called
