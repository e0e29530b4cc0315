"""Training on `tf.distribute`: one strategy per run, chosen by `--strategy`.

- `default`: TensorFlow's default strategy (one device; what a plain `fit` uses).
- `mirrored`: `tf.distribute.MirroredStrategy` over `--devices` (default: every local GPU, or
  the CPU). CPU devices past `CPU:0` are logical devices split from the one physical CPU,
  which is how the suite tests data parallelism without GPUs.
- `multi_worker`: `tf.distribute.MultiWorkerMirroredStrategy`; the cluster and this process's
  place in it come from `TF_CONFIG`.

`--batch_size` is per replica: each step trains on `batch_size x replicas` examples. The
learning rate is the one given unless `--scale_learning_rate` multiplies it by the replicas.

Keras 3.15's `fit` does not run under `MultiWorkerMirroredStrategy` as shipped (keras-team/keras
#20585), and under any strategy its first epoch sees another shuffle than without one: see
`keras_fixes`, the two private functions it replaces while a run trains.
"""

import contextlib
import dataclasses
import hashlib
import json
import re
import tempfile
import warnings
from pathlib import Path
from typing import Any
from typing import Callable
from typing import Iterator
from typing import Optional

import keras
import numpy as np
import tensorflow as tf

from shared.callbacks import load_state
from shared.callbacks import roll_back
from shared.errors import UserError
from shared.sharding import input_shard

_DEVICE = re.compile(r"^/?(?:device:)?(cpu|gpu):(\d+)$", re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class Placement:
    """The strategy of a run and this process's part in it."""

    strategy: tf.distribute.Strategy
    name: str
    worker: int = 0  # this process's index among the workers
    workers: int = 1

    @property
    def replicas(self) -> int:
        return self.strategy.num_replicas_in_sync

    @property
    def is_chief(self) -> bool:
        """Whether this process writes the run directory (worker 0, or the `chief` task)."""
        return self.worker == 0

    @property
    def is_multi_worker(self) -> bool:
        return self.name == "multi_worker"

    def describe(self) -> dict:
        """What `metrics.json` says of the distribution."""
        return {
            "strategy": self.name,
            "replicas": self.replicas,
            "workers": self.workers,
            "worker": self.worker,
        }

    # What the runner asks of a placement, in the order it asks (the functions below).

    def run_root(self, output_dir: Path) -> Path:
        """Where this process writes: the run directory (chief), or a folder of its own."""
        return Path(output_dir) if self.is_chief else worker_dir(str(output_dir), self)

    def join(self, config: Any, state_dir: Path) -> None:
        """Stop unless every worker has the same settings; resume where all of them can."""
        check_same_settings(self, config)
        resume_together(self, state_dir)

    def step_config(self, config: Any) -> Any:
        """`config` with the global batch (and learning rate) of one step (`global_config`)."""
        return global_config(config, self)

    def input_config(self, config: Any) -> Any:
        """`config` for the input pipelines: per-replica batches of this worker's share under
        `multi_worker` (see `shard`), else the global batches that the devices split."""
        return config if self.is_multi_worker else global_config(config, self)

    @contextlib.contextmanager
    def training(self) -> Iterator[None]:
        """Build and train inside: the strategy's scope, the Keras fixes, and cluster losses
        turned into one line saying how to resume."""
        with self.strategy.scope(), keras_fixes(self), cluster_failures(self):
            yield

    def resume_together(self, state_dir: Path) -> None:
        resume_together(self, state_dir)

    def agreed_weights(self, model: keras.Model) -> Optional[list[np.ndarray]]:
        return agreed_weights(self, model)

    def total(self, counts: dict[str, int]) -> dict[str, int]:
        """Every worker's `counts` added up (each worker counted its share of the input)."""
        return {name: int(gather(self, value).sum()) for name, value in counts.items()}


def place(config: Any) -> Placement:
    """The strategy that `config.strategy` and `config.devices` ask for.

    Call before TensorFlow runs its first op: logical CPU devices cannot be made later.
    """
    name = config.strategy
    if config.devices and name != "mirrored":
        raise UserError("--devices applies to --strategy mirrored only")
    if name == "default":
        return Placement(tf.distribute.get_strategy(), name)
    if name == "mirrored":
        devices = _local_devices(config.devices)
        return Placement(tf.distribute.MirroredStrategy(devices=devices), name)
    shard = input_shard(config)  # checks TF_CONFIG first
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    return Placement(strategy, name, worker=shard.index, workers=shard.count)


def _local_devices(devices: tuple[str, ...]) -> Optional[list[str]]:
    """`--devices` as device names, after splitting the CPU into as many logical CPUs as named."""
    if not devices:
        return None
    parsed = []
    for device in devices:
        match = _DEVICE.match(device.strip())
        if not match:
            raise UserError(f"--devices: {device!r} is not a device such as CPU:0 or GPU:1")
        parsed.append((match.group(1).lower(), int(match.group(2))))
    if len(set(parsed)) != len(parsed):
        raise UserError(f"--devices names a device twice: {','.join(devices)}")
    cpus = 1 + max((index for kind, index in parsed if kind == "cpu"), default=0)
    if cpus > 1:
        _split_cpu(cpus)
    gpus = len(tf.config.list_physical_devices("GPU"))
    for kind, index in parsed:
        if kind == "gpu" and index >= gpus:
            raise UserError(f"--devices: GPU:{index} does not exist ({gpus} GPU(s) here)")
    return [f"/{kind}:{index}" for kind, index in parsed]


def _split_cpu(count: int) -> None:
    physical = tf.config.list_physical_devices("CPU")
    try:
        logical = [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
        tf.config.set_logical_device_configuration(physical[0], logical)
    except RuntimeError:  # TensorFlow already started: fine if the devices are there
        if len(tf.config.list_logical_devices("CPU")) < count:
            raise UserError(
                f"--devices needs {count} logical CPU devices, but TensorFlow started with "
                f"{len(tf.config.list_logical_devices('CPU'))}; pass --devices in a new process"
            ) from None


def global_config(config: Any, placement: Placement) -> Any:
    """`config` with the global batch (and the scaled learning rate) that one step uses."""
    if placement.replicas == 1:
        return config
    changes = {"batch_size": config.batch_size * placement.replicas}
    if config.scale_learning_rate:
        changes["learning_rate"] = config.learning_rate * placement.replicas
    return dataclasses.replace(config, **changes)


def from_chief(placement: Placement, make: Callable[[], bytes], what: str) -> bytes:
    """`make()` computed by the chief alone and sent to every worker (a collective call).

    What is fitted on the data (a vocabulary, BPE merges, feature statistics) is fitted once,
    and every worker trains with the very same one, even without a shared file system.
    """
    if not placement.is_multi_worker:
        return make()
    data = make() if placement.is_chief else b""
    size = int(gather(placement, len(data))[0])
    if not placement.is_chief:
        print(f"Worker {placement.worker}: receiving {what} from the chief ({size:,} bytes)")
    buffer = np.frombuffer(data, np.uint8).astype(np.int32)  # collectives take no uint8
    zeros = np.zeros(size, np.int32)
    strategy = placement.strategy
    # A sum in which only the first replica (the chief's) holds the bytes.
    values = strategy.experimental_distribute_values_from_function(
        lambda context: tf.constant(buffer if context.replica_id_in_sync_group == 0 else zeros)
    )
    total = strategy.reduce("SUM", values, axis=None).numpy()
    return total.astype(np.uint8).tobytes()


def worker_dir(output_dir: str, placement: Placement) -> Path:
    """Where a non-chief worker writes: a temporary folder of its own, the same after a restart.

    It holds the worker's copy of the resume state (so a restarted worker resumes with the
    chief) and is removed when the run ends.
    """
    key = hashlib.sha1(str(Path(output_dir).resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"rnn-suite-worker{placement.worker}-{key}"


def fingerprint(weights: list[np.ndarray]) -> str:
    """A short hash of the weights' bytes, equal on workers that hold the same model."""
    digest = hashlib.sha1()
    for array in weights:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def gather(placement: Placement, value: float) -> np.ndarray:
    """Every worker's `value`, in worker order (a collective call: every worker must make it)."""
    if not placement.is_multi_worker:
        return np.array([value], np.float64)
    strategy = placement.strategy
    local = strategy.experimental_distribute_values_from_function(
        lambda _: tf.constant([value], tf.float64)
    )
    return strategy.gather(local, axis=0).numpy()


def agree(placement: Placement, digest: str, what: str) -> None:
    """Stop with an error unless every worker passes the same hex `digest` (a collective call)."""
    values = gather(placement, int(digest[:12], 16))  # 48 bits: exact in a float64
    if not np.all(values == values[0]):
        raise UserError(
            f"the workers disagree on {what} ({', '.join(f'{int(v):012x}' for v in values)}); "
            f"remove the run directory and the workers' temporary folders to start afresh"
        )


# === Keeping the workers of a cluster together ===


def check_same_settings(placement: Placement, config: Any) -> None:
    """Stop unless every worker runs with the same settings (their folders may differ)."""
    settings = json.loads(config.to_json())
    for local in ("output_dir", "cache_dir"):  # paths on each machine
        settings.pop(local, None)
    digest = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()
    agree(placement, digest, "the settings (run the same command on each)")


def resume_together(placement: Placement, state_dir: Path) -> None:
    """Every worker resumes after the last epoch all of them saved.

    A worker killed between the end of an epoch and saving it is one epoch behind the
    others; they step back one epoch (each keeps the previous epoch's weights for that).
    """
    state = load_state(state_dir)
    done = len(state["history"]) if state else 0
    common = int(gather(placement, done).min())
    if common < done:
        print(f"Another worker saved only {common} epoch(s): resuming after epoch {common}")
        roll_back(state_dir, common)


@contextlib.contextmanager
def cluster_failures(placement: Placement) -> Iterator[None]:
    """A worker that stops mid-run ends the others with one line saying how to resume."""
    try:
        yield
    except (tf.errors.UnavailableError, tf.errors.AbortedError, tf.errors.CancelledError) as error:
        if not placement.is_multi_worker:
            raise
        lines = [line.strip() for line in str(error).splitlines()]
        lost = [line for line in lines if line.startswith("/job:")]
        raise UserError(
            f"the cluster lost {', '.join(dict.fromkeys(lost)) or 'a worker'} "
            f"({type(error).__name__}); restart every worker with the same command to resume "
            f"after the last complete epoch"
        ) from None


def agreed_weights(placement: Placement, model: keras.Model) -> Optional[list[np.ndarray]]:
    """Under a strategy, the trained weights, checked equal on every worker and logged by
    fingerprint; `None` under the default strategy."""
    if placement.name == "default":
        return None
    weights = model.get_weights()
    digest = fingerprint(weights)
    agree(placement, digest, "the trained weights")
    print(
        f"Worker {placement.worker} of {placement.workers}: trained weights {digest} "
        f"({placement.replicas} replicas in sync)"
    )
    return weights


@contextlib.contextmanager
def keras_fixes(placement: Placement) -> Iterator[None]:
    """Let Keras 3.15's `fit` and `evaluate` run under a strategy as they do without one.

    Two functions of `keras.src.backend.tensorflow.trainer` are replaced while the block runs
    (only under a strategy other than `default`):
    - `_maybe_symbolic_build` draws a first batch from the training data only to learn its
      structure and shapes. That consumes one pass of the dataset, so every epoch then sees
      the next epoch's shuffle (the loss curve differs from `default`); and under
      `MultiWorkerMirroredStrategy` it averages that batch across workers, eagerly, which
      raises "Attempt to convert a value (PerReplica...) to a Tensor" (keras-team/keras
      #20585). The dataset's element spec has the structure, shapes and dtypes it needs.
    - `reduce_per_replica` averages each step's logs across workers with `axis=0`, which
      fails on scalars ("Invalid reduction dimension 0 for input with 0 dimensions"):
      scalars are averaged with `axis=None`.
    """
    if placement.name == "default":
        yield
        return
    from keras.src import tree
    from keras.src.backend.tensorflow import trainer

    if not hasattr(trainer, "reduce_per_replica") or not hasattr(
        trainer.TensorFlowTrainer, "_maybe_symbolic_build"
    ):
        warnings.warn(
            f"Keras {keras.__version__} changed the trainer that shared.distribute.keras_fixes "
            f"patches; training under --strategy {placement.name} runs unpatched"
        )
        yield
        return
    original_reduce = trainer.reduce_per_replica
    original_build = trainer.TensorFlowTrainer._maybe_symbolic_build

    def reduce_per_replica(values, strategy, reduction="auto"):
        if reduction in ("auto", "mean") and trainer._collective_all_reduce_multi_worker(strategy):
            return tree.map_structure(
                lambda v: strategy.reduce("MEAN", v, axis=0 if v.shape.rank else None), values
            )
        return original_reduce(values, strategy, reduction)

    def maybe_symbolic_build(self, iterator=None, data_batch=None):
        if iterator is not None:
            spec = iterator.data_adapter.get_tf_dataset().element_spec
            # A worker's own pipeline (`shard`) has one spec per local replica: the first.
            data_batch = tree.map_structure(
                lambda s: s._value_specs[0] if hasattr(s, "_value_specs") else s, spec
            )
        with self.distribute_strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    trainer.reduce_per_replica = reduce_per_replica
    trainer.TensorFlowTrainer._maybe_symbolic_build = maybe_symbolic_build
    try:
        yield
    finally:
        trainer.reduce_per_replica = original_reduce
        trainer.TensorFlowTrainer._maybe_symbolic_build = original_build


def xla_possible() -> bool:
    """Whether XLA can compile a step under the strategy in scope.

    XLA has no collectives on CPU devices ("Collectives are not yet implemented for CPU
    devices when compiling with XLA"), so a strategy over CPUs trains without it.
    """
    if not tf.distribute.has_strategy():
        return True
    devices = tf.distribute.get_strategy().extended.worker_devices
    return all("GPU" in device.upper() for device in devices)


def batch_normalization(**kwargs) -> keras.layers.BatchNormalization:
    """`BatchNormalization` that, under a strategy, normalizes with the global batch's statistics.

    Otherwise each replica keeps moving averages of its own shard of the batches, and the
    workers of a cluster end with different models (found by the weights check at the end
    of training: speech, captioning and video diverged, the apps without it did not).
    """
    return keras.layers.BatchNormalization(synchronized=tf.distribute.has_strategy(), **kwargs)
