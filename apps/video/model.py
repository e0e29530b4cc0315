"""The clip classifier: per-frame vectors, a masked recurrent block over time, pooling, softmax."""

import keras
from keras import ops

from apps.video.config import VideoConfig
from apps.video.inputs import FrameInput
from shared.backbones import small_cnn
from shared.layers import AttentionPooling
from shared.layers import MaskedPooling
from shared.layers import RecurrentStack
from shared.pipeline import Pipeline
from shared.precision import network_precision
from shared.training import make_optimizer

ENCODER_GRID = 4  # the small frame encoder pools to 4 x 4 positions and keeps where things are
ENCODER_FILTERS = 16


@keras.saving.register_keras_serializable(package="video")
class FrameMask(keras.layers.Layer):
    """`[frames, length]` -> bool `[batch, time]`: True for the first `length` frames of a clip.

    A clip of no frames (a served all-black clip) keeps its first, black frame: a fully
    masked row would fail the cuDNN kernel and leave the pooling nothing to average.

    Example:
    >>> mask = FrameMask()([frames, length])  # frames [batch, time, ...], length int [batch]
    """

    def call(self, inputs):
        frames, length = inputs
        steps = ops.arange(ops.shape(frames)[1], dtype="int32")
        length = ops.maximum(ops.cast(length, "int32"), 1)
        return steps[None, :] < length[:, None]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:2])


@keras.saving.register_keras_serializable(package="video")
class ClipMeanSubtraction(keras.layers.Layer):
    """Each frame minus the mean of its clip's frames (padding excluded and left at zero).

    What stays the same through a clip (the scene, things that do not move) cancels out, and
    what moves or changes remains: a model trained from scratch on a few hundred clips can
    no longer tell classes apart by their backgrounds. The mean does not depend on the order
    of the frames, so averaging the result over time still says nothing about direction.

    Call arguments: `frames` `[batch, time, ...]` (any dtype), `mask` bool `[batch, time]`.
    Returns float32 frames of the same shape.
    """

    def call(self, frames, mask):
        x = ops.cast(frames, "float32")
        weights = ops.cast(mask, "float32")
        for _ in range(len(x.shape) - 2):
            weights = ops.expand_dims(weights, -1)
        count = ops.maximum(ops.sum(weights, axis=1, keepdims=True), 1.0)
        mean = ops.sum(x * weights, axis=1, keepdims=True) / count
        return (x - mean) * weights

    def compute_output_shape(self, frames_shape, mask_shape=None):
        return frames_shape


def frame_encoder(config: VideoConfig) -> keras.Sequential:
    """The small CNN of `--backbone_weights none`: uint8 frame -> `[frame_units]`.

    Its last grid is flattened rather than averaged, so a frame's vector says where things are
    in it (motion to the left and to the right differ only in that).
    """
    return keras.Sequential(
        [
            small_cnn(config.input_size, grid=ENCODER_GRID, filters=ENCODER_FILTERS),
            keras.layers.Flatten(),
            keras.layers.Dense(config.frame_units, activation="relu"),
        ],
        name="frame_cnn",
    )


def build_model(config: VideoConfig, *, num_classes: int, frame_shape: tuple) -> keras.Model:
    """`{"frames", "length"}` -> class probabilities.

    `frames` is `[batch, time, *frame_shape]`: backbone features of each frame (float32), or
    the frames themselves (uint8) for the small encoder trained end to end; frames at and
    after a clip's `length` are padding and masked out of the recurrent block and the pooling.
    """
    pixels = not config.pretrained
    frames = keras.Input(
        (None, *frame_shape), dtype="uint8" if pixels else "float32", name="frames"
    )
    length = keras.Input((), dtype="int32", name="length")
    mask = FrameMask(name="frame_mask")([frames, length])
    x = frames
    if config.subtracts_clip_mean:
        x = ClipMeanSubtraction(name="clip_mean_subtraction")(x, mask)
    if pixels:
        x = keras.layers.TimeDistributed(frame_encoder(config), name="frame_features")(x)
    else:
        x = keras.layers.Dense(config.frame_units, activation="relu", name="frame_features")(x)
    x = keras.layers.Dropout(config.frame_dropout, name="frame_dropout")(x)
    x = RecurrentStack(**config.recurrent_kwargs(), return_sequences=True, name="recurrent")(
        x, mask=mask
    )
    if config.pooling == "attention":
        x, _ = AttentionPooling(config.attention_units, name="attention")(x, mask=mask)
    else:
        x = MaskedPooling(("mean",), name="pooling")(x, mask=mask)
    x = keras.layers.Dropout(config.head_dropout, name="head_dropout")(x)
    probabilities = keras.layers.Dense(
        num_classes, activation="softmax", dtype="float32", name="probabilities"
    )(x)
    return keras.Model({"frames": frames, "length": length}, probabilities, name="video")


def compile_model(model: keras.Model, config: VideoConfig, *, num_classes: int) -> keras.Model:
    metrics = ["accuracy"]
    if num_classes > 5:
        metrics.append(keras.metrics.SparseTopKCategoricalAccuracy(k=5, name="top5_accuracy"))
    model.compile(
        optimizer=make_optimizer(config), loss="sparse_categorical_crossentropy", metrics=metrics
    )
    return model


def build_classifier(config: VideoConfig, frame_input: FrameInput) -> Pipeline:
    """The compiled classifier owning its frame front end: `predict` takes raw frames."""
    backbone = frame_input.backbone
    size = frame_input.size
    frame_shape = tuple(backbone.output.shape[1:]) if backbone is not None else (size, size, 3)
    classes = len(config.class_names)
    with network_precision(config):
        network = build_model(config, num_classes=classes, frame_shape=frame_shape)
    pipeline = Pipeline(network, frame_input, name="video_classifier")
    return compile_model(pipeline, config, num_classes=classes)


def frame_features_model(model: keras.Model) -> keras.Model:
    """The trained model's vector of each frame, before any time modelling."""
    return keras.Model(model.inputs, model.get_layer("frame_features").output)


def attention_model(model: keras.Model) -> keras.Model | None:
    """The model returning (probabilities, attention over frames); None with mean pooling."""
    if "attention" not in [layer.name for layer in model.layers]:
        return None
    weights = model.get_layer("attention").output[1]
    return keras.Model(model.inputs, [model.output, weights])
