"""The shared searches over a hand-made step function: forbidden ids are never produced."""

import tensorflow as tf

from shared.decoding import beam_search
from shared.decoding import greedy_search

# Ids: 0 padding, 1 [UNK], 2 [START], 3 [END], 4 "a". The step always prefers [UNK], then "a",
# then [END].
PREFERENCES = tf.math.log(tf.constant([[0.0, 0.6, 0.0, 0.1, 0.3]]) + 1e-9)


def step(tokens, states, context):
    log_probs = tf.repeat(PREFERENCES, tf.shape(tokens)[0], axis=0)
    return log_probs, states, tf.zeros([tf.shape(tokens)[0], 1])


def test_forbidden_ids_are_never_chosen():
    limits = tf.constant([3, 3])
    states = tf.zeros([2, 1])
    ids = {"start_id": 2, "end_id": 3, "pad_id": 0}
    assert greedy_search(step, states, (), limits, **ids)["tokens"].numpy().tolist() == [
        [1, 1, 3],
        [1, 1, 3],
    ]
    greedy = greedy_search(step, states, (), limits, **ids, forbidden=(1,))["tokens"]
    assert greedy.numpy().tolist() == [[4, 4, 3], [4, 4, 3]]
    beam = beam_search(
        step,
        states,
        (),
        limits,
        beam_width=3,
        length_penalty=0.0,
        attention_steps=tf.constant(1),
        **ids,
        forbidden=(1,),
    )
    assert 1 not in beam["tokens"].numpy()
