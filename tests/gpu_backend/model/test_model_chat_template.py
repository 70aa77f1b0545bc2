"""The chat template from the GGUF renders exactly as HF apply_chat_template does."""

import jinja2
import pytest

from gpu_backend.model import ChatTemplate

CHATS = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [
        {"role": "system", "content": "You answer in one word."},
        {"role": "user", "content": "Capital of Italy?"},
        {"role": "assistant", "content": "Rome"},
        {"role": "user", "content": "And of Spain? 🇪🇸"},
    ],
]


@pytest.mark.parametrize("messages", CHATS)
@pytest.mark.parametrize("add_generation_prompt", [True, False])
def test_renders_like_hf(smollm2, hf_tokenizer, messages, add_generation_prompt):
    ours = smollm2.chat_template.render(messages, add_generation_prompt=add_generation_prompt)
    theirs = hf_tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)
    assert ours == theirs
    assert not smollm2.chat_template.is_fallback


def test_default_system_prompt_comes_from_the_file(smollm2):
    text = smollm2.chat_template.render(CHATS[0])
    assert text.startswith("<|im_start|>system\nYou are a helpful AI assistant named SmolLM")
    assert text.endswith("<|im_start|>assistant\n")


def test_chatml_fallback_without_template():
    template = ChatTemplate(None)
    assert template.is_fallback
    text = template.render([{"role": "user", "content": "hi"}])
    assert text == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"


def test_template_helpers_and_sandbox():
    strict = ChatTemplate("{% if messages[0]['role'] != 'user' %}{{ raise_exception('user first') }}{% endif %}"
                          "{{ messages | tojson }}")
    assert strict.render([{"role": "user", "content": "<b>é</b>"}]) == '[{"role": "user", "content": "<b>é</b>"}]'
    with pytest.raises(jinja2.TemplateError, match="user first"):
        strict.render([{"role": "system", "content": "x"}])
    # the sandbox is immutable: a template cannot reach Python internals or change the caller's messages
    for source in ("{{ messages.__class__.__mro__ }}", "{{ messages.append(1) }}"):
        with pytest.raises(jinja2.exceptions.SecurityError):
            ChatTemplate(source).render([])
