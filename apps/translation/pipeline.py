"""The translation model as one Keras object: the seq2seq network, its two tokenizers, and a
`generate` that returns the export's strings (as keras-hub's `Seq2SeqLM.generate` does).

`keras.saving.load_model(".../best.keras").generate(["A dog runs."])` translates in a fresh
process (after `import apps.translation.model`).
"""

import functools
from typing import Sequence

import keras
import tensorflow as tf

from apps.translation.data import source_ids
from apps.translation.decoding import Translator
from apps.translation.tokenizer import SubwordTokenizer
from shared.pipeline import TextGenerator


@keras.saving.register_keras_serializable(package="translation")
class Tokenizers(keras.layers.Layer):
    """The source and target subword tokenizers, learned on the training pairs.

    Calling it gives the network's source input: `[batch]` text -> int32 ids `[batch, pieces]`
    ending in `[END]`, post-padded. The vocabularies are in the config (a few thousand pieces).

    Args:
        source_vocabulary, target_vocabulary: the pieces, special tokens first.
        lowercase: whether text is lower-cased before it is split.
        learn_seconds: how long learning the vocabularies took (reported, not used).
    """

    def __init__(
        self,
        source_vocabulary: Sequence[str],
        target_vocabulary: Sequence[str],
        lowercase: bool = False,
        learn_seconds: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.lowercase, self.learn_seconds = lowercase, learn_seconds
        self.source = SubwordTokenizer(source_vocabulary, lowercase)
        self.target = SubwordTokenizer(target_vocabulary, lowercase)

    def call(self, text):
        return source_ids(self.source, text).to_tensor()

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "source_vocabulary": list(self.source.vocabulary),
            "target_vocabulary": list(self.target.vocabulary),
            "lowercase": self.lowercase,
            "learn_seconds": self.learn_seconds,
        }


@keras.saving.register_keras_serializable(package="translation")
class TranslationModel(TextGenerator):
    """The network (teacher-forced `call`, what `fit` trains) with its tokenizers; `generate`
    and `predict` translate raw text with beam search (width 1: greedy).

    Args:
        network, preprocessor: the seq2seq model and its `Tokenizers`.
        beam_width, length_penalty, max_output_ratio: the decoding the export serves.
        max_source_tokens: source pieces translated (a longer input is cut; None: all).
    """

    generate_batch_size = 64

    def __init__(
        self,
        network: keras.Model,
        preprocessor: Tokenizers,
        beam_width: int = 5,
        length_penalty: float = 0.6,
        max_output_ratio: float = 1.5,
        max_source_tokens: int | None = None,
        **kwargs,
    ):
        super().__init__(
            network, preprocessor, beam_width=beam_width, length_penalty=length_penalty, **kwargs
        )
        self.max_output_ratio = max_output_ratio
        self.max_source_tokens = max_source_tokens

    @functools.cached_property  # not an attribute Keras tracks: its layers are the network's
    def translator(self) -> Translator:
        tokenizers = self.preprocessor
        return Translator(
            self.network,
            tokenizers.source,
            tokenizers.target,
            self.max_output_ratio,
            max_source_tokens=self.max_source_tokens,
        )

    def translate(self, text: tf.Tensor, beam_width: int | None = None) -> dict[str, tf.Tensor]:
        """`[batch]` text -> translations, pieces and attention (`Translator.translate`)."""
        return self.translator.translate(text, self.width(beam_width), self.length_penalty)

    def generate_batch(self, raw: tf.Tensor, beam_width: int | None = None) -> tf.Tensor:
        return self.translate(raw, beam_width)["translation"]

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "max_output_ratio": self.max_output_ratio,
            "max_source_tokens": self.max_source_tokens,
        }
