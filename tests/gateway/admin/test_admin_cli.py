"""`semgate admin ...` over the same API, against a running gateway."""

import json

import pytest
from admin_keys import POLICY

from gateway.cli import main


@pytest.fixture
def admin_cli(gateway_cached, capsys):
    def run(*args: str) -> tuple[int, str, str]:
        code = main(["admin", "--url", gateway_cached.url, "--token-env", "SEMGATE_TEST_ADMIN_TOKEN", *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_stats_and_entries(gateway_cached, admin_cli):
    gateway_cached.ask("How do I reverse a list in Python?")
    gateway_cached.ask("How do I reverse a list in Python?")
    gateway_cached.ask("What is the capital of France?")
    code, out, _ = admin_cli("stats")
    assert code == 0
    assert "requests 3  hits 1  misses 2" in out and "hit rate 33.3%" in out
    assert any(line.split()[:2] == ["code", "2"] for line in out.splitlines())
    code, out, _ = admin_cli("stats", "--json")
    assert json.loads(out)["hits"] == 1

    code, out, _ = admin_cli("entries", "list", "--category", "geography")
    assert code == 0 and "What is the capital of France?" in out and "1 of 1" in out
    code, out, _ = admin_cli("--json", "entries", "search", "reverse a python list", "-k", "1")
    [found] = json.loads(out)["data"]
    assert found["query_text"] == "How do I reverse a list in Python?"
    code, out, _ = admin_cli("entries", "get", found["id"])
    assert json.loads(out)["response"]["choices"][0]["message"]["content"].startswith("Echo:")
    assert admin_cli("entries", "delete", found["id"])[1].strip() == f"deleted {found['id']}"
    code, _, err = admin_cli("entries", "get", found["id"])
    assert code == 1 and "HTTP 404" in err


def test_invalidate_and_flush(gateway_cached, admin_cli):
    gateway_cached.ask("How do I reverse a list in Python?")
    gateway_cached.ask("What is the capital of France?")
    code, out, _ = admin_cli("invalidate", "--category", "code", "--dry-run")
    assert code == 0 and out.startswith("would delete 1 entries (dry run)")
    assert admin_cli("invalidate", "--similar-to", "capital of France", "--min-similarity", "0.9")[1].strip() == \
        "deleted 1 of 1 matching entries"
    assert admin_cli("flush", "--yes")[1].strip() == "deleted 1 entries"
    code, _, err = admin_cli("invalidate")
    assert code == 1 and "at least one selector" in err


def test_policies_get_check_reload(gateway_cached, admin_cli, tmp_path):
    code, out, err = admin_cli("policies", "get")
    assert code == 0 and out == POLICY and "version 1" in err
    bad = tmp_path / "bad.yaml"
    bad.write_text(POLICY.replace("ttl_seconds: 3600", "ttl_seconds: -5"))
    code, out, _ = admin_cli("policies", "check", str(bad))
    assert code == 1 and f"{bad}:7:16: defaults.ttl_seconds:" in out
    code, _, err = admin_cli("policies", "reload", str(bad))
    assert code == 1 and "version 1 stays in force" in err
    good = tmp_path / "good.yaml"
    good.write_text(POLICY.replace("similarity_threshold: 0.86", "similarity_threshold: 0.88"))
    assert admin_cli("policies", "check", str(good))[0] == 0
    code, out, _ = admin_cli("policies", "reload", str(good), "--base-version", "1")
    assert code == 0 and out.strip() == "policy version 2 is in force"
    assert gateway_cached.ok("GET", "/stats")["effective"]["code"]["similarity_threshold"] == 0.88


def test_missing_token_and_unreachable_gateway(monkeypatch, capsys):
    monkeypatch.delenv("SEMGATE_ADMIN_TOKEN", raising=False)
    assert main(["admin", "stats"]) == 2
    assert "set SEMGATE_ADMIN_TOKEN" in capsys.readouterr().err
    monkeypatch.setenv("SEMGATE_ADMIN_TOKEN", "t")
    assert main(["admin", "--url", "http://127.0.0.1:9", "stats"]) == 1
    assert "cannot reach http://127.0.0.1:9" in capsys.readouterr().err
