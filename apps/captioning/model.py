"""Show, Attend and Tell: image regions -> attention decoder -> next-word logits."""

import keras
from keras import ops

from apps.captioning.config import CaptioningConfig
from apps.captioning.pipeline import CaptioningModel
from apps.captioning.pipeline import CaptionInputs
from shared.backbones import small_cnn
from shared.layers import AttentionDecoder
from shared.losses import MaskedAccuracy
from shared.losses import MaskedSequenceLoss
from shared.precision import network_precision
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
    """Appends each region's grid coordinates (row, column in [-1, 1]) to its features.

    Attention sums regions into one context vector, which loses where they were; with the
    coordinates in it, the context tells the decoder where it looked (the row and column of
    its focus, linearly), so it can say "left of" or "above". Input `[batch, regions, dim]`
    over a square grid, output `[batch, regions, dim + 2]`.
    """

    def call(self, inputs):
        regions = ops.shape(inputs)[1]
        side = ops.cast(ops.round(ops.sqrt(ops.cast(regions, "float32"))), "int32")
        index = ops.arange(regions)
        scale = ops.cast(ops.maximum(side - 1, 1), inputs.dtype)
        rows = ops.cast(index // side, inputs.dtype) / scale * 2.0 - 1.0
        columns = ops.cast(index % side, inputs.dtype) / scale * 2.0 - 1.0
        coordinates = ops.stack([rows, columns], axis=-1)[None]
        coordinates = ops.broadcast_to(coordinates, (ops.shape(inputs)[0], regions, 2))
        return ops.concatenate([inputs, coordinates], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + 2)


@keras.saving.register_keras_serializable(package="captioning")
class RegionLayout(keras.layers.Layer):
    """The mean of the regions in each quarter of the square grid, side by side.

    `[batch, regions, dim]` -> `[batch, 4 * dim]` (top left, top right, bottom left, bottom
    right; a middle row or column counts half in both halves). Unlike the mean over the whole
    grid, it keeps the coarse layout ("red on the left, blue on the right") for the decoder's
    initial state.
    """

    def call(self, inputs):
        regions = ops.shape(inputs)[1]
        side = ops.cast(ops.round(ops.sqrt(ops.cast(regions, "float32"))), "int32")
        index = ops.arange(regions)
        centre = ops.cast(side - 1, inputs.dtype) / 2.0
        rows = ops.cast(index // side, inputs.dtype) - centre
        columns = ops.cast(index % side, inputs.dtype) - centre
        upper = ops.clip(0.5 - ops.sign(rows) * 0.5, 0.0, 1.0)  # 1 above, 0.5 middle, 0 below
        left = ops.clip(0.5 - ops.sign(columns) * 0.5, 0.0, 1.0)
        masks = ops.stack(
            [upper * left, upper * (1 - left), (1 - upper) * left, (1 - upper) * (1 - left)]
        )
        masks = masks / ops.sum(masks, axis=1, keepdims=True)  # [4, regions]
        quarters = ops.einsum("qr,brd->bqd", masks, inputs)
        return ops.reshape(quarters, (ops.shape(inputs)[0], 4 * inputs.shape[-1]))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 4 * input_shape[-1])


def build_model(
    config: CaptioningConfig, *, vocab_size: int, image_shape: tuple[int, ...]
) -> keras.Model:
    """`image` (backbone regions, or uint8 pixels for the small CNN) and `caption_in` -> logits.

    The regions are projected to the decoder size and given their grid coordinates; the
    decoder state starts from the mean region and the mean of each quarter of the grid. Layer
    names are what `apps.captioning.captioner.Captioner` looks up.
    """
    pixels = not config.pretrained
    image = keras.Input(image_shape, dtype="uint8" if pixels else "float32", name="image")
    caption_in = keras.Input((None,), dtype="int32", name="caption_in")
    regions = small_cnn(config.input_size)(image) if pixels else image
    regions = keras.layers.Dropout(config.dropout, name="region_dropout")(regions)
    memory = keras.layers.Dense(config.units, activation="relu", name="projected")(regions)
    memory = RegionPositions(name="memory")(memory)
    mean = keras.layers.GlobalAveragePooling1D(name="mean_region")(memory)
    layout = RegionLayout(name="layout")(memory)
    summary = keras.layers.Concatenate(name="summary")([mean, layout])
    initial = [keras.layers.Dense(config.units, activation="tanh", name="init_h")(summary)]
    if config.cell == "lstm":
        initial.append(keras.layers.Dense(config.units, activation="tanh", name="init_c")(summary))
    words = keras.layers.Embedding(vocab_size, config.embedding_dim, name="word_embedding")(
        caption_in
    )
    words = keras.layers.Dropout(config.dropout, name="word_dropout")(words)
    outputs, weights = AttentionDecoder(
        config.units,
        cell=config.cell,
        l2=config.l2,
        **config.decoder_kwargs(),
        name="decoder",
    )(words, memory, initial if len(initial) > 1 else initial[0])
    outputs = AttentionPenalty(  # float32: the penalty is part of the loss
        config.attention_penalty, dtype="float32", name="attention_penalty"
    )(outputs, weights, caption_in)
    outputs = keras.layers.Dropout(config.dropout, name="output_dropout")(outputs)
    regularizer = keras.regularizers.L2(config.l2) if config.l2 else None
    logits = keras.layers.Dense(
        vocab_size, kernel_regularizer=regularizer, dtype="float32", name="logits"
    )(outputs)
    return keras.Model({"image": image, "caption_in": caption_in}, logits, name="captioning")


def compile_model(model: keras.Model, config: CaptioningConfig) -> keras.Model:
    """Adam with the masked next-word loss (plus the attention penalty the model adds)."""
    model.compile(
        optimizer=make_optimizer(config),
        loss=MaskedSequenceLoss(config.label_smoothing),
        metrics=[MaskedAccuracy()],
    )
    return model


def build_captioner(config: CaptioningConfig, inputs: CaptionInputs) -> CaptioningModel:
    """The compiled captioner owning its vocabulary and backbone: `generate` takes image bytes."""
    backbone, size = inputs.backbone, inputs.size
    image_shape = tuple(backbone.output.shape[1:]) if backbone is not None else (size, size, 3)
    with network_precision(config):
        network = build_model(config, vocab_size=len(inputs.words), image_shape=image_shape)
    model = CaptioningModel(
        network,
        inputs,
        beam_width=config.beam_width,
        length_penalty=config.length_penalty,
        name="captioning_model",
    )
    return compile_model(model, config)
