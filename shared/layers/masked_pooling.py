import keras
from keras import ops

from shared.layers.masking import masked_score

_MODES = ("mean", "max")


@keras.saving.register_keras_serializable(package="shared")
class MaskedPooling(keras.layers.Layer):
    """Pool a sequence over time using only its unmasked steps: mean, max, or both concatenated.

    Unlike `keras.layers.GlobalAveragePooling1D` (NaN for an all-padding row) and
    `GlobalMaxPooling1D` (ignores masks), a sequence with no real step pools to zeros.

    Args:
        modes: tuple of `"mean"` and/or `"max"`; the outputs are concatenated in this order.

    Call arguments:
        inputs: float tensor `[batch, time, features]`.
        mask: optional bool tensor `[batch, time]`; `True` marks real steps.

    Masking: consumes the mask; the output `[batch, features * len(modes)]` has none.

    Example:
    >>> x = keras.layers.Embedding(100, 8, mask_zero=True)(keras.Input((None,), dtype="int32"))
    >>> y = MaskedPooling(modes=("mean", "max"))(x)  # [batch, 16]
    """

    def __init__(self, modes=("mean", "max"), **kwargs):
        super().__init__(**kwargs)
        modes = tuple(modes)
        if not modes or any(mode not in _MODES for mode in modes):
            raise ValueError(f"modes must be a non-empty subset of {_MODES}, got {modes}")
        self.modes = modes
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            mask = ops.ones(ops.shape(inputs)[:2], dtype="bool")
        present = ops.expand_dims(ops.cast(mask, "bool"), -1)  # [batch, time, 1]
        pooled = [self._pool(mode, inputs, present) for mode in self.modes]
        return pooled[0] if len(pooled) == 1 else ops.concatenate(pooled, axis=-1)

    @staticmethod
    def _pool(mode, inputs, present):
        if mode == "mean":
            weights = ops.cast(present, inputs.dtype)
            return ops.sum(inputs * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)
        masked = ops.where(present, inputs, ops.full_like(inputs, masked_score(inputs.dtype)))
        maximum = ops.max(masked, axis=1)
        return ops.where(ops.any(present, axis=1), maximum, ops.zeros_like(maximum))

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1] * len(self.modes))

    def get_config(self):
        config = super().get_config()
        config["modes"] = list(self.modes)
        return config
