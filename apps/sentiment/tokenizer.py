"""Review strings to token ids: the preprocessor the sentiment model owns.

The same layer runs in `tf.data` (training batches) and inside the model's `serve` (the export
and `best.keras`), so serving tokenizes exactly as training did.
"""

from typing import Optional

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="sentiment")
def standardize(text: tf.Tensor) -> tf.Tensor:
    """Lower-case, drop `<br />` tags, keep letters, digits, apostrophes, `!` and `?` as tokens."""
    text = tf.strings.lower(text, encoding="utf-8")
    text = tf.strings.regex_replace(text, r"<br\s*/?>", " ")
    text = tf.strings.regex_replace(text, r"([!?])", r" \1 ")
    return tf.strings.regex_replace(text, r"[^\p{L}\p{N}'!? ]+", " ")


@keras.saving.register_keras_serializable(package="sentiment")
class ReviewTokenizer(keras.layers.Layer):
    """`[batch]` review strings -> `{"token_ids": [batch, time]}` int32, post-padded.

    Words are looked up in a vocabulary learned from the training reviews (`adapt`; id 0 is
    padding, 1 `[UNK]`); a review longer than `max_length` tokens keeps its first quarter and
    its last three quarters (reviews tend to end with the verdict); a review with no token
    left (only tags or punctuation) is one `[UNK]`, never a fully masked row (which the cuDNN
    kernel rejects). The vocabulary is saved with the model (the vectorizer's assets).

    Args:
        max_length: int. Most tokens kept per review.
        vocab_size: int. Largest vocabulary, padding and `[UNK]` included.
        vocabulary: optional list of tokens (padding and `[UNK]` first) instead of `adapt`.
    """

    def __init__(
        self, max_length: int, vocab_size: int = 20000, vocabulary: Optional[list] = None, **kwargs
    ):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.vocab_size = vocab_size
        self.vectorizer = keras.layers.TextVectorization(
            max_tokens=vocab_size,
            standardize=standardize,
            ragged=True,
            vocabulary=vocabulary,
            name="vectorizer",
        )

    def adapt(self, texts: tf.data.Dataset) -> "ReviewTokenizer":
        """Learn the vocabulary from unbatched training texts."""
        self.vectorizer.adapt(texts.batch(512))
        return self

    @property
    def vocabulary_size(self) -> int:
        return self.vectorizer.vocabulary_size()

    def token_ids(self, texts: tf.Tensor) -> tf.RaggedTensor:
        """Token ids `[batch, (tokens)]` int32, cut to `max_length` (unpadded)."""
        token_ids = tf.cast(self.vectorizer(texts), tf.int32)
        head = self.max_length // 4
        tail = self.max_length - head
        positions = tf.ragged.range(token_ids.row_lengths())
        lengths = tf.expand_dims(token_ids.row_lengths(), 1)
        keep = (positions < head) | (positions >= lengths - tail)
        token_ids = tf.ragged.boolean_mask(token_ids, keep)
        empty = tf.equal(token_ids.row_lengths(), 0)[:, None]  # [batch, 1]
        unknown = tf.ragged.boolean_mask(tf.ones_like(empty, tf.int32), empty)  # [[1] or []]
        return tf.concat([token_ids, unknown], axis=1)

    def call(self, texts):
        return {"token_ids": self.token_ids(texts).to_tensor(default_value=0)}

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "max_length": self.max_length,
            "vocab_size": self.vocab_size,
        }
