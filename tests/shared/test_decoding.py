"""The shared searches over a hand-made step function: exact answers, never a forbidden id."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

from shared.decoding import beam_search
from shared.decoding import greedy_search

# Ids: 0 padding, 1 [UNK], 2 [START], 3 [END], 4 "a". Next-token probabilities by the previous
# token: after [START], [UNK] is likeliest; after [UNK] or "a", [END] is.
PAD, UNK, START, END, A = range(5)
TABLE = np.full((5, 5), 0.2, "float32")
TABLE[START] = [0.0, 0.6, 0.0, 0.1, 0.3]
TABLE[UNK] = [0.0, 0.05, 0.0, 0.9, 0.05]
TABLE[A] = [0.0, 0.05, 0.0, 0.9, 0.05]
LOG_TABLE = tf.math.log(tf.constant(TABLE) + 1e-9)
IDS = {"start_id": START, "end_id": END, "pad_id": PAD}


def step(tokens, states, context):
    return tf.gather(LOG_TABLE, tokens), states, tf.zeros([tf.shape(tokens)[0], 1])


def best_by_enumeration(limit, forbidden=(), length_penalty=0.0):
    """The best output of at most `limit` tokens (end included), scored as beam search does."""
    producible = [t for t in (UNK, A) if t not in forbidden]
    best, best_score = None, -np.inf
    for length in range(limit):
        for body in itertools.product(producible, repeat=length):
            sequence = (*body, END)
            previous = (START, *body)
            score = sum(np.log(TABLE[p, t] + 1e-9) for p, t in zip(previous, sequence))
            normalized = score / ((5 + len(sequence)) / 6) ** length_penalty
            if normalized > best_score:
                best, best_score = sequence, normalized
    return best


def search(kind, forbidden=(), limit=3, beam_width=3, length_penalty=0.0):
    limits, states = tf.constant([limit, limit]), tf.zeros([2, 1])
    if kind == "greedy":
        result = greedy_search(step, states, (), limits, **IDS, forbidden=forbidden)
    else:
        result = beam_search(
            step,
            states,
            (),
            limits,
            beam_width=beam_width,
            length_penalty=length_penalty,
            attention_steps=tf.constant(1),
            **IDS,
            forbidden=forbidden,
        )
    return [tuple(t for t in row if t != PAD) for row in result["tokens"].numpy().tolist()]


def test_greedy_follows_the_likeliest_token_and_never_a_forbidden_one():
    assert search("greedy") == [(UNK, END)] * 2
    assert search("greedy", forbidden=(UNK,)) == [(A, END)] * 2


@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
@pytest.mark.parametrize("forbidden", [(), (UNK,)])
def test_beam_search_returns_the_best_allowed_output(forbidden, length_penalty):
    expected = best_by_enumeration(3, forbidden, length_penalty)
    assert expected == ((A, END) if forbidden else (UNK, END))
    found = search("beam", forbidden, length_penalty=length_penalty)
    assert found == [expected] * 2
