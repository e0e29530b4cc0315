"""Callbacks that make a run resumable: every piece of state they keep survives a restart.

Why not `keras.callbacks.BackupAndRestore` + `ModelCheckpoint` + `EarlyStopping`: the backup
writes weights and metadata as two non-atomic files, and after a restart `ModelCheckpoint` and
`EarlyStopping` forget the best value seen so far (the next epoch would overwrite a better
checkpoint, and patience would start again). Here the per-epoch history in `state.json` is the
single source of truth: best value and patience are derived from it on resume.
"""

import math
import shutil
import time
from pathlib import Path
from typing import Optional

import keras

from shared import io
from shared.errors import UserError

STATE_FILE = "state.json"


def is_improvement(current: float, best: Optional[float], mode: str) -> bool:
    if current is None or not math.isfinite(current):
        return False
    if best is None:
        return True
    return current < best if mode == "min" else current > best


def best_and_wait(history: list[dict], monitor: str, mode: str) -> tuple[Optional[float], int]:
    """Best monitored value in `history` and the number of epochs since it was reached."""
    best, wait = None, 0
    for record in history:
        if is_improvement(record.get(monitor), best, mode):
            best, wait = record[monitor], 0
        else:
            wait += 1
    return best, wait


class BestModelCheckpoint(keras.callbacks.Callback):
    """Save the whole model as `.keras` (atomically) each time `monitor` improves on `best`."""

    def __init__(
        self, path: Path, monitor: str = "val_loss", mode: str = "min", best: Optional[float] = None
    ):
        super().__init__()
        self.path, self.monitor, self.mode, self.best = Path(path), monitor, mode, best

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if is_improvement(current, self.best, self.mode):
            self.best = float(current)
            io.save_model(self.model, self.path)


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """`EarlyStopping` that continues from the best value and wait count of an earlier run."""

    def __init__(self, *, best: Optional[float] = None, wait: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.resume_best, self.resume_wait = best, wait

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.resume_best is not None:
            self.best, self.wait = self.resume_best, self.resume_wait


class TrainingState(keras.callbacks.Callback):
    """Record each epoch's logs and timing, and save weights + optimizer state after it.

    `state.json` is written last and is the commit point: it names the weights file of the
    newest complete epoch, so a kill at any moment leaves a consistent state behind.
    Timing: `epoch_seconds` is the whole epoch, `fit_seconds` the part before validation.
    """

    def __init__(self, state_dir: Path, history: list[dict], history_csv: Path):
        super().__init__()
        self.state_dir, self.history, self.history_csv = Path(state_dir), history, history_csv
        self._epoch_start = self._validation_start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = self._validation_start = time.perf_counter()

    def on_test_begin(self, logs=None):
        self._validation_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        fit_end = self._validation_start if self._validation_start > self._epoch_start else now
        record = {
            "epoch": epoch + 1,
            **{k: float(v) for k, v in (logs or {}).items()},
            "epoch_seconds": now - self._epoch_start,
            "fit_seconds": fit_end - self._epoch_start,
        }
        self.history.append(record)
        io.write_text(self.history_csv, history_to_csv(self.history))
        if not math.isfinite(record.get("loss", 0.0)):
            save_state(self.state_dir, self.history, weights=None, stop_reason="nan")
            return
        weights = weights_file(epoch + 1)
        io.save_weights(self.model, self.state_dir / weights)
        save_state(self.state_dir, self.history, weights=weights)


def history_to_csv(history: list[dict]) -> str:
    columns = list(dict.fromkeys(["epoch", *(key for record in history for key in record)]))
    rows = [",".join(columns)]
    rows += [",".join(f"{record.get(c, '')}" for c in columns) for record in history]
    return "\n".join(rows) + "\n"


def load_state(state_dir: Path) -> Optional[dict]:
    path = Path(state_dir) / STATE_FILE
    return io.read_json(path) if path.exists() else None


def save_state(
    state_dir: Path, history: list[dict], weights: Optional[str], stop_reason: Optional[str] = None
) -> None:
    """Commit the state, then delete weights files older than the two newest epochs.

    The previous epoch's weights stay so that workers of a cluster can agree on the last
    epoch all of them completed (`roll_back`).
    """
    previous = load_state(state_dir) or {}
    weights = weights or previous.get("weights")
    io.write_json(
        Path(state_dir) / STATE_FILE,
        {"epoch": len(history), "weights": weights, "history": history, "stop_reason": stop_reason},
    )
    keep = {weights, weights_file(len(history) - 1)}
    for stale in Path(state_dir).glob("epoch-*.weights.h5"):
        if stale.name not in keep:
            stale.unlink()


def weights_file(epoch: int) -> str:
    return f"epoch-{epoch:04d}.weights.h5"


def roll_back(state_dir: Path, epochs: int) -> None:
    """Make the state that of `epochs` complete epochs (at most one fewer than it holds)."""
    if not epochs:
        shutil.rmtree(state_dir)
        return
    state = load_state(state_dir)
    weights = weights_file(epochs)
    if not (Path(state_dir) / weights).exists():
        raise UserError(
            f"{state_dir} no longer holds epoch {epochs}; remove the run directory and the "
            f"workers' temporary folders to start afresh"
        )
    io.write_json(
        Path(state_dir) / STATE_FILE,
        {"epoch": epochs, "weights": weights, "history": state["history"][:epochs]},
    )
