"""One Keras Tuner `HyperModel` for every app, and the tuners that run its trials.

The data are loaded and the preprocessor fitted once per search, from the fixed part of the
configuration (the app's flags); each trial replaces the searched fields of that config
(`dataclasses.replace`, hyperparameter names = field names), builds the model with the app's
own builder and trains it as `train` selects a model (`shared.runner.select`) into the
trial's own run directory (resumable checkpoints, early stopping on the app's selection
metric); only `best/` then runs the whole `train` (final fit, export, test metrics).
"""

import dataclasses
import json
import math
import shutil
import time
from pathlib import Path
from typing import Any

import keras
import keras_tuner
import tensorflow as tf

from shared.callbacks import load_state
from shared.callbacks import save_state
from shared.errors import UserError
from shared.run_dir import RunDir
from shared.runner import select
from shared.task import Task
from shared.training import prepare_run
from tuning.space import Dimension
from tuning.space import typed_values

TRIAL_SUMMARY = "trial.json"  # per execution: epochs run, seconds, the objective


class TaskHyperModel(keras_tuner.HyperModel):
    """Keras Tuner's view of a `Task` with its data loaded and its preprocessor fitted."""

    def __init__(
        self,
        task: Task,
        config: Any,
        data: Any,
        preprocessor: Any,
        dimensions: dict[str, Dimension],
    ):
        super().__init__(name=task.name)
        self.task, self.config, self.data = task, config, data
        self.dimensions = dimensions
        self.preprocessors = {self._preprocessor_key(config): preprocessor}
        self.datasets: dict[tuple, Any] = {}

    def _preprocessor_key(self, config: Any) -> tuple:
        return tuple(str(getattr(config, name)) for name in self.task.preprocessing_fields)

    def preprocessor_for(self, config: Any) -> Any:
        """The fitted preprocessor for `config`: fitted once, and again only for a trial that
        changes a field it depends on (`Task.preprocessing_fields`)."""
        key = self._preprocessor_key(config)
        if key not in self.preprocessors:
            self.preprocessors[key] = self.task.fit_preprocessing(config, self.data)
        return self.preprocessors[key]

    @property
    def objective(self) -> keras_tuner.Objective:
        return keras_tuner.Objective(self.task.selection_metric, self.task.selection_mode)

    def declare_hyperparameters(self, hp: keras_tuner.HyperParameters) -> None:
        for dimension in self.dimensions.values():
            dimension.add_to(hp)

    def config_for(self, hp: keras_tuner.HyperParameters, **changes: Any) -> Any:
        """The app config of a trial: the fixed flags with the trial's values."""
        values = {name: hp.get(name) for name in self.dimensions if name in hp.values}
        values = typed_values(values, type(self.config))
        return dataclasses.replace(self.config, **values, **changes)

    def _datasets(self, config: Any):
        """The trial's datasets; made once per distinct data-shaping setting."""
        key = tuple(
            sorted(
                (k, str(v))
                for k, v in dataclasses.asdict(config).items()
                if k not in ("seed", "epochs", "output_dir")
            )
        )
        if key not in self.datasets:
            preprocessor = self.preprocessor_for(config)
            self.datasets = {key: self.task.make_datasets(config, self.data, preprocessor)}
        return self.datasets[key]

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        self.declare_hyperparameters(hp)
        config = self.config_for(hp)
        examples = self._datasets(config).examples["train"]
        steps = math.ceil(examples / config.batch_size)
        preprocessor = self.preprocessor_for(config)
        return self.task.build_model(config, preprocessor, steps_per_epoch=steps)

    def run(
        self, hp: keras_tuner.HyperParameters, run_dir: Path, *, epochs=None, execution: int = 0
    ) -> dict:
        """Train one execution of a trial into `run_dir`; `{objective: best value}`.

        A trial whose loss becomes NaN, or whose config the app rejects, fails (and is
        recorded as such) without stopping the search.
        """
        changes = {"seed": self.config.seed + execution, "output_dir": str(run_dir)}
        if epochs is not None:
            changes["epochs"] = int(epochs)
        try:
            config = self.config_for(hp, **changes)
            run, _ = prepare_run(config, run_dir)
            datasets = self._datasets(config)
            preprocessor = self.preprocessor_for(config)
            start = time.perf_counter()
            _, result = select(self.task, config, run, datasets, preprocessor, verbose=2)
        except (UserError, ValueError, MemoryError, tf.errors.OpError) as error:
            # Out of memory, a combination the app rejects, a kernel error: this trial fails
            # (recorded with the reason); the search goes on.
            reason = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
            raise keras_tuner.errors.FailedTrialError(f"{type(error).__name__}: {reason}") from None
        if result.stop_reason == "nan":
            raise keras_tuner.errors.FailedTrialError(
                f"the loss became NaN in epoch {len(result.history)}"
            )
        name = self.task.selection_metric
        best = next(r[name] for r in result.history if r["epoch"] == result.best_epoch)
        summary = {
            "objective": best,
            "epochs": len(result.history),
            "best_epoch": result.best_epoch,
            "seconds": round(time.perf_counter() - start, 1),
        }
        (run_dir / TRIAL_SUMMARY).write_text(json.dumps(summary), encoding="utf-8")
        return {name: best}


def reopen(run_dir: Path) -> None:
    """Let a run that finished its epoch budget train on with a larger one (Hyperband's next
    round). A run that stopped early, or whose loss became NaN, stays stopped."""
    state_dir = RunDir(run_dir).resume_state
    state = load_state(state_dir)
    if state and state.get("stop_reason") == "completed":
        save_state(state_dir, state["history"], state.get("weights"), stop_reason=None)


class TaskTuner:
    """Runs a trial with `TaskHyperModel.run` (mixed into Keras Tuner's tuners below)."""

    def run_trial(self, trial, *args, **kwargs):
        hp = trial.hyperparameters
        trial_dir = Path(self.get_trial_dir(trial.trial_id))
        epochs = hp.values.get("tuner/epochs")  # Hyperband's budget for this round
        past = hp.values.get("tuner/trial_id")
        results = []
        for execution in range(self.executions_per_trial):
            run_dir = trial_dir / f"execution_{execution}"
            if past and not run_dir.exists():  # Hyperband: continue the earlier round's run
                earlier = Path(self.get_trial_dir(past)) / f"execution_{execution}"
                if earlier.is_dir():
                    shutil.copytree(earlier, run_dir)
                    reopen(run_dir)
            results.append(self.hypermodel.run(hp, run_dir, epochs=epochs, execution=execution))
        return results

    def save_model(self, trial_id, model, step=0):
        """Each run directory keeps its own best checkpoint; nothing else to save."""


class RandomSearch(TaskTuner, keras_tuner.RandomSearch):
    pass


class BayesianOptimization(TaskTuner, keras_tuner.BayesianOptimization):
    pass


class Hyperband(TaskTuner, keras_tuner.Hyperband):
    pass


TUNERS = {"random": RandomSearch, "bayesian": BayesianOptimization, "hyperband": Hyperband}
