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

from typing import TYPE_CHECKING
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from apps.video.config import VideoConfig
from shared.export import Endpoint
from shared.pipeline import Pipeline

if TYPE_CHECKING:  # for the type only: the cache imports what the export does not need
    from apps.video.cache import ClipCache


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


def export_agreement(
    serve: Callable[..., dict],
    network: keras.Model,
    cache: "ClipCache",
    decoded: list[tuple],
    config: VideoConfig,
) -> dict:
    """The export (raw frames in) against the network on the cached model inputs of the same
    clips: the largest probability difference and how often the top class agrees."""
    if not decoded:
        return {"clips": 0}
    frames = np.zeros((len(decoded), config.num_frames, *decoded[0][2].shape[1:]), np.uint8)
    for row, (_, _, pixels) in zip(frames, decoded):
        row[: len(pixels)] = pixels
    served = serve(frames=tf.constant(frames))["probabilities"].numpy()
    inputs = np.zeros((len(decoded), config.num_frames, *cache.frame_shape), np.float32)
    lengths = np.zeros(len(decoded), np.int32)
    for row, (_, key, _) in enumerate(decoded):
        values = cache.store.load(key)
        inputs[row, : len(values)], lengths[row] = values, len(values)
    direct = network.predict({"frames": inputs, "length": lengths}, verbose=0)
    return {
        "clips": len(decoded),
        "max_probability_difference": round(float(np.abs(served - direct).max()), 6),
        "same_top_class": float(np.mean(served.argmax(1) == direct.argmax(1))),
    }
