"""The serving model: source text in, translated text out, beam search inside the SavedModel.

`serving_default` takes `text` string `[batch]` and returns `translation` string `[batch]`.
`translate_with_attention` also returns `tokens` (output subword pieces, `""` after the end),
`source_tokens` (the source pieces; `""` marks the end token and padding) and `attention`
float32 `[batch, output pieces, source pieces]`. Tokenizing, decoding and detokenizing all run
in core TensorFlow ops.
"""

import numpy as np
import tensorflow as tf

from apps.translation.config import TranslationConfig
from apps.translation.pipeline import TranslationModel
from shared.export import Endpoint

SAMPLE_TEXT = np.array(
    ["A man is riding a bicycle.", "", "Zwei   Hunde\tspielen im Schnee!", "ÉCOLE ™ 123"],
    dtype=object,
)


def make_endpoints(model: TranslationModel, config: TranslationConfig) -> dict[str, Endpoint]:
    """`serving_default` and `translate_with_attention`: the model's own beam search."""

    def translate_with_attention(text):
        return model.translate(text)

    def translate(text):
        return {"translation": translate_with_attention(text)["translation"]}

    text = [tf.TensorSpec([None], tf.string, name="text")]
    return {
        "serving_default": Endpoint(translate, text, {"text": SAMPLE_TEXT}),
        "translate_with_attention": Endpoint(translate_with_attention, text, {"text": SAMPLE_TEXT}),
    }
