"""Two-worker `MultiWorkerMirroredStrategy` training of the sentiment app on localhost, with a
worker killed mid-run and the job restarted (resume)."""

import json
import re

import keras
import tensorflow as tf

from apps.sentiment import model as _registers_custom_layers  # noqa: F401
from shared import distribute
from shared.run_dir import RunDir
from tests.apps.sentiment.conftest import TINY_FLAGS
from tests.apps.sentiment.conftest import write_reviews
from tests.cluster import Cluster
from tests.crash_worker import CRASH_STATUS

EPOCHS = 2  # the crash after epoch 1, the resume trains epoch 2


def test_two_workers_survive_a_killed_worker_and_resume(tmp_path):
    data_dir, run = tmp_path / "reviews", RunDir(tmp_path / "run")
    write_reviews(data_dir, "train", copies=4)
    write_reviews(data_dir, "test", copies=1)
    flags = [*TINY_FLAGS, "--data_dir", str(data_dir), "--output_dir", str(run.root)]
    flags[flags.index("--epochs") + 1] = flags[flags.index("--patience") + 1] = str(EPOCHS)

    # First attempt: worker 1 dies (exits hard) right after saving epoch 1; the chief, which
    # saved epoch 1 too, loses it in epoch 2's first collective.
    with Cluster("sentiment", flags, tmp_path / "first", crash_after_epoch={1: 1}) as cluster:
        codes = cluster.wait(timeout=240)
        chief_output = cluster.output(0)
    assert codes[1] == CRASH_STATUS, cluster.output(1)[-3000:]
    chief_code = codes[0]
    assert chief_code == 1, chief_output[-3000:]
    assert "error: the cluster lost /job:worker/replica:0/task:1" in chief_output
    assert "restart every worker with the same command" in chief_output
    assert not run.metrics.exists() and not run.export.exists()

    # The same command on both workers resumes after the chief's last complete epoch.
    with Cluster("sentiment", flags, tmp_path / "second") as cluster:
        assert cluster.wait(timeout=240) == [0, 0], cluster.output(0)[-3000:]
        chief_output, fingerprints = cluster.output(0), cluster.fingerprints()
    assert re.search(r"Resuming .*after epoch 1\b", chief_output), chief_output[-3000:]
    assert "Worker 1 done: the chief wrote the run directory" in cluster.output(1)
    assert fingerprints[0] == fingerprints[1]

    # Exactly one export, written by the chief; the worker's own folder is gone.
    assert [p.name for p in run.export.iterdir()] == ["1"]
    worker = distribute.Placement(tf.distribute.get_strategy(), "multi_worker", worker=1)
    assert not distribute.worker_dir(str(run.root), worker).exists()
    history = run.history.read_text().strip().splitlines()[1:]
    assert [int(row.split(",")[0]) for row in history] == list(range(1, EPOCHS + 1))

    # The checkpoint the chief exported is the model both workers ended with, and
    # metrics.json is what the chief printed.
    best = keras.models.load_model(run.best_model, compile=False)
    assert distribute.fingerprint(best.get_weights()) == fingerprints[0]
    metrics = json.loads(run.metrics.read_text())
    assert f"test accuracy {metrics['accuracy']:.4f}" in chief_output
    assert metrics["distribution"] == {
        "strategy": "multi_worker",
        "replicas": 2,
        "workers": 2,
        "worker": 0,
        "global_batch_size": 8,
        "learning_rate": 1e-3,
        "dtype_policy": "float32",
    }
    config = json.loads(run.config.read_text())
    assert config["batch_size"] == 4 and config["strategy"] == "multi_worker"
