"""Where the evaluation data sets live: $SEMGATE_EVALDATA, else ../shared/evaldata beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parents[2]


def evaldata_file(name: str) -> Path:
    root = Path(os.environ.get("SEMGATE_EVALDATA", _REPO_ROOT.parent / "shared" / "evaldata"))
    path = root / name
    if not path.exists():
        raise FileNotFoundError(f"{path} not found (set SEMGATE_EVALDATA to the folder holding {name})")
    return path
