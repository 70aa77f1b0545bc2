"""Tools in the prompt, and the syntax the model calls them in.

A chat template that renders `tools` itself gets the request as Hugging Face's
apply_chat_template would pass it (tools, assistant `tool_calls` with their arguments as objects,
`tool` messages). A template that ignores `tools` (SmolLM2's: it renders role and content only)
would silently drop them, so the tools go into the system message in the Hermes format that
Qwen2.5 and SmolLM3 use: signatures in <tools></tools>, calls as <tool_call> JSON, and earlier
calls written out the same way as text (results stay `tool` turns).

Which syntax the model answers in is read from the template: <tool_call> when the template
mentions it or renders no tools (then our block asks for it); otherwise unknown, and `auto`
answers are returned as text (a forced call needs no syntax: it is generated under a grammar).
"""

import functools
import json
from dataclasses import dataclass
from typing import Any

from gpu_backend.model import ChatTemplate
from gpu_backend.server.tools import FunctionTool

TOOL_CALL_OPEN, TOOL_CALL_CLOSE = "<tool_call>", "</tool_call>"
_PROBE = "semgate_probe_function"

_SYSTEM_BLOCK = (
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{signatures}\n</tools>\n\n"
    "For each function call, return a json object with function name and arguments within "
    '<tool_call></tool_call> XML tags:\n<tool_call>\n{{"name": <function-name>, "arguments": '
    "<args-json-object>}}\n</tool_call>"
)


@dataclass(frozen=True)
class ToolSyntax:
    renders_tools: bool  # the template renders `tools` itself
    tagged_calls: bool  # the model writes calls as <tool_call>{"name": ..., "arguments": ...}</tool_call>


@functools.lru_cache(maxsize=8)
def tool_syntax(template: ChatTemplate) -> ToolSyntax:
    probe = FunctionTool(_PROBE, "", {"type": "object", "properties": {}}).as_openai()
    try:
        rendered = template.render([{"role": "user", "content": "x"}], tools=[probe])
    except Exception:  # a template that chokes on tools does not render them  # noqa: BLE001
        rendered = ""
    renders = _PROBE in rendered
    return ToolSyntax(renders, not renders or TOOL_CALL_OPEN in template.source)


@dataclass(frozen=True)
class ChatPrompt:
    text: str
    # What the text was rendered from, and the request's chunks as indices into these messages
    # (empty when the template renders tools: chunk prefixes render without them).
    messages: list[dict[str, Any]]
    chunks: list[tuple[int, int]]


def chat_prompt(
    template: ChatTemplate, messages: list[dict[str, Any]], tools: list[FunctionTool], chunks: list[tuple[int, int]]
) -> ChatPrompt:
    """The prompt of a chat request offering `tools` (maybe none), whose history may hold tool
    calls and results."""
    native = tool_syntax(template).renders_tools
    if not tools and not any(m.get("tool_calls") or m["role"] == "tool" for m in messages):
        return ChatPrompt(template.render(messages), messages, chunks)
    if native:
        rendered = [_native_message(m) for m in messages]
        extra: dict[str, Any] = {"tools": [t.as_openai() for t in tools]} if tools else {}
        return ChatPrompt(template.render(rendered, **extra), rendered, chunks if not tools else [])
    written = [_written_message(m) for m in messages]
    if tools:
        block = _SYSTEM_BLOCK.format(signatures="\n".join(json.dumps(t.as_openai()) for t in tools))
        if written[0]["role"] == "system":
            written[0] = {"role": "system", "content": f"{written[0]['content']}\n\n{block}"}
        else:  # a new first message: every chunk moves one message on
            written.insert(0, {"role": "system", "content": block})
            chunks = [(start + 1, end + 1) for start, end in chunks]
    return ChatPrompt(template.render(written), written, chunks)


def _native_message(message: dict[str, Any]) -> dict[str, Any]:
    """As HF templates expect it: tool-call arguments as objects (vLLM does the same)."""
    if not message.get("tool_calls"):
        return message
    calls = [
        {**call, "function": {**call["function"], "arguments": _arguments(call["function"]["arguments"])}}
        for call in message["tool_calls"]
    ]
    return {**message, "tool_calls": calls}


def _written_message(message: dict[str, Any]) -> dict[str, Any]:
    """Calls as Hermes-format text; results in their own `tool` turn, as HF renders them with such a
    template (SmolLM2-135M answers from it; wrapped in <tool_response> as a user turn, it echoes it)."""
    if not message.get("tool_calls"):
        return {"role": message["role"], "content": message["content"]}
    calls = [
        json.dumps({"name": c["function"]["name"], "arguments": _arguments(c["function"]["arguments"])})
        for c in message["tool_calls"]
    ]
    parts = [message["content"]] if message["content"] else []
    parts += [f"{TOOL_CALL_OPEN}\n{call}\n{TOOL_CALL_CLOSE}" for call in calls]
    return {"role": "assistant", "content": "\n".join(parts)}


def _arguments(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text  # as the client sent it: the model sees what it was told
