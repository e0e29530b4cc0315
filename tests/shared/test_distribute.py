"""`shared.distribute`: strategy flags, global batch, errors, and the fixes that make a step
under a strategy the same as without one."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import tensorflow as tf

from shared import distribute
from shared.errors import UserError

ROOT = Path(__file__).resolve().parents[2]


def config(**changes):
    values = dict(
        strategy="default", devices=(), batch_size=16, learning_rate=1e-3, scale_learning_rate=False
    )
    return SimpleNamespace(**{**values, **changes})


class FakeStrategy:
    def __init__(self, replicas):
        self.num_replicas_in_sync = replicas


@dataclasses.dataclass(frozen=True)
class Config:
    batch_size: int = 16
    learning_rate: float = 1e-3
    scale_learning_rate: bool = False


def test_global_batch_is_per_replica_batch_times_replicas():
    two = distribute.Placement(FakeStrategy(2), "mirrored")
    assert distribute.global_config(Config(), two) == Config(batch_size=32)
    scaled = distribute.global_config(Config(scale_learning_rate=True), two)
    assert (scaled.batch_size, scaled.learning_rate) == (32, 2e-3)
    one = distribute.Placement(FakeStrategy(1), "default")
    assert distribute.global_config(Config(scale_learning_rate=True), one) == Config(
        scale_learning_rate=True
    )


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"devices": ("CPU:0",)}, "--devices applies to --strategy mirrored only"),
        ({"strategy": "mirrored", "devices": ("TPU:0",)}, "'TPU:0' is not a device"),
        ({"strategy": "mirrored", "devices": ("CPU:0", "cpu:0")}, "names a device twice"),
        ({"strategy": "mirrored", "devices": ("GPU:3",)}, "GPU:3 does not exist"),
        ({"strategy": "multi_worker"}, "--strategy multi_worker needs TF_CONFIG"),
    ],
)
def test_bad_strategy_flags_are_one_line_errors(monkeypatch, changes, message):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(UserError, match=message):
        distribute.place(config(**changes))


@pytest.mark.parametrize(
    "spec",
    [
        "{not json",
        json.dumps({"cluster": {"worker": ["localhost:1"]}}),
        json.dumps(
            {"cluster": {"worker": ["localhost:1"]}, "task": {"type": "worker", "index": 1}}
        ),
    ],
)
def test_a_bad_tf_config_is_named(monkeypatch, spec):
    monkeypatch.setenv("TF_CONFIG", spec)
    with pytest.raises(UserError, match="TF_CONFIG is not a valid cluster specification"):
        distribute.place(config(strategy="multi_worker"))


def test_chief_is_worker_zero_and_the_others_write_to_their_own_temporary_folder(tmp_path):
    strategy = tf.distribute.get_strategy()
    chief = distribute.Placement(strategy, "multi_worker", worker=0, workers=2)
    other = distribute.Placement(strategy, "multi_worker", worker=1, workers=2)
    assert chief.is_chief and not other.is_chief
    folder = distribute.worker_dir(str(tmp_path / "run"), other)
    assert folder == distribute.worker_dir(str(tmp_path / "run"), other)  # same after restart
    assert not folder.is_relative_to(tmp_path)
    assert folder != distribute.worker_dir(str(tmp_path / "other"), other)


def test_a_lost_worker_becomes_a_one_line_error_only_under_multi_worker():
    lost = tf.errors.UnavailableError(
        None, None, "Collective ops is aborted by: unhealthy tasks:\n/job:worker/replica:0/task:1\n"
    )
    placement = distribute.Placement(tf.distribute.get_strategy(), "multi_worker", workers=2)
    with pytest.raises(UserError, match=r"lost /job:worker/replica:0/task:1 \(UnavailableError\)"):
        with distribute.cluster_failures(placement):
            raise lost
    with pytest.raises(tf.errors.UnavailableError):
        with distribute.cluster_failures(
            distribute.Placement(tf.distribute.get_strategy(), "default")
        ):
            raise lost


def test_app_refuses_multi_worker_without_a_cluster_before_writing(tmp_path, monkeypatch, capsys):
    from apps.sentiment import train

    monkeypatch.delenv("TF_CONFIG", raising=False)
    out = tmp_path / "run"
    assert train.main(["--strategy", "multi_worker", "--output_dir", str(out)]) == 1
    assert "needs TF_CONFIG" in capsys.readouterr().err
    assert not out.exists()


# Runs in its own process: logical CPU devices must be made before TensorFlow starts.
BATCH_NORM_SCRIPT = """
import json, numpy as np, keras, tensorflow as tf
from types import SimpleNamespace
from shared import distribute
mirrored = distribute.place(SimpleNamespace(strategy="mirrored", devices=("CPU:0", "CPU:1")))
# One batch of 16: the first replica's half near 0, the second's near 10.
x = np.concatenate([np.linspace(-1, 1, 8), 10 + np.linspace(-1, 1, 8)])[:, None].astype("float32")
y = np.zeros((16, 1), "float32")

def moving_variances(layer):
    with mirrored.strategy.scope():
        model = keras.Sequential([keras.Input((1,)), layer, keras.layers.Dense(1)])
        model.compile("sgd", "mse")
    with distribute.keras_fixes(mirrored):
        model.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(16), epochs=1, verbose=0)
    variable = model.layers[0].moving_variance.value  # the tf.distribute (mirrored) variable
    return [float(v.numpy()[0]) for v in variable.values]

with mirrored.strategy.scope():
    ours = distribute.batch_normalization(momentum=0.0)
plain = keras.layers.BatchNormalization(momentum=0.0)
print(json.dumps({
    "ours": moving_variances(ours),
    "plain": moving_variances(plain),
    "global": float(x.var()),
    "shard": float(x[:8].var()),
}))
"""


def run_script(script: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_batch_normalization_uses_the_global_batch_under_a_strategy():
    """Else each replica normalizes with its own shard's statistics and workers drift apart."""
    assert not distribute.batch_normalization().synchronized
    found = run_script(BATCH_NORM_SCRIPT)
    # Momentum 0: the moving variance is the last batch's. Every replica holds the global
    # batch's variance (about 25.4), not its shard's (about 0.4).
    np.testing.assert_allclose(found["ours"], [found["global"]] * 2, rtol=1e-3)
    # What the fix is for: plain batch norm averages the shards' variances instead.
    np.testing.assert_allclose(found["plain"], [found["shard"]] * 2, rtol=1e-3)


# Runs in its own process: logical CPU devices must be made before TensorFlow starts.
CLIPPING_SCRIPT = """
import json, numpy as np, keras, tensorflow as tf
from types import SimpleNamespace
from shared import distribute
from shared.optimizers import ClippedAdam
mirrored = distribute.place(SimpleNamespace(strategy="mirrored", devices=("CPU:0", "CPU:1")))
default = distribute.Placement(tf.distribute.get_strategy(), "default")
rng = np.random.default_rng(0)
x = rng.normal(size=(64, 4)).astype("float32") * np.repeat([[1.0], [30.0]], 32, 0).reshape(64, 1)
y = rng.normal(size=(64, 1)).astype("float32") * 50

def train(placement, optimizer):
    with placement.strategy.scope():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        model.compile(optimizer(), "mse")
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    with distribute.keras_fixes(placement):
        model.fit(data, epochs=2, verbose=0, shuffle=False)
    return model.get_weights()

def gap(optimizer):
    one, two = train(default, optimizer), train(mirrored, optimizer)
    return float(max(np.abs(a - b).max() for a, b in zip(one, two)))

print(json.dumps({
    "clipped": gap(lambda: ClippedAdam(learning_rate=0.1, gradient_clipnorm=1.0)),
    "keras": gap(lambda: keras.optimizers.Adam(learning_rate=0.1, clipnorm=1.0)),
    "replicas": mirrored.replicas,
}))
"""


def test_clipping_is_the_same_on_one_and_two_replicas():
    """Keras clips each replica's share of the gradient; `ClippedAdam` clips the batch's."""
    gaps = run_script(CLIPPING_SCRIPT)
    assert gaps["replicas"] == 2
    assert gaps["clipped"] < 1e-5
    assert gaps["keras"] > 1e-3  # what the fix is for
