"""The grammar of forced tool calls: a name among the offered functions, then arguments of its schema."""

import json

import jsonschema
import pytest

from gpu_backend.engine.grammar import GrammarCompiler, GrammarMatcher
from gpu_backend.engine.tool_grammar import tool_call_grammar

WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
ORDER = {"type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "#/$defs/Item"}}},
         "required": ["items"],
         "$defs": {"Item": {"type": "object", "properties": {"sku": {"type": "string"}}, "required": ["sku"]}}}


def test_one_call_or_an_array_of_calls_with_each_function_defs_kept_apart():
    one = json.loads(tool_call_grammar([("get_weather", WEATHER)], parallel=False).schema)
    jsonschema.validate({"name": "get_weather", "arguments": {"city": "Oslo"}}, one)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "other", "arguments": {"city": "Oslo"}}, one)
    spec = tool_call_grammar([("get_weather", WEATHER), ("order", ORDER)], parallel=True)
    assert spec.strict
    many = json.loads(spec.schema)
    jsonschema.validate([{"name": "order", "arguments": {"items": [{"sku": "a1"}]}},
                         {"name": "get_weather", "arguments": {"city": "Oslo"}}], many)
    weather = {"name": "get_weather", "arguments": {"city": "Oslo"}}
    for bad in ([], [{"name": "order", "arguments": {"items": [{"price": 3}]}}], [weather] * 3):  # one per function
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, many)
    assert "order.Item" in many["$defs"] and "$defs" not in ORDER["$defs"]["Item"]


def test_the_grammar_compiles_and_forces_the_call_shape(smollm2):
    compiler = GrammarCompiler(smollm2.tokenizer, smollm2.config.vocab_size, sorted(smollm2.tokenizer.stop_ids))
    compiled = compiler.compile(tool_call_grammar([("order", ORDER)], parallel=False))
    matcher = GrammarMatcher(compiled)
    text = '{"name": "order", "arguments": {"items": [{"sku": "a"}]}}'
    assert all(matcher.accept(t) for t in smollm2.tokenizer.encode(text))
    refused = GrammarMatcher(compiled)
    assert not all(refused.accept(t) for t in smollm2.tokenizer.encode('{"name": "shop"'))
