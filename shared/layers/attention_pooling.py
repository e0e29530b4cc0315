import keras
from keras import ops

from shared.layers.masking import masked_score


@keras.saving.register_keras_serializable(package="shared")
class AttentionPooling(keras.layers.Layer):
    """Pool a sequence to one vector with learned additive attention over its time steps.

    Scores are `v . tanh(W h_t + b)` (Bahdanau-style, with a learned query `v`); the softmax of
    the scores over unmasked steps weights the sum of the inputs. Returns the pooled vector and
    the weights, so a model can also show where it listened or looked.

    Args:
        units: int. Size of the hidden scoring layer.

    Call arguments:
        inputs: float tensor `[batch, time, features]`.
        mask: optional bool tensor `[batch, time]`; masked steps get zero weight.

    Returns:
        `(pooled [batch, features], weights [batch, time])`; the weights of a row sum to 1
        (a row with no unmasked step pools to zeros).

    Masking: consumes the mask; neither output carries one.

    Example:
    >>> x = keras.Input((None, 32))
    >>> pooled, weights = AttentionPooling(16)(x)  # [batch, 32], [batch, time]
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        dense = dict(dtype=self.dtype_policy)
        self.hidden = keras.layers.Dense(units, activation="tanh", name="hidden", **dense)
        self.score = keras.layers.Dense(1, use_bias=False, name="score", **dense)
        self.supports_masking = True

    def build(self, input_shape):
        self.hidden.build(input_shape)
        self.score.build((*input_shape[:-1], self.units))

    def call(self, inputs, mask=None):
        scores = ops.squeeze(self.score(self.hidden(inputs)), axis=-1)  # [batch, time]
        if mask is not None:
            scores = ops.where(mask, scores, ops.full_like(scores, masked_score(scores.dtype)))
        weights = ops.softmax(ops.cast(scores, "float32"), axis=-1)  # float32 when mixed
        if mask is not None:
            weights = weights * ops.cast(mask, weights.dtype)
        pooled = ops.sum(inputs * ops.expand_dims(ops.cast(weights, inputs.dtype), -1), axis=1)
        return pooled, weights

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1]), (input_shape[0], input_shape[1])

    def get_config(self):
        config = super().get_config()
        config["units"] = self.units
        return config
