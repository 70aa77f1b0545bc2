"""POST invalidate (selectors, dry run) and POST flush (explicit confirmation)."""

import time

from admin_keys import GLOBEX_KEY

ACME = ["How do I reverse a list in Python?", "How can I reverse a Python list in place?",
        "What is the capital of France?", "What is a closure in javascript?"]


def fill(gateway) -> None:
    for q in ACME:
        gateway.ask(q, semgate={"no_cache": True})  # stored even when a paraphrase is already there
    gateway.ask("What is the capital of Peru?", key=GLOBEX_KEY)


def total(gateway) -> int:
    return gateway.ok("GET", "/entries")["total"]


def test_dry_run_counts_and_lists_without_deleting(gateway_cached):
    fill(gateway_cached)
    dry = gateway_cached.ok("POST", "/invalidate", json={"category": "code", "dry_run": True})
    assert (dry["matched"], dry["deleted"], dry["dry_run"]) == (3, 0, True)
    listed = {e["id"] for e in gateway_cached.ok("GET", "/entries", params={"category": "code"})["data"]}
    assert set(dry["ids"]) == listed and dry["ids_truncated"] is False
    assert total(gateway_cached) == 5
    assert gateway_cached.ask(ACME[0]).headers["x-semgate-cache"] == "hit"


def test_invalidate_by_tenant_category_and_age(gateway_cached):
    fill(gateway_cached)
    assert gateway_cached.ok("POST", "/invalidate", json={"older_than_s": 3600})["matched"] == 0
    time.sleep(0.3)
    assert gateway_cached.ok("POST", "/invalidate", json={"older_than_s": 0.2, "dry_run": True})["matched"] == 5
    done = gateway_cached.ok("POST", "/invalidate", json={"tenant": "globex"})
    assert (done["matched"], done["deleted"]) == (1, 1)
    done = gateway_cached.ok("POST", "/invalidate", json={"tenant": "acme", "category": "geography"})
    assert done["deleted"] == 1
    assert {e["category"] for e in gateway_cached.ok("GET", "/entries")["data"]} == {"code"}
    assert gateway_cached.ask(ACME[2]).headers["x-semgate-cache"] == "miss"
    assert gateway_cached.ask(ACME[3]).headers["x-semgate-cache"] == "hit"


def test_invalidate_by_text_similarity(gateway_cached):
    fill(gateway_cached)
    body = {"similar_to": "reverse a list in python", "min_similarity": 0.8}
    dry = gateway_cached.ok("POST", "/invalidate", json={**body, "dry_run": True})
    by_id = {e["id"]: e["query_text"] for e in gateway_cached.ok("GET", "/entries")["data"]}
    assert sorted(by_id[i] for i in dry["ids"]) == sorted(ACME[:2])
    assert gateway_cached.ok("POST", "/invalidate", json=body)["deleted"] == 2
    assert total(gateway_cached) == 3
    assert gateway_cached.ask(ACME[0]).headers["x-semgate-cache"] == "miss"


def test_invalidate_needs_a_selector(gateway_cached):
    for body in ({}, {"dry_run": True}):
        response = gateway_cached.admin("POST", "/invalidate", json=body)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "missing_selector"


def test_flush_needs_its_confirmation_then_empties_the_cache(gateway_cached):
    fill(gateway_cached)
    for body in (None, {}, {"confirm": "yes"}, {"confirm": "FLUSH"}):
        response = gateway_cached.admin("POST", "/flush", json=body)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["param"] == "confirm"
    assert total(gateway_cached) == 5
    assert gateway_cached.ok("POST", "/flush", json={"confirm": "flush"}) == {"deleted": 5}
    assert total(gateway_cached) == 0
    stats = gateway_cached.ok("GET", "/stats")
    assert stats["entries"]["total"] == 0 and stats["entries"]["indexed"] == 0
    assert gateway_cached.ask(ACME[0]).headers["x-semgate-cache"] == "miss"
