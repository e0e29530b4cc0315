"""Images read once: decoded, resized, passed through the frozen backbone, cached on disk.

The cache holds, per image, what the trained model takes as its `image` input: the backbone's
region features (float16 `[positions, channels]`) with a pretrained backbone, or the resized
pixels (uint8 `[size, size, 3]`) for the small CNN of `--backbone_weights none`. Entries are
keyed by the SHA-1 of the image's bytes, in a folder per backbone, weights and size
(`shared.feature_cache`, the store video uses too), so later epochs and later runs (and
another run directory) skip decoding and the CNN.
"""

import dataclasses
import sys
from pathlib import Path
from typing import Optional

import keras
import numpy as np
import tensorflow as tf

from apps.captioning.captions import Vocabulary
from apps.captioning.captions import standardize
from apps.captioning.config import CaptioningConfig
from apps.captioning.data import ImageRecord
from apps.captioning.data import Split
from apps.captioning.data import warn
from shared.backbones import build_backbone
from shared.backbones import weights_tag
from shared.data import with_options
from shared.feature_cache import FeatureCache as SharedCache
from shared.feature_cache import content_key
from shared.images import load_pixels

EXTRACT_BATCH = 32


@dataclasses.dataclass
class CachedImages:
    """The images of a split that decoded, with the cache file of each."""

    records: list[ImageRecord]
    files: list[str]
    unreadable: list[str]  # names of the images that did not decode
    computed: int  # images decoded (and passed through the backbone) now
    reused: int  # images found in the cache


class FeatureCache:
    """The model inputs of images, computed once per image content and configuration
    (stored in a `shared.feature_cache.FeatureCache`, one entry per image)."""

    def __init__(self, config: CaptioningConfig, backbone: Optional[keras.Model] = None):
        self.config = config
        self.size = config.input_size
        if config.pretrained:
            self.backbone = backbone or build_backbone(config)
            variant = f"{config.backbone}-{weights_tag(config)}-{self.size}"
            self.shape = tuple(self.backbone.output.shape[1:])
            dtype = np.float16
        else:
            self.backbone = None
            variant = f"pixels-{self.size}"
            self.shape = (self.size, self.size, 3)
            dtype = np.uint8
        self.store = SharedCache(config.cache_dir, variant, self.shape, dtype)
        self._decode = tf.function(
            lambda data: load_pixels(data, self.size),
            input_signature=[tf.TensorSpec([], tf.string)],
        )

    @property
    def folder(self) -> Path:
        return self.store.folder

    def prepare(self, split: Split, name: str) -> CachedImages:
        """Cache the inputs of every image of `split` not cached yet; report unreadable ones."""
        self.store.open()
        records, files, unreadable, pending = [], [], [], []
        reused = 0
        print(f"Reading the {name} images ({self.folder})")
        # A live bar on a terminal; in a log file, one line at the end.
        verbose = 1 if sys.stdout.isatty() else 2
        progress = keras.utils.Progbar(len(split.records), verbose=verbose, unit_name="image")
        for record, data in split.images():
            key = content_key(data)
            if self.store.rows(key):
                reused += 1
                records.append(record)
                files.append(str(self.store.path(key)))
            else:
                try:
                    pixels = self._decode(tf.constant(data)).numpy()
                except tf.errors.OpError:
                    unreadable.append(record.name)
                else:
                    records.append(record)
                    files.append(str(self.store.path(key)))
                    pending.append((key, pixels))
                    if len(pending) == EXTRACT_BATCH:
                        self._write(pending)
                        pending = []
            progress.add(1)
        self._write(pending)
        warn(f"{name} images that do not decode as JPEG or PNG (left out)", unreadable)
        computed = len(records) - reused
        return CachedImages(records, files, unreadable, computed, reused)

    def _write(self, pending: list[tuple[str, np.ndarray]]) -> None:
        if not pending:
            return
        pixels = np.stack([p for _, p in pending])
        if self.backbone is not None:
            values = self.backbone.predict_on_batch(pixels.astype(np.float32))
        else:
            values = pixels
        for (key, _), value in zip(pending, values):
            self.store.write(key, value[np.newaxis])

    def read(self, file: tf.Tensor) -> tf.Tensor:
        """The model input cached in `file` (float32 features or uint8 pixels)."""
        return self.store.read(file)[0]


def caption_pairs(
    images: CachedImages, vocabulary: Vocabulary, max_length: int
) -> tuple[list[str], np.ndarray, int]:
    """One `(cache file, [START] ids [END])` pair per caption, padded; and the captions left
    out for having more than `max_length` words."""
    files, ids, too_long = [], [], 0
    for record, file in zip(images.records, images.files):
        for caption in record.captions:
            words = standardize(caption)
            if not words or len(words) > max_length:
                too_long += 1
                continue
            files.append(file)
            ids.append(vocabulary.encode(words))
    padded = np.zeros((len(ids), max_length + 2), np.int32)
    for row, sequence in zip(padded, ids):
        row[: len(sequence)] = sequence
    return files, padded, too_long


def make_dataset(
    cache: FeatureCache,
    files: list[str],
    ids: np.ndarray,
    config: CaptioningConfig,
    *,
    training: bool,
) -> tf.data.Dataset:
    """Batches of `({"image", "caption_in"}, caption_out)`, every caption of every image."""
    dataset = tf.data.Dataset.from_tensor_slices((files, ids))
    if training:
        dataset = dataset.shuffle(len(files), seed=config.seed, reshuffle_each_iteration=True)
    dataset = dataset.map(
        lambda file, sequence: (cache.read(file), sequence), num_parallel_calls=tf.data.AUTOTUNE
    )
    dataset = dataset.batch(config.batch_size)

    def split_inputs(image, sequence):
        length = tf.reduce_max(tf.reduce_sum(tf.cast(sequence > 0, tf.int32), axis=1))
        sequence = sequence[:, :length]
        return {"image": image, "caption_in": sequence[:, :-1]}, sequence[:, 1:]

    dataset = dataset.map(split_inputs).prefetch(tf.data.AUTOTUNE)
    return with_options(dataset)
