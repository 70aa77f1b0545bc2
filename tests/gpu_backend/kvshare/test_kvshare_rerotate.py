"""RoPE re-rotation: a key moved from its old position equals the key computed fresh at the new one."""

import torch
import torch.nn.functional as F

from gpu_backend.kernels import apply_rope, rms_norm
from gpu_backend.kvshare.rerotate import rerotate_keys


def _raw_keys(model, token_ids: list[int]) -> torch.Tensor:
    """Layer 0's keys before RoPE for `token_ids` (they depend on the token only)."""
    layer, cfg = model.layers[0], model.config
    x = rms_norm(F.embedding(torch.tensor(token_ids), model.embed_tokens), layer.input_norm, cfg.rms_norm_eps)
    k = F.linear(x, layer.qkv_proj)[:, cfg.q_size : cfg.q_size + cfg.kv_size]
    return k.view(len(token_ids), cfg.num_kv_heads, cfg.head_dim)


def test_rerotated_keys_equal_fresh_keys_at_the_new_positions(smollm2):
    model = smollm2.model
    raw = _raw_keys(model, [1, 504, 3100, 28, 7, 911])
    q_dummy = torch.zeros(raw.shape[0], model.config.num_heads, model.config.head_dim)
    for old_start, new_start in [(3, 40), (200, 5), (0, 1900), (17, 17)]:
        old_pos = torch.arange(old_start, old_start + raw.shape[0])
        new_pos = torch.arange(new_start, new_start + raw.shape[0])
        _, stored = apply_rope(q_dummy, raw, old_pos, model.cos_sin)
        _, fresh = apply_rope(q_dummy, raw, new_pos, model.cos_sin)
        moved = rerotate_keys(stored, old_pos, new_pos, model.cos_sin)
        torch.testing.assert_close(moved, fresh, rtol=0, atol=2e-5)
        assert not torch.allclose(stored, fresh) or old_start == new_start


def test_rerotation_round_trip_is_the_identity():
    table = torch.cat([torch.outer(torch.arange(64.0), 1 / 10000 ** (torch.arange(0, 8, 2) / 8)).cos(),
                       torch.outer(torch.arange(64.0), 1 / 10000 ** (torch.arange(0, 8, 2) / 8)).sin()], -1)
    keys = torch.randn(5, 2, 8)
    a, b = torch.tensor([1, 2, 3, 4, 5]), torch.tensor([60, 7, 33, 0, 12])
    torch.testing.assert_close(rerotate_keys(rerotate_keys(keys, a, b, table), b, a, table), keys,
                               rtol=0, atol=1e-5)
