"""Sampling: greedy, temperature, top-k, top-p and per-request seeds."""

import math

import pytest
import torch
from engine_support import tiny_engine

from gpu_backend.engine import SamplingParams
from gpu_backend.engine.sampler import Sampler

VOCAB = 50


def logits_for(probs: list[float]) -> torch.Tensor:
    row = torch.full((VOCAB,), -30.0)
    row[: len(probs)] = torch.tensor([math.log(p) for p in probs])
    return row


def draw(params: SamplingParams, row: torch.Tensor, n: int, seed: int = 0) -> list[int]:
    generators = [torch.Generator().manual_seed(seed + i) for i in range(n)]
    return Sampler()(row.expand(n, -1).clone(), [params] * n, generators)


def test_greedy_takes_the_most_likely_token():
    logits = torch.randn(4, VOCAB, generator=torch.Generator().manual_seed(1))
    tokens = Sampler()(logits, [SamplingParams(temperature=0)] * 4, [None] * 4)
    assert tokens == logits.argmax(dim=-1).tolist()


def test_top_k_one_is_greedy_at_any_temperature():
    logits = torch.randn(3, VOCAB, generator=torch.Generator().manual_seed(2))
    tokens = Sampler()(logits, [SamplingParams(temperature=1.5, top_k=1)] * 3, [None] * 3)
    assert tokens == logits.argmax(dim=-1).tolist()


def test_sampling_follows_the_distribution():
    tokens = draw(SamplingParams(temperature=1.0), logits_for([0.75, 0.25]), 2000)
    assert set(tokens) <= {0, 1}
    assert 0.70 < tokens.count(0) / len(tokens) < 0.80


def test_top_k_and_top_p_cut_the_tail():
    row = logits_for([0.4, 0.3, 0.2, 0.1])
    assert set(draw(SamplingParams(temperature=1.0, top_k=2), row, 400)) == {0, 1}
    assert set(draw(SamplingParams(temperature=1.0, top_p=0.65), row, 400)) == {0, 1}
    assert set(draw(SamplingParams(temperature=1.0, top_p=0.35), row, 100)) == {0}
    assert set(draw(SamplingParams(temperature=1.0, top_p=0.0), row, 100)) == {0}  # as OpenAI: the top token only


def test_a_seed_fixes_the_tokens_whatever_shares_the_batch():
    logits = torch.randn(5, VOCAB, generator=torch.Generator().manual_seed(3))
    params = SamplingParams(temperature=1.0, seed=7)
    alone = Sampler()(logits[2:3].clone(), [params], [torch.Generator().manual_seed(7)])
    others = [SamplingParams(temperature=0.8, top_k=5)] * 4
    mixed = Sampler()(logits.clone(), [others[0], others[1], params, others[2], others[3]],
                      [None, None, torch.Generator().manual_seed(7), None, None])
    assert mixed[2] == alone[0]


@pytest.mark.parametrize("top_p", [1.0, 0.9])
def test_seeded_requests_repeat_in_the_engine(smollm2, top_p):
    encode = smollm2.tokenizer.encode
    prompt = encode("Tell me a joke")
    params = SamplingParams(max_tokens=8, temperature=1.0, top_p=top_p, seed=42)
    engine = tiny_engine(smollm2.tokenizer)
    alone = engine.generate([prompt], params)[0].token_ids
    others = [encode(f"Other prompt {i}") for i in range(3)]
    unseeded = SamplingParams(max_tokens=8, temperature=1.0)
    batched = engine.generate([others[0], prompt, *others[1:]], [unseeded, params, unseeded, unseeded])
    assert batched[1].token_ids == alone
    different_seed = engine.generate([prompt], SamplingParams(max_tokens=8, temperature=1.0, top_p=top_p, seed=43))
    assert different_seed[0].token_ids != alone
