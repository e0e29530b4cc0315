"""The template's own test: a toy Task runs through the generic runner end to end.

The toy classifies 2-D points by the sign of `x + y`. Its preprocessor (a `Normalization` with
the training features' mean and variance) is fitted once and saved with the model.
"""

import dataclasses
import json
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from shared import io
from shared import runner
from shared.callbacks import TrainingState
from shared.cli import command
from shared.config import BaseConfig
from shared.config import default
from shared.config import option
from shared.evaluation import classifier_report
from shared.evaluation import print_classes
from shared.evaluation import served_probabilities
from shared.export import Endpoint
from shared.export import export_config_path
from shared.pipeline import Pipeline
from shared.runner import evaluate_command
from shared.runner import predict_command
from shared.runner import train_command
from shared.task import Datasets
from shared.task import Serving
from shared.task import Task
from shared.training import make_optimizer
from tests.resume_test import check_interrupted_run_resumes
from tests.run_dir_test import check_finished_run_directory


@dataclasses.dataclass(frozen=True)
class ToyConfig(BaseConfig):
    APP = "toy"

    output_dir: str = option("runs/toy", "Run directory")
    class_names: tuple[str, ...] = option(("negative", "positive"), "Class names")
    scale: float = option(1.0, "Scale of the generated points", min=0.0, min_exclusive=True)
    epochs: int = default(BaseConfig, "epochs", 5)
    batch_size: int = default(BaseConfig, "batch_size", 16)
    learning_rate: float = default(BaseConfig, "learning_rate", 0.1)


def toy_points(count: int, seed: int, scale: float) -> tf.data.Dataset:
    points = np.random.default_rng(seed).normal(3.0, scale, size=(count, 2)).astype("float32")
    labels = (points.sum(axis=1) > 6.0).astype("int64")
    return tf.data.Dataset.from_tensor_slices((points, labels))


def normalized(batches: tf.data.Dataset, preprocessor) -> tf.data.Dataset:
    """`(points, labels)` batches through the model's preprocessor, as `fit` trains on them."""
    return batches.map(lambda x, y: (preprocessor(x), y))


class ToyTask(Task):
    config_class = ToyConfig
    selection_metric = "val_accuracy"
    selection_mode = "max"
    training_keys = ("feature_mean",)
    fitted = 0  # how often fit_preprocessing ran

    def load_data(self, config):
        splits = {"train": 256, "val": 64, "test": 64}
        data = {
            name: toy_points(n, i + config.seed, config.scale)
            for i, (name, n) in enumerate(splits.items())
        }
        return data, config

    def fit_preprocessing(self, config, data):
        ToyTask.fitted += 1
        points = np.stack([x for x, _ in data["train"].as_numpy_iterator()])
        mean, variance = points.mean(0).tolist(), points.var(0).tolist()
        layer = keras.layers.Normalization(mean=mean, variance=variance, name="normalize")
        layer.build((None, 2))  # now, not first inside a tf.data function
        return layer

    def make_datasets(self, config, data, preprocessor):
        train = data["train"].shuffle(256, seed=config.seed).batch(config.batch_size)
        counts = {name: int(d.cardinality()) for name, d in data.items()}
        normalized = [
            d.map(lambda x, y: (preprocessor(x), y)) for d in (train, data["val"].batch(64))
        ]
        return Datasets(*normalized, counts)

    def build_model(self, config, preprocessor, *, steps_per_epoch):
        network = keras.Sequential(
            [keras.Input((2,), name="features"), keras.layers.Dense(2, activation="softmax")]
        )
        model = Pipeline(network, preprocessor)
        model.compile(
            optimizer=make_optimizer(config),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    def describe_training(self, trained):
        return {"feature_mean": trained.model.preprocessor.get_config()["mean"]}

    def serving(self, model, config, data):
        names = tf.constant(list(config.class_names))

        def serve(features):
            probabilities = model.serve(features)
            return {
                "label": tf.gather(names, tf.argmax(probabilities, -1)),
                "probabilities": probabilities,
            }

        spec = [tf.TensorSpec([None, 2], tf.float32, name="features")]
        sample = {"features": np.array([[3.0, 3.5], [2.0, 1.0]], np.float32)}
        return Serving({"serving_default": Endpoint(serve, spec, sample)}, track=[model])

    def evaluate(self, evaluation):
        data, config = evaluation.data, evaluation.config
        serve = evaluation.serving["serving_default"]
        labels, probabilities = served_probabilities(serve, data["test"], "features")
        train_labels = np.array([y for _, y in data["train"].as_numpy_iterator()])
        return classifier_report(
            labels, probabilities, train_labels, config.class_names, evaluation.plots
        )

    def summary(self, metrics):
        return f"test accuracy {metrics['accuracy']:.3f}"

    def predict(self, serving, config, args):
        points = [[float(v) for v in item.split(",")] for item in args.inputs]
        outputs = serving["serving_default"](features=tf.constant(points, tf.float32))
        labels, probabilities = outputs["label"].numpy(), outputs["probabilities"].numpy()
        print_classes(args.inputs, labels, probabilities, config.class_names)


@command
def train(argv=None):
    return train_command(ToyTask(), argv, "Train the toy")


@command
def evaluate(argv=None):
    return evaluate_command(ToyTask(), argv, "Evaluate the toy")


@command
def predict(argv=None):
    return predict_command(ToyTask(), argv, "Predict with the toy")


def read_metrics(run_dir: Path) -> dict:
    return json.loads((run_dir / "metrics.json").read_text())


def test_train_evaluate_predict_through_the_runner(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert train(["--output_dir", str(run_dir)]) == 0
    metrics = read_metrics(run_dir)
    assert metrics["accuracy"] > 0.9 > metrics["baseline_majority"]["accuracy"]  # it learned
    assert metrics["examples"] == {"train": 256, "val": 64, "test": 64}
    assert metrics["epochs_trained"] == 5 and metrics["export"].endswith("export/1")
    assert len(metrics["feature_mean"]) == 2  # the task's training metric
    check_finished_run_directory(run_dir, {"confusion_matrix.png"})
    assert json.loads((run_dir / "config.json").read_text())["app"] == "toy"
    assert json.loads(export_config_path(run_dir / "export" / "1").read_text())["app"] == "toy"
    assert "test accuracy" in capsys.readouterr().out

    # evaluate recomputes the test metrics, keeps what describes training, drops the rest.
    io.write_json(run_dir / "metrics.json", {**metrics, "stale": 1, "accuracy": -1.0})
    assert evaluate(["--run_dir", str(run_dir)]) == 0
    again = read_metrics(run_dir)
    assert "stale" not in again and again["accuracy"] == pytest.approx(metrics["accuracy"])
    for key in ("train_seconds", "best_epoch", "feature_mean", "examples"):
        assert again[key] == metrics[key], key

    assert predict(["--run_dir", str(run_dir), "5,5", "0,0"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[0] for line in lines[-2:]] == ["positive", "negative"]


def test_interrupted_run_resumes_with_its_preprocessor(tmp_path, monkeypatch, capsys):
    run_dir = tmp_path / "run"
    fitted = ToyTask.fitted
    check_interrupted_run_resumes(
        train, ["--output_dir", str(run_dir)], run_dir, monkeypatch, capsys
    )
    assert ToyTask.fitted == fitted + 1  # fitted once, taken from start.keras on resume


def test_each_version_keeps_its_own_config(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert train(["--output_dir", str(run_dir), "--epochs", "1"]) == 0
    assert train(["--output_dir", str(run_dir), "--epochs", "1", "--class_names", "no,yes"]) == 0
    assert sorted(p.name for p in (run_dir / "export").iterdir()) == ["1", "2"]
    capsys.readouterr()
    assert predict(["--run_dir", str(run_dir), "5,5"]) == 0
    assert capsys.readouterr().out.startswith("yes\t")
    # Roll back to version 1: its own classes, not the newer run's.
    (run_dir / "export" / "2").rename(tmp_path / "version-2")
    assert predict(["--run_dir", str(run_dir), "5,5"]) == 0
    assert capsys.readouterr().out.startswith("positive\t")


def test_another_apps_run_is_named_in_one_line(tmp_path, capsys):
    run_dir = tmp_path / "weather-run"
    run_dir.mkdir()
    (run_dir / "config.json").write_text(json.dumps({"app": "weather", "horizon": 24}))
    assert predict(["--run_dir", str(run_dir), "1,1"]) == 1
    assert evaluate(["--run_dir", str(run_dir)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"error: {run_dir} is a weather run; use python -m apps.weather.{command} "
        f"--run_dir {run_dir}"
        for command in ("predict", "evaluate")
    ]
    # An older run directory without the app's name is caught by its fields.
    (run_dir / "config.json").write_text(json.dumps({"horizon": 24}))
    (run_dir / "export" / "1").mkdir(parents=True)
    assert predict(["--run_dir", str(run_dir), "1,1"]) == 1
    assert "is not a toy run (--config: unknown field(s)" in capsys.readouterr().err


# === the final fit after model selection (--refit) ===

# (phase, first coordinate) of every point a training or validation pipeline produced, and
# "evaluate" when the test split was scored: the order in which the runner used the data.
EVENTS: list[tuple[str, float]] = []


def recorded(dataset: tf.data.Dataset, phase: str) -> tf.data.Dataset:
    """`dataset` (batched points) that logs each point it yields to `EVENTS`."""

    def record(points):
        EVENTS.extend((phase, round(float(v), 5)) for v in points[:, 0])
        return points

    return dataset.map(
        lambda x, y: (tf.ensure_shape(tf.numpy_function(record, [x], tf.float32), [None, 2]), y)
    )


class RefitToyTask(ToyTask):
    """The toy with its data logged, selected on the validation loss (which keeps falling, so
    the selected epoch is the last: the final fit trains several epochs)."""

    selection_metric = "val_loss"
    selection_mode = "min"

    def make_datasets(self, config, data, preprocessor):
        train = data["train"].shuffle(256, seed=config.seed).batch(config.batch_size)
        both = data["train"].concatenate(data["val"]).shuffle(320, seed=config.seed)
        logged = {
            "train": recorded(train, "train"),
            "val": recorded(data["val"].batch(64), "val"),
            "final": recorded(both.batch(config.batch_size), "final"),
        }
        logged = {name: normalized(d, preprocessor) for name, d in logged.items()}
        counts = {name: int(d.cardinality()) for name, d in data.items()}
        counts["train_and_val"] = 320
        return Datasets(logged["train"], logged["val"], counts, logged["final"])

    def evaluate(self, evaluation):
        EVENTS.append(("evaluate", 0.0))
        return super().evaluate(evaluation)


@command
def train_refit(argv=None):
    return train_command(RefitToyTask(), argv, "Train the toy with a final fit")


def points_of(split: str, config: ToyConfig = ToyConfig()) -> list[float]:
    data, _ = ToyTask().load_data(config)
    return sorted(round(float(x[0]), 5) for x, _ in data[split].as_numpy_iterator())


def test_final_fit_trains_on_every_train_and_val_example_after_selection(tmp_path):
    run_dir = tmp_path / "run"
    EVENTS.clear()
    argv = ["--output_dir", str(run_dir), "--refit", "scratch", "--patience", "10"]
    assert train_refit(argv) == 0
    metrics = read_metrics(run_dir)
    refit = metrics["refit"]
    assert refit["mode"] == "scratch" and refit["examples"] == 320
    assert refit["epochs"] == metrics["best_epoch"] == refit["selection"]["best_epoch"] >= 3
    assert refit["seconds"] > 0 and metrics["train_seconds"] > refit["seconds"]
    assert 0.5 < refit["selection"]["test"]["accuracy"] <= 1.0
    assert refit["selection"]["test"]["summary"].startswith("test accuracy")
    train, val, test = (points_of(split) for split in ("train", "val", "test"))
    phases = [phase for phase, _ in EVENTS]
    # Selection: every training point once per epoch, validation points only for validation.
    selection = sorted(v for phase, v in EVENTS if phase == "train")
    assert selection == sorted(train * metrics["epochs_trained"])
    assert sorted(v for phase, v in EVENTS if phase == "val") == sorted(
        val * metrics["epochs_trained"]
    )
    # The final fit: exactly every training and validation point once per epoch.
    final = sorted(v for phase, v in EVENTS if phase == "final")
    assert final == sorted((train + val) * refit["epochs"])
    # The test split was scored only after all training (the selection's figure, the final's).
    first_test = phases.index("evaluate")
    assert phases.count("evaluate") == 2 and "final" not in phases[first_test:]
    assert not set(test) & {v for phase, v in EVENTS if phase != "evaluate"}
    # The export serves the final model, which best.keras now holds; not the selected one.
    served = tf.saved_model.load(metrics["export"]).signatures["serving_default"]
    probe = np.array([[3.0, 3.5], [2.0, 1.0], [4.0, 2.5]], np.float32)
    final_model = keras.saving.load_model(run_dir / "checkpoints" / "best.keras")
    np.testing.assert_allclose(
        served(features=tf.constant(probe))["probabilities"].numpy(),
        final_model.predict(probe),  # raw points: the preprocessor inside
        atol=1e-5,
    )
    assert (run_dir / "refit_history.csv").read_text().count("\n") == 1 + refit["epochs"]


def test_fine_tune_refit_continues_from_the_selected_model(tmp_path):
    run_dir = tmp_path / "run"
    argv = ["--output_dir", str(run_dir), "--refit", "fine_tune", "--finetune_epochs", "2"]
    assert train_refit([*argv, "--epochs", "2"]) == 0
    refit = read_metrics(run_dir)["refit"]
    assert refit["mode"] == "fine_tune" and refit["epochs"] == 2 and refit["examples"] == 320


def test_scaled_refit_trains_the_selected_epochs_times_the_data_growth(tmp_path):
    run_dir = tmp_path / "run"
    argv = ["--output_dir", str(run_dir), "--refit", "scratch", "--scale_refit_epochs"]
    assert train_refit([*argv, "--epochs", "4", "--patience", "10"]) == 0
    metrics = read_metrics(run_dir)
    assert metrics["best_epoch"] == 4 and metrics["refit"]["epochs"] == 5  # 4 * 320 / 256


def test_run_interrupted_in_the_final_fit_resumes_there(tmp_path, monkeypatch, capsys):
    run_dir = tmp_path / "run"
    argv = ["--output_dir", str(run_dir), "--refit", "scratch", "--patience", "10"]
    original = TrainingState.on_epoch_begin

    def interrupt_in_second_final_epoch(self, epoch, logs=None):
        if epoch == 1 and self.state_dir.name == "refit":
            raise KeyboardInterrupt
        original(self, epoch, logs)

    monkeypatch.setattr(TrainingState, "on_epoch_begin", interrupt_in_second_final_epoch)
    assert train_refit(argv) == 130
    assert not (run_dir / "metrics.json").exists() and not (run_dir / "export").exists()
    monkeypatch.setattr(TrainingState, "on_epoch_begin", original)
    capsys.readouterr()
    EVENTS.clear()

    assert train_refit(argv) == 0
    out = capsys.readouterr().out
    assert "refit after epoch 1" in out and "Epoch 1/" not in out and "Epoch 2/" in out
    assert not any(phase in ("train", "val") for phase, _ in EVENTS)  # selection not rerun
    metrics = read_metrics(run_dir)
    epochs = metrics["refit"]["epochs"]
    final = sorted(v for phase, v in EVENTS if phase == "final")
    assert final == sorted((points_of("train") + points_of("val")) * (epochs - 1))
    assert metrics["epochs_trained"] == 5 and metrics["refit"]["selection"]["test"]["accuracy"]


def test_a_run_resumed_with_refit_none_exports_its_selected_model(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    argv = ["--output_dir", str(run_dir), "--patience", "10"]

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    # Interrupted after the final fit finished, before the export.
    monkeypatch.setattr(runner, "export_saved_model", interrupt)
    assert train_refit([*argv, "--refit", "scratch"]) == 130
    assert (run_dir / "checkpoints" / "resume" / "refit" / "final.keras").exists()
    monkeypatch.undo()
    selected = keras.saving.load_model(run_dir / "checkpoints" / "best.keras")
    EVENTS.clear()

    assert train_refit([*argv, "--refit", "none"]) == 0  # the selection is kept
    assert not any(phase in ("train", "val", "final") for phase, _ in EVENTS)
    metrics = read_metrics(run_dir)
    assert "refit" not in metrics and metrics["epochs_trained"] == 5
    exported = keras.saving.load_model(run_dir / "checkpoints" / "best.keras")
    for kept, selected_weights in zip(exported.get_weights(), selected.get_weights()):
        np.testing.assert_array_equal(kept, selected_weights)
