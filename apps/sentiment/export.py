"""The serving model: raw review strings in, `label` and `probabilities` out."""

import keras
import numpy as np
import tensorflow as tf

from apps.sentiment.config import SentimentConfig
from apps.sentiment.data import pad_batch
from apps.sentiment.data import tokenize
from shared.export import Endpoint

SAMPLE_TEXTS = np.array(
    [
        "A moving, beautifully acted film.<br /><br />I loved it!",
        "",
        "Dull plot, wooden acting. " * 4000,  # 100,000 characters
        "Ça n'était pas terrible.",
    ]
)


def make_endpoints(
    model: keras.Model, vectorizer: keras.layers.TextVectorization, config: SentimentConfig
) -> dict[str, Endpoint]:
    class_names = tf.constant(list(config.class_names))

    def serve(text):
        token_ids = pad_batch(tokenize(vectorizer, text, config.max_length))
        probabilities = model({"token_ids": token_ids}, training=False)
        label = tf.gather(class_names, tf.argmax(probabilities, axis=-1))
        return {"label": label, "probabilities": probabilities}

    signature = [tf.TensorSpec([None], tf.string, name="text")]
    return {"serving_default": Endpoint(serve, signature, {"text": SAMPLE_TEXTS})}
