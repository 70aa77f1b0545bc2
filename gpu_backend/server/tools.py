"""`tools`, `tool_choice` and `parallel_tool_calls` of a chat request, validated.

Bad input is a 400 in OpenAI's error shape before anything reaches the engine: a tool that is not a
function, a name OpenAI would refuse or given twice, parameters that are not a JSON schema of an
object, a `tool_choice` naming a function the request does not offer.
"""

import re
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from gpu_backend.server.errors import OpenAIError

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # OpenAI's rule for function names
MAX_TOOLS = 128  # OpenAI's limit
_NO_PARAMETERS = {"type": "object", "properties": {}}


@dataclass(frozen=True)
class FunctionTool:
    name: str
    description: str
    parameters: dict[str, Any] = field(hash=False)  # a JSON schema of an object

    def as_openai(self) -> dict[str, Any]:
        """The tool as OpenAI's request carries it (what chat templates render)."""
        function = {"name": self.name, "description": self.description, "parameters": self.parameters}
        return {"type": "function", "function": function}


@dataclass(frozen=True)
class ToolRequest:
    tools: tuple[FunctionTool, ...]
    # "auto": the model may call; "none": it may not; "required": it must call one; "function": it
    # must call `function`.
    choice: str
    function: str | None
    # Several calls in one answer (OpenAI's default: allowed).
    parallel: bool

    @property
    def forced(self) -> bool:
        """A call is generated under a grammar rather than left to the model."""
        return self.choice in ("required", "function")

    def callable_functions(self) -> list[FunctionTool]:
        return [t for t in self.tools if self.function in (None, t.name)]


def parse_tools(body: dict[str, Any]) -> ToolRequest | None:
    """The request's tools; None when it offers none (then `tool_choice` may only be auto or none)."""
    tools = body.get("tools")
    choice = body.get("tool_choice")
    parallel = body.get("parallel_tool_calls", True)
    if not isinstance(parallel, bool):
        raise OpenAIError(400, "'parallel_tool_calls' must be a boolean", "parallel_tool_calls")
    if tools is None or tools == []:
        if choice not in (None, "none", "auto"):
            raise OpenAIError(400, "'tool_choice' needs 'tools'", "tool_choice")
        return None
    if not isinstance(tools, list) or len(tools) > MAX_TOOLS:
        raise OpenAIError(400, f"'tools' must be an array of at most {MAX_TOOLS} tools", "tools")
    parsed = [_parse_tool(tool, f"tools[{i}]") for i, tool in enumerate(tools)]
    names = [t.name for t in parsed]
    if len(set(names)) != len(names):
        raise OpenAIError(400, "'tools' names a function more than once", "tools")
    kind, function = _parse_choice(choice, names)
    # A named function is called once, as OpenAI does.
    return ToolRequest(tuple(parsed), kind, function, parallel and kind != "function")


def _parse_tool(tool: Any, where: str) -> FunctionTool:
    if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(tool.get("function"), dict):
        raise OpenAIError(400, f'\'{where}\' must be {{"type": "function", "function": {{...}}}}', where)
    function = tool["function"]
    name = function.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise OpenAIError(
            400, f"'{where}.function.name' must be 1 to 64 letters, digits, '_' or '-'", f"{where}.function.name"
        )
    description = function.get("description", "")
    if not isinstance(description, str):
        raise OpenAIError(400, f"'{where}.function.description' must be a string", f"{where}.function.description")
    strict = function.get("strict")
    if strict is not None and not isinstance(strict, bool):
        raise OpenAIError(400, f"'{where}.function.strict' must be a boolean", f"{where}.function.strict")
    parameters = function.get("parameters", _NO_PARAMETERS)
    param = f"{where}.function.parameters"
    if not isinstance(parameters, dict) or parameters.get("type", "object") != "object":
        raise OpenAIError(400, f"'{param}' must be a JSON schema of an object", param)
    try:
        jsonschema.validators.validator_for(parameters).check_schema(parameters)
    except jsonschema.SchemaError as error:
        raise OpenAIError(400, f"'{param}' is not a valid JSON schema: {error.message}", param) from None
    return FunctionTool(name, description, parameters)


def _parse_choice(choice: Any, names: list[str]) -> tuple[str, str | None]:
    if choice is None:
        return "auto", None
    if choice in ("auto", "none", "required"):
        return choice, None
    named = choice.get("function") if isinstance(choice, dict) and choice.get("type") == "function" else None
    name = named.get("name") if isinstance(named, dict) else None
    if not isinstance(name, str):
        raise OpenAIError(
            400,
            '\'tool_choice\' must be auto, none, required or {"type": "function", "function": {"name": ...}}',
            "tool_choice",
        )
    if name not in names:
        raise OpenAIError(
            400, f"'tool_choice' names the function '{name}', which 'tools' does not offer", "tool_choice"
        )
    return "function", name
