"""One runner for every app: `train`, `evaluate` and `predict` of any `shared.task.Task`.

The run directory is an argument, never read from a global, so one process can run many
trainings (a tuner's trials) side by side, each into its own directory.
"""

import argparse
import dataclasses
import math
import shutil
from pathlib import Path
from typing import Any
from typing import Optional
from typing import Sequence

import keras
import tensorflow as tf

from shared import distribute
from shared import io
from shared import sharding
from shared.cli import DATA_SOURCE_FIELDS
from shared.cli import parse_config
from shared.cli import parse_evaluate
from shared.cli import parse_predict
from shared.config import load_config_file
from shared.errors import UserError
from shared.export import export_config_path
from shared.export import export_saved_model
from shared.folds import FoldSelection
from shared.folds import fold_seconds
from shared.folds import select_folds
from shared.plots import plot_history
from shared.precision import export_tolerance
from shared.precision import policy_name
from shared.refit import refit
from shared.refit import selection_test
from shared.run_dir import RunDir
from shared.run_lock import run_lock
from shared.task import Datasets
from shared.task import Evaluation
from shared.task import Task
from shared.task import Trained
from shared.training import FitResult
from shared.training import finish_run
from shared.training import fit
from shared.training import prepare_run
from shared.training import run_summary

# What `evaluate` keeps of `metrics.json`: it describes the training, not the test data.
RUN_KEYS = (
    "epochs_trained",
    "best_epoch",
    "stop_reason",
    "train_seconds",
    "train_examples_per_second",
    "export",
    "distribution",
    "refit",
)


# === train ===


def train(task: Task, config: Any, run_dir: Optional[Path] = None) -> dict:
    """Train, export and evaluate `task` into `run_dir` (default: `config.output_dir`).

    An interrupted run in `run_dir` resumes after its last complete epoch, with the
    preprocessor it had fitted. Returns the metrics written to `metrics.json`.

    Under `--strategy multi_worker` every worker runs this: all of them train (in step, on
    their shard of each batch); only the chief writes `run_dir`, exports and evaluates. The
    others keep their resume state in a temporary folder, removed when training ends, and
    return the training summary.
    """
    placement = distribute.place(config)  # before TensorFlow's first op
    data, config = task.load_data(config)  # checks the data before anything is written
    if _selection_folds(config) > 1:  # the last fold exists (the data name it)
        last = config.selection_folds - 1
        task.load_data(dataclasses.replace(config, validation_fold=last, selection_folds=1))
    root = placement.run_root(run_dir or config.output_dir)
    with run_lock(root, f"python -m apps.{task.name}.train"):
        return _train(task, config, data, root, placement)


def _train(task: Task, config: Any, data: Any, root: Path, placement: distribute.Placement) -> dict:
    """`train` after the data are checked, with the run directory locked."""
    run, resuming = prepare_run(config, root)
    placement.join(config, run.resume_state)
    preprocessor = _preprocessor(task, config, data, run, resuming, placement)
    step_config = placement.step_config(config)
    datasets = task.make_datasets(placement.input_config(config), data, preprocessor)
    datasets.examples = placement.total(datasets.examples)  # each worker counted its share
    with placement.training():
        model, result = select(task, step_config, run, datasets, preprocessor)
        summary = run_summary(result, datasets.examples)
        if datasets.report:
            summary["data"] = datasets.report
        selected = model
        if config.refit != "none":
            epochs, folds = result.best_epoch, None
            if _selection_folds(config) > 1:
                folds = _fold_selection(task, config, run, result, datasets, placement)
                epochs = folds.best_epoch
            placement.resume_together(run.refit_state)
            final = refit(task, model, step_config, datasets, run, selected_epochs=epochs)
            model, summary["refit"] = final.model, final.record
            seconds = summary["train_seconds"] + final.record["seconds"]
            if folds is not None:
                summary["refit"]["folds"] = folds.record
                seconds += fold_seconds(folds.record)
            summary["train_seconds"] = round(seconds, 3)
        else:  # resumed with --refit none: a final fit made before is not what is exported
            shutil.rmtree(run.refit_state, ignore_errors=True)
        trained = Trained(model, step_config, data, run, result.history, summary)
        summary.update(task.describe_training(trained))
        weights = placement.agreed_weights(model)
    summary["distribution"] = {
        **placement.describe(),
        "global_batch_size": step_config.batch_size,
        "learning_rate": step_config.learning_rate,
        "dtype_policy": policy_name(config),
    }
    if not placement.is_chief:
        shutil.rmtree(run.root, ignore_errors=True)
        return summary

    if weights is not None:  # export and evaluate a copy on one device: no collectives left
        model = task.build_model(config, preprocessor, steps_per_epoch=1)  # (not trained)
        model.set_weights(weights)
    if config.refit != "none":  # the selected model's test figure, for comparison
        if weights is not None:  # the selected weights, too, on one device
            selected = task.build_model(config, preprocessor, steps_per_epoch=1)
            selected.load_weights(run.best_model)
        test = selection_test(task, selected, config, data, run)
        summary["refit"]["selection"] = {"best_epoch": result.best_epoch, "test": test}
    plot_history(result.history, run.plots / "training_curves.png", result.best_epoch)
    serving = task.serving(model, config, data)
    export_dir, loaded = export_saved_model(
        run.export,
        serving.endpoints,
        track=serving.track,
        config_json=config.to_json(),
        atol=export_tolerance(config),
    )
    evaluation = Evaluation(config, data, loaded.signatures, run.plots, model)
    metrics = task.evaluate(evaluation)
    examples = {**summary["examples"], **metrics.get("examples", {})}
    metrics = {**metrics, **summary, "examples": examples, "export": str(export_dir)}
    io.write_json(run.metrics, metrics)
    finish_run(run)
    return metrics


def select(
    task: Task,
    config: Any,
    run: RunDir,
    datasets: Datasets,
    preprocessor: Any,
    *,
    verbose: str | int = "auto",
) -> tuple[keras.Model, FitResult]:
    """Model selection, for `train` and a tuning trial alike: build the compiled model, keep
    it as first built (what a resumed run takes its preprocessor from), and train it with
    early stopping and the best checkpoint on the validation data; the model ends on the
    best epoch's weights."""
    steps_per_epoch = math.ceil(datasets.examples["train"] / config.batch_size)
    model = task.build_model(config, preprocessor, steps_per_epoch=steps_per_epoch)
    if not run.start_model.exists():
        io.save_model(model, run.start_model)
    result = fit(
        model,
        sharding.shard(datasets.train),
        sharding.shard(datasets.val),
        config,
        run=run,
        num_train_examples=datasets.examples["train"],
        monitor=task.selection_metric,
        mode=task.selection_mode,
        verbose=verbose,
    )
    return model, result


def _selection_folds(config: Any) -> int:
    """`--selection_folds` of apps that hold out groups (`GroupedFilesConfig`); else 1."""
    return getattr(config, "selection_folds", 1)


def _fold_selection(
    task: Task,
    config: Any,
    run: RunDir,
    first: FitResult,
    datasets: Datasets,
    placement: distribute.Placement,
) -> FoldSelection:
    """`--selection_folds`: the other folds' selection runs (`shared.folds`), each with its
    own data split and preprocessor fitted on its own training part."""

    def select_fold(fold_config: Any, fold_run: RunDir) -> tuple[FitResult, dict]:
        data, fold_config = task.load_data(fold_config)
        fold_run, resuming = prepare_run(fold_config, fold_run.root)
        preprocessor = _preprocessor(task, fold_config, data, fold_run, resuming, placement)
        fold_sets = task.make_datasets(placement.input_config(fold_config), data, preprocessor)
        step_config = placement.step_config(fold_config)
        _, result = select(task, step_config, fold_run, fold_sets, preprocessor)
        return result, fold_sets.report or {}

    return select_folds(
        config,
        run,
        first,
        datasets.report or {},
        select_fold,
        monitor=task.selection_metric,
        mode=task.selection_mode,
    )


def _preprocessor(
    task: Task,
    config: Any,
    data: Any,
    run: RunDir,
    resuming: bool,
    placement: distribute.Placement,
) -> Any:
    """The preprocessor of an interrupted run, from the model it first built; else fitted now,
    by the chief alone under `--strategy multi_worker` (the workers receive it)."""
    if resuming and run.start_model.exists():
        print(f"Reusing the preprocessor fitted by the interrupted run ({run.start_model})")
        return keras.saving.load_model(run.start_model, compile=False).preprocessor
    if not placement.is_multi_worker:
        return task.fit_preprocessing(config, data)
    fitted = distribute.from_chief(
        placement,
        lambda: io.layer_to_bytes(task.fit_preprocessing(config, data)),
        what="the fitted preprocessor",
    )
    return io.layer_from_bytes(fitted)


def train_command(task: Task, argv: Optional[Sequence[str]], description: str) -> int:
    """`python -m apps.<app>.train`: flags from the config class, then `train`."""
    prog = f"python -m apps.{task.name}.train"
    return run_train(task, parse_config(task.config_class, argv, description, prog=prog))


def run_train(task: Task, config: Any) -> int:
    """`train` with parsed flags, and the command's closing line."""
    metrics = train(task, config)
    if "export" not in metrics:  # a worker other than the chief
        worker = metrics["distribution"]["worker"]
        print(f"Worker {worker} done: the chief wrote the run directory and the export")
        return 0
    print(f"{task.summary(metrics)}; run directory {config.output_dir}")
    return 0


# === evaluate ===


def evaluate(task: Task, run_dir: Path, **data_source: Optional[str]) -> dict:
    """Evaluate the newest export of a finished run on its test split and rewrite `metrics.json`.

    `data_source` (`data_dir`, `csv`, `tfds_data_dir`) points the run's config at other data;
    given any, the others are cleared. Metrics of earlier data are dropped, except those that
    describe training (`RUN_KEYS` and the task's `training_keys`).
    """
    run = RunDir(Path(run_dir))
    load_export(task, run, "evaluate")  # a run directory of this app, before it is locked
    with run_lock(run.root, f"python -m apps.{task.name}.evaluate"):
        return _evaluate(task, run, data_source)


def _evaluate(task: Task, run: RunDir, data_source: dict) -> dict:
    """`evaluate` with the run directory locked."""
    export_dir, config = load_export(task, run, "evaluate")
    # One process reads the whole data, whatever cluster trained the run.
    config = dataclasses.replace(config, strategy="default", devices=())
    if any(value is not None for value in data_source.values()):
        fields = {f.name for f in dataclasses.fields(config)}
        source = {name: data_source.get(name) for name in DATA_SOURCE_FIELDS if name in fields}
        config = dataclasses.replace(config, **source)
    data, resolved = task.load_data(config)
    if getattr(resolved, "class_names", ()) != getattr(config, "class_names", ()):
        raise UserError(
            f"the data's classes {list(resolved.class_names)} differ from the run's "
            f"{list(config.class_names)}"
        )
    loaded = tf.saved_model.load(str(export_dir))
    model = keras.saving.load_model(run.best_model)  # the export's model, as Keras sees it
    metrics = task.evaluate(Evaluation(resolved, data, loaded.signatures, run.plots, model))
    previous = io.read_json(run.metrics) if run.metrics.exists() else {}
    kept = {k: previous[k] for k in (*RUN_KEYS, *task.training_keys) if k in previous}
    if "selection" in kept.get("refit", {}):  # the selected model is gone: its figure stays old
        selection = {k: v for k, v in kept["refit"]["selection"].items() if k != "test"}
        kept["refit"] = {**kept["refit"], "selection": selection}
    examples = previous.get("examples", {})
    examples = {k: v for k, v in examples.items() if k != "test"}
    metrics = {**metrics, **kept, "evaluated_export": str(export_dir)}
    metrics["examples"] = {**examples, **metrics.get("examples", {})}
    io.write_json(run.metrics, metrics)
    return metrics


def evaluate_command(task: Task, argv: Optional[Sequence[str]], description: str) -> int:
    """`python -m apps.<app>.evaluate --run_dir RUN [--data_dir DIR ...]`."""
    prog = f"python -m apps.{task.name}.evaluate"
    return run_evaluate(task, parse_evaluate(task.config_class, argv, description, prog))


def run_evaluate(task: Task, args: argparse.Namespace) -> int:
    """`evaluate` with parsed flags, and the command's closing line."""
    args = vars(args)
    run_dir = Path(args.pop("run_dir"))
    metrics = evaluate(task, run_dir, **args)
    print(f"{task.summary(metrics)} -> {RunDir(run_dir).metrics}")
    return 0


# === predict ===


def predict_command(task: Task, argv: Optional[Sequence[str]], description: str) -> int:
    """`python -m apps.<app>.predict --run_dir RUN INPUT...` with the newest export."""
    prog = f"python -m apps.{task.name}.predict"
    return run_predict(task, parse_predict(task.config_class, argv, description, prog))


def run_predict(task: Task, args: argparse.Namespace) -> int:
    """`predict` with parsed flags."""
    export_dir, config = load_export(task, RunDir(Path(args.run_dir)), "predict")
    task.predict(tf.saved_model.load(str(export_dir)).signatures, config, args)
    return 0


# === finished runs ===


def load_export(task: Task, run: RunDir, command: str) -> tuple[Path, Any]:
    """The newest export version of a finished run of `task`, and that version's config.

    The config comes from the version itself (`assets.extra/config.json`), so a version
    rolled back to never meets a newer run's classes or columns; versions written before
    versions carried it fall back to the run's `config.json`.
    """
    if not run.config.exists():
        raise UserError(f"{run.root}: no config.json; is this a run directory?")
    app = io.read_json(run.config).get("app")
    if app and app != task.name:
        raise UserError(
            f"{run.root} is a {app} run; use python -m apps.{app}.{command} --run_dir {run.root}"
        )
    try:
        export_dir = run.latest_export()
    except FileNotFoundError as error:
        raise UserError(f"{error}; train the run to the end first") from None
    path = export_config_path(export_dir)
    try:
        values = load_config_file(task.config_class, str(path if path.exists() else run.config))
        return export_dir, task.config_class(**values)
    except (ValueError, TypeError) as error:
        raise UserError(f"{run.root} is not a {task.name} run ({error})") from None
