"""IC-Cache: does a small model answer like the strong one with semgate's examples, and what does routing save?

The task (loadtest/benches/_incontext_task.py) has exact reference answers in made-up house
formats. The strong model's past answers are put in the cache first (seeding: the questions
go through the gateway pinned to the strong model). Then every test question is answered by

  none      the small model alone (straight to the backend)
  random    the small model with k random stored examples (straight to the backend)
  semgate   the small model with the examples semgate chooses (gateway, pinned to the small model)
  routed    whichever model semgate's router picks (gateway, no pin), before any feedback
  routed_fb the same after a feedback phase: other questions of the same families answered by the
            small model with semgate's examples, each scored +1 (exact) or -1 through
            POST /v1/feedback, which moves the utility of the examples used and teaches the router
  routed_rp the same after `semgate replay` (gateway/incontext/replay.py) re-scored every stored
            example with the small model and pruned the ones that hurt
  strong    the strong model (gateway, pinned to the strong model)

Test requests carry Cache-Control: no-cache, no-store: every one is a miss and none becomes an
example. When no strong model is reachable, the strong model is a stand-in that answers with
the stored reference answers after a simulated latency (_reference_oracle.py); the bench says so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import yaml
from tqdm import tqdm

from gateway.config import load_config
from gateway.incontext.examples import Example
from gateway.incontext.injection import inject
from gateway.incontext.replay import replay
from loadtest.benches._incontext_task import Item, build, correct
from loadtest.benches._reference_oracle import MODEL as ORACLE_MODEL
from loadtest.benches._reference_oracle import ReferenceOracle
from loadtest.machine import describe_machine
from loadtest.services import Services, free_port

DESCRIPTION = "IC-Cache: small-model accuracy with no / random / semgate examples; routed mix vs all-strong (accuracy, cost, latency)"
# SEMGATE_SMOKE=1 caps these options (loadtest/smoke.py)
SMOKE = {"stored_per_family": 1, "feedback_per_family": 1, "tests_per_family": 1, "max_tokens": 4}
CONDITIONS = ("none", "random", "semgate", "routed", "routed_fb", "routed_rp", "strong")
SMALL, STRONG = "small", "strong"
_NO_STORE = {"cache-control": "no-cache, no-store"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stored-per-family", type=int, default=6, help="strong answers seeded per task family")
    parser.add_argument("--feedback-per-family", type=int, default=4, help="questions per family answered with feedback")
    parser.add_argument("--tests-per-family", type=int, default=10, help="test questions per family (5 families)")
    parser.add_argument("--k", type=int, default=2, help="examples per request (random and semgate)")
    parser.add_argument("--max-tokens", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--small-cost", type=float, default=0.05, help="small model's cost per 1k tokens")
    parser.add_argument("--strong-cost", type=float, default=1.0, help="strong model's cost per 1k tokens")
    parser.add_argument("--strong-url", help="an OpenAI-compatible base URL (…/v1) of a real strong model")
    parser.add_argument("--strong-model", default="gpt-4o-mini", help="its model name")
    parser.add_argument("--strong-first-token-ms", type=float, default=400.0,
                        help="stand-in strong model: simulated time to first token")
    parser.add_argument("--strong-ms-per-token", type=float, default=20.0, help="stand-in: simulated time per token")
    parser.add_argument("--backend-url", help="use this running bundled backend instead of starting one")
    parser.add_argument("--backend-model", default="smollm2-135m")
    parser.add_argument("--ready-timeout", type=float, default=600.0)
    parser.add_argument("--out", type=Path, default=Path("artifacts/incontext"))
    parser.add_argument("--json", action="store_true")


@dataclass
class Answer:
    item: Item
    text: str
    seconds: float
    tokens: int
    model: str  # SMALL or STRONG
    examples: int
    response_id: str = ""

    @property
    def ok(self) -> bool:
        return correct(self.text, self.item.reference)


def run(args: argparse.Namespace) -> int:
    stored, feedback, tests = build(args.stored_per_family, args.feedback_per_family, args.tests_per_family,
                                    args.seed)
    strong_note = _strong_note(args)
    print(f"semgate bench incontext: {strong_note}", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    # Its gateway.yaml, cache.db and server logs; absolute, since the gateway is started inside it.
    work = Path(tempfile.mkdtemp(dir=args.out.absolute(), prefix="run-"))
    oracle = ReferenceOracle({i.question: i.reference for i in (*stored, *tests)}, args.strong_first_token_ms / 1000,
                             args.strong_ms_per_token / 1000)
    with Services(work / "logs") as services, oracle:
        backend = args.backend_url or services.start(
            "backend", ["gpu_backend", "--model", args.backend_model, "--host", "127.0.0.1", "--port",
                        str(port := free_port())], port, args.ready_timeout)
        strong_url, strong_model = (args.strong_url.rstrip("/").removesuffix("/v1"), args.strong_model) \
            if "stand-in" not in strong_note else (oracle.url, ORACLE_MODEL)
        gateway = _start_gateway(services, work, args, backend, strong_url, strong_model)
        with httpx.Client(timeout=600) as client:
            for item in tqdm(stored, desc="seeding strong answers", file=sys.stderr):
                _through_gateway(client, gateway, item, pin=STRONG, store=True)
            answers, replayed = _answer_all(client, args, backend, gateway, stored, feedback, tests,
                                            work / "gateway.yaml")
    result = _report(args, answers, strong_note, len(stored))
    result["replay"] = replayed
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "incontext.json").write_text(json.dumps(result, indent=2))
    result["plot"] = str(_plot(result, args.out / "incontext.png"))
    print(json.dumps(result, indent=2) if args.json else _table(result))
    return 0


def _strong_note(args: argparse.Namespace) -> str:
    if args.strong_url:
        try:
            httpx.get(f"{args.strong_url.rstrip('/')}/models", timeout=5).raise_for_status()
            return f"strong model: {args.strong_model} at {args.strong_url}"
        except httpx.HTTPError as error:
            reason = f"{args.strong_url} unreachable ({type(error).__name__})"
    else:
        reason = "none configured (--strong-url)"
    return (f"no strong model reachable: {reason}; the strong model is a stand-in that answers with the stored "
            f"reference answers after a simulated {args.strong_first_token_ms:.0f} ms + "
            f"{args.strong_ms_per_token:.0f} ms/token")


def _start_gateway(services: Services, work: Path, args: argparse.Namespace, backend: str, strong_url: str,
                   strong_model: str) -> str:
    policies = {"defaults": {"similarity_threshold": 0.9, "incontext": {"enabled": True, "k": args.k,
                                                                        "token_budget": 512}},
                "categories": [{"name": "default", "description": "Everything."}]}
    (work / "policies.yaml").write_text(yaml.safe_dump(policies))
    port = free_port()
    config = {
        "listen": f"127.0.0.1:{port}", "backend": {"enabled": False},
        "cache": {"enabled": True, "store": str(work / "cache.db"), "policies": str(work / "policies.yaml")},
        "upstreams": [{"name": "bundled", "base_url": f"{backend.rstrip('/')}/v1", "models": [args.backend_model],
                       "semgate_headers": True,
                       "timeouts": {"connect_s": 2, "read_s": 600}},
                      {"name": "strong", "base_url": f"{strong_url}/v1", "models": [strong_model]}],
        "models": [{"name": STRONG, "tier": "strong", "serves": strong_model, "cost_per_1k_tokens": args.strong_cost},
                   {"name": SMALL, "tier": "small", "serves": args.backend_model,
                    "cost_per_1k_tokens": args.small_cost}],
        "incontext": {"router": {"exploration": 0.0}},  # a measurement: no exploratory picks
    }
    (work / "gateway.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    command = ["gateway", "gateway", "--config", str(work / "gateway.yaml"), "--log-level", "warning"]
    return services.start("gateway", command, port, args.ready_timeout, cwd=work)


def _answer_all(client: httpx.Client, args, backend: str, gateway: str, stored: list[Item], feedback: list[Item],
                tests: list[Item], config_path: Path) -> tuple[dict[str, list[Answer]], dict]:
    rng = random.Random(args.seed + 1)
    answers: dict[str, list[Answer]] = {c: [] for c in CONDITIONS}
    total = len(tests) * len(CONDITIONS) + len(feedback)
    with tqdm(total=total, desc="answering", unit="req", file=sys.stderr) as progress:
        for item in tests:
            shown = rng.sample(stored, args.k)
            answers["none"].append(_direct(client, backend, args, item, []))
            answers["random"].append(_direct(client, backend, args, item, shown))
            answers["semgate"].append(_through_gateway(client, gateway, item, pin=SMALL, max_tokens=args.max_tokens))
            answers["routed"].append(_through_gateway(client, gateway, item, pin=None, max_tokens=args.max_tokens))
            answers["strong"].append(_through_gateway(client, gateway, item, pin=STRONG, max_tokens=args.max_tokens))
            progress.update(len(CONDITIONS) - 2)
        for item in feedback:  # stored (so the completion id is known to /v1/feedback), then judged
            answer = _through_gateway(client, gateway, item, pin=SMALL, store=True, max_tokens=args.max_tokens)
            client.post(f"{gateway}/v1/feedback", json={"response_id": answer.response_id,
                                                        "score": 1 if answer.ok else -1}).raise_for_status()
            progress.update()
        for item in tests:
            answers["routed_fb"].append(_through_gateway(client, gateway, item, pin=None, max_tokens=args.max_tokens))
            progress.update()
        # Beside the running gateway, as an operator would run it.
        scores = asyncio.run(replay(load_config(config_path), argparse.Namespace(
            examples=10_000, probes=2, model=SMALL, tenant=None, max_tokens=args.max_tokens, prune_below=0.0,
            dry_run=False)))
        for item in tests:
            answers["routed_rp"].append(_through_gateway(client, gateway, item, pin=None, max_tokens=args.max_tokens))
            progress.update()
    replayed = {"examples": len(scores), "pruned": sum(s.pruned for s in scores),
                "pruned_by_family": _pruned_by_family(scores, stored)}
    return answers, replayed


def _pruned_by_family(scores, stored: list[Item]) -> dict[str, int]:
    family_of = {i.question: i.family for i in stored}
    counts: dict[str, int] = {}
    for s in scores:
        if s.pruned:
            counts[family_of.get(s.question, "?")] = counts.get(family_of.get(s.question, "?"), 0) + 1
    return counts


def _direct(client: httpx.Client, backend: str, args, item: Item, shown: list[Item]) -> Answer:
    examples = [Example(f"r{i}", s.question, s.reference, 0.0, 0.0, np.zeros(1)) for i, s in enumerate(shown)]
    body = inject({"model": args.backend_model, "messages": [{"role": "user", "content": item.question}]},
                  examples, mark=False)
    started = time.perf_counter()
    response = client.post(f"{backend.rstrip('/')}/v1/chat/completions",
                           json={**body, "max_tokens": args.max_tokens, "temperature": 0})
    response.raise_for_status()
    data = response.json()
    return Answer(item, data["choices"][0]["message"]["content"], time.perf_counter() - started,
                  data["usage"]["total_tokens"], SMALL, len(shown))


def _through_gateway(client: httpx.Client, gateway: str, item: Item, pin: str | None, store: bool = False,
                     max_tokens: int = 16) -> Answer:
    headers = {"cache-control": "no-cache"} if store else dict(_NO_STORE)
    if pin:
        headers["x-semgate-model"] = pin
    started = time.perf_counter()
    response = client.post(f"{gateway}/v1/chat/completions", headers=headers,
                           json={"model": STRONG, "max_tokens": max_tokens, "temperature": 0,
                                 "messages": [{"role": "user", "content": item.question}]})
    response.raise_for_status()
    data = response.json()
    examples = response.headers.get("x-semgate-examples", "")
    return Answer(item, data["choices"][0]["message"]["content"], time.perf_counter() - started,
                  data["usage"]["total_tokens"], response.headers["x-semgate-model"],
                  len(examples.split(",")) if examples else 0, data["id"])


def _summary(answers: list[Answer], args) -> dict:
    cost = {SMALL: args.small_cost, STRONG: args.strong_cost}
    latencies = [a.seconds for a in answers]
    families = sorted({a.item.family for a in answers})
    return {
        "accuracy": float(np.mean([a.ok for a in answers])),
        "by_family": {f: float(np.mean([a.ok for a in answers if a.item.family == f])) for f in families},
        "cost": sum(a.tokens * cost[a.model] / 1000 for a in answers),
        "mean_latency_s": float(np.mean(latencies)),
        "p50_latency_s": float(np.percentile(latencies, 50)),
        "p90_latency_s": float(np.percentile(latencies, 90)),
        "small_share": float(np.mean([a.model == SMALL for a in answers])),
        "mean_examples": float(np.mean([a.examples for a in answers])),
    }


def _report(args, answers: dict[str, list[Answer]], strong_note: str, seeded: int) -> dict:
    summaries = {c: _summary(a, args) for c, a in answers.items()}
    routed, strong = summaries["routed_rp"], summaries["strong"]
    return {
        "setup": {"task": "house formats (5 families, exact answers)", "seeded_strong_answers": seeded,
                  "feedback_questions": args.feedback_per_family * 5,
                  "test_questions": len(answers["none"]), "k": args.k, "max_tokens": args.max_tokens,
                  "small_model": args.backend_model, "strong_model": strong_note,
                  "cost_per_1k_tokens": {SMALL: args.small_cost, STRONG: args.strong_cost},
                  "machine": describe_machine()},
        "conditions": summaries,
        "routed_rp_vs_strong": {
            "accuracy_ratio": routed["accuracy"] / strong["accuracy"] if strong["accuracy"] else None,
            "cost_ratio": routed["cost"] / strong["cost"] if strong["cost"] else None,
            "mean_latency_ratio": routed["mean_latency_s"] / strong["mean_latency_s"],
            "p50_latency_ratio": routed["p50_latency_s"] / strong["p50_latency_s"],
        },
        "samples": [{"question": a.item.question, "reference": a.item.reference,
                     **{c: answers[c][i].text for c in CONDITIONS}} for i, a in enumerate(answers["none"][:10])],
    }


def _table(result: dict) -> str:
    lines = [f"strong: {result['setup']['strong_model']}",
             f"{'condition':10} {'accuracy':>9} {'cost':>9} {'mean s':>8} {'p50 s':>8} {'small %':>8} {'examples':>9}"]
    for name, s in result["conditions"].items():
        lines.append(f"{name:10} {s['accuracy']:9.1%} {s['cost']:9.4f} {s['mean_latency_s']:8.3f} "
                     f"{s['p50_latency_s']:8.3f} {s['small_share']:8.0%} {s['mean_examples']:9.2f}")
    lines.append(f"replay: {result['replay']['examples']} examples re-scored, {result['replay']['pruned']} pruned "
                 f"{result['replay']['pruned_by_family']}")
    r = result["routed_rp_vs_strong"]
    lines.append(f"routed (after feedback and replay) / all-strong: accuracy x{r['accuracy_ratio']:.2f}, cost x{r['cost_ratio']:.3f}, "
                 f"mean latency x{r['mean_latency_ratio']:.2f}, p50 latency x{r['p50_latency_ratio']:.2f}")
    return "\n".join(lines)


def _plot(result: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(result["conditions"])
    conditions = result["conditions"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, key, title in zip(axes, ("accuracy", "cost", "mean_latency_s"),
                              ("exact-match accuracy", "cost (relative units)", "mean latency (s)")):
        ax.bar(names, [conditions[n][key] for n in names],
               color=["#999", "#bbb", "#4a8", "#48c", "#26a", "#137", "#c84"])
        ax.set_title(title)
        ax.tick_params(axis="x", rotation=30)
    fig.suptitle("IC-Cache on SmolLM2-135M (strong: " + ("stand-in" if "stand-in" in result["setup"]["strong_model"]
                                                          else "real") + ")")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
