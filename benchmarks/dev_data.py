"""Where the benchmarks find real data: `$RNN_SUITE_DATA/<app>`, else the repository's `data/<app>`.

Only the sentiment sample ships in `data/`; for the other apps point `RNN_SUITE_DATA` at a
folder holding them in the layouts of docs/contract.md (or pass each script's `--data_dir`).
"""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def data_dir(app: str) -> Path:
    """The default data folder of `app`'s benchmarks."""
    return Path(os.environ.get("RNN_SUITE_DATA", ROOT / "data")) / app
