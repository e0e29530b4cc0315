"""Clips read once: decoded, sampled, resized, passed through the frozen backbone, cached.

The cache holds, per clip, what the trained model takes as its `frames` input: the backbone's
pooled features of each sampled frame (float16 `[taken, channels]`) with a pretrained
backbone, or the sampled frames themselves (uint8 `[taken, size, size, 3]`) for the small
frame encoder of `--backbone_weights none`. Entries are keyed by the SHA-1 of the clip's
bytes, in a folder per backbone, weights, size and frame sampling (`shared.feature_cache`, the
store captioning uses too), so later epochs and later runs skip decoding and the CNN.
"""

import dataclasses
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
from shared.feature_cache import ordered_map
from shared.progress import progress_bar

FEATURE_BATCH = 64  # frames (of several clips) per backbone batch


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
        """Cache the inputs of every clip of `split` not cached yet; report unreadable ones.

        Clips are decoded by two threads (PyAV decodes outside the GIL), and their frames go
        through the backbone in batches across clips.
        """
        self.store.open()
        clips = CachedClips([], [], [], [], 0, 0)
        print(f"Reading the {name} clips ({self.folder})")
        progress = progress_bar(len(split.records), "clip")
        pending: list[tuple[str, np.ndarray]] = []  # decoded clips waiting for the backbone
        for (record, key, _), pixels in ordered_map(self._decode_new, split.sources()):
            progress.add(1)
            if isinstance(pixels, ClipError):
                clips.unreadable.append(f"{record.name}: {pixels}")
                continue
            if pixels is None:
                clips.reused += 1
                length = self.store.rows(key)
            else:
                clips.computed += 1
                length = len(pixels)
                pending.append((key, pixels))
                if sum(len(p) for _, p in pending) >= FEATURE_BATCH:
                    self._write(pending)
                    pending = []
            clips.records.append(record)
            clips.files.append(str(self.path(key)))
            clips.lengths.append(int(length))
        self._write(pending)
        warn(f"{name} clips that cannot be read (left out)", clips.unreadable)
        return clips

    def _decode_new(self, item: tuple) -> Optional[np.ndarray | ClipError]:
        """The pixels of a clip not cached yet (None if it is), or why it cannot be read."""
        _, key, source = item
        if self.store.rows(key):
            return None
        try:
            return self._decode(source)
        except ClipError as error:
            return error

    def _write(self, pending: list[tuple[str, np.ndarray]]) -> None:
        """Store the model inputs of decoded clips, the backbone run on all their frames at
        once; each entry atomically (whole or absent)."""
        if not pending:
            return
        frames = np.concatenate([pixels for _, pixels in pending])
        values = self.model_inputs(frames)
        start = 0
        for key, pixels in pending:
            self.store.write(key, values[start : start + len(pixels)])
            start += len(pixels)

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
