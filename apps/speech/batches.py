"""Speech training batches: clips augmented (speed, shift, background noise) and batched.

Clips come from `apps.speech.data.Splits.clips` (shuffled there, as a file list); what the
model does with them (features, normalization) is inside the model.
"""

import numpy as np
import tensorflow as tf

from apps.speech import audio as audio_ops
from apps.speech.config import SpeechConfig
from shared.data import AUTOTUNE
from shared.data import with_options


def make_dataset(
    clips: tf.data.Dataset, config: SpeechConfig, *, training: bool, noise: np.ndarray | None = None
) -> tf.data.Dataset:
    """Batched `({"audio": clips}, labels)`; training clips are augmented (shuffle them
    before, as `Splits.clips` does)."""
    dataset = clips
    if training and config.augment:
        augment = make_augmenter(config, noise)
        seeds = tf.data.Dataset.random(seed=config.seed, rerandomize_each_iteration=True)
        dataset = tf.data.Dataset.zip(dataset, seeds.batch(2)).map(
            augment, num_parallel_calls=AUTOTUNE
        )
    dataset = dataset.map(lambda clip, label: ({"audio": clip}, label))
    return with_options(dataset.batch(config.batch_size).prefetch(AUTOTUNE))


def make_augmenter(config: SpeechConfig, noise: np.ndarray | None):
    """`((clip, label), seed) -> (clip, label)`: speed change, time shift, noise mixing."""
    noise_bank = tf.constant(
        noise if noise is not None else np.zeros((0, config.clip_samples)), tf.float32
    )
    max_shift = int(round(config.time_shift * config.sample_rate))

    def augment(example, seed):
        clip, label = example
        seeds = tf.random.experimental.stateless_split(seed, 4)
        if config.speed_change > 0:
            clip = audio_ops.change_speed(clip, config.speed_change, seeds[0])
        if max_shift > 0:
            clip = audio_ops.time_shift(clip, max_shift, seeds[1])
        if config.noise_probability > 0:
            mixed = audio_ops.add_noise(clip, noise_bank, config.snr_db, seeds[2])
            use = tf.random.stateless_uniform([], seeds[3]) < config.noise_probability
            clip = tf.where(use, mixed, clip)
        return tf.ensure_shape(clip, [config.clip_samples]), label

    return augment
