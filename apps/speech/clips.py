"""Clips decoded once: each WAV read, resampled and centred on its speech, kept on disk.

An entry is one clip, float32 `[clip_samples]` at the run's sample rate, keyed by the SHA-1
of the WAV's bytes in a folder per sample rate and clip length (`shared.feature_cache`, the
store captioning and video use), so the feature statistics, every training epoch, the final
fit, the evaluation and later runs read decoded clips instead of decoding again, and no split
is ever held in memory. A renamed file hits the cache; an edited one does not.
"""

from pathlib import Path
from typing import Sequence

import numpy as np
import tensorflow as tf

from apps.speech import audio as audio_ops
from apps.speech.config import SpeechConfig
from shared.data import AUTOTUNE
from shared.feature_cache import FeatureCache
from shared.progress import progress_bar

DECODE_BATCH = 64


class ClipCache:
    """Decoded clips by WAV content, for one sample rate and clip length."""

    def __init__(self, config: SpeechConfig):
        variant = f"clips-{config.sample_rate}hz-{config.clip_samples}"
        self.store = FeatureCache(config.cache_dir, variant, [config.clip_samples], np.float32)
        self.sample_rate = config.sample_rate
        self.clip_samples = config.clip_samples

    def prepare(self, paths: Sequence[Path], keys: Sequence[str], name: str) -> tuple[list, int]:
        """The entry file of each WAV, decoding (in parallel) those not cached yet; and how
        many were decoded now."""
        self.store.open()
        missing = [(str(path), key) for path, key in zip(paths, keys) if not self.store.rows(key)]
        if missing:
            print(f"Decoding {len(missing):,} {name} clips into {self.store.folder}")
            decoded = tf.data.Dataset.from_tensor_slices([path for path, _ in missing]).map(
                lambda path: audio_ops.load_clip(
                    tf.io.read_file(path), self.sample_rate, self.clip_samples
                ),
                num_parallel_calls=AUTOTUNE,
            )
            progress = progress_bar(len(missing), "clip")
            done = 0
            for batch in decoded.batch(DECODE_BATCH).prefetch(2).as_numpy_iterator():
                for clip, (_, key) in zip(batch, missing[done : done + len(batch)]):
                    self.store.write(key, clip[np.newaxis])
                done += len(batch)
                progress.add(len(batch))
        return [str(self.store.path(key)) for key in keys], len(missing)

    def read(self, file: tf.Tensor) -> tf.Tensor:
        """The clip `[clip_samples]` in the entry `file` (in tf.data)."""
        return tf.ensure_shape(self.store.read(file)[0], [self.clip_samples])
