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
    rows = [i for i, k in enumerate(wanted) if k is not None]
    if not rows:
        return result
    index = torch.tensor(rows, device=logits.device)
    logprobs = torch.log_softmax(logits.index_select(0, index).float(), dim=-1)
    chosen = logprobs.gather(1, torch.tensor([tokens[i] for i in rows], device=logits.device)[:, None])
    k = max(wanted[i] for i in rows)
    top_values, top_ids = logprobs.topk(max(k, 1), dim=-1)
    for j, row in enumerate(rows):
        top = tuple(zip(top_ids[j, :wanted[row]].tolist(), top_values[j, :wanted[row]].tolist()))
        result[row] = TokenLogprob(tokens[row], float(chosen[j, 0]), top)
    return result
