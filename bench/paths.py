"""Where the shared list files are: $REGISTRY_SHARED_DATA, else ../shared/data next to
the clone, else /work/shared/data (the layout of this project's machines)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def shared_data() -> Path:
    candidates = [
        os.environ.get("REGISTRY_SHARED_DATA"),
        ROOT.parent / "shared" / "data",
        Path("/work/shared/data"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return ROOT.parent / "shared" / "data"


SHARED_DATA = shared_data()
