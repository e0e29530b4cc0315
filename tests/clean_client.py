"""Run a client script against an export in a fresh Python that cannot import this project."""

import json
import subprocess
import sys
from pathlib import Path


def run_clean_client(code: str, export_dir: Path, *args: str, cwd: Path) -> dict:
    """Run `code` with `export_dir` and `args` as argv; return the JSON of its last output line.

    The subprocess starts in `cwd` (not the repository) with a bare environment, so it sees
    only installed packages, as TF Serving would. `code` must print one JSON object last.
    """
    result = subprocess.run(
        [sys.executable, "-c", code, str(export_dir), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
