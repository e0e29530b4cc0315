"""Clips read once: decoded, sampled, resized, passed through the frozen backbone, cached.

The cache holds, per clip, what the trained model takes as its `frames` input: the backbone's
pooled features of each sampled frame (float16 `[taken, channels]`) with a pretrained
backbone, or the sampled frames themselves (uint8 `[taken, size, size, 3]`) for the small
frame encoder of `--backbone_weights none`. Entries are keyed by the SHA-1 of the clip's
bytes, in a folder per backbone, weights, size and frame sampling (`shared.feature_cache`, the
store captioning uses too), so later epochs and later runs skip decoding and the CNN.
"""

import dataclasses
import sys
from pathlib import Path
from typing import Optional

import keras
import numpy as np
import tensorflow as tf

from apps.video.config import VideoConfig
from apps.video.data import ClipRecord
from apps.video.data import Split
from apps.video.data import warn
from apps.video.decode import ClipError
from apps.video.frames import model_frames
from shared.backbones import build_backbone
from shared.backbones import weights_tag
from shared.data import with_options
from shared.feature_cache import FeatureCache as SharedCache


@dataclasses.dataclass
class CachedClips:
    """The clips of a split that could be read, with the cache file and frame count of each."""

    records: list[ClipRecord]
    files: list[str]
    lengths: list[int]
    unreadable: list[str]  # "name: reason" of the clips left out
    computed: int  # clips decoded (and passed through the backbone) now
    reused: int  # clips found in the cache

    @property
    def labels(self) -> np.ndarray:
        return np.array([record.label for record in self.records], np.int32)

    def __add__(self, other: "CachedClips") -> "CachedClips":
        """The clips of two splits together (e.g. train+val for the final fit)."""
        return CachedClips(
            *(getattr(self, f.name) + getattr(other, f.name) for f in dataclasses.fields(self))
        )


class ClipCache:
    """The model inputs of clips, computed once per clip content and configuration."""

    def __init__(self, config: VideoConfig, backbone: Optional[keras.Model] = None):
        self.config = config
        self.size = config.input_size
        sampling = f"n{config.num_frames}" + (
            f"-step{config.frame_step}" if config.frame_step else ""
        )
        if config.pretrained:
            self.backbone = backbone or build_backbone(config, pooling="avg")
            variant = f"{config.backbone}-{weights_tag(config)}-{self.size}-{sampling}"
            self.frame_shape = tuple(self.backbone.output.shape[1:])
            dtype = np.float16
        else:
            self.backbone = None
            variant = f"pixels-{self.size}-{sampling}"
            self.frame_shape = (self.size, self.size, 3)
            dtype = np.uint8
        self.store = SharedCache(config.cache_dir, variant, self.frame_shape, dtype)
        self._frames = tf.function(
            lambda frames: model_frames(
                frames[tf.newaxis], config.num_frames, config.frame_step, self.size
            ),
            input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8)],
        )

    @property
    def folder(self) -> Path:
        return self.store.folder

    def path(self, key: str) -> Path:
        return self.store.path(key)

    def prepare(self, split: Split, name: str) -> CachedClips:
        """Cache the inputs of every clip of `split` not cached yet; report unreadable ones."""
        self.store.open()
        clips = CachedClips([], [], [], [], 0, 0)
        print(f"Reading the {name} clips ({self.folder})")
        # A live bar on a terminal; in a log file, one line at the end.
        verbose = 1 if sys.stdout.isatty() else 2
        progress = keras.utils.Progbar(len(split.records), verbose=verbose, unit_name="clip")
        for record, key, source in split.sources():
            path = self.path(key)
            length = self.store.rows(key)
            if length:
                clips.reused += 1
            else:
                try:
                    length = self._compute(source, key)
                except ClipError as error:
                    clips.unreadable.append(f"{record.name}: {error}")
                    progress.add(1)
                    continue
                clips.computed += 1
            clips.records.append(record)
            clips.files.append(str(path))
            clips.lengths.append(int(length))
            progress.add(1)
        warn(f"{name} clips that cannot be read (left out)", clips.unreadable)
        return clips

    def pixels(self, key: str, source) -> np.ndarray:
        """The sampled, resized frames of a clip, uint8 `[taken, size, size, 3]` (from the
        cache when it holds pixels); `ClipError` when the clip cannot be read."""
        if self.backbone is None and self.store.rows(key):
            return self.store.load(key)
        return self._decode(source)

    def _decode(self, source) -> np.ndarray:
        """Read, sample, resize and crop a clip: uint8 `[taken, size, size, 3]`."""
        frames = source.read(self.config.num_frames, self.config.frame_step)
        pixels, counts = self._frames(tf.constant(frames))
        return pixels[0, : int(counts[0])].numpy()

    def model_inputs(self, pixels: np.ndarray) -> np.ndarray:
        """What the trained model takes for these frames: backbone features, or the pixels."""
        if self.backbone is None:
            return pixels
        return self.backbone.predict_on_batch(pixels.astype(np.float32))

    def _compute(self, source, key: str) -> int:
        pixels = self._decode(source)
        self.store.write(key, self.model_inputs(pixels))  # atomic: whole or absent
        return len(pixels)

    def read(self, file: tf.Tensor) -> tf.Tensor:
        """The model input cached in `file`: `[taken, *frame_shape]` (float32 or uint8)."""
        return self.store.read(file)


def make_dataset(
    cache: ClipCache, clips: CachedClips, config: VideoConfig, *, training: bool
) -> tf.data.Dataset:
    """Batches of `({"frames", "length"}, label)`, frames zero-padded to `--num_frames`."""
    dataset = tf.data.Dataset.from_tensor_slices(
        (clips.files, np.array(clips.lengths, np.int32), clips.labels)
    )
    if training:
        dataset = dataset.shuffle(len(clips.files), seed=config.seed, reshuffle_each_iteration=True)
    dataset = dataset.map(
        lambda file, length, label: ({"frames": cache.read(file), "length": length}, label),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    shapes = ({"frames": [config.num_frames, *cache.frame_shape], "length": []}, [])
    dataset = dataset.padded_batch(config.batch_size, padded_shapes=shapes)
    return with_options(dataset.prefetch(tf.data.AUTOTUNE))
