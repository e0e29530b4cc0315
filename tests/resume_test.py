"""One check that an app's `train.main` resumes an interrupted run (shared by the app tests)."""

import json
from pathlib import Path
from typing import Callable
from typing import Sequence

from shared.callbacks import TrainingState


def check_interrupted_run_resumes(
    main: Callable[[Sequence[str]], int], argv: list[str], run_dir: Path, monkeypatch, capsys
) -> None:
    """Interrupt `main(argv + 3 epochs)` in its second epoch, rerun it, and check it continued.

    The interrupted run exits 130 and leaves no metrics or export; the rerun starts at epoch 2,
    not 1, and the finished run counts 3 epochs.
    """
    argv = [*argv, "--epochs", "3", "--patience", "5"]
    original = TrainingState.on_epoch_begin

    def interrupt_in_second_epoch(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt
        original(self, epoch, logs)

    monkeypatch.setattr(TrainingState, "on_epoch_begin", interrupt_in_second_epoch)
    assert main(argv) == 130
    assert not (run_dir / "metrics.json").exists() and not (run_dir / "export").exists()
    monkeypatch.setattr(TrainingState, "on_epoch_begin", original)
    capsys.readouterr()

    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "after epoch 1" in out and "Epoch 1/3" not in out and "Epoch 2/3" in out
    assert json.loads((run_dir / "metrics.json").read_text())["epochs_trained"] == 3
