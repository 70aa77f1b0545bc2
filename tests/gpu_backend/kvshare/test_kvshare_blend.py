"""Selective recompute: ratio 1.0 is a full recompute; a low ratio computes fewer tokens."""

import torch

from gpu_backend.kvshare.chunk_spans import chat_chunk_spans
from kvshare_support import messages, prefiller, sequence


def _prompt(smollm2, order, question="wake me up at six"):
    msgs, chunks = messages(order, question)
    return chat_chunk_spans(smollm2.chat_template, smollm2.tokenizer, msgs, chunks)


def test_ratio_one_equals_full_recompute_logits_and_greedy_tokens(smollm2):
    seed_ids, seed_spans = _prompt(smollm2, [0, 1, 2])
    ids, spans = _prompt(smollm2, [2, 0, 1])  # the same chunks, other positions
    full = prefiller(smollm2, 1.0, enable_prefix_cache=False, chunk_reuse=False)
    expected, full_report = full.generate_greedy(sequence(ids), spans, 6)

    reuse = prefiller(smollm2, 1.0)
    seed = sequence(seed_ids)
    reuse.prefill(seed, seed_spans)
    reuse.release(seed)
    assert len(reuse.store) == 3
    seq = sequence(ids)
    got, report = reuse.generate_greedy(seq, spans, 6)
    assert report.num_reused == sum(e - s for s, e in spans) and report.num_recomputed == report.num_reused
    torch.testing.assert_close(report.logits, full_report.logits, rtol=1e-4, atol=1e-4)
    assert got == expected


def test_low_ratio_recomputes_only_the_chosen_fraction_and_stays_close(smollm2):
    seed_ids, seed_spans = _prompt(smollm2, [0, 1, 2, 3])
    ids, spans = _prompt(smollm2, [3, 1, 0, 2])
    reuse = prefiller(smollm2, 0.15)
    seed = sequence(seed_ids)
    reuse.prefill(seed, seed_spans)
    reuse.release(seed)
    report = reuse.prefill(sequence(ids), spans)
    reused = sum(e - s for s, e in spans)
    assert report.num_reused == reused
    assert report.num_recomputed == -(-15 * reused // 100)
    assert report.tokens_computed < len(ids) - report.num_cached - 0.5 * reused
    assert report.exact_tokens == spans[0][0]

    full = prefiller(smollm2, 1.0, enable_prefix_cache=False, chunk_reuse=False)
    exact = full.prefill(sequence(ids), spans).logits
    assert int(report.logits.argmax()) == int(exact.argmax())
    assert torch.nn.functional.cosine_similarity(report.logits, exact, dim=0) > 0.98
