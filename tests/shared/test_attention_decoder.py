import keras
import numpy as np
import pytest
import tensorflow as tf

from shared.layers import AttentionDecoder


@pytest.mark.parametrize(
    "cell, attention, context_layer",
    [("gru", "luong", False), ("lstm", "bahdanau", False), ("gru", "bahdanau", True),
     ("lstm", "luong", True)],
)  # fmt: skip
def test_the_parallel_decoder_is_its_own_steps_on_the_same_weights(
    cell, attention, context_layer, tmp_path
):
    """Teacher forcing in one recurrent call equals `step` token by token (what beam search
    runs), with a masked memory; the recurrent part is a Keras GRU/LSTM layer (cuDNN-able)."""
    decoder = AttentionDecoder(
        8,
        attention=attention,
        attention_units=4,
        cell=cell,
        input_feeding=False,
        parallel=True,
        context_layer=context_layer,
    )
    inputs, memory = tf.random.normal((2, 5, 3)), tf.random.normal((2, 6, 7))
    mask = tf.constant([[True] * 4 + [False] * 2, [True] * 6])
    start = tf.random.normal((2, 8))
    initial = [start, -start] if cell == "lstm" else start
    outputs, weights = decoder(inputs, memory, initial, memory_mask=mask)
    assert outputs.shape == (2, 5, 8) and weights.shape == (2, 5, 6)
    assert type(decoder.rnn) is {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM}[cell]
    states, keys = decoder.initial_states(initial), decoder.prepare(memory)
    for t in range(5):
        output, states, step_weights = decoder.step(inputs[:, t], states, memory, keys, mask)
        np.testing.assert_allclose(output, outputs[:, t], atol=1e-5)
        np.testing.assert_allclose(step_weights, weights[:, t], atol=1e-6)
    assert np.all(np.asarray(weights)[0, :, 4:] == 0)
    # Saved and restored with its weights, it computes the same.
    source = [keras.Input((None, 3)), keras.Input((None, 7)), keras.Input((8,))]
    starts = [source[2], source[2]] if cell == "lstm" else source[2]
    model = keras.Model(source, decoder(source[0], source[1], starts)[0])
    model.save(tmp_path / "decoder.keras")
    restored = keras.saving.load_model(tmp_path / "decoder.keras")
    np.testing.assert_allclose(
        restored([inputs, memory, start]), model([inputs, memory, start]), atol=1e-6
    )


def test_a_parallel_decoder_refuses_input_feeding_and_a_stepwise_one_a_context_layer():
    with pytest.raises(ValueError, match="input_feeding=False"):
        AttentionDecoder(8, parallel=True, input_feeding=True)
    with pytest.raises(ValueError, match="parallel=True"):
        AttentionDecoder(8, context_layer=True)
