"""Log probabilities of sampled tokens and their most likely alternatives (OpenAI's `logprobs`).

They are the model's distribution at the step, after a grammar's mask (the tokens it forbids have
none) and before temperature, top-k and top-p, as vLLM reports them: a client reads how sure the
model was, not how the sampler was tuned. Computed only for the rows that ask.
"""

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class TokenLogprob:
    token_id: int
    logprob: float
    # The most likely tokens at this step, most likely first: (token id, logprob).
    top: tuple[tuple[int, float], ...]


def token_logprobs(logits: torch.Tensor, tokens: list[int], wanted: list[int | None]) -> list[TokenLogprob | None]:
    """`wanted[i]`: None (row i asked for none) or how many alternatives row i wants."""
    result: list[TokenLogprob | None] = [None] * len(tokens)
    alternatives = {i: k for i, k in enumerate(wanted) if k is not None}
    rows = list(alternatives)
    if not rows:
        return result
    index = torch.tensor(rows, device=logits.device)
    logprobs = torch.log_softmax(logits.index_select(0, index).float(), dim=-1)
    chosen = logprobs.gather(1, torch.tensor([tokens[i] for i in rows], device=logits.device)[:, None])
    top_values, top_ids = logprobs.topk(max(*alternatives.values(), 1), dim=-1)
    for j, row in enumerate(rows):
        k = alternatives[row]
        top = tuple(zip(top_ids[j, :k].tolist(), top_values[j, :k].tolist(), strict=True))
        result[row] = TokenLogprob(tokens[row], float(chosen[j, 0]), top)
    return result
