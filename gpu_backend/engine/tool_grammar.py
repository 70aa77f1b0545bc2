"""The grammar a forced tool call is generated under (`tool_choice` required or a named function).

The answer is JSON naming a function and giving its arguments, `{"name": "f", "arguments": {...}}`,
with the arguments a value of that function's parameter schema; with parallel calls, a non-empty
array of at most one call per offered function: left unbounded, SmolLM2-135M goes on adding calls
(repeats) until max_tokens cuts the last one in half. `name` comes first, so a stream can
announce the call before its arguments.
Each function's `$defs` move to the top level under a name of its own: their `$ref`s point at the
schema's root, which is now the wrapper.
"""

import copy
from typing import Any

from gpu_backend.engine.grammar import GrammarSpec

_DEF_KEYS = ("$defs", "definitions")


def tool_call_grammar(functions: list[tuple[str, dict[str, Any]]], parallel: bool) -> GrammarSpec:
    """`functions`: (name, parameter schema) of each function the answer may call. Strict: no
    property beyond a schema's (OpenAI's strict mode), so a small model cannot wander off."""
    defs: dict[str, Any] = {}
    calls = [_call_schema(name, parameters, defs) for name, parameters in functions]
    one = calls[0] if len(calls) == 1 else {"anyOf": calls}
    schema: dict[str, Any] = dict(one)
    if parallel:
        schema = {"type": "array", "items": one, "minItems": 1, "maxItems": len(calls)}
    if defs:
        schema["$defs"] = defs
    return GrammarSpec.json_schema(schema, strict=True)


def _call_schema(name: str, parameters: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    parameters = copy.deepcopy(parameters)
    renamed: dict[str, str] = {}
    for key in _DEF_KEYS:
        for def_name, definition in (parameters.pop(key, None) or {}).items():
            renamed[f"#/{key}/{def_name}"] = f"#/$defs/{name}.{def_name}"
            defs[f"{name}.{def_name}"] = definition
    if renamed:
        _rewrite_refs(parameters, renamed)
        for def_name in [d for d in defs if d.startswith(f"{name}.")]:
            _rewrite_refs(defs[def_name], renamed)
    return {
        "type": "object",
        "properties": {"name": {"const": name}, "arguments": parameters},
        "required": ["name", "arguments"],
        "additionalProperties": False,
    }


def _rewrite_refs(node: Any, renamed: dict[str, str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref in renamed:
            node["$ref"] = renamed[ref]
        for value in node.values():
            _rewrite_refs(value, renamed)
    elif isinstance(node, list):
        for value in node:
            _rewrite_refs(value, renamed)
