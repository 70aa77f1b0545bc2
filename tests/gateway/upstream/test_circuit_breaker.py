"""The circuit breaker's states on a clock the test moves, and its settings in gateway.yaml."""

import pytest

from gateway.upstream.circuit_breaker import CLOSED, HALF_OPEN, OPEN, BreakerSettings, CircuitBreaker
from gateway.config import ConfigError, parse_config


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def breaker(**settings) -> tuple[CircuitBreaker, Clock]:
    clock = Clock()
    return CircuitBreaker(BreakerSettings(**settings), clock=clock), clock


def test_opens_after_consecutive_failures_and_a_success_resets_the_count():
    b, _ = breaker(failures=3, cooldown_s=10)
    b.failed()
    b.failed()
    b.succeeded()
    b.failed()
    b.failed()
    assert b.state == CLOSED and b.refusal() is None
    b.failed()
    assert b.state == OPEN and b.opened == 1
    refusal = b.refusal()
    assert refusal.status == 503 and refusal.retry_after_header == "10"


def test_one_probe_after_the_cool_down_closes_it_on_success():
    b, clock = breaker(failures=1, cooldown_s=5)
    b.failed()
    clock.now += 4.2
    assert b.refusal().retry_after_header == "1"
    clock.now += 1
    assert b.refusal() is None and b.state == HALF_OPEN  # the probe
    assert b.refusal().status == 503  # only one probe at a time
    b.succeeded()
    assert b.state == CLOSED and b.refusal() is None


def test_a_failed_probe_opens_it_for_another_cool_down():
    b, clock = breaker(failures=2, cooldown_s=5)
    b.failed()
    b.failed()
    clock.now += 5
    assert b.refusal() is None
    b.failed()
    assert b.state == OPEN and b.opened == 2 and b.retry_in_s == pytest.approx(5)


def test_a_probe_the_client_abandoned_lets_the_next_request_probe():
    b, clock = breaker(failures=1, cooldown_s=1)
    b.failed()
    clock.now += 1
    assert b.refusal() is None
    b.abandoned()
    assert b.state == HALF_OPEN and b.refusal() is None


def test_429_never_opens_it_and_its_retry_after_is_honoured_within_the_cap():
    b, clock = breaker(failures=1, max_retry_after_s=30)
    b.throttle("7")
    assert b.state == CLOSED and b.throttled == 1
    refusal = b.refusal()
    assert refusal.status == 429 and refusal.retry_after_header == "7"
    clock.now += 7
    assert b.refusal() is None
    b.throttle("3600")
    assert b.refusal().retry_after_header == "30"
    clock.now += 30
    b.throttle(None)  # no Retry-After: counted, nothing held
    b.throttle("Wed, 21 Oct 2015 07:28:00 GMT")
    assert b.refusal() is None and b.throttled == 4


def test_disabled_never_refuses():
    b, _ = breaker(enabled=False, failures=1)
    for _ in range(10):
        b.failed()
    assert b.refusal() is None


UPSTREAM = "upstreams: [{name: u, base_url: 'http://127.0.0.1:9/v1', models: [m], circuit_breaker: %s}]"


def test_settings_are_read_from_each_upstream():
    config = parse_config(UPSTREAM % "{failures: 2, cooldown_s: 0.5, max_retry_after_s: 5}")
    assert config.upstreams[0].circuit_breaker == BreakerSettings(failures=2, cooldown_s=0.5, max_retry_after_s=5)
    assert parse_config(UPSTREAM % "{}").upstreams[0].circuit_breaker == BreakerSettings()


@pytest.mark.parametrize("value, field, problem", [
    ("{failures: 0}", "upstreams[0].circuit_breaker.failures", "out of range (allowed: a number >= 1)"),
    ("{cooldown_s: -1}", "upstreams[0].circuit_breaker.cooldown_s", "out of range (allowed: a number > 0)"),
    ("{enabled: maybe}", "upstreams[0].circuit_breaker.enabled", "true or false"),
    ("{failure: 3}", "upstreams[0].circuit_breaker.failure", "unknown field"),
    ("5", "upstreams[0].circuit_breaker", "expected a mapping"),
])
def test_bad_settings_name_the_field(value, field, problem):
    with pytest.raises(ConfigError) as err:
        parse_config(UPSTREAM % value, "gw.yaml")
    assert err.value.field_path == field and problem in err.value.problem
    assert str(err.value).startswith("gw.yaml:1:")
