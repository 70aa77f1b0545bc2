"""Generated text -> OpenAI tool calls, as the text arrives.

Each reader takes the answer's text piece by piece and returns what to send: content, and tool-call
deltas in OpenAI's stream shape (a call's first delta carries its index, id, type and name, the
following ones fragments of its arguments). A whole answer is the same pieces joined
(`collect`), so a streamed answer and one sent at once always agree.
"""

import json
import re
import secrets
import string
from dataclasses import dataclass, field
from typing import Any, Protocol

from gpu_backend.server.tool_prompt import TOOL_CALL_CLOSE, TOOL_CALL_OPEN

_ID_ALPHABET = string.ascii_letters + string.digits


def new_call_id() -> str:
    return "call_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(24))


@dataclass
class Deltas:
    content: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __add__(self, other: "Deltas") -> "Deltas":
        return Deltas(self.content + other.content, self.calls + other.calls)


class CallReader(Protocol):
    @property
    def called(self) -> bool: ...  # the answer holds a tool call (its finish reason is then "tool_calls")

    def feed(self, text: str) -> Deltas: ...

    def finish(self) -> Deltas: ...


class TextReader:
    """No call to read (no tools, `tool_choice: none`, or a syntax this server does not know)."""

    called = False

    def feed(self, text: str) -> Deltas:
        return Deltas(content=text)

    def finish(self) -> Deltas:
        return Deltas()


# The start of a call in a forced answer (engine/tool_grammar.py): after the previous call's end, or
# the array's opening bracket, up to the first character of the arguments.
_FORCED_HEADER = re.compile(r'[\s\[\],}]*\{\s*"name"\s*:\s*"([^"\\]*)"\s*,\s*"arguments"\s*:\s*(?=\S)')


class ForcedCallReader:
    """A forced call's JSON (`{"name": ..., "arguments": {...}}`, or an array of them), split into
    deltas as it is generated: a call is announced as soon as its name is complete."""

    def __init__(self) -> None:
        self._pending = ""
        self._count = 0
        self._in_arguments = False
        self._depth = 0
        self._in_string = False
        self._escaped = False

    @property
    def called(self) -> bool:
        return self._count > 0 or self._in_arguments

    def feed(self, text: str) -> Deltas:
        out = Deltas()
        self._pending += text
        while self._pending:
            if not self._in_arguments:
                header = _FORCED_HEADER.match(self._pending)
                if header is None:
                    break  # the name is not complete yet
                out.calls.append(
                    {
                        "index": self._count,
                        "id": new_call_id(),
                        "type": "function",
                        "function": {"name": header[1], "arguments": ""},
                    }
                )
                self._pending = self._pending[header.end() :]
                self._in_arguments = True
                continue
            end = self._arguments_end(self._pending)
            fragment, self._pending = self._pending[:end], self._pending[end:]
            if fragment:
                out.calls.append({"index": self._count, "function": {"arguments": fragment}})
            if not self._pending and self._depth:
                break
            self._in_arguments = False
            self._count += 1
        return out

    def finish(self) -> Deltas:
        return Deltas()  # what is left is the closing brackets

    def _arguments_end(self, text: str) -> int:
        """How much of `text` belongs to the arguments object (all of it while it is still open)."""
        for i, char in enumerate(text):
            if self._in_string:
                if self._escaped:
                    self._escaped = False
                elif char == "\\":
                    self._escaped = True
                elif char == '"':
                    self._in_string = False
            elif char == '"':
                self._in_string = True
            elif char in "{[":
                self._depth += 1
            elif char in "}]":
                self._depth -= 1
                if self._depth == 0:
                    return i + 1
        return len(text)


class TaggedCallReader:
    """`auto` with the <tool_call> syntax: an answer that starts like a call is held back to its end;
    if it is nothing but calls of offered functions they become tool calls, else it is sent as text."""

    def __init__(self, names: list[str]) -> None:
        self._names = set(names)
        self._held = ""
        self._passing = False
        self.called = False

    def feed(self, text: str) -> Deltas:
        if self._passing:
            return Deltas(content=text)
        self._held += text
        start = self._held.lstrip()
        if start.startswith(TOOL_CALL_OPEN) or TOOL_CALL_OPEN.startswith(start):
            return Deltas()
        self._passing = True
        held, self._held = self._held, ""
        return Deltas(content=held)

    def finish(self) -> Deltas:
        if self._passing or not self._held:
            return Deltas()
        calls = parse_tagged_calls(self._held, self._names)
        if calls is None:
            return Deltas(content=self._held)
        self.called = True
        return Deltas(
            calls=[
                {
                    "index": i,
                    "id": new_call_id(),
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }
                for i, (name, arguments) in enumerate(calls)
            ]
        )


_TAGGED = re.compile(re.escape(TOOL_CALL_OPEN) + r"(.*?)(?:" + re.escape(TOOL_CALL_CLOSE) + r"|\Z)", re.DOTALL)


def parse_tagged_calls(text: str, names: set[str]) -> list[tuple[str, str]] | None:
    """(name, arguments as JSON text) of each call when `text` is only <tool_call> blocks (the last
    may be unclosed: the model stopped after its JSON), each naming an offered function; else None."""
    calls, position = [], 0
    for block in _TAGGED.finditer(text):
        if text[position : block.start()].strip():
            return None
        position = block.end()
        try:
            body = json.loads(block[1])
        except json.JSONDecodeError:
            return None
        for call in body if isinstance(body, list) else [body]:  # some models write a list per block
            parsed = _call(call, names)
            if parsed is None:
                return None
            calls.append(parsed)
    return calls if calls and not text[position:].strip() else None


def _call(call: Any, names: set[str]) -> tuple[str, str] | None:
    if not isinstance(call, dict) or call.get("name") not in names:
        return None
    arguments = call.get("arguments", call.get("parameters", {}))
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except json.JSONDecodeError:
            return None
    return (call["name"], json.dumps(arguments)) if isinstance(arguments, dict) else None


def collect(deltas: Deltas) -> dict[str, Any]:
    """A whole answer's message from all its deltas: content null when it calls tools, as OpenAI's."""
    message: dict[str, Any] = {"role": "assistant", "content": deltas.content}
    calls: dict[int, dict[str, Any]] = {}
    for delta in deltas.calls:
        if "id" in delta:
            calls[delta["index"]] = {"id": delta["id"], "type": "function", "function": dict(delta["function"])}
        else:
            calls[delta["index"]]["function"]["arguments"] += delta["function"]["arguments"]
    if calls:
        message["content"] = deltas.content or None
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    return message
