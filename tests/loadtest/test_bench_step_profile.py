"""The step profile's attribution and its instrumentation, on a tiny random Llama (the real
model's profile is a bench run: `semgate bench step-profile`)."""

import sys
from pathlib import Path

import pytest
from gguf import GGUFReader

from gpu_backend.model import LoadedModel, Tokenizer, llama, resolve_model_path
from gpu_backend.model.chat_template import ChatTemplate
from gpu_backend.model.gguf_loader import read_metadata
from loadtest.benches import step_profile

sys.path.insert(0, str(Path(__file__).parents[1] / "gpu_backend"))
from engine_support import TINY_CONFIG, tiny_model


@pytest.fixture(scope="module")
def tiny_loaded() -> LoadedModel:
    metadata = read_metadata(GGUFReader(str(resolve_model_path("smollm2-135m"))))
    return LoadedModel(model=tiny_model(), tokenizer=Tokenizer.from_gguf_metadata(metadata),
                       chat_template=ChatTemplate(metadata["tokenizer.chat_template"]), config=TINY_CONFIG)


def test_every_part_of_a_decode_step_is_timed_and_nothing_is_negative(tiny_loaded):
    prompts = [[1, 2, 3, 4, 5], [6, 7, 8], [9, 10, 11, 12]]
    result = step_profile.profile(tiny_loaded, prompts, concurrency=3, steps=3, threads=1)
    rows = result["rows_ms"]
    assert list(rows) == step_profile.ROWS
    assert all(rows[f"matmul {p}"] > 0 for p in step_profile.PROJECTIONS)
    assert rows["matmul lm_head"] > 0 and rows["attention (incl. KV write)"] > 0 and rows["sampling"] > 0
    # the remainders (other model ops, engine Python) are what the wrapped parts leave of the step
    assert all(value >= 0 for value in rows.values())
    assert sum(rows.values()) == pytest.approx(result["step_ms"])


def test_the_instrumentation_is_removed_afterwards(tiny_loaded):
    original_linear = llama.linear
    step_profile.profile(tiny_loaded, [[1, 2, 3]], concurrency=1, steps=2, threads=1)
    assert llama.linear is original_linear
    assert "head" not in vars(tiny_loaded.model) and "forward" not in vars(tiny_loaded.model)


def test_an_unknown_weight_format_is_refused():
    parser = step_profile.argparse.ArgumentParser()
    step_profile.add_arguments(parser)
    with pytest.raises(SystemExit, match="int4"):
        step_profile.run(parser.parse_args(["--weights", "fp32,int4"]))
