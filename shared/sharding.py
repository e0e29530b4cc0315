"""Each worker's share of the input under `--strategy multi_worker`, and the datasets `fit`
takes under a strategy.

`input_shard(config)` reads the cluster from `TF_CONFIG` without starting TensorFlow, so an
app can take its share while it lists its data, before `shared.distribute.place`.
"""

import dataclasses
import json
import os
from typing import Any
from typing import Sequence
from typing import TypeVar

import tensorflow as tf

from shared.errors import UserError

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class InputShard:
    """This process's share of the input: every `count`-th example from `index` on.

    Under `--strategy multi_worker` each worker reads, decodes and maps only its share
    (sharding the list of files or examples before any expensive step) and batches it per
    replica; `shard` hands that pipeline to `fit` as it is, so each step takes `batch_size`
    examples from every replica.
    """

    index: int = 0
    count: int = 1

    def take(self, items: Sequence[T]) -> Sequence[T]:
        """This worker's items of a list (or array)."""
        return items[self.index :: self.count]

    def size(self, total: int) -> int:
        """How many of `total` items (or dataset elements) are this worker's."""
        return len(range(self.index, total, self.count))

    def dataset(self, dataset: tf.data.Dataset) -> tf.data.Dataset:
        """This worker's elements of a dataset (put it before the expensive maps)."""
        return dataset.shard(self.count, self.index) if self.count > 1 else dataset


def input_shard(config: Any) -> InputShard:
    """The share of the input this process reads: all of it, unless `--strategy multi_worker`
    (then from `TF_CONFIG`, without starting TensorFlow)."""
    if config.strategy != "multi_worker":
        return InputShard()
    cluster, task = _tf_config()
    workers = len(cluster.get("chief", [])) + len(cluster.get("worker", []))
    # With a `chief` task, workers are numbered after it.
    index = task["index"] + (1 if task["type"] == "worker" and "chief" in cluster else 0)
    return InputShard(index, workers)


def _tf_config() -> tuple[dict, dict]:
    """The cluster and the task of `TF_CONFIG`, checked."""
    text = os.environ.get("TF_CONFIG")
    if not text:
        raise UserError(
            "--strategy multi_worker needs TF_CONFIG, e.g. "
            '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}} (README, "Scaling out")'
        )
    try:
        spec = json.loads(text)
        cluster, task = spec["cluster"], spec["task"]
        members = cluster.get(task["type"], [])
        if not isinstance(task["index"], int) or not 0 <= task["index"] < len(members):
            raise KeyError("task.index")
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise UserError(f"TF_CONFIG is not a valid cluster specification ({error})") from None
    return cluster, task


def shard(dataset: tf.data.Dataset) -> Any:
    """A dataset of this worker's share (`InputShard`), ready for `fit` under the strategy
    in scope.

    Under `MultiWorkerMirroredStrategy` each worker's pipeline reads only its share and
    batches per replica (`Placement.input_config`), so tf.data must neither shard it again
    nor rebatch it: it goes in through `distribute_datasets_from_function`. (Rebatching a
    worker's global batches would glue the end of one padded batch to the start of the
    next: batches of other lengths fail to concatenate.) Elsewhere one worker reads
    everything, and its global batches are split among its devices.
    """
    strategy = tf.distribute.get_strategy()
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return strategy.distribute_datasets_from_function(lambda context: dataset)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    return dataset.with_options(options)
