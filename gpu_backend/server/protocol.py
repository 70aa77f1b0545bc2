"""OpenAI request bodies -> what the engine needs, with OpenAI-style errors for bad input.

One extension: `semgate_examples.chunks` (written by the gateway's IC-Cache, see
gateway/incontext/injection.py): spans of reusable chunks, message indices for chat and
character offsets of a text prompt for completions, each [start, end) with end exclusive,
ordered and non-overlapping. gpu_backend/kvshare/chunk_spans.py maps them to token spans.
"""

from dataclasses import dataclass, field
from typing import Any

from gpu_backend.engine import SamplingParams
from gpu_backend.engine.grammar import GrammarSpec
from gpu_backend.engine.tool_grammar import tool_call_grammar
from gpu_backend.model.sampling_defaults import SamplingDefaults
from gpu_backend.server.errors import OpenAIError
from gpu_backend.server.messages import parse_message
from gpu_backend.server.tools import ToolRequest, parse_tools

OPENAI_DEFAULTS = SamplingDefaults()

# Fields this backend cannot honour; they change the answer, so they are refused rather
# than ignored (zero / false / 1 are accepted as the defaults they are).
_UNSUPPORTED_UNLESS_DEFAULT = {
    "best_of": 1,
    "echo": False,
    "presence_penalty": 0,
    "frequency_penalty": 0,
    "logit_bias": None,
    "suffix": None,
    "functions": None,
}


@dataclass
class GenerationRequest:
    model: str
    # Chat requests: messages to render with the chat template (role and content; an assistant's
    # `tool_calls`, a tool result's `tool_call_id`). Completions: the prompt as text or as token ids.
    messages: list[dict[str, Any]] | None
    prompt: str | list[int] | None
    params: SamplingParams
    stream: bool
    include_usage: bool
    # Reusable chunk spans from `semgate_examples.chunks` (message indices or prompt characters).
    chunks: list[tuple[int, int]] = field(default_factory=list)
    # `response_format` json_object / json_schema: the grammar the answer is decoded under.
    grammar: GrammarSpec | None = None
    # `n`: how many answers (choices) to sample from the one prompt.
    n: int = 1
    # Chat `tools`; a forced call (`tool_choice` required or named) also sets `grammar`.
    tools: ToolRequest | None = None


MARK_FIELD = "semgate_examples"
MAX_CHUNKS = 256
MAX_SAMPLES = 16  # `n`: OpenAI allows 128; one prompt's samples share a batch, so keep it a batch's share


def parse_chat_request(
    body: Any, cache_salt: str = "", defaults: SamplingDefaults = OPENAI_DEFAULTS
) -> GenerationRequest:
    """`defaults`: the temperature, top_p and top_k a request gets when it leaves them out."""
    body = _require_object(body)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise OpenAIError(400, "'messages' must be a non-empty array", "messages")
    parsed = [parse_message(m, f"messages[{i}]") for i, m in enumerate(messages)]
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    request = _generation_request(body, parsed, None, max_tokens, cache_salt, defaults)
    request.chunks = parse_chunk_marks(body, len(parsed))
    request.tools = parse_tools(body)
    if request.tools is not None and request.tools.forced:
        if request.grammar is not None:
            raise OpenAIError(
                400,
                "'response_format' cannot constrain an answer that 'tool_choice' forces to be a tool call",
                "response_format",
            )
        functions = [(t.name, t.parameters) for t in request.tools.callable_functions()]
        request.grammar = tool_call_grammar(functions, request.tools.parallel)
    return request


def parse_completion_request(
    body: Any, cache_salt: str = "", defaults: SamplingDefaults = OPENAI_DEFAULTS
) -> GenerationRequest:
    body = _require_object(body)
    for name in ("tools", "tool_choice"):
        if body.get(name) is not None:
            raise OpenAIError(400, f"'{name}' is for chat completions", name)
    prompt = body.get("prompt")
    # One prompt per request, as text or token ids (also wrapped in a one-element array).
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], (str, list)):
        prompt = prompt[0]
    if isinstance(prompt, list):
        if not prompt or not all(isinstance(t, int) and not isinstance(t, bool) for t in prompt):
            raise OpenAIError(
                400, "'prompt' must be a string or an array of token ids (one prompt per request)", "prompt"
            )
    elif not isinstance(prompt, str) or not prompt:
        raise OpenAIError(400, "'prompt' must be a non-empty string", "prompt")
    request = _generation_request(body, None, prompt, body.get("max_tokens", 16), cache_salt, defaults)
    chunks = parse_chunk_marks(body, len(prompt))
    if chunks and not isinstance(prompt, str):
        raise OpenAIError(400, f"'{MARK_FIELD}.chunks' needs a text prompt", f"{MARK_FIELD}.chunks")
    request.chunks = chunks
    return request


def parse_chunk_marks(body: dict[str, Any], limit: int) -> list[tuple[int, int]]:
    """The validated `semgate_examples.chunks` of `body` ([] when absent); spans must lie in
    [0, limit] (messages or prompt characters), ordered and non-overlapping."""
    mark = body.get(MARK_FIELD)
    if mark is None:
        return []
    if not isinstance(mark, dict):
        raise OpenAIError(400, f"'{MARK_FIELD}' must be an object", MARK_FIELD)
    chunks = mark.get("chunks")
    if chunks is None:
        return []
    where = f"{MARK_FIELD}.chunks"
    if not isinstance(chunks, list) or len(chunks) > MAX_CHUNKS:
        raise OpenAIError(400, f"'{where}' must be an array of at most {MAX_CHUNKS} [start, end] pairs", where)
    spans: list[tuple[int, int]] = []
    for index, chunk in enumerate(chunks):
        if not (
            isinstance(chunk, list)
            and len(chunk) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) for x in chunk)
        ):
            raise OpenAIError(400, f"'{where}[{index}]' must be a [start, end] pair of integers", where)
        start, end = chunk
        floor = spans[-1][1] if spans else 0
        if not floor <= start < end <= limit:
            raise OpenAIError(
                400,
                f"'{where}[{index}]' = [{start}, {end}] must be a non-empty span in "
                f"[{floor}, {limit}], after the previous chunk",
                where,
            )
        spans.append((start, end))
    return spans


def _generation_request(
    body: dict[str, Any],
    messages: list[dict[str, str]] | None,
    prompt: str | list[int] | None,
    max_tokens: Any,
    cache_salt: str,
    defaults: SamplingDefaults,
) -> GenerationRequest:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise OpenAIError(400, "'model' must be a non-empty string", "model")
    for name, default in _UNSUPPORTED_UNLESS_DEFAULT.items():
        value = body.get(name)
        if value is not None and value != default and not (default is None and value is False):
            raise OpenAIError(400, f"'{name}' is not supported by this backend", name, code="unsupported_parameter")
    stream = _typed(body, "stream", bool, False)
    stream_options = body.get("stream_options") or {}
    if not isinstance(stream_options, dict):
        raise OpenAIError(400, "'stream_options' must be an object", "stream_options")
    stop = body.get("stop")
    stops = [stop] if isinstance(stop, str) else stop or []
    if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops):
        raise OpenAIError(400, "'stop' must be a non-empty string or an array of them", "stop")
    stop_token_ids = body.get("stop_token_ids") or []
    if not isinstance(stop_token_ids, list) or not all(isinstance(t, int) for t in stop_token_ids):
        raise OpenAIError(400, "'stop_token_ids' must be an array of integers", "stop_token_ids")
    if max_tokens is not None and (not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1):
        raise OpenAIError(400, "'max_tokens' must be a positive integer", "max_tokens")
    temperature = _number(body, "temperature", defaults.temperature, 0.0, 2.0)
    # 0 is accepted as the OpenAI API accepts it (clients send it for determinism): the most likely token only.
    top_p = _number(body, "top_p", defaults.top_p, 0.0, 1.0)
    top_k = _typed(body, "top_k", int, defaults.top_k)
    if top_k < -1:
        raise OpenAIError(400, "'top_k' must be -1 or 0 (disabled) or a positive integer", "top_k")
    seed = body.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise OpenAIError(400, "'seed' must be an integer", "seed")
    params = SamplingParams(
        logprobs=_logprobs(body, chat=messages is not None),
        max_tokens=max_tokens,
        temperature=temperature,
        top_p=top_p,
        top_k=max(top_k, 0),
        seed=seed,
        stop=tuple(stops),
        stop_token_ids=tuple(stop_token_ids),
        ignore_eos=_typed(body, "ignore_eos", bool, False),
        cache_salt=cache_salt,
    )
    n = _typed(body, "n", int, 1)
    if not 1 <= n <= MAX_SAMPLES:
        raise OpenAIError(400, f"'n' must be an integer in [1, {MAX_SAMPLES}]", "n")
    return GenerationRequest(
        model,
        messages,
        prompt,
        params,
        stream,
        include_usage=bool(stream_options.get("include_usage", False)),
        grammar=_response_format(body.get("response_format")),
        n=n,
    )


def _logprobs(body: dict[str, Any], chat: bool) -> int | None:
    """How many alternatives each token's logprob comes with; None: no logprobs. Chat asks with
    `logprobs: true` and `top_logprobs: k`; text completions with `logprobs: k`."""
    if chat:
        wanted = _typed(body, "logprobs", bool, False)
        top = _typed(body, "top_logprobs", int, None)
        if top is not None and not (wanted and 0 <= top <= 20):
            raise OpenAIError(
                400, "'top_logprobs' must be an integer in [0, 20] and needs 'logprobs': true", "top_logprobs"
            )
        return (top or 0) if wanted else None
    top = _typed(body, "logprobs", int, None)
    if top is not None and not 0 <= top <= 20:
        raise OpenAIError(400, "'logprobs' must be an integer in [0, 20]", "logprobs")
    return top


def _response_format(value: Any) -> GrammarSpec | None:
    """The grammar `response_format` asks for; None for plain text."""
    if value is None:
        return None
    kind = value.get("type") if isinstance(value, dict) else None
    if kind == "text":
        return None
    if kind == "json_object":
        return GrammarSpec("json_object")
    if kind != "json_schema":
        raise OpenAIError(
            400, "'response_format.type' must be one of text, json_object, json_schema", "response_format"
        )
    spec = value.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"]:
        raise OpenAIError(
            400,
            "'response_format.json_schema' must be an object with a non-empty 'name'",
            "response_format.json_schema",
        )
    schema = spec.get("schema", {})  # OpenAI's default: any JSON value
    strict = spec.get("strict") or False
    if not isinstance(schema, dict) or not isinstance(strict, bool):
        raise OpenAIError(
            400,
            "'response_format.json_schema' needs 'schema' an object and 'strict' a boolean",
            "response_format.json_schema",
        )
    return GrammarSpec.json_schema(schema, strict)


def _require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise OpenAIError(400, "the request body must be a JSON object")
    return body


def _typed(body: dict[str, Any], name: str, kind: type, default: Any) -> Any:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise OpenAIError(400, f"'{name}' must be of type {kind.__name__}", name)
    return value


def _number(body: dict[str, Any], name: str, default: float, low: float, high: float) -> float:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
        raise OpenAIError(400, f"'{name}' must be a number between {low:g} and {high:g}", name)
    return float(value)
