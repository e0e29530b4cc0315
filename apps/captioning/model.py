"""Show, Attend and Tell: image regions -> attention decoder -> next-word logits."""

import keras
from keras import ops

from apps.captioning.backbone import small_cnn
from apps.captioning.config import CaptioningConfig
from shared.layers import AttentionDecoder
from shared.losses import MaskedSequenceLoss
from shared.losses import masked_accuracy
from shared.training import make_optimizer


@keras.saving.register_keras_serializable(package="captioning")
class AttentionPenalty(keras.layers.Layer):
    """The doubly stochastic attention penalty of Show, Attend and Tell (Xu et al., 2015).

    Adds `weight * mean_i (1 - sum_t alpha_ti)^2` to the model's losses: over a caption's
    words (padding excluded), every region `i` should receive about one unit of attention, so
    the decoder looks at every part of the image instead of staring at one. Passes `inputs`
    through unchanged.

    Call arguments:
        inputs: any tensor, returned as it is.
        weights: float `[batch, time, positions]`, the decoder's attention weights.
        tokens: int `[batch, time]`, the decoder's input tokens (0 = padding).
    """

    def __init__(self, weight=1.0, **kwargs):
        super().__init__(**kwargs)
        self.weight = weight

    def call(self, inputs, weights, tokens):
        if self.weight:
            real = ops.cast(ops.not_equal(tokens, 0), weights.dtype)[..., None]
            received = ops.sum(weights * real, axis=1)  # [batch, positions]
            self.add_loss(self.weight * ops.mean(ops.square(1.0 - received)))
        return inputs

    def compute_output_shape(self, inputs_shape, *args):
        return inputs_shape

    def get_config(self):
        return {**super().get_config(), "weight": self.weight}


@keras.saving.register_keras_serializable(package="captioning")
class RegionPositions(keras.layers.Layer):
    """Adds a learned vector per grid position to the region features `[batch, regions, dim]`.

    Attention sums regions into one context vector, which loses where they were; with these,
    the context tells the decoder where it looked, so it can say "left of" or "above".
    """

    def build(self, input_shape):
        self.positions = self.add_weight(
            shape=tuple(input_shape[1:]), initializer="zeros", name="positions"
        )

    def call(self, inputs):
        return inputs + ops.cast(self.positions, inputs.dtype)


def build_model(
    config: CaptioningConfig, *, vocab_size: int, image_shape: tuple[int, ...]
) -> keras.Model:
    """`image` (backbone regions, or uint8 pixels for the small CNN) and `caption_in` -> logits.

    The regions are projected to the decoder size, plus a learned vector per grid position;
    the decoder state starts from the mean region. Layer names are what
    `apps.captioning.captioner.Captioner` looks up.
    """
    pixels = not config.pretrained
    image = keras.Input(image_shape, dtype="uint8" if pixels else "float32", name="image")
    caption_in = keras.Input((None,), dtype="int32", name="caption_in")
    regions = small_cnn(config.input_size)(image) if pixels else image
    regions = keras.layers.Dropout(config.dropout, name="region_dropout")(regions)
    memory = keras.layers.Dense(config.units, activation="relu", name="projected")(regions)
    memory = RegionPositions(name="memory")(memory)
    mean = keras.layers.GlobalAveragePooling1D(name="mean_region")(memory)
    initial = [keras.layers.Dense(config.units, activation="tanh", name="init_h")(mean)]
    if config.cell == "lstm":
        initial.append(keras.layers.Dense(config.units, activation="tanh", name="init_c")(mean))
    words = keras.layers.Embedding(vocab_size, config.embedding_dim, name="word_embedding")(
        caption_in
    )
    words = keras.layers.Dropout(config.dropout, name="word_dropout")(words)
    outputs, weights = AttentionDecoder(
        config.units,
        attention=config.attention,
        attention_units=config.attention_units,
        input_feeding=config.input_feeding,
        cell=config.cell,
        l2=config.l2,
        name="decoder",
    )(words, memory, initial if len(initial) > 1 else initial[0])
    outputs = AttentionPenalty(config.attention_penalty, name="attention_penalty")(
        outputs, weights, caption_in
    )
    outputs = keras.layers.Dropout(config.dropout, name="output_dropout")(outputs)
    regularizer = keras.regularizers.L2(config.l2) if config.l2 else None
    logits = keras.layers.Dense(vocab_size, kernel_regularizer=regularizer, name="logits")(outputs)
    return keras.Model({"image": image, "caption_in": caption_in}, logits, name="captioning")


def compile_model(model: keras.Model, config: CaptioningConfig) -> keras.Model:
    """Adam with the masked next-word loss (plus the attention penalty the model adds)."""
    model.compile(
        optimizer=make_optimizer(config),
        loss=MaskedSequenceLoss(config.label_smoothing),
        metrics=[masked_accuracy],
    )
    return model
