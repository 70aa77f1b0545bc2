"""`python -m gpu_backend` (`semgate backend`): load a model and serve it over the OpenAI API."""

import argparse
import logging
import os
import sys
import time

import torch
import uvicorn

from gpu_backend.build import build_engine
from gpu_backend.engine import AsyncEngine, EngineConfig
from gpu_backend.model import DTYPES, WEIGHT_FORMATS, load_model
from gpu_backend.server import BackendService, build_app
from gpu_backend.server.access_log import quiet_polls
from gpu_backend.server.lifecycle import BackendServer, exit_with_parent


def thread_pair(text: str) -> tuple[int, int]:
    """'PREFILL,DECODE' thread counts, both positive."""
    try:
        prefill, decode = (int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected PREFILL,DECODE thread counts, got {text!r}") from None
    if prefill < 1 or decode < 1:
        raise argparse.ArgumentTypeError(f"thread counts must be positive, got {text!r}")
    return prefill, decode


def non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        default="smollm2-135m",
        help="packaged model name, a .gguf file or a HF safetensors folder (default: %(default)s)",
    )
    parser.add_argument(
        "--served-model-name",
        action="append",
        default=None,
        help="name clients use in 'model' (repeatable; default: the --model value)",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float32")
    parser.add_argument(
        "--weights",
        choices=sorted(WEIGHT_FORMATS),
        default="fp32",
        help="format of the layers' projection weights: fp32 (as --dtype), or bf16 on a float32 model "
        "(bfloat16 matmuls, the rest float32; docs/backend.md; default: %(default)s)",
    )
    parser.add_argument("--kv-budget-mb", type=int, default=1024, help="KV pool size (default: %(default)s MiB)")
    parser.add_argument("--block-size", type=int, default=16, help="tokens per KV block (default: %(default)s)")
    parser.add_argument(
        "--max-batch", type=int, default=64, help="most sequences running at once (default: %(default)s)"
    )
    parser.add_argument(
        "--max-prefill-tokens",
        type=int,
        default=512,
        help="prompt tokens per prefill step; longer prompts are chunked (default: %(default)s)",
    )
    parser.add_argument(
        "--default-max-tokens",
        type=non_negative,
        default=512,
        metavar="N",
        help="output tokens of a request that sets no max_tokens, fewer if the context fills first; "
        "the answer ends with finish_reason 'length'; 0: until the context is full "
        "(default: %(default)s)",
    )
    parser.add_argument("--no-prefix-cache", action="store_true", help="do not share KV between requests")
    parser.add_argument(
        "--kv-salt-header",
        "--tenant-salt-header",
        dest="kv_salt_header",
        default="x-semgate-kv-salt",
        help="request header whose value isolates the prefix cache: only requests with the same "
        "value share KV (without it all do, KV depending only on the tokens); '' turns it "
        "off (default: %(default)s)",
    )
    parser.add_argument(
        "--tenant-header",
        default="x-semgate-tenant",
        help="request header naming the tenant --fair-share accounts to (the gateway sends it to "
        "semgate_headers upstreams); '' turns it off (default: %(default)s)",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: one per core)")
    parser.add_argument(
        "--scheduler",
        choices=["fcfs", "goodput"],
        default="fcfs",
        help="goodput: SLO-aware (x-semgate-slo-ttft-ms/-tpot-ms/-deadline-ms headers)",
    )
    parser.add_argument(
        "--preemption",
        choices=["recompute", "swap"],
        default="recompute",
        help="swap: preempted KV waits in a host pool instead of being recomputed",
    )
    parser.add_argument(
        "--host-kv-budget-mb",
        type=int,
        default=1024,
        help="host KV pool for --preemption swap and the prefix cache's host tier",
    )
    parser.add_argument(
        "--host-prefix-cache",
        choices=["auto", "on", "off"],
        default="auto",
        help="keep prefixes evicted from the device in the host KV pool for later turns of a "
        "conversation; auto: on whenever there is a host pool (--preemption swap)",
    )
    parser.add_argument(
        "--fair-share",
        action="store_true",
        help="per-tenant fair share (tenant = the --tenant-header value); weights change at "
        "run time through POST /admin/tenants/TENANT/priority",
    )
    parser.add_argument(
        "--admin-token",
        default=os.environ.get("SEMGATE_BACKEND_ADMIN_TOKEN"),
        help="bearer token the admin API (/admin/tenants) asks for (default: "
        "$SEMGATE_BACKEND_ADMIN_TOKEN; unset: the admin API is open)",
    )
    parser.add_argument(
        "--phase-split",
        action="store_true",
        help="prefill and decode in two workers over one shared KV pool (CPU threads or GPU SM "
        "partitions, see --phase-split-partition), the split moved by an SLO-aware controller",
    )
    parser.add_argument(
        "--phase-split-threads",
        type=thread_pair,
        default=None,
        metavar="PREFILL,DECODE",
        help="initial threads per worker (default: half the cores each)",
    )
    parser.add_argument(
        "--phase-split-partition",
        default="auto",
        choices=["auto", "threads", "green_context", "mps"],
        help="where the two phases compute: CPU threads, CUDA green contexts (SM partitions) or "
        "MPS percentages; auto: threads on a CPU, green contexts on a GPU whose torch has "
        "them, else MPS if its daemon runs (an explicit choice the machine lacks is an error)",
    )
    parser.add_argument(
        "--no-split-controller", action="store_true", help="keep --phase-split-threads fixed (no SLO-aware controller)"
    )
    parser.add_argument(
        "--kvshare-recompute-ratio",
        type=float,
        default=None,
        metavar="RATIO",
        help="KVShare: reuse the KV of chunks marked by semgate_examples.chunks anywhere in later "
        "prompts, recomputing this fraction (0..1) of their most deviating tokens (default: off)",
    )
    parser.add_argument(
        "--default-temperature",
        type=float,
        default=None,
        metavar="T",
        help="temperature for requests that leave it out (default: the model file's recommendation; "
        "greedy for the packaged smollm2-135m; else 1.0 as in the OpenAI API)",
    )
    parser.add_argument(
        "--default-top-p",
        type=float,
        default=None,
        metavar="P",
        help="top_p for requests that leave it out (default: as --default-temperature)",
    )
    parser.add_argument(
        "--default-top-k",
        type=int,
        default=None,
        metavar="K",
        help="top_k for requests that leave it out, 0 off (default: as --default-temperature)",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="shut down when the parent process dies, whatever kills it (stdin must be a pipe the "
        "parent holds open; `semgate up` starts its backend this way)",
    )


def serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.device == "cpu" and args.dtype != "float32":
        print(
            f"semgate backend: --dtype {args.dtype} is not supported on the CPU (its answers drift from "
            "float32's); use --dtype float32",
            file=sys.stderr,
        )
        return 2
    if args.exit_with_parent:
        exit_with_parent()
    print(
        f"semgate backend: loading {args.model} ({args.dtype}, {args.weights} weights, {args.device}) ...",
        file=sys.stderr,
        flush=True,
    )
    started = time.monotonic()
    loaded = load_model(
        args.model, device=args.device, dtype=DTYPES[args.dtype], progress=True, weight_format=args.weights
    )
    try:
        sampling = loaded.sampling_defaults.overridden(
            "command line", args.default_temperature, args.default_top_p, args.default_top_k
        )
    except ValueError as error:
        print(f"semgate backend: {error}", file=sys.stderr)
        return 2
    config = EngineConfig(
        kv_budget_bytes=args.kv_budget_mb << 20,
        block_size=args.block_size,
        max_running=args.max_batch,
        max_prefill_tokens=args.max_prefill_tokens,
        default_max_tokens=args.default_max_tokens or None,
        enable_prefix_cache=not args.no_prefix_cache,
        num_threads=args.threads,
        scheduler=args.scheduler,
        preemption=args.preemption,
        host_kv_budget_bytes=args.host_kv_budget_mb << 20,
        host_prefix_cache={"auto": None, "on": True, "off": False}[args.host_prefix_cache],
        fair_share=args.fair_share,
        phase_split=args.phase_split,
        phase_split_threads=args.phase_split_threads,
        phase_split_controller=not args.no_split_controller,
        phase_split_partition=args.phase_split_partition,
        kvshare_recompute_ratio=args.kvshare_recompute_ratio,
    )
    engine = build_engine(loaded.model, loaded.tokenizer, config)
    bound = f"at most {args.default_max_tokens} tokens" if args.default_max_tokens else "until the context is full"
    print(
        f"semgate backend: model loaded in {time.monotonic() - started:.1f} s; KV pool of "
        f"{engine.pool.num_blocks} blocks x {engine.pool.block_size} tokens; requests without sampling "
        f"settings: {sampling.describe()}; without max_tokens: {bound}",
        file=sys.stderr,
        flush=True,
    )
    service = BackendService(
        engine=AsyncEngine(engine),
        tokenizer=loaded.tokenizer,
        chat_template=loaded.chat_template,
        model_names=tuple(args.served_model_name or [args.model]),
        salt_header=args.kv_salt_header.lower() or None,
        tenant_header=args.tenant_header.lower() or None,
        admin_token=args.admin_token or None,
        sampling_defaults=sampling,
    )
    server = BackendServer(
        uvicorn.Config(build_app(service), host=args.host, port=args.port, log_level=args.log_level), service.engine
    )
    quiet_polls()  # after uvicorn.Config, which sets its loggers up
    server.run()
    # Not started: the port is taken or the app failed to start (uvicorn logged why).
    return 0 if server.started else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="semgate backend", description=__doc__)
    add_arguments(parser)
    return serve(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
