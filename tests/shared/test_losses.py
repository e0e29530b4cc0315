import numpy as np

from shared.losses import MaskedAccuracy


def one_hot_logits(ids, vocabulary=5):
    return np.eye(vocabulary, dtype="float32")[np.asarray(ids)]


def test_masked_accuracy_weighs_every_real_token_the_same():
    # Sequence 1: one real token, right. Sequence 2: three real tokens, all wrong.
    labels = np.array([[3, 0, 0], [1, 2, 4]])
    predicted = np.array([[3, 1, 1], [2, 3, 1]])  # the padded positions are "wrong" on purpose
    metric = MaskedAccuracy()
    metric.update_state(labels, one_hot_logits(predicted))
    assert np.isclose(float(metric.result()), 1 / 4)  # per sequence it would be (1 + 0) / 2


def test_masked_accuracy_accumulates_tokens_over_batches():
    metric = MaskedAccuracy()
    metric.update_state(np.array([[2, 0]]), one_hot_logits([[2, 0]]))  # 1 of 1
    metric.update_state(np.array([[1, 1, 1]]), one_hot_logits([[1, 0, 0]]))  # 1 of 3
    assert np.isclose(float(metric.result()), 2 / 4)
    metric.reset_state()
    metric.update_state(np.array([[1, 1]]), one_hot_logits([[0, 0]]))
    assert float(metric.result()) == 0.0
