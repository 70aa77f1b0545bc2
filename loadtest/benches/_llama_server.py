"""`semgate bench backend --llama-server PATH`: the engine against llama.cpp's own server.

Both serve the same GGUF over HTTP and get the same chat prompts (rendered by our template, sent
as text to /v1/completions), greedy, exactly `max_tokens` tokens each (ignore_eos), from the same
closed-loop client: `concurrency` clients, each sending its next prompt when its answer is done.
llama-server runs with `-np` = the concurrency (one slot per client) and continuous batching, as a
user serving on a CPU would run it; the engine with its defaults. Each level gets fresh servers,
so no run profits from another's prompt cache. llama.cpp computes on the file's quantised weights;
the engine dequantises them to float32 at load and computes in float32 (`--weights bf16`: its
projections in bfloat16). `quants` runs llama-server on Q8_0 / F16 copies too
(loadtest/anchors/requantize_gguf.py): requantised from the packaged Q4_1, not better quality.
"""

import asyncio
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
from tqdm import tqdm

from loadtest.anchors.requantize_gguf import requantized_path
from loadtest.services import Services, free_port

CONTEXT_PER_SLOT = 2048  # prompt (the bench keeps them under ~500 tokens) and answer, with room to spare


def compare(binary: Path, gguf: Path, model: str, prompts: list[str], levels: list[int], sizes: dict[int, int],
            max_tokens: int, threads: int, logs: Path, quants: Sequence[str] = ("q4_1",),
            weight_formats: Sequence[str] = ("fp32",)) -> list[dict]:
    """Per level: llama-server on each of `quants` ("q4_1": the file as it is) and the engine with each of
    `weight_formats`, alternating. "llama_server" / "engine" are the first of each, as before."""
    files = {q: gguf if q == "q4_1" else requantized_path(gguf, q) for q in quants}
    rows = []
    for c in levels:
        subset = prompts[: sizes[c]]
        row: dict = {"concurrency": c, "requests": len(subset), "llama_server_by_quant": {}, "engine_by_weights": {}}
        for quant, weights in _alternating(list(quants), list(weight_formats)):
            if quant is not None:
                with Services(logs) as services:
                    url = _start_llama_server(services, binary, files[quant], c, threads, logs)
                    row["llama_server_by_quant"][quant] = asyncio.run(
                        _closed_loop(url, "llama", subset, c, max_tokens, f"llama-server {quant} x{c}"))
            if weights is not None:
                with Services(logs) as services:
                    port = free_port()
                    url = services.start("engine", ["gpu_backend", "--model", model, "--port", str(port),
                                                    "--threads", str(threads), "--max-batch", str(max(64, c)),
                                                    "--weights", weights], port, 600)
                    row["engine_by_weights"][weights] = asyncio.run(
                        _closed_loop(url, model, subset, c, max_tokens, f"engine {weights} (HTTP) x{c}"))
        row["llama_server"] = row["llama_server_by_quant"][quants[0]]
        row["engine"] = row["engine_by_weights"][weight_formats[0]]
        row["engine_vs_llama_server"] = row["engine"]["tokens_per_s"] / row["llama_server"]["tokens_per_s"]
        row["ratios"] = {f"engine {w} / llama-server {q}": e["tokens_per_s"] / ls["tokens_per_s"]
                         for w, e in row["engine_by_weights"].items() for q, ls in row["llama_server_by_quant"].items()}
        rows.append(row)
    return rows


def _alternating(quants: list[str], weights: list[str]) -> list[tuple[str | None, str | None]]:
    """llama-server and engine runs interleaved, so a burst of load from other jobs hits both alike."""
    count = max(len(quants), len(weights))
    return [(quants[i] if i < len(quants) else None, weights[i] if i < len(weights) else None) for i in range(count)]


def _start_llama_server(services: Services, binary: Path, gguf: Path, slots: int, threads: int, logs: Path) -> str:
    port = free_port()
    logs.mkdir(parents=True, exist_ok=True)
    command = [str(binary), "-m", str(gguf), "--host", "127.0.0.1", "--port", str(port), "-np", str(slots), "-cb",
               "-c", str(CONTEXT_PER_SLOT * slots), "-t", str(threads), "-tb", str(threads), "--log-disable"]
    with (logs / "llama-server.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    services.processes.append(process)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama-server exited with code {process.returncode}; see {logs / 'llama-server.log'}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return url
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"llama-server did not become healthy; see {logs / 'llama-server.log'}")


async def _closed_loop(url: str, model: str, prompts: list[str], concurrency: int, max_tokens: int,
                       desc: str) -> dict:
    queue = list(reversed(prompts))
    ttfts: list[float] = []
    bar = tqdm(total=len(prompts), desc=desc, unit="req", file=sys.stderr)
    # A new connection per request, for both servers: llama-server's HTTP library may close a kept-alive
    # connection after a streamed answer, and the next request on it then fails.
    limits = httpx.Limits(max_connections=concurrency + 4, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, timeout=600, limits=limits) as client:
        async def one_client() -> None:
            while queue:
                prompt, sent = queue.pop(), time.perf_counter()
                ttfts.append(await _first_token_s(client, model, prompt, max_tokens, sent))
                bar.update(1)

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    bar.close()
    ordered = sorted(ttfts)
    return {"tokens_per_s": len(prompts) * max_tokens / wall, "wall_s": wall,
            "ttft_p50_s": ordered[len(ordered) // 2], "ttft_p99_s": ordered[min(len(ordered) - 1,
                                                                               round(0.99 * (len(ordered) - 1)))]}


async def _first_token_s(client: httpx.AsyncClient, model: str, prompt: str, max_tokens: int, sent: float) -> float:
    """Stream one answer to its end; returns the seconds to its first text."""
    body = {"model": model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "ignore_eos": True,
            "stream": True}
    first = None
    async with client.stream("POST", "/v1/completions", json=body) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if first is None and line.startswith("data: {") and '"text":""' not in line.replace(" ", ""):
                first = time.perf_counter()
    if first is None:
        raise RuntimeError(f"{client.base_url}: an answer without text")
    return first - sent
