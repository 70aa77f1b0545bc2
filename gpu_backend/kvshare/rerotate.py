"""RoPE re-rotation: keys computed at one position, moved to another.

RoPE rotates each (x1, x2) pair of a key by angle p * w (w: the pair's frequency), so a
key stored for position p becomes the key for position p' by one more rotation by
(p' - p) * w. The angle difference is built from the model's own cos/sin table (the
same table apply_rope uses, whatever frequency scaling it holds):
cos(a - b) = cos a cos b + sin a sin b, sin(a - b) = sin a cos b - cos a sin b.
Values carry no position and are reused as they are.
"""

from __future__ import annotations

import torch


def rerotate_keys(
    keys: torch.Tensor, old_positions: torch.Tensor, new_positions: torch.Tensor, cos_sin: torch.Tensor
) -> torch.Tensor:
    """keys [T, Hkv, D] rotated for `old_positions` [T] -> the same keys rotated for
    `new_positions` [T] (rotate-half layout, as kernels.apply_rope); float32 math, keys' dtype out."""
    half = keys.shape[-1] // 2
    old = cos_sin[old_positions.long()].float()
    new = cos_sin[new_positions.long()].float()
    cos_old, sin_old = old[:, None, :half], old[:, None, half:]
    cos_new, sin_new = new[:, None, :half], new[:, None, half:]
    cos = cos_new * cos_old + sin_new * sin_old
    sin = sin_new * cos_old - cos_new * sin_old
    x1, x2 = keys[..., :half].float(), keys[..., half:].float()
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1).to(keys.dtype)
