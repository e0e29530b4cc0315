"""Greedy and beam-search decoding as `tf.while_loop`s over whole batches (no Python per token).

`Translator` wraps a trained model and the two tokenizers: `translate(text)` is what the export
serves. Both searches call the model's own `AttentionDecoder.step`, the computation training
ran under teacher forcing.
"""

import keras
import tensorflow as tf

from apps.translation.data import source_ids
from apps.translation.tokenizer import END_ID
from apps.translation.tokenizer import PAD_ID
from apps.translation.tokenizer import START_ID
from apps.translation.tokenizer import SubwordTokenizer

NEG = -1e9  # log-probability of what may not be chosen (finite: no inf - inf = NaN)
EXTRA_OUTPUT_TOKENS = 10


class Translator(tf.Module):
    """Decoding with a model from `apps.translation.model.build_model`.

    Args:
        model: the trained model.
        source_tokenizer, target_tokenizer: its vocabularies.
        max_output_ratio, extra_output_tokens: outputs stop after
            `max_output_ratio * source tokens + extra_output_tokens` tokens.
    """

    def __init__(
        self,
        model: keras.Model,
        source_tokenizer: SubwordTokenizer,
        target_tokenizer: SubwordTokenizer,
        max_output_ratio: float = 1.5,
        extra_output_tokens: int = EXTRA_OUTPUT_TOKENS,
    ):
        super().__init__()
        self.model = model
        self.source_tokenizer = source_tokenizer
        self.target_tokenizer = target_tokenizer
        self.max_output_ratio = max_output_ratio
        self.extra_output_tokens = extra_output_tokens
        self.encoder = keras.Model(
            model.get_layer("source").output,
            [model.get_layer("encoder").output, model.get_layer("bridge").output],
        )
        self.embedding = model.get_layer("target_embedding")
        self.decoder = model.get_layer("decoder")
        self.logits = model.get_layer("logits")

    def _encode(self, source):
        memory, state = self.encoder(source, training=False)
        return memory, self.decoder.prepare(memory), tf.not_equal(source, 0), state

    def _step(self, tokens, states, memory, keys, mask):
        output, states, weights = self.decoder.step(
            self.embedding(tokens), states, memory, keys, mask
        )
        log_probs = tf.nn.log_softmax(self.logits(output))
        # Padding and [START] are never produced.
        forbidden = tf.one_hot([PAD_ID, START_ID], tf.shape(log_probs)[-1], on_value=NEG)
        return log_probs + tf.reduce_sum(forbidden, 0), states, weights

    def output_limits(self, source: tf.Tensor) -> tf.Tensor:
        """Most output tokens per sentence, `[END]` included (see the class arguments)."""
        source_length = tf.reduce_sum(tf.cast(source > END_ID, tf.float32), axis=1)
        limits = tf.math.ceil(self.max_output_ratio * source_length) + self.extra_output_tokens
        return tf.maximum(tf.cast(limits, tf.int32), 1)

    def greedy(self, source: tf.Tensor) -> dict[str, tf.Tensor]:
        """The most likely token at every step. `source`: int32 `[batch, steps]` ids."""
        memory, keys, mask, state = self._encode(source)
        states = self.decoder.initial_states(state)
        batch = tf.shape(source)[0]
        limits = self.output_limits(source)
        tokens = tf.TensorArray(tf.int32, size=0, dynamic_size=True)
        attention = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        previous = tf.fill([batch], START_ID)
        finished = tf.zeros([batch], tf.bool)
        t = tf.constant(0)
        while t < tf.reduce_max(limits) and not tf.reduce_all(finished):
            log_probs, states, weights = self._step(previous, states, memory, keys, mask)
            token = tf.argmax(log_probs, axis=-1, output_type=tf.int32)
            token = tf.where(t >= limits - 1, END_ID, token)
            token = tf.where(finished, PAD_ID, token)
            tokens = tokens.write(t, token)
            attention = attention.write(t, weights)
            finished = finished | tf.equal(token, END_ID)
            previous = token
            t += 1
        return {
            "tokens": tf.transpose(tokens.stack()),
            "attention": tf.transpose(attention.stack(), [1, 0, 2]),
        }

    def beam_search(
        self, source: tf.Tensor, beam_width: int, length_penalty: float = 0.0
    ) -> dict[str, tf.Tensor]:
        """Keep the `beam_width` best partial outputs per sentence at every step.

        Candidates are ranked by summed log-probability while searching; among the final beams
        the output with the best `score / ((5 + length) / 6) ** length_penalty` wins (Wu et
        al., 2016). A finished beam keeps its score and competes with the open ones, and the
        search ends when every beam has produced `[END]` or reached the length limit.
        Returns `tokens [batch, time]` (padded with 0 after `[END]`), `scores [batch]` and the
        best output's `attention [batch, time, steps]`.
        """
        k = beam_width
        memory, keys, mask, state = self._encode(source)
        batch, steps = tf.shape(source)[0], tf.shape(source)[1]
        repeat = lambda x: tf.repeat(x, k, axis=0)  # noqa: E731  [batch * k, ...]
        memory, keys, mask, state = repeat(memory), repeat(keys), repeat(mask), repeat(state)
        states = self.decoder.initial_states(state)
        limits = self.output_limits(source)[:, tf.newaxis]  # [batch, 1]
        # Only the first beam is alive at the start; the others would duplicate it.
        scores = tf.tile(tf.constant([[0.0] + [NEG] * (k - 1)]), [batch, 1])
        sequences = tf.zeros([batch, k, 0], tf.int32)
        attention = tf.zeros([batch, k, 0, steps])
        lengths = tf.zeros([batch, k], tf.int32)
        finished = tf.zeros([batch, k], tf.bool)
        previous = tf.fill([batch * k], START_ID)

        def body(t, previous, states, scores, sequences, attention, lengths, finished):
            log_probs, states, weights = self._step(previous, states, memory, keys, mask)
            vocab = tf.shape(log_probs)[-1]
            log_probs = tf.reshape(log_probs, [batch, k, vocab])
            end_only = tf.one_hot(END_ID, vocab, on_value=0.0, off_value=NEG)
            log_probs = tf.where(
                (t >= limits - 1)[..., tf.newaxis], log_probs + end_only, log_probs
            )
            # A finished beam continues only with padding, at no cost.
            pad_only = tf.one_hot(PAD_ID, vocab, on_value=0.0, off_value=NEG)
            log_probs = tf.where(finished[..., tf.newaxis], pad_only, log_probs)
            candidates = tf.reshape(scores[..., tf.newaxis] + log_probs, [batch, k * vocab])
            scores, index = tf.math.top_k(candidates, k)
            parent, token = index // vocab, index % vocab
            flat_parent = tf.reshape(parent + tf.range(batch)[:, tf.newaxis] * k, [-1])
            states = tf.nest.map_structure(lambda s: tf.gather(s, flat_parent), states)
            weights = tf.gather(tf.reshape(weights, [batch, k, steps]), parent, batch_dims=1)
            sequences = tf.concat(
                [tf.gather(sequences, parent, batch_dims=1), token[..., tf.newaxis]], -1
            )
            attention = tf.concat(
                [tf.gather(attention, parent, batch_dims=1), weights[:, :, tf.newaxis]], 2
            )
            was_finished = tf.gather(finished, parent, batch_dims=1)
            lengths = tf.gather(lengths, parent, batch_dims=1) + tf.cast(~was_finished, tf.int32)
            finished = was_finished | tf.equal(token, END_ID)
            previous = tf.reshape(token, [-1])
            return t + 1, previous, states, scores, sequences, attention, lengths, finished

        def cond(t, previous, states, scores, sequences, attention, lengths, finished):
            return (t < tf.reduce_max(limits)) & ~tf.reduce_all(finished)

        loop_vars = (tf.constant(0), previous, states, scores, sequences, attention, lengths)
        loop_vars = (*loop_vars, finished)
        invariants = tf.nest.map_structure(lambda v: v.shape, loop_vars)
        invariants = (
            *invariants[:4],
            tf.TensorShape([None, None, None]),
            tf.TensorShape([None, None, None, None]),
            *invariants[6:],
        )
        _, _, _, scores, sequences, attention, lengths, _ = tf.while_loop(
            cond, body, loop_vars, shape_invariants=invariants
        )
        penalty = tf.pow((5.0 + tf.cast(lengths, tf.float32)) / 6.0, length_penalty)
        best = tf.argmax(scores / penalty, axis=1, output_type=tf.int32)
        return {
            "tokens": tf.gather(sequences, best, batch_dims=1),
            "scores": tf.gather(scores, best, batch_dims=1),
            "attention": tf.gather(attention, best, batch_dims=1),
        }

    def translate(
        self, text: tf.Tensor, beam_width: int = 5, length_penalty: float = 0.6
    ) -> dict[str, tf.Tensor]:
        """`[batch]` source text -> translation, output pieces, source pieces and attention.

        `beam_width` 1 decodes greedily.
        """
        source = source_ids(self.source_tokenizer, text).to_tensor()
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
