"""The KVShare benchmark's summary: each recompute ratio compared with no reuse and with
exact-prefix reuse on the same requests (the benchmark itself runs the model for minutes;
here the per-request rows are constructed)."""

import argparse

from loadtest.benches import kvshare


def row(measured: bool, modes: dict[str, tuple[float, float, list[int], bool]]) -> dict:
    """modes: name -> (TTFT s, tokens computed, greedy tokens, correct)."""
    out = {"prompt_tokens": 300, "reference": "R1-23", "measured": measured}
    for mode, (ttft, computed, tokens, correct) in modes.items():
        out[mode] = {"ttft_s": ttft, "ttft_cpu_s": 2 * ttft, "tokens_computed": computed, "tokens": tokens,
                     "reused": 0, "cached": 0, "correct": correct}
    return out


def test_every_ratio_is_compared_with_the_full_recompute_and_the_prefix_cache():
    args = argparse.Namespace(k=8, check_layer=1)
    rows = [
        row(False, {"none": (9.0, 300, [1], False), "prefix": (9.0, 300, [1], False),
                    "chunks@0.15": (9.0, 300, [1], False), "chunks@0.5": (9.0, 300, [1], False)}),  # warm-up
        row(True, {"none": (0.6, 300, [1, 2], True), "prefix": (0.4, 240, [1, 2], True),
                   "chunks@0.15": (0.2, 80, [1, 3], False), "chunks@0.5": (0.3, 150, [1, 2], True)}),
        row(True, {"none": (0.6, 300, [4, 5], False), "prefix": (0.4, 240, [4, 5], False),
                   "chunks@0.15": (0.2, 80, [4, 5], False), "chunks@0.5": (0.3, 150, [4, 5], False)}),
    ]
    result = kvshare._summary(args, [0.15, 0.5], rows)

    assert result["requests"] == 2
    low, high = result["by_ratio"]["0.15"], result["by_ratio"]["0.5"]
    assert low["ttft_ratio_prefix_over_chunks"] == 2.0
    assert high["tokens_ratio_prefix_over_chunks"] == 240 / 150
    assert low["accuracy_delta_points"] == -50.0 and high["accuracy_delta_points"] == 0.0
    assert low["greedy_identical_chunks_vs_full"] == 0.5 and high["greedy_identical_chunks_vs_full"] == 1.0
    assert low["token_agreement_chunks_vs_full"] == 0.75
    # The headline keys are the first ratio's.
    assert result["chunks"] == result["chunks@0.15"]
    assert result["ttft_ratio_prefix_over_chunks"] == low["ttft_ratio_prefix_over_chunks"]

    table = kvshare._table({**result, "load_average": (0.5, 0.5, 0.5), "machine": "test"})
    assert "chunks@0.5" in table and "accuracy delta -50.0 points" in table
