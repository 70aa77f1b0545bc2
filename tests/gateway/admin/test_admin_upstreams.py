"""GET upstreams: health, in-flight requests, recent latency, error and throttle rates."""

import threading
import time

from gateway_setup import control


def upstream(gateway) -> dict:
    [echo] = gateway.ok("GET", "/upstreams")["data"]
    return echo


def test_idle_then_healthy_with_latency(gateway_plain):
    echo = upstream(gateway_plain)
    assert (echo["name"], echo["health"], echo["models"], echo["requests"]) == ("echo", "idle", ["echo-1"], 0)
    for i in range(3):
        gateway_plain.ask(f"question {i}")
    echo = upstream(gateway_plain)
    assert (echo["health"], echo["requests"], echo["errors"], echo["in_flight"]) == ("ok", 3, 0, 0)
    assert echo["recent"]["count"] == 3 and echo["recent"]["error_rate"] == 0
    assert 0 < echo["recent"]["p50_ms"] <= echo["recent"]["p99_ms"]
    assert echo["base_url"].endswith("/v1") and echo["capacity"] == 32
    [server] = echo["backends"]
    assert (server["url"], server["healthy"], server["in_flight"]) == (echo["base_url"], True, 0)


def test_errors_and_throttling_show_in_the_rates(gateway_plain, echo):
    gateway_plain.ask("fine")
    control(echo, fault="429", fault_count=1)
    assert gateway_plain.ask("throttled").status_code == 429
    control(echo, fault="500", fault_count=2)
    assert gateway_plain.ask("broken").status_code == 500
    assert gateway_plain.ask("broken again").status_code == 500
    view = upstream(gateway_plain)
    assert (view["requests"], view["errors"], view["throttled"]) == (4, 3, 1)
    assert view["recent"]["error_rate"] == 0.75 and view["recent"]["throttle_rate"] == 0.25
    assert view["health"] == "down"


def test_in_flight_counts_open_requests(gateway_plain, echo):
    control(echo, first_token_delay_s=1.5)
    slow = threading.Thread(target=gateway_plain.ask, args=("slow one",))
    slow.start()
    deadline = time.monotonic() + 5
    while upstream(gateway_plain)["in_flight"] != 1:
        assert time.monotonic() < deadline, "the slow request never showed as in flight"
        time.sleep(0.05)
    slow.join()
    assert upstream(gateway_plain)["in_flight"] == 0
