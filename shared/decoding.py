"""Greedy and beam search as `tf.while_loop`s over whole batches, for any step function.

A step function advances a decoder by one token for every row:

    step(tokens, states, context) -> (log_probs, new states, weights)

with `tokens` int32 `[n]`, `log_probs` `[n, vocab]` and `weights` `[n, steps]`.
`states` is any nest of `[n, ...]` tensors that changes per token (it is reordered with the
beams), `context` any nest of `[n, ...]` tensors that does not (e.g. the encoder outputs and
their attention keys). `weights` are attention weights over `steps` positions, returned for
plots. Neither search produces the padding or start token.
"""

from typing import Any
from typing import Callable
from typing import Sequence

import tensorflow as tf

NEG = -1e9  # log-probability of what may not be chosen (finite: no inf - inf = NaN)

StepFn = Callable[[tf.Tensor, Any, Any], tuple[tf.Tensor, Any, tf.Tensor]]


def decoder_step(embedding: Any, decoder: Any, logits: Any) -> StepFn:
    """The step function of a model made of `embedding -> AttentionDecoder -> logits` layers.

    Its `context` is `(memory, keys, memory_mask)`, as `context_of` gives it.
    """

    def step(tokens, states, context):
        memory, keys, mask = context
        output, states, weights = decoder.step(embedding(tokens), states, memory, keys, mask)
        return tf.nn.log_softmax(logits(output)), states, weights

    return step


def context_of(decoder: Any, memory: tf.Tensor, memory_mask: Any = None) -> tuple:
    """What `decoder_step` attends over: the memory, its attention keys and its mask."""
    if memory_mask is None:
        memory_mask = tf.ones(tf.shape(memory)[:2], tf.bool)
    return memory, decoder.prepare(memory), memory_mask


def _allowed(
    log_probs: tf.Tensor, pad_id: int, start_id: int, forbidden: Sequence[int] = ()
) -> tf.Tensor:
    ids = [pad_id, start_id, *forbidden]
    return log_probs + tf.reduce_sum(tf.one_hot(ids, tf.shape(log_probs)[-1], on_value=NEG), 0)


def greedy_search(
    step: StepFn,
    states: Any,
    context: Any,
    limits: tf.Tensor,
    *,
    start_id: int,
    end_id: int,
    pad_id: int = 0,
    forbidden: Sequence[int] = (),
) -> dict[str, tf.Tensor]:
    """The most likely token at every step.

    `limits` int32 `[batch]` caps each output's tokens, end token included; `forbidden` ids
    (e.g. `[UNK]`) are never chosen. Returns `tokens` `[batch, time]` (padding after the end
    token) and `attention` `[batch, time, steps]`.
    """
    batch = tf.shape(limits)[0]
    tokens = tf.TensorArray(tf.int32, size=0, dynamic_size=True)
    attention = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
    previous = tf.fill([batch], start_id)
    finished = tf.zeros([batch], tf.bool)
    t = tf.constant(0)
    while t < tf.reduce_max(limits) and not tf.reduce_all(finished):
        log_probs, states, weights = step(previous, states, context)
        log_probs = _allowed(log_probs, pad_id, start_id, forbidden)
        token = tf.argmax(log_probs, axis=-1, output_type=tf.int32)
        token = tf.where(t >= limits - 1, end_id, token)
        token = tf.where(finished, pad_id, token)
        tokens = tokens.write(t, token)
        attention = attention.write(t, weights)
        finished = finished | tf.equal(token, end_id)
        previous = token
        t += 1
    return {
        "tokens": tf.transpose(tokens.stack()),
        "attention": tf.transpose(attention.stack(), [1, 0, 2]),
    }


def beam_search(
    step: StepFn,
    states: Any,
    context: Any,
    limits: tf.Tensor,
    *,
    beam_width: int,
    length_penalty: float,
    attention_steps: tf.Tensor,
    start_id: int,
    end_id: int,
    pad_id: int = 0,
    forbidden: Sequence[int] = (),
) -> dict[str, tf.Tensor]:
    """Keep the `beam_width` best partial outputs per row at every step.

    Candidates are ranked by summed log-probability while searching; among the final beams
    the output with the best `score / ((5 + length) / 6) ** length_penalty` wins (Wu et
    al., 2016). A finished beam keeps its score and competes with the open ones, and the
    search ends when every beam has produced the end token or reached its row's `limits`.
    `attention_steps` is the number of positions the weights cover. Returns `tokens`
    `[batch, time]` (padded after the end token), `scores [batch]` and the best output's
    `attention [batch, time, steps]`.
    """
    k = beam_width
    batch, steps = tf.shape(limits)[0], attention_steps
    repeat = lambda x: tf.repeat(x, k, axis=0)  # noqa: E731  [batch * k, ...]
    states = tf.nest.map_structure(repeat, states)
    context = tf.nest.map_structure(repeat, context)
    limits = limits[:, tf.newaxis]  # [batch, 1]
    # Only the first beam is alive at the start; the others would duplicate it.
    scores = tf.tile(tf.constant([[0.0] + [NEG] * (k - 1)]), [batch, 1])
    sequences = tf.zeros([batch, k, 0], tf.int32)
    attention = tf.zeros([batch, k, 0, steps])
    lengths = tf.zeros([batch, k], tf.int32)
    finished = tf.zeros([batch, k], tf.bool)
    previous = tf.fill([batch * k], start_id)

    def body(t, previous, states, scores, sequences, attention, lengths, finished):
        log_probs, states, weights = step(previous, states, context)
        log_probs = _allowed(log_probs, pad_id, start_id, forbidden)
        vocab = tf.shape(log_probs)[-1]
        log_probs = tf.reshape(log_probs, [batch, k, vocab])
        end_only = tf.one_hot(end_id, vocab, on_value=0.0, off_value=NEG)
        log_probs = tf.where((t >= limits - 1)[..., tf.newaxis], log_probs + end_only, log_probs)
        # A finished beam continues only with padding, at no cost.
        pad_only = tf.one_hot(pad_id, vocab, on_value=0.0, off_value=NEG)
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
        finished = was_finished | tf.equal(token, end_id)
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
