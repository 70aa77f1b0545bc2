"""`semgate gpu-check`: the bundled backend's checks and figures for one device, in one command.

On a CUDA machine it runs every Triton kernel natively against its torch reference over a sweep of
shapes and dtypes (fp16, bf16, fp32), the model's logits on the Triton path against the torch path
and against HF transformers, and the backend and SLO benches; on a CPU it runs the same checks with
Triton's interpreter on tiny shapes and the benches at their smoke size, so that the day a GPU is
lent only the GPU half is new. It writes artifacts/gpu-check/report.json and summary.md.
"""
