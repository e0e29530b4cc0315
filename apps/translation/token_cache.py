"""Token ids computed once: a split's pairs tokenized in one pass and kept on disk.

A split's token ids are a TFRecord file of serialized int32 vectors (`[source length,
source ids + [END], target ids]`), written in the one pass that also counts the lengths
(`length_report`), atomically, under `--cache_dir/<key>/`, where `key` names the pairs (file
contents or TFDS set, validation split) and both vocabularies. Training, the final fit and
later runs with the same data and vocabularies stream it back instead of tokenizing again,
and nothing of it is held in memory. Under `--strategy multi_worker` each worker writes and
reads the file of its own share.
"""

import hashlib
import json
from pathlib import Path

import numpy as np
import tensorflow as tf

from apps.translation.pipeline import Tokenizers
from shared import io
from shared.data import AUTOTUNE
from shared.progress import progress_bar
from shared.sharding import InputShard

WRITE_BATCH = 1024


class TokenCache:
    """The token ids of each split of one data set under one pair of vocabularies."""

    def __init__(self, root: str, data_key: str, tokenizers: Tokenizers, shard: InputShard):
        source, target = tokenizers.source, tokenizers.target
        identity = [data_key, list(source.vocabulary), list(target.vocabulary), source.lowercase]
        digest = hashlib.sha1(json.dumps(identity, sort_keys=True).encode()).hexdigest()
        self.folder = Path(root) / digest[:20]
        self.shard = shard

    def path(self, split: str) -> Path:
        return self.folder / f"{split}-{self.shard.index}-of-{self.shard.count}.tfrecord"

    def pairs(self, split: str, tokenized: tf.data.Dataset, max_length: int) -> tf.data.Dataset:
        """This worker's `(source ids + [END], target ids)` of `split`, written from
        `tokenized` (unbatched pairs of this worker's share) on first use."""
        if not self.path(split).exists():
            self._write(split, tokenized, max_length)
        return tf.data.TFRecordDataset(str(self.path(split))).map(
            _parse, num_parallel_calls=AUTOTUNE
        )

    def report(self, split: str) -> dict:
        """The `length_report` of `split` (this worker's share), counted while writing it."""
        return io.read_json(self.path(split).with_suffix(".json"))

    def _write(self, split: str, tokenized: tf.data.Dataset, max_length: int) -> None:
        print(f"Tokenizing the {split} pairs into {self.path(split)}")
        records = tokenized.map(_serialize, num_parallel_calls=AUTOTUNE).batch(WRITE_BATCH)
        progress = progress_bar(None, "pair")
        lengths = LengthCounter(max_length)
        with io.atomic_path(self.path(split)) as tmp:
            with tf.io.TFRecordWriter(str(tmp)) as writer:
                for serialized, source, target in records.prefetch(2).as_numpy_iterator():
                    for record in serialized:
                        writer.write(record)
                    lengths.add(source, target)
                    progress.add(len(serialized))
            io.write_json(self.path(split).with_suffix(".json"), lengths.report())
        print(f"{lengths.pairs:,} {split} pairs tokenized")


def _serialize(source: tf.Tensor, target: tf.Tensor):
    record = tf.concat([tf.shape(source, tf.int32), source, target], axis=0)
    return tf.io.serialize_tensor(record), tf.size(source), tf.size(target)


def _parse(record: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    values = tf.ensure_shape(tf.io.parse_tensor(record, tf.int32), [None])
    length = values[0]
    return values[1 : 1 + length], values[1 + length :]


class LengthCounter:
    """Pairs kept and dropped by `max_length`, the longest side, and the target tokens (with
    `[END]`) of the kept pairs, which one training epoch predicts."""

    def __init__(self, max_length: int):
        self.max_length = max_length
        self.pairs = self.kept = self.longest = self.target_tokens = 0

    def add(self, source_sizes: np.ndarray, target_sizes: np.ndarray) -> None:
        """Sizes of a batch of pairs (sources with their `[END]`)."""
        lengths = np.maximum(source_sizes - 1, target_sizes)
        kept = lengths <= self.max_length
        self.pairs += len(lengths)
        self.kept += int(kept.sum())
        self.longest = max(self.longest, int(lengths.max(initial=0)))
        self.target_tokens += int((target_sizes[kept] + 1).sum())

    def report(self) -> dict:
        return {
            "kept": self.kept,
            "dropped_longer_than_max_length": self.pairs - self.kept,
            "longest_pair_tokens": self.longest,
            "kept_target_tokens": self.target_tokens,
        }
