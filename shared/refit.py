"""The final fit after model selection (`--refit`), the same for every app.

Model selection (early stopping and the best checkpoint on validation data that resembles the
test: held-out speakers, groups, the later period) decides how long to train. The data it held
out are then wasted unless the exported model learns from them too, so the final fit trains on
train+val together:

- `scratch`: a new model from the same seed, with the same schedule, augmentation and batch
  size, for the selected number of epochs (the epoch count is kept, not the step count: each
  example is seen as often as in the selection run, and per-epoch schedules run unchanged);
- `fine_tune`: the selected model, `--finetune_epochs` more epochs at a tenth of the learning
  rate.

The selection run's own test figure is computed too (after training, so it can never steer
anything) and recorded beside the final model's in `metrics.json` (`refit`).
"""

import dataclasses
import math
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any
from typing import Callable

import keras
import tensorflow as tf

from shared import io
from shared import sharding
from shared.errors import UserError
from shared.export import Endpoint
from shared.run_dir import RunDir
from shared.task import Datasets
from shared.task import Evaluation
from shared.task import Task
from shared.training import fit_epochs

SELECTION_TEST_FILE = "selection_test.json"


@dataclasses.dataclass
class Refit:
    """The final fit's model and its record for `metrics.json`."""

    model: keras.Model
    record: dict


def refit(
    task: Task,
    selected: keras.Model,
    config: Any,
    datasets: Datasets,
    run: RunDir,
    *,
    selected_epochs: int,
) -> Refit:
    """Train the final model on `datasets.train_and_val` (see the module docstring).

    `selected` holds the selection run's best weights. Call inside the strategy scope the
    selection trained in. Resumable: an interrupted final fit continues after its last complete
    epoch, and a finished one is loaded from `run.refit_model`.
    """
    if datasets.train_and_val is None:
        raise UserError(f"{task.name} has no train+val dataset; rerun with --refit none")
    examples = datasets.examples["train_and_val"]
    steps_per_epoch = math.ceil(examples / config.batch_size)
    if config.refit == "scratch":
        keras.utils.set_random_seed(config.seed)  # the selection run's initial weights
        model = task.build_model(config, selected.preprocessor, steps_per_epoch=steps_per_epoch)
        epochs = selected_epochs
        if config.scale_refit_epochs:
            epochs = round(selected_epochs * examples / datasets.examples["train"])
    else:  # fine_tune: the selected weights, a tenth of the learning rate
        slower = dataclasses.replace(config, learning_rate=config.learning_rate * 0.1)
        model = task.build_model(slower, selected.preprocessor, steps_per_epoch=steps_per_epoch)
        model.set_weights(selected.get_weights())
        epochs = config.finetune_epochs
    record = {"mode": config.refit, "epochs": epochs, "examples": examples}
    _forget_other_refit(run, record)
    if run.refit_model.exists():
        print(f"Loading the final fit of an interrupted run from {run.refit_model}")
        model.load_weights(run.refit_model)
        return Refit(model, {**record, **io.read_json(run.refit_state / "record.json")})
    print(f"Final fit ({config.refit}): {epochs} epoch(s) on {examples} train+val examples")
    start = time.perf_counter()
    history = fit_epochs(
        model,
        sharding.shard(datasets.train_and_val),  # as in the selection
        epochs=epochs,
        state_dir=run.refit_state,
        history_csv=run.root / "refit_history.csv",
        logs=run.logs / "refit",
    )
    if not all(math.isfinite(r.get("loss", math.nan)) for r in history):
        raise UserError(
            f"the final fit's loss became NaN in epoch {len(history)}; rerun the same command "
            f"with --refit none to export the selected model (the selection is kept)"
        )
    seconds = sum(r["epoch_seconds"] for r in history)
    finished = {"seconds": round(seconds, 3), "wall_seconds": round(time.perf_counter() - start, 3)}
    io.write_json(run.refit_state / "record.json", finished)
    io.save_model(model, run.refit_model)
    return Refit(model, {**record, **finished})


def _forget_other_refit(run: RunDir, record: dict) -> None:
    """Drop the state of an interrupted final fit made with other settings (a run resumed with
    another --refit keeps its selection, not the other final fit)."""
    path = run.refit_state / "settings.json"
    if path.exists() and io.read_json(path) != record:
        shutil.rmtree(run.refit_state)
    if not path.exists():
        run.refit_state.mkdir(parents=True, exist_ok=True)
        io.write_json(path, record)


def selection_test(task: Task, selected: keras.Model, config: Any, data: Any, run: RunDir) -> dict:
    """The selection run's test figure (headline metric and summary line), computed through
    the serving endpoints the export would have; computed once and kept for a resumed run."""
    path = run.resume_state / SELECTION_TEST_FILE
    if path.exists():
        return io.read_json(path)
    serving = task.serving(selected, config, data)
    signatures = {name: _signature(e) for name, e in serving.endpoints.items()}
    with tempfile.TemporaryDirectory() as plots:  # the final model's plots are the run's
        metrics = task.evaluate(Evaluation(config, data, signatures, Path(plots), selected))
    value = metrics
    for key in task.test_metric.split("."):
        value = value[key]
    result = {task.test_metric: value, "summary": task.summary(metrics)}
    io.write_json(path, result)
    return result


def _signature(endpoint: Endpoint) -> Callable[..., dict]:
    """`endpoint` called as a loaded SavedModel's signature: named tensors in."""
    function = tf.function(endpoint.fn, input_signature=list(endpoint.input_signature))
    names = [spec.name for spec in endpoint.input_signature]
    return lambda **inputs: function(*(inputs[name] for name in names))
