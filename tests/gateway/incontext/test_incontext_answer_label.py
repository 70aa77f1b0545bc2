"""The answer's `model` renamed to the routed alias: whole bodies, and streams split anywhere."""

import orjson

from gateway.incontext.answer_label import ModelLabel

# An answer whose text quotes the key itself: inside a JSON string its quotes are escaped.
CHUNK = (b'data: {"id":"c1","model":"smollm2-135m",'
         b'"choices":[{"delta":{"content":"\\"model\\":\\"smollm2-135m\\""}}]}\n\n')


def test_the_key_is_renamed_and_the_answer_text_is_not():
    label = ModelLabel("smollm2-135m", "smollm2-135m-ic")
    whole = b'{"model": "smollm2-135m", "choices": [{"message": {"content": "smollm2-135m"}}]}'
    body = orjson.loads(label.whole(whole))
    assert body == {"model": "smollm2-135m-ic", "choices": [{"message": {"content": "smollm2-135m"}}]}
    event = orjson.loads(label.whole(CHUNK)[6:])
    assert event["model"] == "smollm2-135m-ic" and event["choices"][0]["delta"]["content"] == '"model":"smollm2-135m"'


def test_a_stream_split_at_every_byte_comes_out_the_same_as_whole():
    stream = CHUNK * 3 + b"data: [DONE]\n\n"
    label = ModelLabel("smollm2-135m", "smollm2-135m-ic")
    out = b"".join(label.feed(stream[i:i + 1]) for i in range(len(stream))) + label.flush()
    assert out == ModelLabel("smollm2-135m", "smollm2-135m-ic").whole(stream)
    assert out.count(b'"model":"smollm2-135m-ic"') == 3
