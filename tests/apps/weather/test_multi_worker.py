"""Two-worker `MultiWorkerMirroredStrategy` training of the weather app on localhost, with
weight averaging and fine-tuning (both run under the strategy)."""

import json

import keras

from apps.weather import model as _registers_custom_layers  # noqa: F401
from shared import distribute
from shared.run_dir import RunDir
from tests.apps.weather.conftest import messy
from tests.apps.weather.conftest import signal_frame
from tests.apps.weather.conftest import write_csv
from tests.cluster import Cluster

FLAGS = [
    "--target_columns", "temp", "--input_steps", "24", "--horizon", "6", "--units", "8",
    "--batch_size", "16", "--epochs", "2", "--members", "2", "--finetune_epochs", "1",
    "--ema_momentum", "0.9", "--scale_learning_rate",
]  # fmt: skip


def test_two_workers_train_one_model_and_the_chief_alone_writes(tmp_path):
    data_dir, run = tmp_path / "weather", RunDir(tmp_path / "run")
    write_csv(messy(signal_frame()), data_dir / "station.csv")
    flags = [*FLAGS, "--data_dir", str(data_dir), "--output_dir", str(run.root)]
    with Cluster("weather", flags, tmp_path / "logs") as cluster:
        assert cluster.wait(timeout=240) == [0, 0], cluster.output(0)[-3000:]
        chief_output, fingerprints = cluster.output(0), cluster.fingerprints()
    assert fingerprints[0] == fingerprints[1]
    assert [p.name for p in run.export.iterdir()] == ["1"]
    # The fine-tuned model both workers hold is the exported checkpoint.
    best = keras.models.load_model(run.best_model, compile=False)
    assert distribute.fingerprint(best.get_weights()) == fingerprints[0]
    metrics = json.loads(run.metrics.read_text())
    assert f"test MAE {metrics['model']['mae']:.4f}" in chief_output
    assert metrics["fine_tuning"]["epochs"] == 1
    assert metrics["distribution"]["global_batch_size"] == 32
    assert metrics["distribution"]["learning_rate"] == 2e-3  # scaled by the 2 replicas
    assert sorted(p.name for p in run.root.iterdir()) == [
        "checkpoints", "config.json", "export", "history.csv", "logs", "metrics.json",
        "plots", "preprocessing",
    ]  # fmt: skip
