"""Chunk marks -> token spans: exact boundaries of the templated prompt, or the chunk is dropped."""

from gpu_backend.kvshare.chunk_spans import chat_chunk_spans, prompt_chunk_spans
from kvshare_support import messages


def test_chat_chunks_map_to_the_tokens_of_their_messages(smollm2):
    tok, template = smollm2.tokenizer, smollm2.chat_template
    msgs, chunks = messages([0, 2], "hi")
    ids, spans = chat_chunk_spans(template, tok, msgs, chunks)
    assert ids == tok.encode(template.render(msgs, add_generation_prompt=True))
    assert len(spans) == 2 and spans[0][1] == spans[1][0]
    for (start, end), (m, _) in zip(spans, chunks):
        text = tok.decode(ids[start:end], skip_special=False)
        assert text == (f"<|im_start|>user\n{msgs[m]['content']}<|im_end|>\n"
                        f"<|im_start|>assistant\n{msgs[m + 1]['content']}<|im_end|>\n")
    # The same example gives the same tokens in another position and order.
    other_ids, other_spans = chat_chunk_spans(template, tok, *messages([2, 1, 0], "bye"))
    assert other_ids[slice(*other_spans[2])] == ids[slice(*spans[0])]


def test_prompt_chunks_keep_exact_boundaries_and_drop_the_others(smollm2):
    tok = smollm2.tokenizer
    prompt = "Alpha beta. Gamma delta. Question"
    ids, spans = prompt_chunk_spans(tok, prompt, [(0, 11), (11, 24)])
    assert ids == tok.encode(prompt, add_special=True)
    assert [tok.decode(ids[s:e]) for s, e in spans] == ["Alpha beta.", " Gamma delta."]
    _, spans = prompt_chunk_spans(tok, prompt, [(0, 3)])  # "Alp|ha": inside a token
    assert spans == []
