"""Policies over the admin API: read, validate (changes nothing), replace with hot reload;
an invalid replacement is refused with its errors and the old policy stays in force."""

from admin_keys import POLICY

INVALID = POLICY.replace("similarity_threshold: 0.86", "similarity_threshold: 1.7").replace(
    "ttl_seconds: 3600", "ttl_seconds: soon")
LOOSER = POLICY.replace("similarity_threshold: 0.86", "similarity_threshold: 0.8")


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_get_returns_the_text_in_force_and_its_version(gateway_cached):
    policy = gateway_cached.ok("GET", "/policies")
    assert policy["version"] == 1
    assert policy["yaml"] == POLICY
    assert policy["source"] == str(gateway_cached.policy_path)
    assert policy["categories"] == ["code", "geography", "default"]


def test_validate_reports_every_problem_with_its_line_and_changes_nothing(gateway_cached):
    checked = gateway_cached.ok("POST", "/policies/validate", json={"yaml": INVALID})
    assert checked["valid"] is False
    found = {(e["line"], e["path"]) for e in checked["errors"]}
    assert (line_of(INVALID, "similarity_threshold: 1.7"), "categories.code.similarity_threshold") in found
    assert (line_of(INVALID, "ttl_seconds: soon"), "defaults.ttl_seconds") in found
    assert gateway_cached.ok("POST", "/policies/validate", json={"yaml": LOOSER}) == {
        "valid": True, "errors": [], "categories": ["code", "geography", "default"]}
    broken = gateway_cached.ok("POST", "/policies/validate", json={"yaml": "categories: [\n"})
    assert broken["valid"] is False and broken["errors"][0]["line"] is not None
    assert gateway_cached.ok("GET", "/policies")["version"] == 1


def test_rejected_policy_is_422_and_the_old_one_stays_in_force(gateway_cached):
    response = gateway_cached.admin("PUT", "/policies", json={"yaml": INVALID})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_policy" and error["param"] == "yaml" and "version 1 stays" in error["message"]
    assert {i["path"] for i in error["issues"]} >= {"categories.code.similarity_threshold", "defaults.ttl_seconds"}
    assert all(i["line"] for i in error["issues"])
    assert gateway_cached.ok("GET", "/policies")["version"] == 1
    stats = gateway_cached.ok("GET", "/stats")
    assert stats["policy_version"] == 1
    assert stats["effective"]["code"]["similarity_threshold"] == 0.86


def test_replace_hot_reloads_and_version_guards_concurrent_edits(gateway_cached):
    applied = gateway_cached.ok("PUT", "/policies", json={"yaml": LOOSER, "base_version": 1})
    assert applied == {"accepted": True, "version": 2}
    policy = gateway_cached.ok("GET", "/policies")
    assert (policy["version"], policy["yaml"], policy["source"]) == (2, LOOSER, "<admin>")
    assert gateway_cached.ok("GET", "/stats")["effective"]["code"]["similarity_threshold"] == 0.8
    stale = gateway_cached.admin("PUT", "/policies", json={"yaml": POLICY, "base_version": 1})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "version_conflict"
    assert gateway_cached.ok("GET", "/policies")["version"] == 2


def test_policy_routes_without_the_cache(gateway_plain):
    assert gateway_plain.admin("GET", "/policies").status_code == 409
    assert gateway_plain.ok("POST", "/policies/validate", json={"yaml": POLICY})["valid"] is True
