"""The captioning model's parts: the attention penalty and the LSTM/GRU attention decoder."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from apps.captioning.config import CaptioningConfig
from apps.captioning.export import sample_images
from apps.captioning.model import AttentionPenalty
from apps.captioning.model import build_captioner
from apps.captioning.model import build_model
from apps.captioning.pipeline import CaptionInputs
from shared.layers import AttentionDecoder


def test_attention_penalty_counts_real_words_only():
    weights = np.zeros((1, 3, 2), np.float32)
    weights[0, 0] = [1.0, 0.0]
    weights[0, 1] = [0.5, 0.5]
    weights[0, 2] = [0.0, 1.0]  # a padding step: not counted
    tokens = np.array([[2, 5, 0]])
    layer = AttentionPenalty(2.0)
    passed = layer(tf.ones((1, 3, 4)), tf.constant(weights), tf.constant(tokens))
    assert passed.shape == (1, 3, 4)
    # received = [1.5, 0.5] -> mean((1 - r)^2) = 0.25, times the weight 2.
    assert float(layer.losses[0]) == pytest.approx(0.5)
    assert AttentionPenalty.from_config(layer.get_config()).weight == 2.0


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_decoder_steps_reproduce_teacher_forcing(cell):
    decoder = AttentionDecoder(8, attention="bahdanau", attention_units=4, cell=cell)
    inputs, memory = tf.random.normal((2, 5, 3)), tf.random.normal((2, 6, 7))
    start = tf.random.normal((2, 8))
    initial = [start, -start] if cell == "lstm" else start
    outputs, weights = decoder(inputs, memory, initial)
    states, keys = decoder.initial_states(initial), decoder.prepare(memory)
    for t in range(5):
        output, states, step_weights = decoder.step(inputs[:, t], states, memory, keys)
        np.testing.assert_allclose(output, outputs[:, t], atol=1e-5)
        np.testing.assert_allclose(step_weights, weights[:, t], atol=1e-5)
    restored = AttentionDecoder.from_config(decoder.get_config())
    assert restored.cell_kind == cell and isinstance(
        restored.cell, keras.layers.LSTMCell if cell == "lstm" else keras.layers.GRUCell
    )


def test_model_adds_the_penalty_and_l2_to_its_losses():
    config = CaptioningConfig(
        backbone_weights="none", image_size=16, units=8, embedding_dim=4, attention_units=4, l2=0.01
    )
    model = build_model(config, vocab_size=12, image_shape=(16, 16, 3))
    logits = model(
        {
            "image": tf.zeros((2, 16, 16, 3), tf.uint8),
            "caption_in": tf.constant([[2, 5, 6], [2, 7, 0]]),
        }
    )
    assert logits.shape == (2, 3, 12)
    assert len(model.losses) >= 2  # the attention penalty and the L2 terms
    no_penalty = build_model(
        CaptioningConfig(backbone_weights="none", image_size=16, units=8, attention_penalty=0),
        vocab_size=12,
        image_shape=(16, 16, 3),
    )
    no_penalty({"image": tf.zeros((1, 16, 16, 3), tf.uint8), "caption_in": tf.constant([[2, 5]])})
    assert not no_penalty.losses


def test_a_captioner_with_a_frozen_backbone_saves_it_and_captions_image_bytes(tmp_path):
    """With pretrained features the backbone is part of the saved model: image bytes in."""
    pixels = keras.Input((32, 32, 3))
    grid = keras.layers.Conv2D(6, 3, strides=8, padding="same", name="conv")(pixels)
    backbone = keras.Model(pixels, keras.layers.Reshape((16, 6))(grid), name="backbone")
    config = CaptioningConfig(backbone_weights="imagenet", image_size=32, units=8)
    words = ["", "[UNK]", "[START]", "[END]", "a", "red", "circle"]
    inputs = CaptionInputs(words, 32, 5, backbone, name="caption_inputs")
    model = build_captioner(config, inputs)
    assert not any(id(w) in {id(v) for v in model.trainable_weights} for w in backbone.weights)
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras", compile=False)
    images = [*sample_images()]  # a JPEG, a PNG, and bytes that are no image
    assert restored.generate(images) == model.generate(images)
    assert restored.generate(images)[2] == ""
    detailed = restored.caption(tf.constant(images))
    assert detailed["attention"].shape[-1] == 16 and detailed["decoded"].numpy().tolist() == [
        True,
        True,
        False,
    ]
