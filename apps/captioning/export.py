"""The serving model: encoded images in, captions out, beam search inside the SavedModel.

`serving_default` takes `image_bytes` string `[batch]` (JPEG or PNG) and returns `caption`
and `error`, string `[batch]`. `caption_with_attention` also returns `words` string
`[batch, time]` (`""` after the end), `attention` float32 `[batch, time, regions]` (row-major
over the backbone's square grid) and `decoded` bool `[batch]`. An element that is not an image
gets the caption `""`, `decoded` False and its reason in `error` instead of failing the
request (`shared.served`).
"""

import io

import numpy as np
import tensorflow as tf
from PIL import Image

from apps.captioning.config import CaptioningConfig
from apps.captioning.pipeline import CaptioningModel
from shared.export import Endpoint


def sample_images() -> np.ndarray:
    """A JPEG, a grayscale PNG and bytes that are no image: what the export check runs."""
    gradient = np.linspace(0, 255, 48 * 64 * 3).reshape(48, 64, 3).astype(np.uint8)
    samples = []
    for image, fmt in (
        (Image.fromarray(gradient), "JPEG"),
        (Image.fromarray(gradient[..., 0]), "PNG"),
    ):
        buffer = io.BytesIO()
        image.save(buffer, fmt)
        samples.append(buffer.getvalue())
    return np.array([*samples, b"not an image"], dtype=object)


def make_endpoints(model: CaptioningModel, config: CaptioningConfig) -> dict[str, Endpoint]:
    """`serving_default` and `caption_with_attention`: the model's own beam search."""

    def caption_with_attention(image_bytes):
        return model.caption(image_bytes)

    def caption(image_bytes):
        outputs = caption_with_attention(image_bytes)
        return {"caption": outputs["caption"], "error": outputs["error"]}

    spec = [tf.TensorSpec([None], tf.string, name="image_bytes")]
    sample = {"image_bytes": sample_images()}
    return {
        "serving_default": Endpoint(caption, spec, sample),
        "caption_with_attention": Endpoint(caption_with_attention, spec, sample),
    }
