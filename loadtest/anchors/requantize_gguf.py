"""Q8_0 and F16 copies of a GGUF for `semgate bench backend --llama-server-quant`, cached under artifacts/.

The packaged SmolLM2-135M ships as Q4_1 only. Each tensor is dequantised with gguf's quants
module and written again in the target type, with the same metadata (general.file_type set to
match); 1-D tensors (the norms) stay F32, as llama.cpp's converter leaves them. The copies are
requantised from Q4_1, so they carry Q4_1's rounding: no better quality, only llama.cpp's
kernels for the wider type (more bytes to read per token, fewer dequantisation steps).

    python -m loadtest.anchors.requantize_gguf q8_0 f16   # prints the paths
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from gguf import (
    GGMLQuantizationType,
    GGUFReader,
    GGUFValueType,
    GGUFWriter,
    LlamaFileType,
)
from gguf.quants import dequantize, quantize

CACHE = Path("artifacts/llama-server/models")
# The bench's names -> (tensor type of the 2-D weights, general.file_type)
TARGETS = {
    "q8_0": (GGMLQuantizationType.Q8_0, LlamaFileType.MOSTLY_Q8_0),
    "f16": (GGMLQuantizationType.F16, LlamaFileType.MOSTLY_F16),
}


def requantized_path(source: Path, target: str, cache: Path = CACHE) -> Path:
    """The cached copy of `source` in `target` ("q8_0" or "f16"), written on first use."""
    if target not in TARGETS:
        raise ValueError(f"unknown GGUF type {target!r}: one of {', '.join(TARGETS)}")
    path = cache / f"{source.stem.rsplit('.', 1)[0]}.{target.upper()}.from-{source.stem.rsplit('.', 1)[-1]}.gguf"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        requantize(source, target, partial)
        partial.rename(path)  # a killed run leaves no half-written file under the final name
    return path


def requantize(source: Path, target: str, out: Path) -> None:
    tensor_type, file_type = TARGETS[target]
    reader = GGUFReader(str(source))
    writer = GGUFWriter(str(out), arch=reader.fields["general.architecture"].contents())
    for name, field in reader.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture":
            continue  # the writer writes these itself
        sub_type = field.types[1] if field.types[0] == GGUFValueType.ARRAY else None
        value = int(file_type) if name == "general.file_type" else field.contents()
        writer.add_key_value(name, value, field.types[0], sub_type)
    for tensor in reader.tensors:
        weights = np.asarray(dequantize(tensor.data, tensor.tensor_type), dtype=np.float32)
        if weights.ndim == 1:
            writer.add_tensor(tensor.name, weights)
        elif tensor_type == GGMLQuantizationType.F16:
            writer.add_tensor(tensor.name, weights.astype(np.float16))
        else:
            writer.add_tensor(tensor.name, quantize(weights, tensor_type), raw_dtype=tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def main(argv: list[str]) -> int:
    from gpu_backend.model import resolve_model_path

    source = resolve_model_path("smollm2-135m")
    for target in argv or list(TARGETS):
        print(requantized_path(source, target))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
