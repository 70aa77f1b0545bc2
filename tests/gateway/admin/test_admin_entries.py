"""Entries: list with filters and paging, semantic search with similarity, get, delete."""

from admin_keys import GLOBEX_KEY

QUESTIONS = [
    "How do I reverse a list in Python?",
    "How do I sort a dictionary by value in Python?",
    "What is the capital of France?",
    "Which river flows through Cairo?",
    "What is a closure in javascript?",
]


def fill(gateway) -> None:
    for q in QUESTIONS:
        assert gateway.ask(q).headers["x-semgate-cache"] == "miss"
    assert gateway.ask("How do I reverse a list in Python?", key=GLOBEX_KEY).headers["x-semgate-cache"] == "miss"


def test_list_filters_and_pages_through_every_entry(gateway_cached):
    fill(gateway_cached)
    everything = gateway_cached.ok("GET", "/entries")
    assert everything["total"] == 6 and len(everything["data"]) == 6 and everything["next_offset"] is None
    assert everything["data"][0]["tenant"] == "globex"  # newest first

    seen, offset = [], 0
    while offset is not None:
        page = gateway_cached.ok("GET", "/entries", params={"limit": 4, "offset": offset})
        assert page["total"] == 6 and len(page["data"]) <= 4
        seen += [e["id"] for e in page["data"]]
        offset = page["next_offset"]
    assert len(seen) == len(set(seen)) == 6

    code = gateway_cached.ok("GET", "/entries", params={"category": "code", "tenant": "acme"})
    assert sorted(e["query_text"] for e in code["data"]) == sorted(QUESTIONS[i] for i in (0, 1, 4))
    assert gateway_cached.ok("GET", "/entries", params={"tenant": "globex"})["total"] == 1
    assert gateway_cached.ok("GET", "/entries", params={"model": "other"})["total"] == 0
    assert [e["query_text"] for e in gateway_cached.ok("GET", "/entries", params={"contains": "CAIRO"})["data"]] == [
        QUESTIONS[3]]
    entry = everything["data"][0]
    assert entry["answer_preview"] == "Echo: How do I reverse a list in Python?"
    assert entry["expired"] is False and entry["expires_at"] > entry["created_at"]


def test_search_ranks_by_meaning_and_shows_similarity(gateway_cached):
    fill(gateway_cached)
    found = gateway_cached.ok("GET", "/entries/search", params={"q": "reversing a python list", "k": 3})["data"]
    assert len(found) == 3
    assert found[0]["query_text"] == QUESTIONS[0]
    assert found[0]["similarity"] > 0.8
    assert [e["similarity"] for e in found] == sorted((e["similarity"] for e in found), reverse=True)
    geo = gateway_cached.ok("GET", "/entries/search", params={"q": "capital city of France", "category": "geography"})
    assert [e["category"] for e in geo["data"]] == ["geography", "geography"]
    assert geo["data"][0]["query_text"] == QUESTIONS[2]
    globex = gateway_cached.ok("GET", "/entries/search", params={"q": "reverse a list", "tenant": "globex"})["data"]
    assert [e["tenant"] for e in globex] == ["globex"]


def test_get_shows_request_and_response_and_delete_makes_it_a_miss(gateway_cached):
    fill(gateway_cached)
    gateway_cached.ask(QUESTIONS[2])  # a hit, counted on the entry
    [entry] = gateway_cached.ok("GET", "/entries", params={"contains": "France"})["data"]
    full = gateway_cached.ok("GET", f"/entries/{entry['id']}")
    assert full["request"]["messages"][-1]["content"] == QUESTIONS[2]
    assert full["response"]["choices"][0]["message"]["content"] == f"Echo: {QUESTIONS[2]}"
    assert full["hit_count"] == 1 and full["last_hit_at"] is not None

    assert gateway_cached.ok("DELETE", f"/entries/{entry['id']}") == {"id": entry["id"], "deleted": True}
    for method in ("GET", "DELETE"):
        missing = gateway_cached.admin(method, f"/entries/{entry['id']}")
        assert missing.status_code == 404 and missing.json()["error"]["param"] == "entry_id"
    assert gateway_cached.ask(QUESTIONS[2]).headers["x-semgate-cache"] == "miss"
    assert gateway_cached.ok("GET", "/stats")["top_entries"] == []  # the deleted entry left the list
