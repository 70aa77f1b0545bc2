"""The Q8_0 copy of the packaged Q4_1 GGUF that llama-server runs beside it: same metadata and
tensors, the weights requantised (within Q8_0's rounding of the Q4_1 values), loadable by us."""

import numpy as np
import pytest
from gguf import GGMLQuantizationType, GGUFReader, LlamaFileType
from gguf.quants import dequantize

from gpu_backend.model import resolve_model_path
from gpu_backend.model.gguf_loader import read_metadata
from loadtest.anchors.requantize_gguf import requantized_path


@pytest.mark.slow  # rewrites the whole 100 MB model: about half a minute on a loaded 2-core machine
def test_q8_0_copy_keeps_metadata_and_values_and_is_cached(tmp_path):
    source = resolve_model_path("smollm2-135m")
    path = requantized_path(source, "q8_0", cache=tmp_path)
    assert path.name == "SmolLM2-135M-Instruct.Q8_0.from-Q4_1.gguf"
    original, copy = GGUFReader(str(source)), GGUFReader(str(path))
    before, after = read_metadata(original), read_metadata(copy)
    assert after.pop("general.file_type") == LlamaFileType.MOSTLY_Q8_0
    before.pop("general.file_type")
    assert after == before
    assert [t.name for t in copy.tensors] == [t.name for t in original.tensors]
    for old, new in zip(original.tensors, copy.tensors):
        expected = GGMLQuantizationType.F32 if len(new.shape) == 1 else GGMLQuantizationType.Q8_0
        assert new.tensor_type == expected
        if old.name in ("blk.0.ffn_down.weight", "output_norm.weight"):
            was, now = dequantize(old.data, old.tensor_type), dequantize(new.data, new.tensor_type)
            # Q8_0: one scale per 32 values, 127 steps either side of zero
            assert np.abs(was - now).max() <= np.abs(was).max() / 127
    modified = path.stat().st_mtime_ns
    assert requantized_path(source, "q8_0", cache=tmp_path) == path and path.stat().st_mtime_ns == modified
