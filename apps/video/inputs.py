"""Raw frames to the network's inputs: the preprocessor the video model owns.

`FrameInput` samples, resizes and crops the frames of a batch of clips as training did and,
with a pretrained backbone, runs the frozen CNN on each frame; the backbone is part of the
layer, so a saved model (`best.keras`) classifies raw frames on its own.
"""

from typing import Optional

import keras
import tensorflow as tf

from apps.video.frames import model_frames
from shared.backbones import BackboneHolder


@keras.saving.register_keras_serializable(package="video")
class FrameInput(BackboneHolder):
    """`[batch, frames, height, width, 3]` uint8 (any count and size; shorter clips padded
    with zero frames) -> `{"frames", "length"}`: the sampled frames (pixels, or the backbone's
    vector per frame) and each clip's frame count.

    Args:
        num_frames: frames kept per clip (spread evenly, or every `frame_step`-th).
        frame_step: int, 0 to spread the frames.
        size: side of the square frames the network (or backbone) reads.
        backbone: optional frozen CNN `[n, size, size, 3] -> [n, features]`.
    """

    def __init__(
        self,
        num_frames: int,
        frame_step: int,
        size: int,
        backbone: Optional[keras.Model] = None,
        **kwargs,
    ):
        super().__init__(backbone, **kwargs)
        self.num_frames, self.frame_step, self.size = num_frames, frame_step, size

    def call(self, frames):
        # A request with no frames at all is one frame of zeros (a clip with nothing in it).
        missing = tf.maximum(1 - tf.shape(frames)[1], 0)
        frames = tf.pad(frames, [[0, 0], [0, missing], [0, 0], [0, 0], [0, 0]])
        pixels, counts = model_frames(frames, self.num_frames, self.frame_step, self.size)
        inputs = pixels
        if self.backbone is not None:
            flat = tf.reshape(pixels, [-1, self.size, self.size, 3])
            features = self.backbone(tf.cast(flat, tf.float32), training=False)
            inputs = tf.reshape(features, [-1, self.num_frames, features.shape[-1]])
        return {"frames": inputs, "length": counts}

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "num_frames": self.num_frames,
            "frame_step": self.frame_step,
            "size": self.size,
        }
