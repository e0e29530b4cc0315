"""One check that a finished run directory follows the contract (shared by the app tests)."""

import shutil
from pathlib import Path
from typing import Iterable


def check_finished_run_directory(run_dir: Path, app_plots: Iterable[str]) -> None:
    """Best checkpoint, no resumable state, TensorBoard logs, the plots, one export, no temp.

    `app_plots` names the app's own figures; `training_curves.png` is always expected.
    """
    assert (run_dir / "checkpoints" / "best.keras").is_file()
    assert not (run_dir / "checkpoints" / "resume").exists()  # finished: nothing to resume
    assert any((run_dir / "logs").rglob("events.out.tfevents.*"))
    plots = {p.name for p in (run_dir / "plots").iterdir()}
    assert plots == {"training_curves.png", *app_plots}
    assert sorted(p.name for p in (run_dir / "export").iterdir()) == ["1"]
    assert not list(run_dir.rglob(".tmp-*"))


def copy_of(run_dir: Path, tmp_path: Path) -> Path:
    """A copy of a module-scoped run, for a test that changes it (no test depends on order)."""
    return Path(shutil.copytree(run_dir, tmp_path / "run-copy"))
