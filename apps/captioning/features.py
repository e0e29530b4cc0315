"""Images read once: decoded, resized, passed through the frozen backbone, cached on disk.

The cache holds, per image, what the trained model takes as its `image` input: the backbone's
region features (float16 `[positions, channels]`) with a pretrained backbone, or the resized
pixels (uint8 `[size, size, 3]`) for the small CNN of `--backbone_weights none`. Entries are
keyed by the SHA-1 of the image's bytes, in a folder per backbone, weights and size
(`shared.feature_cache`, the store video uses too), so later epochs and later runs (and
another run directory) skip decoding and the CNN.
"""

import dataclasses
from pathlib import Path
from typing import Iterator
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
from shared.errors import UserError
from shared.feature_cache import FeatureCache as SharedCache
from shared.feature_cache import content_key
from shared.feature_cache import ordered_map
from shared.images import load_pixels
from shared.progress import progress_bar

EXTRACT_BATCH = 32
PAIR_SHUFFLE = 2048  # (image, caption) pairs in the training shuffle buffer


def check_readable(split: Split, name: str, size: int) -> None:
    """A `UserError` unless at least one image of `split` decodes (tried in order, so a sound
    split costs one decode): a split of unreadable files stops the run before it starts."""
    tried, first = 0, ""
    for record, data in split.images():
        try:
            load_pixels(tf.constant(data), size)
            return
        except tf.errors.OpError:
            tried, first = tried + 1, first or record.name
    raise UserError(
        f"the {name} split has no image that decodes as JPEG or PNG ({tried} tried, e.g. {first})"
    )


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
        progress = progress_bar(len(split.records), "image")
        for ((record, key), _), pixels in ordered_map(self._decode_new, self._keyed(split)):
            progress.add(1)
            if pixels is None:
                reused += 1
            elif isinstance(pixels, tf.errors.OpError):
                unreadable.append(record.name)
                continue
            else:
                pending.append((key, pixels))
                if len(pending) == EXTRACT_BATCH:
                    self._write(pending)
                    pending = []
            records.append(record)
            files.append(str(self.store.path(key)))
        self._write(pending)
        warn(f"{name} images that do not decode as JPEG or PNG (left out)", unreadable)
        computed = len(records) - reused
        return CachedImages(records, files, unreadable, computed, reused)

    def _keyed(self, split: Split) -> Iterator[tuple[tuple[ImageRecord, str], bytes]]:
        for record, data in split.images():
            yield (record, content_key(data)), data

    def _decode_new(self, item: tuple) -> Optional[np.ndarray | tf.errors.OpError]:
        """The pixels of an image not cached yet (None if it is), or why it does not decode."""
        (_, key), data = item
        if self.store.rows(key):
            return None
        try:
            return self._decode(tf.constant(data)).numpy()
        except tf.errors.OpError as error:
            return error

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


@dataclasses.dataclass
class CaptionedImages:
    """Images with their usable captions: one cache file per image, and its captions as
    `[START] ids [END]` rows, padded (`ids` is `[images, most captions, max_length + 2]`;
    `counts` says how many rows of each image are captions)."""

    files: list[str]
    ids: np.ndarray
    counts: np.ndarray

    @property
    def captions(self) -> int:
        return int(self.counts.sum())

    def __add__(self, other: "CaptionedImages") -> "CaptionedImages":
        """Two splits' images together (the final fit's train + val)."""
        most = max(self.ids.shape[1], other.ids.shape[1])
        pad = lambda ids: np.pad(ids, [(0, 0), (0, most - ids.shape[1]), (0, 0)])  # noqa: E731
        return CaptionedImages(
            self.files + other.files,
            np.concatenate([pad(self.ids), pad(other.ids)]),
            np.concatenate([self.counts, other.counts]),
        )


def image_captions(
    images: CachedImages, vocabulary: Vocabulary, max_length: int
) -> tuple[CaptionedImages, int]:
    """The images with at least one caption of at most `max_length` words, their captions as
    ids, and how many captions were left out for being longer (or empty)."""
    files, rows, too_long = [], [], 0
    for record, file in zip(images.records, images.files):
        kept = []
        for caption in record.captions:
            words = standardize(caption)
            if not words or len(words) > max_length:
                too_long += 1
                continue
            kept.append(vocabulary.encode(words))
        if kept:
            files.append(file)
            rows.append(kept)
    ids = np.zeros((len(rows), max(map(len, rows), default=1), max_length + 2), np.int32)
    for image, captions in zip(ids, rows):
        for row, sequence in zip(image, captions):
            row[: len(sequence)] = sequence
    counts = np.array([len(captions) for captions in rows], np.int32)
    return CaptionedImages(files, ids, counts), too_long


def make_dataset(
    cache: FeatureCache, images: CaptionedImages, config: CaptioningConfig, *, training: bool
) -> tf.data.Dataset:
    """Batches of `({"image", "caption_in"}, caption_out)`, every caption of every image.

    Each image's features are read once per epoch and paired with each of its captions;
    for training, images are shuffled, then the pairs in a buffer of `PAIR_SHUFFLE`, so a
    batch mixes the captions of many images.
    """
    dataset = tf.data.Dataset.from_tensor_slices((images.files, images.ids, images.counts))
    if training:
        dataset = dataset.shuffle(len(images.files), config.seed, reshuffle_each_iteration=True)
    dataset = dataset.map(
        lambda file, ids, count: (cache.read(file), ids[:count]),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    dataset = dataset.flat_map(
        lambda image, ids: tf.data.Dataset.zip(
            tf.data.Dataset.from_tensors(image).repeat(), tf.data.Dataset.from_tensor_slices(ids)
        )
    )
    if training:
        dataset = dataset.shuffle(PAIR_SHUFFLE, config.seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(config.batch_size)

    def split_inputs(image, sequence):
        length = tf.reduce_max(tf.reduce_sum(tf.cast(sequence > 0, tf.int32), axis=1))
        sequence = sequence[:, :length]
        return {"image": image, "caption_in": sequence[:, :-1]}, sequence[:, 1:]

    dataset = dataset.map(split_inputs).prefetch(tf.data.AUTOTUNE)
    return with_options(dataset)
