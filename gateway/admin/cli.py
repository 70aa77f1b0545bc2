"""`semgate admin ...`: the admin API from a shell.

It talks HTTP to /admin/v1 of a running gateway (--url, else $SEMGATE_URL, else
http://127.0.0.1:8080) with the admin token from $SEMGATE_ADMIN_TOKEN (or the variable
--token-env names). The token is never taken on the command line, where `ps` shows it.
"""

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_POLICY_FILE = Path("config/policies.yaml")


class AdminError(Exception):
    pass


def add_admin_parser(commands: argparse._SubParsersAction) -> None:
    admin = commands.add_parser(
        "admin",
        help="inspect and steer a running gateway through its admin API",
        description="Inspect and steer a running gateway through its admin API.",
    )
    _common(admin, None, "SEMGATE_ADMIN_TOKEN", False)
    admin.set_defaults(run=run_admin)
    sub = admin.add_subparsers(dest="admin_command", required=True, metavar="COMMAND")

    _leaf(sub, "stats", "requests, hit rates, latencies, tokens saved, effective thresholds")

    entries = sub.add_parser("entries", help="list, search, show or delete cache entries")
    esub = entries.add_subparsers(dest="entries_command", required=True, metavar="ACTION")
    listing = _leaf(esub, "list", "entries, newest first")
    _filters(listing)
    listing.add_argument("--contains", help="only questions containing this text")
    listing.add_argument("--limit", type=int, default=20)
    listing.add_argument("--offset", type=int, default=0)
    search = _leaf(esub, "search", "entries most similar in meaning to TEXT")
    search.add_argument("text")
    search.add_argument("--tenant")
    search.add_argument("--category")
    search.add_argument("-k", type=int, default=10, help="results (default 10)")
    _leaf(esub, "get", "one entry, request and response included").add_argument("id")
    _leaf(esub, "delete", "delete one entry").add_argument("id")

    inv = _leaf(sub, "invalidate", "delete the entries matching every given selector")
    _filters(inv)
    inv.add_argument("--older-than", type=float, metavar="SECONDS", help="entries created at least this long ago")
    inv.add_argument("--similar-to", metavar="TEXT", help="entries whose question means much the same")
    inv.add_argument("--min-similarity", type=float, help="cosine floor for --similar-to (default 0.85)")
    inv.add_argument("--dry-run", action="store_true", help="count and list, delete nothing")

    _leaf(sub, "flush", "delete every entry").add_argument(
        "--yes", action="store_true", required=True, help="confirm: every entry is deleted"
    )

    policies = sub.add_parser("policies", help="show, check or replace the category policy")
    psub = policies.add_subparsers(dest="policies_command", required=True, metavar="ACTION")
    _leaf(psub, "get", "print the policy in force (YAML)")
    _leaf(psub, "check", "validate a policy file against the gateway; changes nothing").add_argument("file", type=Path)
    reload = _leaf(psub, "reload", "replace the policy in force with FILE (hot reload)")
    reload.add_argument(
        "file", type=Path, nargs="?", default=DEFAULT_POLICY_FILE, help=f"policy file (default {DEFAULT_POLICY_FILE})"
    )
    reload.add_argument("--base-version", type=int, help="refuse unless this version is still in force")


def _leaf(sub: argparse._SubParsersAction, name: str, help_text: str) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".")
    # The common options work after the command too; SUPPRESS keeps what was given before it.
    _common(parser, argparse.SUPPRESS, argparse.SUPPRESS, argparse.SUPPRESS)
    return parser


def _common(parser: argparse.ArgumentParser, url: Any, token_env: Any, json_out: Any) -> None:
    parser.add_argument("--url", default=url, help=f"gateway base URL (default: $SEMGATE_URL, else {DEFAULT_URL})")
    parser.add_argument(
        "--token-env",
        default=token_env,
        help="environment variable holding the admin token (default SEMGATE_ADMIN_TOKEN)",
    )
    parser.add_argument("--json", action="store_true", default=json_out, help="print the API's JSON answer as it is")


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tenant")
    parser.add_argument("--category")
    parser.add_argument("--model")


def run_admin(args: argparse.Namespace) -> int:
    token = os.environ.get(args.token_env)
    if not token:
        print(f"semgate admin: set {args.token_env} to the gateway's admin token", file=sys.stderr)
        return 2
    url = (args.url or os.environ.get("SEMGATE_URL") or DEFAULT_URL).rstrip("/")
    with httpx.Client(base_url=f"{url}/admin/v1", headers={"authorization": f"Bearer {token}"}, timeout=60) as client:
        try:
            return _dispatch(args, client)
        except AdminError as exc:
            print(f"semgate admin: {exc}", file=sys.stderr)
            return 1
        except httpx.HTTPError as exc:
            print(f"semgate admin: cannot reach {url} ({type(exc).__name__}: {exc})", file=sys.stderr)
            return 1


def _dispatch(args: argparse.Namespace, client: httpx.Client) -> int:
    command = args.admin_command
    if command == "stats":
        return _show(args, _call(client, "GET", "/stats"), _print_stats)
    if command == "entries":
        action = args.entries_command
        if action == "list":
            params = _present(
                tenant=args.tenant,
                category=args.category,
                model=args.model,
                contains=args.contains,
                limit=args.limit,
                offset=args.offset,
            )
            return _show(args, _call(client, "GET", "/entries", params=params), _print_page)
        if action == "search":
            params = _present(q=args.text, tenant=args.tenant, category=args.category, k=args.k)
            return _show(args, _call(client, "GET", "/entries/search", params=params), _print_page)
        if action == "get":
            return _show(args, _call(client, "GET", f"/entries/{args.id}"), _print_json)
        return _show(args, _call(client, "DELETE", f"/entries/{args.id}"), lambda a: print(f"deleted {a['id']}"))
    if command == "invalidate":
        body = _present(
            tenant=args.tenant,
            category=args.category,
            model=args.model,
            older_than_s=args.older_than,
            similar_to=args.similar_to,
            min_similarity=args.min_similarity,
            dry_run=args.dry_run,
        )
        return _show(args, _call(client, "POST", "/invalidate", body=body), _print_invalidation)
    if command == "flush":
        return _show(
            args,
            _call(client, "POST", "/flush", body={"confirm": "flush"}),
            lambda a: print(f"deleted {a['deleted']} entries"),
        )
    return _policies(args, client)


def _policies(args: argparse.Namespace, client: httpx.Client) -> int:
    action = args.policies_command
    if action == "get":
        answer = _call(client, "GET", "/policies")
        if args.json:
            _print_json(answer)
            return 0
        print(f"# version {answer['version']} from {answer['source']}", file=sys.stderr)
        if answer["yaml"] is None:
            raise AdminError("the policy in force has no text on record (its file changed since it was loaded)")
        sys.stdout.write(answer["yaml"])
        return 0
    text = _read(args.file)
    if action == "check":
        answer = _call(client, "POST", "/policies/validate", body={"yaml": text})
        if args.json:
            _print_json(answer)
        elif answer["valid"]:
            print(f"{args.file}: valid ({len(answer['categories'])} categories: {', '.join(answer['categories'])})")
        else:
            _print_issues(args.file, answer["errors"])
        return 0 if answer["valid"] else 1
    body = _present(yaml=text, base_version=args.base_version)
    response = client.request("PUT", "/policies", json=body)
    answer = response.json()
    if response.status_code == 422:
        if args.json:
            _print_json(answer)
        else:
            print(answer["error"]["message"], file=sys.stderr)
            _print_issues(args.file, answer["error"].get("issues", []))
        return 1
    answer = _checked(response)
    return _show(args, answer, lambda a: print(f"policy version {a['version']} is in force"))


def _call(client: httpx.Client, method: str, path: str, params: dict | None = None, body: dict | None = None) -> dict:
    return _checked(client.request(method, path, params=params, json=body))


def _checked(response: httpx.Response) -> dict:
    try:
        answer = response.json()
    except ValueError:
        raise AdminError(f"HTTP {response.status_code}: {response.text[:200]}") from None
    if response.status_code >= 400:
        error = answer.get("error", {}) if isinstance(answer, dict) else {}
        raise AdminError(f"HTTP {response.status_code}: {error.get('message', response.text[:200])}")
    return answer


def _present(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v is not False}


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AdminError(f"cannot read {path}: {exc.strerror}") from None


def _show(args: argparse.Namespace, answer: dict, printer: Callable[[dict], None]) -> int:
    (_print_json if args.json else printer)(answer)
    return 0


def _print_json(answer: Any) -> None:
    print(json.dumps(answer, indent=2, ensure_ascii=False))


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _print_stats(s: dict) -> None:
    saved = s["tokens_saved"]
    print(
        f"requests {s['requests']}  hits {s['hits']}  misses {s['misses']}  stale {s['stale']}  "
        f"bypasses {s['bypasses']}  store-skipped {s['store_skipped']}  errors {s['errors']}  "
        f"hit rate {s['hit_rate']:.1%}"
    )
    print(f"tokens saved {saved['total']} (prompt {saved['prompt']}, completion {saved['completion']})")
    for name in ("lookup_latency", "upstream_latency"):
        lat = s[name]
        print(
            f"{name.replace('_', ' ')} ms: p50 {_ms(lat['p50_ms'])}  p90 {_ms(lat['p90_ms'])}  "
            f"p99 {_ms(lat['p99_ms'])}  (last {lat['count']})"
        )
    mem = s["memory"]
    print(
        f"entries {s['entries']['total']} (indexed {s['entries']['indexed']})  "
        f"rss {mem['rss_bytes'] / 2**20:.0f} MiB  "
        f"policy version {s['policy_version']}"
    )
    print(f"\n{'category':<20}{'requests':>9}{'hit rate':>10}{'threshold':>11}{'ttl s':>10}{'entries':>9}")
    for name in sorted(set(s["by_category"]) | set(s["effective"])):
        tally = s["by_category"].get(name, {})
        eff = s["effective"].get(name, {})
        threshold = f"{eff['similarity_threshold']:.3f}" if eff else "-"
        ttl = f"{eff['ttl_seconds']:.0f}" if eff else "-"
        rate = f"{tally['hit_rate']:.1%}" if tally else "-"
        print(
            f"{name:<20}{tally.get('requests', 0):>9}{rate:>10}{threshold:>11}{ttl:>10}"
            f"{s['entries']['by_category'].get(name, 0):>9}"
        )


def _print_page(answer: dict) -> None:
    rows = answer["data"]
    if not rows:
        print("no entries")
    for e in rows:
        sim = f"{e['similarity']:.3f} " if "similarity" in e else ""
        age = time.time() - e["created_at"]
        print(
            f"{sim}{e['id']}  {e['category']:<16} {e['tenant']:<12} hits {e['hit_count']:<5} "
            f"{age / 60:6.0f} min  {e['query_text'][:70]}"
        )
    if "total" in answer:
        more = f", next --offset {answer['next_offset']}" if answer["next_offset"] is not None else ""
        print(f"{len(rows)} of {answer['total']}{more}")


def _print_invalidation(answer: dict) -> None:
    if answer["dry_run"]:
        print(f"would delete {answer['matched']} entries (dry run)")
        for entry_id in answer["ids"][:50]:
            print(f"  {entry_id}")
    else:
        print(f"deleted {answer['deleted']} of {answer['matched']} matching entries")


def _print_issues(file: Path, issues: list[dict]) -> None:
    for issue in issues:
        where = ":".join(str(p) for p in (file, issue.get("line"), issue.get("column")) if p is not None)
        path = f" {issue['path']}:" if issue.get("path") else ""
        allowed = f" (allowed: {issue['allowed']})" if issue.get("allowed") else ""
        print(f"{where}:{path} {issue['message']}{allowed}")
