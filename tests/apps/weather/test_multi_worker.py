"""Two-worker `MultiWorkerMirroredStrategy` training of the weather app on localhost, with
weight averaging and fine-tuning (both run under the strategy)."""

import json
import os
import subprocess
import sys

import keras
import pytest

from apps.weather import model as _registers_custom_layers  # noqa: F401
from apps.weather.task import WeatherTask
from shared import distribute
from shared.run_dir import RunDir
from shared.runner import evaluate
from tests.apps.weather.conftest import messy
from tests.apps.weather.conftest import signal_frame
from tests.apps.weather.conftest import write_csv
from tests.cluster import ROOT
from tests.cluster import Cluster

FLAGS = [
    "--target_columns", "temp", "--input_steps", "24", "--horizon", "6", "--units", "8",
    "--batch_size", "16", "--epochs", "2", "--members", "2", "--refit", "fine_tune",
    "--finetune_epochs", "1",
    "--ema_momentum", "0.9", "--scale_learning_rate",
]  # fmt: skip


def test_two_workers_train_one_model_and_the_chief_alone_writes(tmp_path):
    data_dir, run = tmp_path / "weather", RunDir(tmp_path / "run")
    write_csv(messy(signal_frame(hours=800)), data_dir / "station.csv")
    flags = [*FLAGS, "--data_dir", str(data_dir), "--output_dir", str(run.root)]
    with Cluster("weather", flags, tmp_path / "logs") as cluster:
        assert cluster.wait(timeout=240) == [0, 0], cluster.output(0)[-3000:]
        chief_output, fingerprints = cluster.output(0), cluster.fingerprints()
    assert fingerprints[0] == fingerprints[1]
    # The chief alone fits the scaler (the training rows' statistics) and sends it to worker 1,
    # which fits nothing.
    assert "Worker 1: receiving the fitted preprocessor from the chief" in cluster.output(1)
    assert "receiving the fitted preprocessor" not in chief_output
    assert [p.name for p in run.export.iterdir()] == ["1"]
    # The fine-tuned model both workers hold is the exported checkpoint.
    best = keras.models.load_model(run.best_model, compile=False)
    assert distribute.fingerprint(best.get_weights()) == fingerprints[0]
    metrics = json.loads(run.metrics.read_text())
    assert f"test MAE {metrics['model']['mae']:.4f}" in chief_output
    assert metrics["refit"]["epochs"] == 1 and metrics["refit"]["mode"] == "fine_tune"
    assert metrics["distribution"]["global_batch_size"] == 32
    assert metrics["distribution"]["learning_rate"] == 2e-3  # scaled by the 2 replicas
    assert sorted(p.name for p in run.root.iterdir()) == [
        ".lock", "checkpoints", "config.json", "export", "history.csv", "logs", "metrics.json",
        "plots", "refit_history.csv",
    ]  # fmt: skip
    # One process evaluates the run again, without the cluster.
    again = evaluate(WeatherTask(), run.root)
    assert again["model"]["mae"] == pytest.approx(metrics["model"]["mae"], rel=1e-5)


# In its own process: the two logical CPU devices must exist before TensorFlow starts.
MIRRORED_SCRIPT = """
import sys
from apps.weather import train
data_dir, out = sys.argv[1], sys.argv[2]
flags = ["--data_dir", data_dir, "--target_columns", "temp", "--input_steps", "24",
         "--horizon", "6", "--units", "8", "--epochs", "3", "--members", "1",
         "--refit", "none"]
mirrored = ["--strategy", "mirrored", "--devices", "CPU:0,CPU:1", "--batch_size", "16"]
assert train.main([*flags, *mirrored, "--output_dir", out + "/mirrored"]) == 0
assert train.main([*flags, "--batch_size", "32", "--output_dir", out + "/default"]) == 0
"""


def losses(run: RunDir) -> list[float]:
    rows = [line.split(",") for line in run.history.read_text().strip().splitlines()]
    column = rows[0].index("loss")
    return [float(row[column]) for row in rows[1:]]


def test_mirrored_on_two_cpus_follows_the_default_loss_curve(tmp_path):
    """Same global batch (2 x 16 vs 32): the same curve within 2.5% per epoch.

    Not exactly the same: the replicas add their gradients in another order, and the default
    run compiles with XLA (which has no collectives on CPU); measured gaps are below 1.2%.
    """
    data_dir = tmp_path / "weather"
    write_csv(messy(signal_frame(hours=800)), data_dir / "station.csv")
    result = subprocess.run(
        [sys.executable, "-c", MIRRORED_SCRIPT, str(data_dir), str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=400,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    mirrored, default = RunDir(tmp_path / "mirrored"), RunDir(tmp_path / "default")
    assert json.loads(mirrored.metrics.read_text())["distribution"]["replicas"] == 2
    assert len(losses(mirrored)) == len(losses(default)) == 3
    for one, two in zip(losses(default), losses(mirrored)):
        assert abs(one - two) <= 0.025 * one, (losses(default), losses(mirrored))
    # The curve falls: equal curves are not equal because nothing was learned.
    assert losses(default)[-1] < 0.9 * losses(default)[0]
