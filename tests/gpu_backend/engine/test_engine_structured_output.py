"""Constrained decoding in the engine: answers under a JSON schema validate against it; rows without a
grammar in the same batch get exactly the tokens they get alone."""

import json

import jsonschema
import pytest
from engine_support import tiny_engine

from gpu_backend.build import build_from_loaded
from gpu_backend.engine import EngineConfig, LLMEngine, SamplingParams
from gpu_backend.engine.grammar import GrammarMatcher, GrammarSpec
from loadtest.json_schemas import schemas


@pytest.fixture(scope="module")
def tokenizer(smollm2):
    return smollm2.tokenizer


@pytest.fixture(scope="module")
def engine(smollm2):
    return build_from_loaded(smollm2, EngineConfig(kv_budget_bytes=128 << 20))


def _prompt(smollm2, schema: dict) -> list[int]:
    ask = f"Describe something as a JSON object with the fields {', '.join(schema['properties'])}."
    return smollm2.tokenizer.encode(smollm2.chat_template.render([{"role": "user", "content": ask}],
                                                                 add_generation_prompt=True))


def _run_schemas(engine, smollm2, drawn: list[dict], max_tokens: int) -> list:
    params = [SamplingParams(max_tokens=max_tokens, temperature=0,
                             grammar=engine.grammars.compile(GrammarSpec.json_schema(s, strict=True)))
              for s in drawn]
    completions = engine.generate([_prompt(smollm2, s) for s in drawn], params)
    for schema, completion in zip(drawn, completions):
        if completion.finish_reason.value == "stop":  # a length cut can leave any answer unfinished
            jsonschema.validate(json.loads(completion.text), schema)
    return completions


def test_answers_validate_against_generated_schemas(engine, smollm2):
    completions = _run_schemas(engine, smollm2, schemas(4, seed=11, depth=1), max_tokens=40)
    assert sum(c.finish_reason.value == "stop" for c in completions) >= 3


@pytest.mark.slow
def test_hundreds_of_nested_schemas_validate(engine, smollm2):
    drawn = schemas(256, seed=5, depth=2)
    completions = []
    for start in range(0, len(drawn), 32):
        completions += _run_schemas(engine, smollm2, drawn[start:start + 32], max_tokens=160)
    assert sum(c.finish_reason.value == "stop" for c in completions) >= 0.85 * len(drawn)


def test_json_object_mode_answers_an_object(engine, smollm2):
    prompt = _prompt(smollm2, {"properties": {"city": {}, "country": {}}})
    grammar = engine.grammars.compile(GrammarSpec("json_object"))
    [completion] = engine.generate([prompt], SamplingParams(max_tokens=60, temperature=0, grammar=grammar))
    assert completion.finish_reason.value == "stop"
    assert isinstance(json.loads(completion.text), dict)


def test_unconstrained_rows_get_the_tokens_they_get_alone(tokenizer):
    plain = SamplingParams(max_tokens=12, temperature=0, ignore_eos=True)
    prompts = [tokenizer.encode("Once upon a time"), tokenizer.encode("The weather today")]
    alone = [c.token_ids for c in tiny_engine(tokenizer).generate(prompts, plain)]
    engine = tiny_engine(tokenizer)
    grammar = engine.grammars.compile(GrammarSpec("json_object"))
    constrained = SamplingParams(max_tokens=12, temperature=0, grammar=grammar)
    mixed = engine.generate([prompts[0], prompts[0], prompts[1]], [plain, constrained, plain])
    assert [mixed[0].token_ids, mixed[2].token_ids] == alone
    # The constrained row went its own way, inside the grammar (the random model alone would not).
    assert mixed[1].token_ids != alone[0]
    assert mixed[1].text.startswith("{")


def test_strict_refuses_properties_the_schema_does_not_name(tokenizer):
    compiler = tiny_engine(tokenizer).grammars
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    tokens = tokenizer.encode('{"a": 1, "b": 2}')
    for strict, accepted in ((True, False), (False, True)):
        matcher = GrammarMatcher(compiler.compile(GrammarSpec.json_schema(schema, strict)))
        assert all(matcher.accept(t) for t in tokens) is accepted


def test_compiled_grammars_are_cached(tokenizer):
    compiler = tiny_engine(tokenizer).grammars
    spec = GrammarSpec.json_schema(schemas(1, seed=2)[0], strict=True)
    compiler.compile(spec)
    size = compiler.cache_size_bytes()
    compiler.compile(GrammarSpec.json_schema(json.loads(spec.schema), strict=True))
    assert compiler.cache_size_bytes() == size > 0


@pytest.mark.parametrize("schema, message", [
    ({"type": "foo"}, 'Unsupported type "foo"'),
    ({"type": "object", "required": 5}, "required must be an array"),
])
def test_unusable_schemas_are_a_clear_error(tokenizer, schema, message):
    with pytest.raises(ValueError, match=message):
        tiny_engine(tokenizer).grammars.compile(GrammarSpec.json_schema(schema, strict=True))
