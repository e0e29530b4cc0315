import keras
import numpy as np
import pytest

from shared.layers import BahdanauAttention
from shared.layers import LuongAttention
from shared.layers import make_attention

RNG = np.random.default_rng(0)
QUERY = RNG.normal(size=(2, 5)).astype("float32")
MEMORY = RNG.normal(size=(2, 6, 4)).astype("float32")
MASK = np.array([[True] * 4 + [False] * 2, [True] * 6])


@pytest.mark.parametrize("kind", ["bahdanau", "luong"])
def test_weights_sum_to_one_skip_masked_steps_and_weight_the_context(kind):
    layer = make_attention(kind, 7)
    context, weights = layer(QUERY, MEMORY, memory_mask=MASK)
    weights = np.asarray(weights)
    assert context.shape == (2, 4) and weights.shape == (2, 6)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-6)
    assert np.all(weights[0, 4:] == 0)
    np.testing.assert_allclose(context, np.einsum("bs,bsd->bd", weights, MEMORY), atol=1e-5)
    # Precomputed keys give the same answer; the padded row equals its unpadded self.
    keys = layer.prepare(MEMORY)
    np.testing.assert_allclose(layer(QUERY, MEMORY, keys, MASK)[0], context, atol=1e-6)
    alone, _ = layer(QUERY[:1], MEMORY[:1, :4])
    np.testing.assert_allclose(alone[0], context[0], atol=1e-5)


def test_luong_scores_are_scaled_dot_products_with_projected_memory():
    layer = LuongAttention()
    _, weights = layer(QUERY, MEMORY)
    keys = np.asarray(layer.prepare(MEMORY))
    scores = np.einsum("bd,bsd->bs", QUERY, keys) / np.sqrt(QUERY.shape[-1])
    expected = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(weights, expected, atol=1e-5)


@pytest.mark.parametrize(
    "layer_cls, kwargs", [(BahdanauAttention, {"units": 3}), (LuongAttention, {"scale": False})]
)
def test_config_round_trip_and_model_reload(layer_cls, kwargs, tmp_path):
    layer = layer_cls(**kwargs)
    assert layer_cls.from_config(layer.get_config()).get_config() == layer.get_config()
    query, memory = keras.Input((5,)), keras.Input((None, 4))
    context, weights = layer_cls(**kwargs)(query, memory)
    model = keras.Model([query, memory], [keras.layers.Dense(1)(context), weights])
    model.compile(optimizer="sgd", loss=["mse", None])
    model.fit([QUERY, MEMORY], np.ones((2, 1)), verbose=0)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    for a, b in zip(
        restored.predict([QUERY, MEMORY], verbose=0), model.predict([QUERY, MEMORY], verbose=0)
    ):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_unknown_attention_is_named():
    with pytest.raises(ValueError, match="bahdanau"):
        make_attention("dot", 4)


@pytest.mark.parametrize("kind", ["bahdanau", "luong"])
def test_a_sequence_of_queries_attends_as_each_query_alone(kind):
    layer = make_attention(kind, 7)
    queries = RNG.normal(size=(2, 3, 5)).astype("float32")
    context, weights = layer(queries, MEMORY, memory_mask=MASK)
    assert context.shape == (2, 3, 4) and weights.shape == (2, 3, 6)
    for t in range(3):
        one_context, one_weights = layer(queries[:, t], MEMORY, memory_mask=MASK)
        np.testing.assert_allclose(context[:, t], one_context, atol=1e-5)
        np.testing.assert_allclose(weights[:, t], one_weights, atol=1e-6)
