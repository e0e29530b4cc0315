"""The image encoders: a frozen keras.applications CNN, or a small CNN trained end to end.

Both map uint8 pixels `[size, size, 3]` to a grid of region features `[positions, channels]`
(7 x 7 positions for EfficientNetB0 at 224 pixels), or with `pooling="avg"` to one vector.
The apps with an image backbone (captioning, video) take their fields from `BackboneConfig`.
"""

import hashlib
from pathlib import Path
from typing import Optional

import keras

from shared.config import BackboneConfig
from shared.distribute import batch_normalization
from shared.errors import UserError

APPLICATIONS = {
    "efficientnetb0": "EfficientNetB0",
    "mobilenetv3small": "MobileNetV3Small",
    "inceptionv3": "InceptionV3",
}
# EfficientNet and MobileNetV3 rescale inside the model; Inception expects [-1, 1].
SCALED_INPUTS = {"inceptionv3"}
SMALL_CNN_GRID = 8  # the small CNN pools until its grid is about this many positions per side


def check_weights(config: BackboneConfig) -> None:
    """`UserError` when `--backbone_weights` names a file that does not exist."""
    weights = config.backbone_weights
    if weights not in ("imagenet", "none") and not Path(weights).is_file():
        raise UserError(
            f"--backbone_weights {weights}: no such file (give imagenet, none or the path of a "
            f"{config.backbone} weights file without the top layers)"
        )


def build_backbone(config: BackboneConfig, pooling: Optional[str] = None) -> keras.Model:
    """The frozen pretrained CNN of `--backbone` with `--backbone_weights` (imagenet or a file):
    uint8 pixels to regions `[positions, channels]`, or to `[channels]` with `pooling="avg"`.

    Raises `UserError` when the weights cannot be had (no network, missing or unfitting file).
    """
    check_weights(config)
    weights = config.backbone_weights
    size = config.input_size
    constructor = getattr(keras.applications, APPLICATIONS[config.backbone])
    try:
        base = constructor(include_top=False, weights=weights, input_shape=(size, size, 3))
    except Exception as error:  # keras raises plain Exception on a failed download
        reason = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
        raise UserError(
            f"cannot load {weights} weights for {config.backbone} ({type(error).__name__}: "
            f"{reason}); without internet pass --backbone_weights PATH (a weights file) or none"
        ) from None
    base.trainable = False
    pixels = keras.Input((size, size, 3), name="pixels")
    x = (
        keras.layers.Rescaling(1 / 127.5, -1.0)(pixels)
        if config.backbone in SCALED_INPUTS
        else pixels
    )
    grid = base(x, training=False)
    if pooling == "avg":
        features = keras.layers.GlobalAveragePooling2D(name="pooled")(grid)
    else:
        features = keras.layers.Reshape((-1, grid.shape[-1]), name="regions")(grid)
    return keras.Model(pixels, features, name=f"{config.backbone}_backbone")


def weights_tag(config: BackboneConfig) -> str:
    """What identifies the backbone's weights in the feature cache's key."""
    if config.backbone_weights == "imagenet":
        return "imagenet"
    digest = hashlib.sha1(Path(config.backbone_weights).read_bytes()).hexdigest()
    return f"file-{digest[:12]}"


def small_cnn(size: int, grid: int = SMALL_CNN_GRID, filters: int = 32) -> keras.Sequential:
    """Conv-norm-ReLU-pool blocks from uint8 pixels to about a `grid` x `grid` grid of regions
    `[positions, channels]` (`filters` in the first block, doubling up to 256).

    Batch normalization with momentum 0.9 (Keras: 0.99): its moving statistics catch up with
    the weights within tens of steps, so validation scores the network that trained even in
    short runs (at 0.99 validation lagged training for several epochs).
    """
    layers = [keras.layers.Rescaling(1 / 255.0)]
    side = size
    while side // 2 >= grid or side == size:
        layers += [
            keras.layers.Conv2D(filters, 3, padding="same", use_bias=False),
            batch_normalization(momentum=0.9),
            keras.layers.ReLU(),
            keras.layers.MaxPooling2D(),
        ]
        side, filters = side // 2, min(filters * 2, 256)
    layers.append(keras.layers.Conv2D(filters, 3, padding="same", activation="relu"))
    layers.append(keras.layers.Reshape((-1, filters)))
    return keras.Sequential(layers, name="image_encoder")


class BackboneHolder(keras.layers.Layer):
    """Base of a preprocessor layer that owns an optional frozen backbone (`self.backbone`):
    freezes it and saves it with the model (its config here, its weights in the `.keras`
    file), so a loaded model runs the CNN it was trained behind. Subclasses call
    `super().__init__(backbone, **kwargs)` and add their own config to `get_config`."""

    def __init__(self, backbone: Optional[keras.Model] = None, **kwargs):
        super().__init__(**kwargs)
        self.backbone = backbone
        if backbone is not None:
            backbone.trainable = False

    def get_config(self) -> dict:
        backbone = keras.saving.serialize_keras_object(self.backbone)
        return {**super().get_config(), "backbone": backbone}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        return cls(**config)
