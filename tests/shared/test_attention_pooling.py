import keras
import numpy as np

from shared.layers import AttentionPooling


def test_weights_sum_to_one_and_skip_masked_steps():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 6, 4)).astype("float32")
    mask = np.array([[True] * 4 + [False] * 2, [True] * 6])
    layer = AttentionPooling(8)
    pooled, weights = layer(x, mask=mask)
    assert pooled.shape == (2, 4) and weights.shape == (2, 6)
    np.testing.assert_allclose(np.sum(weights, axis=1), 1.0, atol=1e-6)
    assert np.all(np.asarray(weights)[0, 4:] == 0)
    alone, _ = layer(x[:1, :4])  # the padded row pools like its unpadded self
    np.testing.assert_allclose(pooled[0], alone[0], atol=1e-6)
    np.testing.assert_allclose(
        pooled[0], np.sum(x[0] * np.asarray(weights)[0, :, None], 0), atol=1e-5
    )


def test_mask_flows_in_from_an_embedding_and_the_model_reloads(tmp_path):
    tokens = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(10, 4, mask_zero=True)(tokens)
    pooled, weights = AttentionPooling(3, name="attention")(embedded)
    model = keras.Model(tokens, [keras.layers.Dense(2)(pooled), weights])
    ids = np.array([[3, 4, 0, 0], [1, 2, 3, 4]], dtype="int32")
    outputs, attention = model.predict(ids, verbose=0)
    assert np.all(attention[0, 2:] == 0)
    model.compile(optimizer="sgd", loss=["mse", None])
    model.fit(ids, np.ones((2, 2)), verbose=0)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(
        restored.predict(ids, verbose=0)[0], model.predict(ids, verbose=0)[0], atol=1e-6
    )
    assert AttentionPooling.from_config(model.get_layer("attention").get_config()).units == 3
