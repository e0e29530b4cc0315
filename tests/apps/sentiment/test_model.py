import keras
import numpy as np
import pytest
import tensorflow as tf

from apps.sentiment.config import SentimentConfig
from apps.sentiment.model import build_model
from apps.sentiment.model import compile_model
from apps.sentiment.tokenizer import ReviewTokenizer


@pytest.mark.parametrize("pooling", ["last", "mean_max"])
def test_padding_does_not_change_the_prediction(pooling):
    config = SentimentConfig(embedding_dim=4, units=3, pooling=pooling, num_layers=2)
    model = build_model(config, vocab_size=20, num_classes=3)
    padded = np.array([[5, 6, 7, 0, 0, 0], [1, 2, 3, 4, 5, 6]], dtype="int32")
    together = model.predict({"token_ids": padded}, verbose=0)
    alone = model.predict({"token_ids": padded[:1, :3]}, verbose=0)
    assert together.shape == (2, 3)
    np.testing.assert_allclose(together.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(together[0], alone[0], atol=1e-6)


def test_a_review_with_no_word_left_is_one_unknown_token():
    """Only tags or punctuation: `[UNK]`, not a fully masked row (cuDNN rejects those)."""
    tokenizer = ReviewTokenizer(4, vocabulary=["", "[UNK]", "good", "bad"])
    ids = tokenizer(tf.constant(["<br /><br />...", "good, bad good!", ""]))["token_ids"]
    assert ids.numpy().tolist() == [[1, 0, 0, 0], [2, 3, 2, 1], [1, 0, 0, 0]]  # "!" unknown
    assert tokenizer(tf.constant(["..."]))["token_ids"].numpy().tolist() == [[1]]


def test_model_trains_and_reloads(tmp_path):
    config = SentimentConfig(embedding_dim=4, units=3, l2=0.01)
    model = compile_model(build_model(config, vocab_size=20, num_classes=2), config)
    token_ids = np.random.default_rng(0).integers(0, 20, size=(8, 5)).astype("int32")
    labels = np.array([0, 1] * 4)
    model.fit({"token_ids": token_ids}, labels, epochs=1, verbose=0)
    assert model.losses  # L2 penalties reach the training loss
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(
        restored.predict({"token_ids": token_ids}, verbose=0),
        model.predict({"token_ids": token_ids}, verbose=0),
        atol=1e-6,
    )
