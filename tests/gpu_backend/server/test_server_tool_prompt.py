"""Tools in the prompt: as Hugging Face renders them with a template that knows tools, and written
into the system message for a template that ignores them (SmolLM2's)."""

import json

from gpu_backend.model import ChatTemplate
from gpu_backend.server.tool_prompt import chat_prompt, tool_syntax
from gpu_backend.server.tools import FunctionTool

WEATHER = FunctionTool("get_weather", "The weather in a city",
                       {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
CALL = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}
CONVERSATION = [{"role": "user", "content": "Weather in Oslo?"},
                {"role": "assistant", "content": "", "tool_calls": [CALL]},
                {"role": "tool", "content": "12 C, rain", "tool_call_id": "call_1"}]
# A template that renders tools itself, the way Qwen2.5's does (shortened).
TOOL_TEMPLATE = """{%- if tools %}<|im_start|>system
# Tools
{% for tool in tools %}{{ tool | tojson }}
{% endfor %}Answer with <tool_call>{"name": ..., "arguments": ...}</tool_call><|im_end|>
{% endif %}
{%- for message in messages %}<|im_start|>{{ message.role }}
{% if message.tool_calls %}{% for call in message.tool_calls %}<tool_call>
{{ {"name": call.function.name, "arguments": call.function.arguments} | tojson }}
</tool_call>{% endfor %}{% else %}{{ message.content }}{% endif %}<|im_end|>
{% endfor %}
{%- if add_generation_prompt %}<|im_start|>assistant
{% endif %}"""


def test_a_template_that_renders_tools_gets_what_hugging_face_passes_it(hf_tokenizer):
    template = ChatTemplate(TOOL_TEMPLATE)
    assert tool_syntax(template).renders_tools and tool_syntax(template).tagged_calls
    ours = chat_prompt(template, CONVERSATION, [WEATHER], chunks=[(0, 1)])
    # HF's documented form: arguments as an object.
    hf_messages = [{**m, "tool_calls": [{**CALL, "function": {**CALL["function"], "arguments": {"city": "Oslo"}}}]}
                   if m.get("tool_calls") else m for m in CONVERSATION]
    expected = hf_tokenizer.apply_chat_template(hf_messages, tools=[WEATHER.as_openai()], chat_template=TOOL_TEMPLATE,
                                                tokenize=False, add_generation_prompt=True)
    assert ours.text == expected
    assert '"name": "get_weather"' in ours.text and ours.chunks == []  # chunk prefixes would render without tools


def test_smollm2_ignores_tools_so_they_are_written_into_its_system_message(smollm2):
    template = smollm2.chat_template
    assert "tools" not in template.source  # SmolLM2-135M-Instruct's template: role and content only
    assert tool_syntax(template).renders_tools is False and tool_syntax(template).tagged_calls
    prompt = chat_prompt(template, CONVERSATION, [WEATHER], chunks=[(0, 1)])
    assert prompt.messages[0]["role"] == "system" and json.dumps(WEATHER.as_openai()) in prompt.messages[0]["content"]
    assert prompt.chunks == [(1, 2)]  # the same user message, one further on
    assert prompt.messages[2]["content"] == '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n' \
                                            "</tool_call>"
    assert prompt.messages[3] == {"role": "tool", "content": "12 C, rain"}  # as HF renders it with this template
    assert prompt.text == template.render(prompt.messages)
    with_system = chat_prompt(template, [{"role": "system", "content": "Be brief."}, *CONVERSATION], [WEATHER],
                              chunks=[(1, 2)])
    assert with_system.messages[0]["content"].startswith("Be brief.\n\n# Tools") and with_system.chunks == [(1, 2)]


def test_without_tools_a_plain_conversation_renders_as_before(smollm2):
    messages = [{"role": "user", "content": "hi"}]
    prompt = chat_prompt(smollm2.chat_template, messages, [], chunks=[(0, 1)])
    assert prompt.text == smollm2.chat_template.render(messages) and prompt.chunks == [(0, 1)]
