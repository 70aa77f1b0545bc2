"""The tokenizer built from the GGUF vocabulary must agree with HF's tokenizer for the same file."""

import pytest

from gpu_backend.model.tokenizer import pre_tokenizer_for

TEXTS = [
    "Hello world",
    "What is the capital of France?",
    "  leading spaces,   inner runs\t\ttabs\n\n\nand newlines  ",
    "12345 and 3.14159, 1,000,000 items x2 v1.2.3 -42 1e-5",
    "héllo wörld — naïve café ✓ 你好，世界 こんにちは 🙂🚀👩‍👩‍👧",
    "ÀÉÎÕÜ ßø ΑΒΓ абв עברית العربية हिन्दी",
    "def f(x):\n    return x**2  # square\n\tprint('hi')\n",
    'for (int i = 0; i < n; ++i) { s += a[i]; }  // C++ \r\n',
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "<|endoftext|><repo_name>semgate<file_sep>",
    "<|im_start| is not special without its last bar",
    "I'm sure you've heard they'll say we'd go, it's DON'T",
    "$%^&*()_+{}|:\"<>?~` ...!!! ???",
    "   ",
    "\r\n\r\n",
    "a" * 300,
    "",
]


@pytest.mark.parametrize("text", TEXTS)
def test_ids_match_hf(smollm2, hf_tokenizer, text):
    ids = smollm2.tokenizer.encode(text)
    assert ids == hf_tokenizer.encode(text, add_special_tokens=False)
    assert smollm2.tokenizer.decode(ids, skip_special=False) == hf_tokenizer.decode(ids)
    assert smollm2.tokenizer.decode(ids) == hf_tokenizer.decode(ids, skip_special_tokens=True)


def test_special_and_stop_ids(smollm2, hf_tokenizer):
    tok = smollm2.tokenizer
    assert tok.encode("<|im_end|>") == [tok.eos_id] == [hf_tokenizer.eos_token_id]
    # the chat turn end and the document end both end a generation
    assert {tok.eos_id, *tok.encode("<|endoftext|>")} <= tok.stop_ids
    assert tok.bos_id == hf_tokenizer.bos_token_id
    assert tok.encode("hi", add_special=True) == tok.encode("hi")  # this GGUF asks for no BOS
    assert tok.vocab_size == smollm2.config.vocab_size


def test_digits_are_split_one_by_one(smollm2):
    # llama.cpp's "smollm" pre-tokenizer isolates every digit before BPE
    tok = smollm2.tokenizer
    assert [tok.decode([i]) for i in tok.encode("2024")] == ["2", "0", "2", "4"]
    assert pre_tokenizer_for("smollm").pre_tokenize_str("ab 12")[-2:] == [("1", (3, 4)), ("2", (4, 5))]


@pytest.mark.parametrize("text", [TEXTS[4], TEXTS[5], TEXTS[6], "<|im_start|>assistant\nbonjour 🇫🇷<|im_end|>"])
def test_streaming_deltas_are_whole_characters(smollm2, text):
    tok = smollm2.tokenizer
    ids = tok.encode(text)
    detok = tok.detokenizer()
    deltas = [detok.push(i) for i in ids]
    deltas.append(detok.flush())
    assert "".join(deltas) == tok.decode(ids)
    assert all("\ufffd" not in d for d in deltas)


def test_emoji_split_over_byte_tokens_is_held_back(smollm2):
    tok = smollm2.tokenizer
    ids = tok.encode("🙂!")
    detok = tok.detokenizer()
    deltas = [detok.push(i) for i in ids]
    assert len(ids) > 2 and deltas[:-2] == [""] * (len(ids) - 2)
    assert deltas[-2:] == ["🙂", "!"]


def test_unfinished_character_is_flushed_as_replacement(smollm2):
    tok = smollm2.tokenizer
    ids = tok.encode("🙂")
    assert len(ids) > 1  # a multi-byte character split over byte tokens
    detok = tok.detokenizer()
    assert detok.push(ids[0]) == ""
    assert detok.flush() == "\ufffd"
