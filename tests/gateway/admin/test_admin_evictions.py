"""Quota evictions are visible to operators: counted in /metrics, and the quota holds in stats."""

import httpx
from admin_keys import ADMIN_TOKEN
from prometheus_client.parser import text_string_to_metric_families


def evictions(url: str) -> dict[tuple[str, str], float]:
    text = httpx.get(f"{url}/metrics", headers={"authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30).text
    return {(s.labels["category"], s.labels["reason"]): s.value
            for family in text_string_to_metric_families(text) if family.name == "semgate_cache_evictions"
            for s in family.samples}


def test_quota_evictions_are_counted_in_metrics(start_gateway, policy_file):
    policy = policy_file.read_text()
    policy_file.write_text(policy.replace("    keywords: [capital, country, river]\n",
                                          "    keywords: [capital, country, river]\n    max_entries: 2\n"))
    gw = start_gateway()
    for river in ("Nile", "Amazon", "Danube", "Rhine"):
        response = gw.ask(f"which country is the {river} river in")
        assert response.headers["x-semgate-category"] == "geography"
    assert evictions(gw.url)[("geography", "evicted")] == 2
    assert gw.ok("GET", "/stats")["entries"]["by_category"]["geography"] == 2
