"""Log probabilities for the rows that ask, from the step's (masked) logits."""

import torch

from gpu_backend.engine.logprobs import token_logprobs


def test_only_rows_that_ask_get_logprobs_with_their_own_number_of_alternatives():
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0], [0.0, 0.0, 3.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    expected = torch.log_softmax(logits, dim=-1)
    first, second, third = token_logprobs(logits, [1, 2, 0], [2, None, 0])
    assert second is None
    assert first.token_id == 1 and first.logprob == float(expected[0, 1])
    assert [t for t, _ in first.top] == [0, 1]
    assert [lp for _, lp in first.top] == expected[0, :2].tolist()
    assert third.top == () and abs(third.logprob - float(expected[2, 0])) < 1e-6


def test_a_grammar_masked_token_has_no_probability_mass():
    logits = torch.tensor([[5.0, float("-inf"), 1.0]])
    [entry] = token_logprobs(logits, [0], [3])
    assert entry.top[2][1] == float("-inf")
    assert abs(sum(torch.tensor([lp for _, lp in entry.top[:2]]).exp().tolist()) - 1) < 1e-6
