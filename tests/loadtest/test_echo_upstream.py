"""The echo upstream the gateway's tests run against reads only text parts of a message."""

from loadtest.echo_upstream import answer_words


def test_only_text_parts_with_string_text_are_echoed():
    body = {"messages": [{"role": "user", "content": [
        {"type": "text", "text": "hello there"},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        {"type": "odd", "text": 12066},  # a part type the gateway does not inspect, with a non-string text
        {"type": "text", "text": "again"},
    ]}]}
    assert answer_words(body) == ["Echo:", "hello", "there", "again"]


def test_prompt_and_plain_content():
    assert answer_words({"prompt": [1, 2]}) == ["Echo:", "1", "2"]
    assert answer_words({"messages": [{"role": "user", "content": "hi you"}]}) == ["Echo:", "hi", "you"]
