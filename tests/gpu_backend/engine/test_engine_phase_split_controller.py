"""The split controller and its latency model on constructed measurements (no processes)."""

import pytest

from gpu_backend.engine.phase_split.controller import RequestObservation, SplitController
from gpu_backend.engine.phase_split.latency_model import PhaseLatencyModel
from gpu_backend.engine.phase_split.split import PhaseSplit, candidate_splits, effective_cores
from gpu_backend.engine.slo import RequestSLO

EVEN, MORE_PREFILL, MORE_DECODE = PhaseSplit(1, 1), PhaseSplit(2, 1), PhaseSplit(1, 2)
CHAT = RequestSLO(ttft_s=1.0, tpot_s=0.1)

def test_candidate_splits_on_two_cores_include_time_shares():
    assert candidate_splits(2) == [EVEN, MORE_DECODE, MORE_PREFILL]
    assert all(s.prefill_threads + s.decode_threads in (4, 5) for s in candidate_splits(4))
    assert effective_cores(2, 1, cores=2, other_busy=True) == pytest.approx(4 / 3)
    assert effective_cores(2, 1, cores=2, other_busy=False) == 2

def test_latency_model_recovers_scaling_from_steps_at_several_shares():
    model = PhaseLatencyModel("prefill")
    for cores in (0.67, 1.0, 1.33, 2.0):
        for tokens in (16, 64, 256):
            model.observe(tokens, 0.002 * tokens ** 0.9 / cores ** 0.7, cores)
    model.fit()
    assert model.scaling == pytest.approx(0.7, abs=1e-6)
    assert model.token_exponent == pytest.approx(0.9, abs=1e-6)
    assert model.predict(100, 1.0) == pytest.approx(0.002 * 100 ** 0.9, rel=1e-6)
    assert model.slowdown(2.0, 1.0) == pytest.approx(2 ** 0.7)

def test_latency_model_keeps_its_prior_scaling_at_one_share():
    model = PhaseLatencyModel("decode")
    for tokens in (1, 4, 8):
        model.observe(tokens, 0.01 * tokens ** 0.5, 1.0)
    model.fit()
    assert model.scaling == 0.5 and model.token_exponent == pytest.approx(0.5)

def observe(controller, split, ttft, tpot, count=8, at=100.0, slo=CHAT):
    for i in range(count):
        controller.requests.append(RequestObservation(at + i * 0.01, slo, ttft, tpot, 20, split))

def scaled_controller() -> SplitController:
    controller = SplitController(candidate_splits(2), cores=2, dwell_s=3.0, hysteresis=0.05)
    for phase in ("prefill", "decode"):  # both phases scale linearly with their share
        for cores in (2 / 3, 1.0, 4 / 3):
            controller.models[phase].observe(8, 0.1 / cores, cores)
    return controller

def test_ttft_misses_with_tpot_slack_move_threads_to_prefill():
    controller = scaled_controller()
    observe(controller, EVEN, ttft=1.2, tpot=0.05)  # 1.2 s > 1 s TTFT; TPOT at half its SLO
    assert controller.decide(EVEN, now=101.0) == MORE_PREFILL
    change = controller.changes[-1]
    assert (change.old, change.new, change.predicted_old, change.predicted_new) == (EVEN, MORE_PREFILL, 0.0, 1.0)

def test_tpot_misses_with_ttft_slack_move_threads_to_decode():
    controller = scaled_controller()
    observe(controller, EVEN, ttft=0.3, tpot=0.12)
    assert controller.decide(EVEN, now=101.0) == MORE_DECODE

def test_no_move_when_slos_are_met_or_no_split_helps():
    controller = scaled_controller()
    observe(controller, EVEN, ttft=0.5, tpot=0.05)
    assert controller.decide(EVEN, now=101.0) is None  # everything met already: stay
    controller = scaled_controller()
    observe(controller, EVEN, ttft=3.0, tpot=0.3)  # hopeless under any split: stay
    assert controller.decide(EVEN, now=101.0) is None and controller.changes == []

def test_hysteresis_and_dwell_hold_the_split():
    controller = scaled_controller()
    observe(controller, EVEN, ttft=0.5, tpot=0.05, count=30)
    observe(controller, EVEN, ttft=1.2, tpot=0.05, count=1, at=100.5)  # 1 of 31 gains: under 5%
    assert controller.decide(EVEN, now=101.0) is None
    controller = scaled_controller()
    observe(controller, EVEN, ttft=1.2, tpot=0.05)
    assert controller.decide(EVEN, now=101.0) == MORE_PREFILL
    observe(controller, MORE_PREFILL, ttft=0.3, tpot=0.12, count=40, at=101.5)
    assert controller.decide(MORE_PREFILL, now=102.0) is None  # within dwell_s of the last change
    assert controller.decide(MORE_PREFILL, now=105.0) is not None

def test_window_forgets_old_requests_and_needs_enough_of_them():
    controller = scaled_controller()
    observe(controller, EVEN, ttft=1.2, tpot=0.05, count=8, at=0.0)  # long before the window
    observe(controller, EVEN, ttft=1.2, tpot=0.05, count=3, at=100.0)
    assert controller.decide(EVEN, now=101.0) is None  # the old 8 fall out; 3 < min_requests
    assert len(controller.requests) == 3
    observe(controller, EVEN, ttft=1.2, tpot=0.05, count=1, at=100.5)
    assert controller.decide(EVEN, now=101.0) == MORE_PREFILL
