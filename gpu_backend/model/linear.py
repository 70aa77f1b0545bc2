"""The model's matmuls: x @ weight.T, through oneDNN for float32 on a CPU.

On this CPU (AMD EPYC, AVX-512) oneDNN's linear beats MKL's sgemm behind F.linear for
every shape the decoder runs (1 thread, CPU time per call): the 49152-row lm_head takes
29 ms instead of 49 ms for 32 decode rows, 11 ms instead of 14 ms for one row; the
3072-row gate/up projection 1.9 ms instead of 2.5 ms at 32 rows, 18.6 instead of 24.4 ms
for a 512-token prefill chunk. Weights stay in HF layout [out, in], untouched: the
result differs from F.linear's only by float32 rounding. Elsewhere (GPU, bfloat16, a
torch built without oneDNN) it is F.linear.

The `bf16` weight format (docs/backend.md) keeps the layers' projections in bfloat16 on a
float32 model: the activations are rounded to bfloat16 for the matmul only (oneDNN's avx512_bf16
kernel, float32 accumulation) and the result comes back in float32, so the residual stream,
norms, attention and KV stay float32. Half the weight bytes to read per step.
"""

import torch
import torch.nn.functional as F

_ONEDNN = torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")


def linear(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """x [N, in] @ weight [out, in].T -> [N, out], no bias; float32 out for float32 x."""
    if x.dtype == torch.float32 and weight.dtype == torch.bfloat16:
        return linear(x.to(torch.bfloat16), weight).float()
    if (
        _ONEDNN
        and x.dtype == weight.dtype
        and x.dtype in (torch.float32, torch.bfloat16)
        and x.device.type == "cpu"
        and not x.requires_grad
        and x.shape[0] > 0
    ):
        return torch.ops.mkldnn._linear_pointwise(x, weight, None, "none", [], "")
    return F.linear(x, weight)
