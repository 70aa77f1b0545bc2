"""Load-adaptive thresholds and TTLs under a load signal that rises and falls."""

import textwrap

import pytest

from policies.adaptive import LoadAdaptivePolicy
from policies.load import NORMAL, OVERLOADED, LoadSample, UpstreamLoad
from policies.loader import parse_policy_text
from policies.schema import LoadSettings

POLICY = """\
load: {high_mark: 1.0, low_mark: 0.6, half_life_seconds: 2, latency_ratio_saturated: 3, throttle_rate_saturated: 0.05}
defaults:
  similarity_threshold: 0.90
  verifier_threshold: 0.50
  ttl_seconds: 100
  adaptive: {min_similarity: 0.80, min_verifier: 0.30, max_ttl_factor: 3.0}
categories:
  - name: code
    examples: [sort a list]
    routing: {models: [big-model]}
  - name: chat
    examples: [hello]
    similarity_threshold: 0.85
    adaptive: {min_similarity: 0.84}
    routing: {models: [small-model]}
  - name: default
"""


def idle(capacity: int = 10) -> LoadSample:
    return LoadSample(in_flight=1, capacity=capacity, first_token_s=0.5, throttle_rate=0.0)


def busy(in_flight: int, capacity: int = 10) -> LoadSample:
    return LoadSample(in_flight=in_flight, capacity=capacity, first_token_s=0.5, throttle_rate=0.0)


@pytest.fixture
def adaptive() -> LoadAdaptivePolicy:
    policies = parse_policy_text(textwrap.dedent(POLICY))
    return LoadAdaptivePolicy(policies, {"big-model": "gpu", "small-model": "cpu"}, default_upstream="gpu")


def feed(adaptive, upstream, samples, start=0.0, step=1.0):
    states = []
    for i, sample in enumerate(samples):
        states.append(adaptive.observe(upstream, sample, now=start + i * step))
    return states


def test_configured_values_while_healthy(adaptive):
    feed(adaptive, "gpu", [idle()] * 10)
    code = adaptive.effective("code")
    assert (code.similarity_threshold, code.verifier_threshold, code.ttl_seconds) == (0.90, 0.50, 100)
    assert code.load_level == NORMAL and code.pressure == 0.0


def test_overload_lowers_thresholds_within_bounds_and_lengthens_ttl_then_recovers(adaptive):
    feed(adaptive, "gpu", [idle()] * 5)
    feed(adaptive, "gpu", [busy(30)] * 20, start=5)  # 3x capacity for 20 s
    loaded = adaptive.effective("code")
    assert loaded.load_level == OVERLOADED and loaded.pressure == 1.0
    assert (loaded.similarity_threshold, loaded.verifier_threshold, loaded.ttl_seconds) == pytest.approx((0.80, 0.30, 300))

    feed(adaptive, "gpu", [idle()] * 60, start=25)
    recovered = adaptive.effective("code")
    assert recovered.load_level == NORMAL
    assert (recovered.similarity_threshold, recovered.ttl_seconds) == (0.90, 100)


def test_only_categories_routed_to_the_overloaded_upstream_move(adaptive):
    feed(adaptive, "gpu", [busy(30)] * 20)
    feed(adaptive, "cpu", [idle()] * 20)
    assert adaptive.effective("code").load_level == OVERLOADED
    assert adaptive.effective("chat").load_level == NORMAL
    assert adaptive.effective("chat").similarity_threshold == 0.85
    # default names no model: it goes to the default upstream, which is the overloaded one
    assert adaptive.effective("default").load_level == OVERLOADED
    # the caller may name the upstream a request goes to
    assert adaptive.effective("chat", upstream="gpu").load_level == OVERLOADED


def test_thresholds_never_cross_their_adaptive_bound(adaptive):
    feed(adaptive, "cpu", [busy(100)] * 30)
    chat = adaptive.effective("chat")
    assert chat.similarity_threshold == pytest.approx(0.84)
    assert adaptive.effective_category("chat").similarity_threshold == pytest.approx(0.84)
    assert adaptive.effective_category("chat").ttl_seconds == pytest.approx(300)


def test_hysteresis_load_hovering_between_the_marks_does_not_flap():
    tracker = UpstreamLoad(LoadSettings(high_mark=1.0, low_mark=0.6, half_life_seconds=1.0))
    levels = []
    for t in range(10):  # rise well past the high mark
        levels.append(tracker.observe(busy(15), now=float(t)).level)
    assert levels[-1] == OVERLOADED
    # Oscillate between 0.7 and 0.95 of capacity: above the low mark, below the high mark.
    for t in range(10, 60):
        levels.append(tracker.observe(busy(7 if t % 2 else 9), now=float(t)).level)
    assert levels[10:] == [OVERLOADED] * 50

    # From normal, the same oscillation never enters overload.
    fresh = UpstreamLoad(LoadSettings(high_mark=1.0, low_mark=0.6, half_life_seconds=1.0))
    assert {fresh.observe(busy(7 if t % 2 else 9), now=float(t)).level for t in range(50)} == {NORMAL}


def test_spike_shorter_than_the_smoothing_does_not_trigger_overload():
    tracker = UpstreamLoad(LoadSettings(high_mark=1.0, low_mark=0.6, half_life_seconds=10.0))
    for t in range(5):
        tracker.observe(idle(), now=float(t))
    assert tracker.observe(busy(40), now=5.0).level == NORMAL  # one 4x sample over 1 s
    assert tracker.observe(idle(), now=6.0).level == NORMAL


def test_pressure_eases_off_continuously_on_the_way_down():
    tracker = UpstreamLoad(LoadSettings(high_mark=1.0, low_mark=0.6, half_life_seconds=2.0))
    for t in range(20):
        tracker.observe(busy(20), now=float(t))
    pressures = [tracker.observe(idle(), now=20.0 + t).pressure for t in range(20)]
    assert pressures[0] > 0.5
    assert all(a >= b for a, b in zip(pressures, pressures[1:]))  # never jumps back up
    assert pressures[-1] == 0.0 and tracker.state.level == NORMAL


def test_time_to_first_token_against_its_unloaded_baseline_and_throttling_count_as_load():
    slow = UpstreamLoad(LoadSettings(half_life_seconds=1.0, latency_ratio_saturated=3.0))
    for t in range(10):
        slow.observe(LoadSample(1, 100, first_token_s=0.2, throttle_rate=0.0), now=float(t))
    assert slow.state.baseline_first_token_s == pytest.approx(0.2)
    for t in range(10, 20):
        slow.observe(LoadSample(1, 100, first_token_s=0.8, throttle_rate=0.0), now=float(t))  # 4x baseline
    assert slow.state.level == OVERLOADED
    assert slow.state.baseline_first_token_s < 0.3  # an overload is not learned as the new normal

    throttled = UpstreamLoad(LoadSettings(half_life_seconds=1.0, throttle_rate_saturated=0.05))
    for t in range(10):
        throttled.observe(LoadSample(1, 100, first_token_s=None, throttle_rate=0.10), now=float(t))
    assert throttled.state.level == OVERLOADED


def test_long_answers_at_concurrency_one_are_not_load_but_a_queue_is():
    """One user, long generations: the first token comes as fast as ever, nothing waits. A few long
    answers once read as overload because whole-request latency was taken for load."""
    alone = UpstreamLoad(LoadSettings(half_life_seconds=1.0))
    for t in range(30):
        alone.observe(LoadSample(1, 8, first_token_s=0.12, throttle_rate=0.0), now=float(t))
    assert alone.state.level == NORMAL and alone.state.index < 0.2
    queued = UpstreamLoad(LoadSettings(half_life_seconds=1.0))
    for t in range(10):  # the backend reports 12 waiting for its 8 slots: saturated, whatever else we see
        queued.observe(LoadSample(8, 8, first_token_s=None, throttle_rate=0.0, queued=12), now=float(t))
    assert queued.state.level == OVERLOADED and queued.state.baseline_first_token_s is None


def test_the_baseline_is_learned_only_while_nothing_queues_and_noise_on_a_fast_one_is_not_load():
    tracker = UpstreamLoad(LoadSettings(half_life_seconds=1.0, baseline_half_life_seconds=1.0))
    for t in range(10):  # saturated from the start: these first tokens waited in a queue
        tracker.observe(LoadSample(8, 8, first_token_s=2.0, throttle_rate=0.0), now=float(t))
    assert tracker.state.baseline_first_token_s is None
    fast = UpstreamLoad(LoadSettings(half_life_seconds=1.0))
    fast.observe(LoadSample(1, 8, first_token_s=0.001, throttle_rate=0.0), now=0.0)
    for t in range(1, 20):  # 4 ms against 1 ms: jitter, not three requests ahead
        fast.observe(LoadSample(1, 8, first_token_s=0.004, throttle_rate=0.0), now=float(t))
    assert fast.state.level == NORMAL


def test_a_reload_keeps_the_measured_load(adaptive):
    feed(adaptive, "gpu", [busy(30)] * 20)
    stricter = parse_policy_text(textwrap.dedent(POLICY).replace("min_similarity: 0.80", "min_similarity: 0.88"))
    adaptive.replace_policies(stricter)
    assert adaptive.effective("code").similarity_threshold == pytest.approx(0.88)
    assert adaptive.load_states()["gpu"].level == OVERLOADED
