"""Training-only layers that augment features `[batch, time, bands]` inside the model: a random
stretch along time or bands, and SpecAugment masks. At inference they pass features through."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="speech")
class RandomStretch(keras.layers.Layer):
    """Stretch or squeeze features `[batch, time, bands]` along one axis, training only.

    Each clip gets a random factor in `1 +- max_stretch`; position `i` takes the (linearly
    interpolated) value at `anchor + (i - anchor) / factor`, where `anchor` is the first
    position or the middle. Along the band axis from band 0 this moves formants and harmonics
    up or down, as between a longer and a shorter vocal tract (vocal tract length perturbation,
    Jaitly & Hinton 2013); along time around the middle of a centred clip it makes the word
    faster or slower without changing its pitch. Positions beyond the edge repeat the edge.

    Args:
        axis: 1 (time) or 2 (bands).
        max_stretch: float. Largest relative change.
        anchor: `"start"` or `"centre"`: the position that stays in place.
    """

    def __init__(self, axis=2, max_stretch=0.1, anchor="start", seed=None, **kwargs):
        super().__init__(**kwargs)
        if axis not in (1, 2) or anchor not in ("start", "centre"):
            raise ValueError(
                f"axis must be 1 or 2 and anchor 'start' or 'centre', got {axis}, {anchor}"
            )
        self.axis = axis
        self.max_stretch = max_stretch
        self.anchor = anchor
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, features, training=False):
        if not training or not self.max_stretch:
            return features
        batch, size = ops.shape(features)[0], ops.shape(features)[self.axis]
        factor = keras.random.uniform(
            (batch, 1), 1.0 - self.max_stretch, 1.0 + self.max_stretch, seed=self.seed_generator
        )
        last = ops.cast(size - 1, "float32")
        anchor = last / 2.0 if self.anchor == "centre" else 0.0
        source = anchor + (ops.arange(size, dtype="float32")[None, :] - anchor) / factor
        source = ops.clip(source, 0.0, last)  # [batch, size]
        low = ops.floor(source)
        weight = source - low
        low = ops.cast(low, "int32")
        high = ops.minimum(low + 1, size - 1)
        if self.axis == 1:
            weight, low, high = weight[:, :, None], low[:, :, None], high[:, :, None]
        else:
            weight, low, high = weight[:, None, :], low[:, None, :], high[:, None, :]
        shape = ops.shape(features)
        take = lambda index: ops.take_along_axis(  # noqa: E731
            features, ops.broadcast_to(index, shape), axis=self.axis
        )
        return take(low) * (1.0 - weight) + take(high) * weight

    def get_config(self):
        config = super().get_config()
        config.update(
            axis=self.axis, max_stretch=self.max_stretch, anchor=self.anchor, seed=self.seed
        )
        return config


@keras.saving.register_keras_serializable(package="speech")
class SpecAugment(keras.layers.Layer):
    """SpecAugment masking (Park et al. 2019) of features `[batch, time, features]`, training only.

    Each clip gets `freq_masks` bands of up to `freq_mask_width` features and `time_masks` spans
    of up to `time_mask_width` steps set to zero (the mean of normalized features).
    """

    def __init__(
        self,
        freq_masks=2,
        freq_mask_width=5,
        time_masks=2,
        time_mask_width=10,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.freq_masks = freq_masks
        self.freq_mask_width = freq_mask_width
        self.time_masks = time_masks
        self.time_mask_width = time_mask_width
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _masks(self, batch, size, count, width):
        """Bool `[batch, size]`, True inside any of `count` random spans of up to `width`."""
        keep = ops.zeros((batch, size), dtype="bool")
        positions = ops.arange(size)[None, :]
        for _ in range(count):
            span = ops.floor(
                keras.random.uniform((batch, 1), 0, width + 1, seed=self.seed_generator)
            )
            start = ops.floor(
                keras.random.uniform((batch, 1), 0, 1, seed=self.seed_generator)
                * ops.maximum(ops.cast(size, "float32") - span, 1.0)
            )
            span, start = ops.cast(span, "int32"), ops.cast(start, "int32")
            keep = keep | ((positions >= start) & (positions < start + span))
        return keep

    def call(self, features, training=False):
        if not training:
            return features
        batch, steps, bands = ops.shape(features)[0], ops.shape(features)[1], ops.shape(features)[2]
        masked_bands = self._masks(batch, bands, self.freq_masks, self.freq_mask_width)
        masked_steps = self._masks(batch, steps, self.time_masks, self.time_mask_width)
        masked = masked_bands[:, None, :] | masked_steps[:, :, None]
        return ops.where(masked, ops.zeros_like(features), features)

    def get_config(self):
        config = super().get_config()
        config.update(
            freq_masks=self.freq_masks,
            freq_mask_width=self.freq_mask_width,
            time_masks=self.time_masks,
            time_mask_width=self.time_mask_width,
            seed=self.seed,
        )
        return config
