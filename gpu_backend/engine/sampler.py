"""Next tokens from logits: greedy, or temperature / top-k / top-p sampling.

Sampling is an exponential race: argmax(p / E) with E ~ Exp(1) per vocabulary entry
picks token i with probability p_i. The noise for a seeded request comes from its own
generator, drawn over the whole vocabulary in vocabulary order, so its tokens depend on
its seed alone, never on which other requests share the batch.
"""

import torch

from gpu_backend.engine.sampling_params import SamplingParams


class Sampler:
    def __call__(
        self,
        logits: torch.Tensor,
        params: list[SamplingParams],
        generators: list[torch.Generator | None],
    ) -> list[int]:
        """logits [N, V] float32, one row per sequence to sample; returns N token ids."""
        tokens = _argmax(logits)
        rows = [i for i, p in enumerate(params) if not p.greedy]
        if rows:
            index = torch.tensor(rows, device=logits.device)
            sampled = self._sample(
                logits.index_select(0, index), [params[i] for i in rows], [generators[i] for i in rows]
            )
            for row, token in zip(rows, sampled.tolist(), strict=True):
                tokens[row] = token
        return tokens

    def _sample(
        self, logits: torch.Tensor, params: list[SamplingParams], generators: list[torch.Generator | None]
    ) -> torch.Tensor:
        device = logits.device
        temperatures = torch.tensor([p.temperature for p in params], device=device, dtype=logits.dtype)
        logits = logits / temperatures[:, None]
        top_ks = [p.top_k for p in params]
        if any(top_ks):
            logits = _keep_top_k(logits, top_ks)
        probs = torch.softmax(logits, dim=-1)
        top_ps = [p.top_p for p in params]
        if any(p < 1 for p in top_ps):
            probs = _keep_top_p(probs, torch.tensor(top_ps, device=device, dtype=probs.dtype))
        noise = torch.empty_like(probs)
        shared = [i for i, g in enumerate(generators) if g is None]
        if shared:
            noise[shared] = torch.empty(len(shared), probs.shape[1], device=device).exponential_()
        for i, generator in enumerate(generators):
            if generator is not None:
                noise[i].exponential_(generator=generator)
        return (probs / noise).argmax(dim=-1)


def _argmax(logits: torch.Tensor) -> list[int]:
    # On a CPU numpy's argmax is about 20x faster than torch's for [32, 49152] rows;
    # both return the first maximum.
    if logits.device.type == "cpu":
        return logits.numpy().argmax(axis=-1).tolist()
    return logits.argmax(dim=-1).tolist()


def _keep_top_k(logits: torch.Tensor, top_ks: list[int]) -> torch.Tensor:
    vocab = logits.shape[1]
    ks = [k if 0 < k < vocab else vocab for k in top_ks]
    top_values = logits.topk(max(ks), dim=-1).values
    kth = top_values.gather(1, torch.tensor(ks, device=logits.device)[:, None] - 1)
    return logits.masked_fill(logits < kth, float("-inf"))


def _keep_top_p(probs: torch.Tensor, top_ps: torch.Tensor) -> torch.Tensor:
    """Keep the smallest set of most likely tokens whose mass reaches top_p (at least one)."""
    sorted_probs = probs.sort(dim=-1, descending=True).values
    mass_before = sorted_probs.cumsum(dim=-1) - sorted_probs
    kept = (mass_before < top_ps[:, None]).sum(dim=-1, keepdim=True).clamp(min=1)  # top_p 0: the top token
    smallest_kept = sorted_probs.gather(1, kept - 1)
    return probs.masked_fill(probs < smallest_kept, 0.0)
