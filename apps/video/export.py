"""The serving model: raw frames in, label and class probabilities out.

`serving_default` takes `frames` uint8 `[batch, frames, height, width, 3]`: any frame count
and size (all clips of a request share them). Each clip ends at its last frame with a
non-zero pixel, so clips of different lengths are batched by padding with zero frames; the
frames are sampled as in training (`--num_frames` spread evenly, or `--frame_step`), resized
and centre-cropped, passed through the backbone and the classifier inside the SavedModel.
A clip of only zero frames gets the classifier's answer to no frames at all.

There is no `video_bytes` signature: no TensorFlow op decodes H.264/MPEG-4 video, and a
Python decoder (PyAV) cannot be saved in a SavedModel; `predict` reads video files instead.
"""

from typing import Optional

import keras
import numpy as np
import tensorflow as tf

from apps.video.config import VideoConfig
from apps.video.frames import model_frames
from shared.export import Endpoint


def sample_frames() -> np.ndarray:
    """Two clips of odd size: 20 frames of noise, and 5 frames padded with zeros."""
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (2, 20, 37, 50, 3), dtype=np.uint8)
    frames[1, 5:] = 0
    return frames


def classify_frames(
    model: keras.Model, config: VideoConfig, backbone: Optional[keras.Model] = None
):
    """The function from a batch of raw frames to `{"label", "probabilities"}`."""
    class_names = tf.constant(list(config.class_names))
    size, num_frames = config.input_size, config.num_frames

    def classify(frames):
        # A request with no frames at all is one frame of zeros (a clip with nothing in it).
        missing = tf.maximum(1 - tf.shape(frames)[1], 0)
        frames = tf.pad(frames, [[0, 0], [0, missing], [0, 0], [0, 0], [0, 0]])
        pixels, counts = model_frames(frames, num_frames, config.frame_step, size)
        inputs = pixels
        if backbone is not None:
            flat = tf.reshape(pixels, [-1, size, size, 3])
            features = backbone(tf.cast(flat, tf.float32), training=False)
            inputs = tf.reshape(features, [-1, num_frames, features.shape[-1]])
        probabilities = model({"frames": inputs, "length": counts}, training=False)
        label = tf.gather(class_names, tf.argmax(probabilities, axis=-1))
        return {"label": label, "probabilities": probabilities}

    return classify


def make_endpoints(
    model: keras.Model, config: VideoConfig, backbone: Optional[keras.Model] = None
) -> dict[str, Endpoint]:
    spec = [tf.TensorSpec([None, None, None, None, 3], tf.uint8, name="frames")]
    classify = classify_frames(model, config, backbone)
    return {"serving_default": Endpoint(classify, spec, {"frames": sample_frames()})}
