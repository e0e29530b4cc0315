"""The serving model: raw review strings in, `label` and `probabilities` out."""

import numpy as np
import tensorflow as tf

from apps.sentiment.config import SentimentConfig
from shared.export import Endpoint
from shared.pipeline import Pipeline

SAMPLE_TEXTS = np.array(
    [
        "A moving, beautifully acted film.<br /><br />I loved it!",
        "",
        "Dull plot, wooden acting. " * 4000,  # 100,000 characters
        "Ça n'était pas terrible.",
    ]
)


def make_endpoints(model: Pipeline, config: SentimentConfig) -> dict[str, Endpoint]:
    """`serving_default`: the classifier's own `serve` (tokenizer inside) and the label."""
    class_names = tf.constant(list(config.class_names))

    def serve(text):
        probabilities = model.serve(text)
        label = tf.gather(class_names, tf.argmax(probabilities, axis=-1))
        return {"label": label, "probabilities": probabilities}

    signature = [tf.TensorSpec([None], tf.string, name="text")]
    return {"serving_default": Endpoint(serve, signature, {"text": SAMPLE_TEXTS})}
