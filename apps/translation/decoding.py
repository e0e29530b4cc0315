"""Translating text with a trained model: tokenize, search, detokenize, all in TensorFlow.

`Translator` wraps a trained model and the two tokenizers: `translate(text)` is what the export
serves. The searches (`shared.decoding`, one `tf.while_loop` over a whole batch) call the
model's own `AttentionDecoder.step`, the computation training ran under teacher forcing.
"""

import keras
import tensorflow as tf

from apps.translation.data import source_ids
from apps.translation.tokenizer import END_ID
from apps.translation.tokenizer import PAD_ID
from apps.translation.tokenizer import START_ID
from apps.translation.tokenizer import SubwordTokenizer
from shared.decoding import beam_search
from shared.decoding import context_of
from shared.decoding import decoder_step
from shared.decoding import greedy_search

EXTRA_OUTPUT_TOKENS = 10
TOKEN_IDS = {"start_id": START_ID, "end_id": END_ID, "pad_id": PAD_ID}


class Translator(tf.Module):
    """Decoding with a model from `apps.translation.model.build_model`.

    Args:
        model: the trained model.
        source_tokenizer, target_tokenizer: its vocabularies.
        max_output_ratio, extra_output_tokens: outputs stop after
            `max_output_ratio * source tokens + extra_output_tokens` tokens.
        max_source_tokens: a source longer than this many pieces is cut there (None: never),
            so one huge input costs a bounded time and memory.
    """

    def __init__(
        self,
        model: keras.Model,
        source_tokenizer: SubwordTokenizer,
        target_tokenizer: SubwordTokenizer,
        max_output_ratio: float = 1.5,
        extra_output_tokens: int = EXTRA_OUTPUT_TOKENS,
        max_source_tokens: int | None = None,
    ):
        super().__init__()
        self.model = model
        self.source_tokenizer = source_tokenizer
        self.target_tokenizer = target_tokenizer
        self.max_output_ratio = max_output_ratio
        self.extra_output_tokens = extra_output_tokens
        self.max_source_tokens = max_source_tokens
        self.encoder = keras.Model(
            model.get_layer("source").output,
            [model.get_layer("encoder").output, model.get_layer("bridge").output],
        )
        self.decoder = model.get_layer("decoder")
        self._step = decoder_step(
            model.get_layer("target_embedding"), self.decoder, model.get_layer("logits")
        )

    def _encode(self, source):
        """The decoder's initial states and the context it attends over."""
        memory, state = self.encoder(source, training=False)
        context = context_of(self.decoder, memory, tf.not_equal(source, 0))
        return self.decoder.initial_states(state), context

    def output_limits(self, source: tf.Tensor) -> tf.Tensor:
        """Most output tokens per sentence, `[END]` included (see the class arguments)."""
        # Every real piece counts, [UNK] included; padding and the [END] token do not.
        pieces = tf.logical_and(source != PAD_ID, source != END_ID)
        source_length = tf.reduce_sum(tf.cast(pieces, tf.float32), axis=1)
        limits = tf.math.ceil(self.max_output_ratio * source_length) + self.extra_output_tokens
        return tf.maximum(tf.cast(limits, tf.int32), 1)

    def greedy(self, source: tf.Tensor) -> dict[str, tf.Tensor]:
        """The most likely token at every step. `source`: int32 `[batch, steps]` ids."""
        states, context = self._encode(source)
        return greedy_search(self._step, states, context, self.output_limits(source), **TOKEN_IDS)

    def beam_search(
        self, source: tf.Tensor, beam_width: int, length_penalty: float = 0.0
    ) -> dict[str, tf.Tensor]:
        """`shared.decoding.beam_search` over the source ids `[batch, steps]`."""
        states, context = self._encode(source)
        return beam_search(
            self._step,
            states,
            context,
            self.output_limits(source),
            beam_width=beam_width,
            length_penalty=length_penalty,
            attention_steps=tf.shape(source)[1],
            **TOKEN_IDS,
        )

    def translate(
        self, text: tf.Tensor, beam_width: int = 5, length_penalty: float = 0.6
    ) -> dict[str, tf.Tensor]:
        """`[batch]` source text -> translation, output pieces, source pieces and attention.

        `beam_width` 1 decodes greedily.
        """
        source = source_ids(self.source_tokenizer, text, self.max_source_tokens).to_tensor()
        if beam_width == 1:
            result = self.greedy(source)
        else:
            result = self.beam_search(source, beam_width, length_penalty)
        tokens = result["tokens"]
        return {
            "translation": self.target_tokenizer.detokenize(tokens),
            "tokens": self.target_tokenizer.id_to_piece(tokens),
            "source_tokens": self.source_tokenizer.id_to_piece(tf.cast(source, tf.int64)),
            "attention": result["attention"],
        }
