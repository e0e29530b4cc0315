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

import numpy as np
import tensorflow as tf

from apps.video.config import VideoConfig
from shared.export import Endpoint
from shared.pipeline import Pipeline


def sample_frames() -> np.ndarray:
    """Two clips of odd size: 20 frames of noise, and 5 frames padded with zeros."""
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (2, 20, 37, 50, 3), dtype=np.uint8)
    frames[1, 5:] = 0
    return frames


def make_endpoints(model: Pipeline, config: VideoConfig) -> dict[str, Endpoint]:
    """`serving_default`: the classifier's own `serve` (sampling, resizing and the backbone
    inside) and the label."""
    class_names = tf.constant(list(config.class_names))

    def classify(frames):
        probabilities = model.serve(frames)
        label = tf.gather(class_names, tf.argmax(probabilities, axis=-1))
        return {"label": label, "probabilities": probabilities}

    spec = [tf.TensorSpec([None, None, None, None, 3], tf.uint8, name="frames")]
    return {"serving_default": Endpoint(classify, spec, {"frames": sample_frames()})}
