"""The training runner every app uses: run directory, seeds, optimizer and a resumable `fit`."""

import dataclasses
import json
import math
import os
import shutil
import sys
import warnings
from pathlib import Path
from typing import Sequence

import keras
import tensorflow as tf

from shared import io
from shared.callbacks import BestModelCheckpoint
from shared.callbacks import ResumableEarlyStopping
from shared.callbacks import TrainingState
from shared.callbacks import best_and_wait
from shared.callbacks import load_state
from shared.callbacks import save_state
from shared.config import BaseConfig
from shared.errors import UserError
from shared.optimizers import ClippedAdam
from shared.precision import scale_loss
from shared.run_dir import RunDir

# Fields that may change when an interrupted run is resumed (the final fit's settings: a run
# whose final fit failed, or that should end another way, keeps its model selection).
_RESUMABLE_CHANGES = {
    "app",
    "epochs",
    "output_dir",
    "patience",
    "refit",
    "finetune_epochs",
    "scale_refit_epochs",
    "selection_folds",  # more folds after the run's own selection (shared.folds)
}


@dataclasses.dataclass
class FitResult:
    history: list[dict]
    stop_reason: str  # "completed", "early_stopping" or "nan"
    best_epoch: int
    train_seconds: float
    train_examples_per_second: float


def prepare_run(config: BaseConfig, run_dir: os.PathLike) -> tuple[RunDir, bool]:
    """Seed every generator, check a resumable state matches `config`, write `config.json`.

    Returns the run directory and whether an interrupted run is resumed there. A fresh run
    never trusts what an earlier run left behind: its checkpoints are removed first (the
    exports stay: each run adds a version).
    """
    keras.utils.set_random_seed(config.seed)
    run = RunDir(Path(run_dir))
    resuming = bool(load_state(run.resume_state)) and run.config.exists()
    if resuming:
        _check_same_settings(io.read_json(run.config), json.loads(config.to_json()), run)
    else:
        shutil.rmtree(run.resume_state, ignore_errors=True)
        run.best_model.unlink(missing_ok=True)
    run.root.mkdir(parents=True, exist_ok=True)
    io.write_text(run.config, config.to_json())
    return run, resuming


def _check_same_settings(saved: dict, current: dict, run: RunDir) -> None:
    changed = [
        f"{key}: {saved.get(key)!r} -> {current.get(key)!r}"
        for key in sorted(current)
        if key not in _RESUMABLE_CHANGES and saved.get(key) != current.get(key)
    ]
    if changed:
        raise UserError(
            f"{run.root} holds an interrupted run with other settings ({'; '.join(changed)}); "
            f"rerun with the same settings to resume, or choose another --output_dir"
        )


def make_optimizer(
    config: BaseConfig, *, decay_steps: int | None = None, warmup_steps: int = 0
) -> keras.optimizers.Optimizer:
    """Adam with gradient clipping by norm (of the whole batch's gradient, see `ClippedAdam`),
    at the config's learning rate.

    With `decay_steps`, the rate follows a cosine from the config's value down to 1% of it
    over that many steps (and stays there), which usually ends training in a better minimum
    than a constant rate when the epoch budget is fixed. With `warmup_steps` as well, the rate
    first rises linearly from 0 to the config's value over that many steps (then decays over
    `decay_steps` more), which keeps the first, noisy updates from saturating attention or
    gates at high rates. Under `mixed_float16` it comes wrapped in a `LossScaleOptimizer`.
    """
    learning_rate = config.learning_rate
    if decay_steps and warmup_steps:
        learning_rate = keras.optimizers.schedules.CosineDecay(
            0.0,
            decay_steps,
            alpha=0.01,
            warmup_target=config.learning_rate,
            warmup_steps=warmup_steps,
        )
    elif decay_steps:
        learning_rate = keras.optimizers.schedules.CosineDecay(
            config.learning_rate, decay_steps, alpha=0.01
        )
    optimizer = ClippedAdam(
        learning_rate=learning_rate,
        gradient_clipnorm=config.clipnorm or None,
        use_ema=config.ema_momentum > 0,
        ema_momentum=config.ema_momentum,
    )
    return scale_loss(optimizer, config)


def averages_weights(optimizer: keras.optimizers.Optimizer) -> bool:
    """Whether `optimizer` (or the one a `LossScaleOptimizer` wraps) keeps a weight average."""
    return getattr(getattr(optimizer, "inner_optimizer", optimizer), "use_ema", False)


def fit(
    model: keras.Model,
    train_data: tf.data.Dataset,
    validation_data: tf.data.Dataset,
    config: BaseConfig,
    *,
    run: RunDir,
    num_train_examples: int,
    monitor: str = "val_loss",
    mode: str = "min",
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: str | int = "auto",
) -> FitResult:
    """Train a compiled model with checkpoints, early stopping and resume; load the best weights.

    If the run directory holds the state of an interrupted run, training continues after its
    last complete epoch with the optimizer state, history, best value and patience it had.
    """
    state, history = _resume(model, run.resume_state, run.root)
    verbose = _resolve_verbose(verbose)
    if not (state and state.get("stop_reason")) and len(history) < config.epochs:
        best, wait = best_and_wait(history, monitor, mode)
        averaging = averages_weights(model.optimizer)
        # Bucketed datasets have an unknown number of batches; the end of one is expected.
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        model.fit(
            train_data,
            validation_data=validation_data,
            epochs=config.epochs,
            initial_epoch=len(history),
            callbacks=[
                keras.callbacks.TerminateOnNaN(),
                # The resume state holds the raw weights (and the average in the optimizer);
                # with averaging, validation and the best checkpoint see the average.
                TrainingState(run.resume_state, history, run.history),
                *([keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if averaging else []),
                BestModelCheckpoint(run.best_model, monitor, mode, best=best),
                ResumableEarlyStopping(
                    monitor=monitor, mode=mode, patience=config.patience, best=best, wait=wait
                ),
                keras.callbacks.TensorBoard(str(run.logs)),
                *callbacks,
            ],
            shuffle=False,  # datasets shuffle themselves (seeded)
            verbose=verbose,
        )
    return _finish_fit(model, run, history, config, num_train_examples, monitor, mode)


def _resume(model: keras.Model, state_dir: Path, name: object) -> tuple[dict, list[dict]]:
    """The saved state in `state_dir` (or `{}`) and its history; the weights and optimizer
    state of its newest complete epoch are loaded into `model`."""
    state = load_state(state_dir) or {}
    history: list[dict] = state.get("history", [])
    if state.get("weights"):
        model.optimizer.build(model.trainable_variables)
        model.load_weights(state_dir / state["weights"])
    if state:
        print(f"Resuming {name} after epoch {len(history)}")
    return state, history


def fit_epochs(
    model: keras.Model,
    dataset: tf.data.Dataset,
    *,
    epochs: int,
    state_dir: Path,
    history_csv: Path,
    logs: Path,
    verbose: str | int = "auto",
) -> list[dict]:
    """Train a compiled model for exactly `epochs` epochs, resumably; return the history.

    No validation, no early stopping: the number of epochs was chosen before (`shared.refit`).
    The weights and optimizer state are saved in `state_dir` after every epoch, and an
    interrupted call continues after its last complete epoch. With weight averaging
    (`ema_momentum`), the model ends on the average (Keras's `fit` swaps it in at the end).
    """
    state, history = _resume(model, state_dir, state_dir)
    if state.get("stop_reason") == "nan":
        return history
    model.fit(
        dataset,
        epochs=epochs,
        initial_epoch=len(history),
        callbacks=[
            keras.callbacks.TerminateOnNaN(),
            TrainingState(state_dir, history, history_csv),
            keras.callbacks.TensorBoard(str(logs)),
        ],
        shuffle=False,
        verbose=_resolve_verbose(verbose),
    )
    return history


def _finish_fit(model, run, history, config, num_train_examples, monitor, mode) -> FitResult:
    if not history:
        raise UserError(f"{run.root}: no epoch was trained")
    if not math.isfinite(history[-1].get("loss", math.nan)):
        stop_reason = "nan"
    elif len(history) < config.epochs:
        stop_reason = "early_stopping"
    else:
        stop_reason = "completed"
    state = load_state(run.resume_state) or {}
    if state.get("stop_reason") != stop_reason:
        save_state(run.resume_state, history, weights=state.get("weights"), stop_reason=stop_reason)
    if not run.best_model.exists():
        raise UserError(
            f"training diverged (loss is NaN) in epoch {len(history)} before any "
            f"checkpoint; lower --learning_rate or raise --clipnorm"
        )
    model.load_weights(run.best_model)
    best, _ = best_and_wait(history, monitor, mode)
    best_epoch = next(r["epoch"] for r in history if r.get(monitor) == best)
    fit_seconds = sum(r["fit_seconds"] for r in history)
    return FitResult(
        history=history,
        stop_reason=stop_reason,
        best_epoch=best_epoch,
        train_seconds=round(sum(r["epoch_seconds"] for r in history), 3),
        train_examples_per_second=round(num_train_examples * len(history) / fit_seconds, 2),
    )


def _resolve_verbose(verbose: str | int) -> str | int:
    """A live progress bar in a terminal, one line per epoch in a log file."""
    return (1 if sys.stdout.isatty() else 2) if verbose == "auto" else verbose


def finish_run(run: RunDir) -> None:
    """Forget the resumable state once everything is written: a new run starts afresh.

    The final fit's model (`--refit`) replaces `best.keras`, so the checkpoint is the model
    that was exported.
    """
    if run.refit_model.exists():
        os.replace(run.refit_model, run.best_model)
    shutil.rmtree(run.resume_state, ignore_errors=True)


def run_summary(result: FitResult, num_examples: dict[str, int]) -> dict:
    """The training part of `metrics.json`."""
    return {
        "examples": num_examples,
        "epochs_trained": len(result.history),
        "best_epoch": result.best_epoch,
        "stop_reason": result.stop_reason,
        "train_seconds": result.train_seconds,
        "train_examples_per_second": result.train_examples_per_second,
    }
